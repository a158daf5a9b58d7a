package webhookapi

import (
	"encoding/json"
	"os"
	"sort"
	"strconv"
	"testing"
)

// TestMain checks, after the tests ran, that every status a test saw is
// documented for its path.
func TestMain(m *testing.M) {
	code := m.Run()
	if code == 0 && !testing.Short() {
		if err := checkObserved(); err != "" {
			println("openapi.json is out of date:", err)
			code = 1
		}
	}
	os.Exit(code)
}

func loadDoc(tb testing.TB) map[string]any {
	var m map[string]any
	if err := json.Unmarshal(OpenAPI(), &m); err != nil {
		if tb != nil {
			tb.Fatalf("openapi.json: %v", err)
		}
		return nil
	}
	return m
}

func checkObserved() string {
	doc := loadDoc(nil)
	if doc == nil {
		return "not JSON"
	}
	paths := doc["paths"].(map[string]any)
	observed.mu.Lock()
	defer observed.mu.Unlock()
	var missing []string
	for p, statuses := range observed.m {
		item, ok := paths[p].(map[string]any)
		if !ok {
			missing = append(missing, p)
			continue
		}
		resps := map[string]any{}
		for _, op := range item {
			if m, ok := op.(map[string]any)["responses"].(map[string]any); ok {
				for s, r := range m {
					resps[s] = r
				}
			}
		}
		for s := range statuses {
			if _, ok := resps[strconv.Itoa(s)]; !ok {
				missing = append(missing, p+" "+strconv.Itoa(s))
			}
		}
	}
	sort.Strings(missing)
	if len(missing) > 0 {
		return "undocumented: " + jsonString(missing)
	}
	return ""
}

func jsonString(v any) string { b, _ := json.Marshal(v); return string(b) }

// TestOpenAPIMatchesRoutes: the document is OpenAPI 3.1, has exactly the
// configurable endpoints as POST operations behind Basic auth (and the
// development inbox as a GET), and its local references resolve.
func TestOpenAPIMatchesRoutes(t *testing.T) {
	doc := loadDoc(t)
	if doc["openapi"] != "3.1.0" {
		t.Fatalf("openapi %v", doc["openapi"])
	}
	paths := doc["paths"].(map[string]any)
	want := map[string]bool{}
	for _, path := range Paths() {
		want[path] = true
		item, ok := paths[path].(map[string]any)
		if !ok {
			t.Errorf("%s is not documented", path)
			continue
		}
		post, ok := item["post"].(map[string]any)
		if !ok || len(item) != 1 {
			t.Errorf("%s: want exactly a post operation", path)
			continue
		}
		if _, ok := post["security"]; !ok {
			t.Errorf("%s: no security", path)
		}
		for _, s := range []string{"401", "404", "429"} {
			if _, ok := post["responses"].(map[string]any)[s]; !ok {
				t.Errorf("%s: response %s not documented", path, s)
			}
		}
	}
	// The development inbox: a GET behind its own Basic auth.
	want[DevInboxPath] = true
	if item, ok := paths[DevInboxPath].(map[string]any); !ok || len(item) != 1 || item["get"] == nil {
		t.Errorf("%s: want exactly a get operation", DevInboxPath)
	} else if _, ok := item["get"].(map[string]any)["security"]; !ok {
		t.Errorf("%s: no security", DevInboxPath)
	}
	for p := range paths {
		if !want[p] {
			t.Errorf("%s is documented but not served", p)
		}
	}
	var walk func(v any)
	walk = func(v any) {
		switch x := v.(type) {
		case map[string]any:
			if ref, ok := x["$ref"].(string); ok && !resolves(doc, ref) {
				t.Errorf("unresolved $ref %s", ref)
			}
			for _, y := range x {
				walk(y)
			}
		case []any:
			for _, y := range x {
				walk(y)
			}
		}
	}
	walk(doc)
}

func resolves(doc map[string]any, ref string) bool {
	if len(ref) < 2 || ref[:2] != "#/" {
		return false
	}
	var cur any = doc
	start := 2
	for i := 2; i <= len(ref); i++ {
		if i == len(ref) || ref[i] == '/' {
			m, ok := cur.(map[string]any)
			if !ok {
				return false
			}
			if cur, ok = m[ref[start:i]]; !ok {
				return false
			}
			start = i + 1
		}
	}
	return true
}
