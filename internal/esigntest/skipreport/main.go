// Skipreport reads the output of `go test -json` and prints, one line
// each, why tests were skipped: which server or tool they wanted
// (ESIGN_TEST_POSTGRES_URL is not set, qpdf not found on PATH, -short, …),
// how many tests and packages that cost, and then how many packages passed
// and failed. `go test ./...` alone does not show skips.
//
//	go test -json ./... | go run ./internal/esigntest/skipreport
//
// It exits 1 when a package failed, 2 when its input is not test2json.
package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"regexp"
	"sort"
	"strings"
)

// event is the part of a test2json event that matters here.
type event struct {
	Action  string
	Package string
	Test    string
	Output  string
}

// logLine is a line that t.Skip (or t.Log) printed: "    file_test.go:12: message".
var logLine = regexp.MustCompile(`^\s+[\w.-]+\.go:\d+: (.*)$`)

// reasonGroup is what one skip reason cost.
type reasonGroup struct {
	reason   string
	tests    int
	packages map[string]bool
}

// summary is what a test run left.
type summary struct {
	skips          map[string]*reasonGroup
	passed, failed []string
}

func main() {
	s, err := read(os.Stdin)
	if err != nil {
		fmt.Fprintf(os.Stderr, "skipreport: %v (feed it the output of go test -json)\n", err)
		os.Exit(2)
	}
	s.print(os.Stdout)
	if len(s.failed) > 0 {
		os.Exit(1)
	}
}

// read collects the skips and the package results of a go test -json run.
func read(r io.Reader) (*summary, error) {
	s := &summary{skips: map[string]*reasonGroup{}}
	lastLog := map[string]string{} // package + test → its last log line
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	events := 0
	for sc.Scan() {
		line := sc.Bytes()
		if len(line) == 0 || line[0] != '{' {
			continue // e.g. "go: downloading …"
		}
		var e event
		if err := json.Unmarshal(line, &e); err != nil {
			return nil, fmt.Errorf("line %q: %v", line, err)
		}
		events++
		key := e.Package + " " + e.Test
		switch {
		case e.Action == "output" && e.Test != "":
			if m := logLine.FindStringSubmatch(strings.TrimRight(e.Output, "\n")); m != nil {
				lastLog[key] = m[1]
			}
		case e.Action == "skip" && e.Test != "":
			reason := lastLog[key]
			if reason == "" {
				reason = "(no reason given)"
			}
			g := s.skips[reason]
			if g == nil {
				g = &reasonGroup{reason: reason, packages: map[string]bool{}}
				s.skips[reason] = g
			}
			g.tests++
			g.packages[e.Package] = true
		case e.Action == "pass" && e.Test == "":
			s.passed = append(s.passed, e.Package)
		case e.Action == "fail" && e.Test == "":
			s.failed = append(s.failed, e.Package)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if events == 0 {
		return nil, fmt.Errorf("no test events")
	}
	return s, nil
}

// print writes one line per skip reason, most tests first, then the totals.
func (s *summary) print(w io.Writer) {
	groups := make([]*reasonGroup, 0, len(s.skips))
	for _, g := range s.skips {
		groups = append(groups, g)
	}
	sort.Slice(groups, func(i, j int) bool {
		if groups[i].tests != groups[j].tests {
			return groups[i].tests > groups[j].tests
		}
		return groups[i].reason < groups[j].reason
	})
	if len(groups) == 0 {
		fmt.Fprintln(w, "no test was skipped")
	}
	for _, g := range groups {
		fmt.Fprintf(w, "skipped %d %s in %d %s: %s\n", g.tests, plural(g.tests, "test"), len(g.packages), plural(len(g.packages), "package"), g.reason)
	}
	fmt.Fprintf(w, "%d %s passed, %d failed\n", len(s.passed), plural(len(s.passed), "package"), len(s.failed))
	sort.Strings(s.failed)
	for _, p := range s.failed {
		fmt.Fprintf(w, "FAIL %s (go test %s shows why)\n", p, p)
	}
}

func plural(n int, word string) string {
	if n == 1 {
		return word
	}
	return word + "s"
}
