package mobileapi

import (
	"encoding/json"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"
)

// doc is the parsed OpenAPI document.
type doc struct {
	root map[string]any
}

func loadDoc(tb testing.TB) *doc {
	tb.Helper()
	var m map[string]any
	if err := json.Unmarshal(OpenAPI(), &m); err != nil {
		tb.Fatalf("openapi.json: %v", err)
	}
	if m["openapi"] != "3.1.0" {
		tb.Fatalf("openapi version %v", m["openapi"])
	}
	return &doc{root: m}
}

func (d *doc) paths() map[string]any { return d.root["paths"].(map[string]any) }

// resolve follows a local $ref.
func (d *doc) resolve(v map[string]any) map[string]any {
	for {
		ref, ok := v["$ref"].(string)
		if !ok {
			return v
		}
		var cur any = d.root
		for _, part := range strings.Split(strings.TrimPrefix(ref, "#/"), "/") {
			cur = cur.(map[string]any)[part]
		}
		v = cur.(map[string]any)
	}
}

// operation finds the documented operation for a request path.
func (d *doc) operation(method, path string) (string, map[string]any, bool) {
	for tmpl, item := range d.paths() {
		re := "^" + regexp.MustCompile(`\\\{[a-zA-Z]+\\\}`).ReplaceAllString(regexp.QuoteMeta(tmpl), `[^/]+`) + "$"
		if regexp.MustCompile(re).MatchString(path) {
			if op, ok := item.(map[string]any)[strings.ToLower(method)].(map[string]any); ok {
				return tmpl, op, true
			}
		}
	}
	return "", nil, false
}

// checkResponse validates a real response against the document: the status
// must be documented for the operation, and a JSON body must match its
// schema.
func (d *doc) checkResponse(tb testing.TB, method, path string, status int, contentType string, body []byte) {
	tb.Helper()
	if status == 405 {
		return
	}
	path = strings.SplitN(path, "?", 2)[0]
	if path != "/" {
		path = strings.TrimSuffix(path, "/")
	}
	tmpl, op, ok := d.operation(method, path)
	if !ok {
		tb.Fatalf("%s %s is not in openapi.json", method, path)
	}
	rs := op["responses"].(map[string]any)
	r, ok := rs[fmt.Sprint(status)].(map[string]any)
	if !ok {
		tb.Fatalf("%s %s: status %d is not documented (%v)", method, tmpl, status, keys(rs))
	}
	r = d.resolve(r)
	content, _ := r["content"].(map[string]any)
	if content == nil {
		if len(body) != 0 {
			tb.Fatalf("%s %s: status %d has a body but the document says none", method, tmpl, status)
		}
		return
	}
	if strings.HasPrefix(contentType, "application/json") {
		mt, ok := content["application/json"].(map[string]any)
		if !ok {
			tb.Fatalf("%s %s %d: JSON response not documented", method, tmpl, status)
		}
		var v any
		if err := json.Unmarshal(body, &v); err != nil {
			tb.Fatalf("%s %s %d: body is not JSON: %v", method, tmpl, status, err)
		}
		if err := d.validate(mt["schema"].(map[string]any), v, "$"); err != nil {
			tb.Fatalf("%s %s %d: response does not match the schema: %v\n%s", method, tmpl, status, err, body)
		}
		return
	}
	if _, ok := content[strings.Split(contentType, ";")[0]]; !ok {
		tb.Fatalf("%s %s %d: content type %q not documented", method, tmpl, status, contentType)
	}
}

func keys(m map[string]any) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

var uuidRE = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)

// validate checks v against the subset of JSON Schema the document uses.
func (d *doc) validate(s map[string]any, v any, at string) error {
	s = d.resolve(s)
	if enum, ok := s["enum"].([]any); ok {
		found := false
		for _, e := range enum {
			if e == v {
				found = true
			}
		}
		if !found {
			return fmt.Errorf("%s: %v not in %v", at, v, enum)
		}
	}
	switch s["type"] {
	case "object":
		m, ok := v.(map[string]any)
		if !ok {
			return fmt.Errorf("%s: want an object, got %T", at, v)
		}
		props, _ := s["properties"].(map[string]any)
		for _, r := range asSlice(s["required"]) {
			if _, ok := m[r.(string)]; !ok {
				return fmt.Errorf("%s: required property %q missing", at, r)
			}
		}
		for k, x := range m {
			ps, ok := props[k].(map[string]any)
			if !ok {
				if s["additionalProperties"] == false {
					return fmt.Errorf("%s: property %q is not in the schema", at, k)
				}
				continue
			}
			if err := d.validate(ps, x, at+"."+k); err != nil {
				return err
			}
		}
	case "array":
		a, ok := v.([]any)
		if !ok {
			return fmt.Errorf("%s: want an array, got %T", at, v)
		}
		for i, x := range a {
			if err := d.validate(s["items"].(map[string]any), x, fmt.Sprintf("%s[%d]", at, i)); err != nil {
				return err
			}
		}
	case "string":
		str, ok := v.(string)
		if !ok {
			return fmt.Errorf("%s: want a string, got %T", at, v)
		}
		switch s["format"] {
		case "uuid":
			if !uuidRE.MatchString(str) {
				return fmt.Errorf("%s: %q is not a uuid", at, str)
			}
		case "date-time":
			if _, err := time.Parse(time.RFC3339Nano, str); err != nil {
				return fmt.Errorf("%s: %q is not a date-time", at, str)
			}
		}
		if p, ok := s["pattern"].(string); ok && !regexp.MustCompile(p).MatchString(str) {
			return fmt.Errorf("%s: %q does not match %s", at, str, p)
		}
		if n, ok := s["maxLength"].(float64); ok && float64(len([]rune(str))) > n {
			return fmt.Errorf("%s: longer than %v", at, n)
		}
	case "integer":
		f, ok := v.(float64)
		if !ok || f != float64(int64(f)) {
			return fmt.Errorf("%s: want an integer, got %v", at, v)
		}
		if m, ok := s["minimum"].(float64); ok && f < m {
			return fmt.Errorf("%s: %v below %v", at, f, m)
		}
	case "boolean":
		if _, ok := v.(bool); !ok {
			return fmt.Errorf("%s: want a boolean, got %T", at, v)
		}
	}
	return nil
}

func asSlice(v any) []any {
	s, _ := v.([]any)
	return s
}

// TestOpenAPIMatchesRoutes keeps the document and the mux in step: every
// route is documented and every documented operation is served.
func TestOpenAPIMatchesRoutes(t *testing.T) {
	d := loadDoc(t)
	served := map[string]bool{}
	for _, rt := range Routes() {
		key := rt.Method + " " + rt.Path
		served[key] = true
		if _, ok := d.paths()[rt.Path].(map[string]any)[strings.ToLower(rt.Method)]; !ok {
			t.Errorf("route %s is not in openapi.json", key)
		}
	}
	for p, item := range d.paths() {
		for m, op := range item.(map[string]any) {
			if !served[strings.ToUpper(m)+" "+p] {
				t.Errorf("openapi.json documents %s %s, which is not served", strings.ToUpper(m), p)
			}
			// Every operation documents its error body.
			if _, ok := op.(map[string]any)["responses"].(map[string]any)["400"]; !ok && p != "/api/openapi.json" {
				t.Errorf("%s %s documents no 400 response", m, p)
			}
		}
	}
	// The validator itself must reject what does not match.
	bad := []struct {
		schema string
		v      any
	}{
		{"Registered", map[string]any{"appId": "x", "deviceToken": "esd_a"}},
		{"Registered", map[string]any{"appId": "0193f5a0-0000-7000-8000-000000000000"}},
		{"Registered", map[string]any{"appId": "0193f5a0-0000-7000-8000-000000000000", "deviceToken": "esd_a", "extra": 1}},
		{"Error", map[string]any{"error": map[string]any{"kind": "nope", "message": "m", "id": "i"}}},
	}
	for _, b := range bad {
		s := d.root["components"].(map[string]any)["schemas"].(map[string]any)[b.schema].(map[string]any)
		if err := d.validate(s, b.v, "$"); err == nil {
			t.Errorf("validator accepted %v as %s", b.v, b.schema)
		}
	}
}
