// Package archtest keeps the dependency rules of docs/architecture.md true:
// the domain imports only the standard library, leaf libraries import no
// application package, HTTP surfaces never reach the store or the bus
// directly, and only the CLI reads the configuration. It also keeps every
// page that the code and the documentation cite in the repository.
package archtest

import (
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
)

const module = "esign/"

// imports returns, for every package directory under root, the module
// packages its non-test files import.
func imports(t *testing.T, root string) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	err := filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && d.Name() == "testdata" {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(token.NewFileSet(), path, nil, parser.ImportsOnly)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel("../..", filepath.Dir(path))
		pkg := filepath.ToSlash(rel)
		for _, imp := range f.Imports {
			p, _ := strconv.Unquote(imp.Path.Value)
			if strings.HasPrefix(p, module) && !slices.Contains(out[pkg], p) {
				out[pkg] = append(out[pkg], strings.TrimPrefix(p, module))
			}
		}
		if _, ok := out[pkg]; !ok {
			out[pkg] = nil
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// under reports whether pkg is dir or below it.
func under(pkg string, dirs ...string) bool {
	for _, d := range dirs {
		if pkg == d || strings.HasPrefix(pkg, d+"/") {
			return true
		}
	}
	return false
}

func TestDependencyRules(t *testing.T) {
	deps := imports(t, "../../internal")
	for pkg, cmdDeps := range imports(t, "../../cmd") {
		deps[pkg] = cmdDeps
	}
	if len(deps) < 10 {
		t.Fatalf("found only %d packages: wrong directory?", len(deps))
	}
	leaves := []string{"internal/atomicfile", "internal/metrics", "internal/cms", "internal/tsa", "internal/pki",
		"internal/envelope", "internal/password", "internal/pdf", "internal/pades", "internal/protocol",
		"internal/docstore", "internal/bus", "internal/notify", "internal/term", "internal/totp", "internal/redisstore",
		"internal/netfault", "internal/tracing", "internal/branding",
		"internal/signer", "internal/hsm"}
	application := []string{"internal/cli", "internal/config", "internal/sqlstore", "internal/jobs", "internal/seal",
		"internal/httpkit", "internal/customers", "internal/users", "internal/mobileapi", "internal/adminui", "internal/webhookapi",
		"internal/customerui", "internal/webui"}
	surfaces := []string{"internal/mobileapi", "internal/adminui", "internal/webhookapi", "internal/customerui", "internal/webui"}
	for pkg, imps := range deps {
		for _, imp := range imps {
			switch {
			case pkg == "internal/esign":
				t.Errorf("%s imports %s: the domain imports only the standard library", pkg, imp)
			case under(pkg, leaves...) && under(imp, application...):
				t.Errorf("%s imports %s: a leaf library imports no application package", pkg, imp)
			case under(pkg, surfaces...) && under(imp, "internal/sqlstore", "internal/bus"):
				t.Errorf("%s imports %s: HTTP surfaces use the domain services, not the store or the bus", pkg, imp)
			case imp == "internal/config" && !under(pkg, "internal/cli"):
				t.Errorf("%s imports %s: only the CLI reads the configuration; pass values", pkg, imp)
			case imp == "internal/cli" && !strings.HasPrefix(pkg, "cmd/"):
				t.Errorf("%s imports %s: nothing depends on the CLI", pkg, imp)
			}
		}
	}
}

// TestCitedPagesExist: every Markdown file that a Go comment or a page under
// the repository names (a docs/*.md path, or a relative link in a page) exists,
// relative to the citing file or to the repository's root.
func TestCitedPagesExist(t *testing.T) {
	const root = "../.."
	urls := regexp.MustCompile(`[a-z]+://\S+`)
	pages := regexp.MustCompile(`[A-Za-z0-9_./-]*[A-Za-z0-9_-]\.md\b`)
	checked := 0
	err := filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == ".git" || d.Name() == "testdata" || d.Name() == "node_modules") {
			return filepath.SkipDir
		}
		if d.IsDir() || !(strings.HasSuffix(path, ".go") || strings.HasSuffix(path, ".md")) {
			return nil
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		checked++
		for _, cited := range pages.FindAllString(urls.ReplaceAllString(string(data), ""), -1) {
			_, errHere := os.Stat(filepath.Join(filepath.Dir(path), cited))
			_, errRoot := os.Stat(filepath.Join(root, cited))
			if errHere != nil && errRoot != nil {
				rel, _ := filepath.Rel(root, path)
				t.Errorf("%s cites %s, which is not in the repository", rel, cited)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if checked < 50 {
		t.Fatalf("checked only %d files: wrong directory?", checked)
	}
}
