package deploytest

import (
	"encoding/json"
	"maps"
	"regexp"
	"slices"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"
)

const (
	namesGolden   = "../../internal/metrics/testdata/names.golden"
	dashboardFile = "../grafana/esign-dashboard.json"
	alertsFile    = "../prometheus/esign-alerts.yaml"
)

var (
	promString   = regexp.MustCompile(`"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|` + "`[^`]*`")
	promBraces   = regexp.MustCompile(`\{[^{}]*\}`)
	promBrackets = regexp.MustCompile(`\[[^\[\]]*\]`)
	promLabels   = regexp.MustCompile(`\b(by|without|on|ignoring|group_left|group_right)\s*\([^()]*\)`)
	promIdent    = regexp.MustCompile(`[A-Za-z_:][A-Za-z0-9_:]*(\s*\()?`)
	promKeywords = map[string]bool{"by": true, "without": true, "on": true, "ignoring": true, "group_left": true, "group_right": true, "bool": true, "and": true, "or": true, "unless": true, "offset": true, "inf": true, "nan": true}
)

// promMetrics returns the metric names a PromQL expression selects: every
// identifier that is not a function call, a keyword, a label (inside
// braces or a by/without/on/ignoring list), a string, a range or a
// number.
func promMetrics(expr string) []string {
	expr = promString.ReplaceAllString(expr, `""`)
	expr = promBrackets.ReplaceAllString(expr, "")
	for prev := ""; prev != expr; {
		prev = expr
		expr = promBraces.ReplaceAllString(expr, "")
	}
	expr = promLabels.ReplaceAllString(expr, "")
	seen := map[string]bool{}
	for _, m := range promIdent.FindAllStringIndex(expr, -1) {
		tok := expr[m[0]:m[1]]
		if strings.HasSuffix(tok, "(") || promKeywords[strings.ToLower(tok)] {
			continue
		}
		if m[0] > 0 && (expr[m[0]-1] == '$' || expr[m[0]-1] == '.' || (expr[m[0]-1] >= '0' && expr[m[0]-1] <= '9')) {
			continue // a Grafana variable, or the tail of a number (1e3)
		}
		seen[tok] = true
	}
	return slices.Sorted(maps.Keys(seen))
}

func TestPromMetrics(t *testing.T) {
	tests := []struct{ expr, want string }{
		{`esign_http_requests_total`, "esign_http_requests_total"},
		{`sum by (listener, code) (rate(esign_http_requests_total{listener="tsa",code=~"5.."}[5m])) / sum(rate(x_total[$__rate_interval]))`, "esign_http_requests_total x_total"},
		{`histogram_quantile(0.99, sum by (le) (rate(a_bucket{job=~"esign|b"}[1m]))) > 1e3`, "a_bucket"},
		{`time() - max by (exported_job) (b > 0) and on (instance) c unless d offset 5m`, "b c d"},
		{`min(esign_signing_certificate_expiry_seconds) < 30 * 86400`, "esign_signing_certificate_expiry_seconds"},
		{`label_values(esign_live_streams, instance)`, "esign_live_streams instance"},
		{`absent(x{a="{b}"})`, "x"},
	}
	for _, tt := range tests {
		if got := strings.Join(promMetrics(tt.expr), " "); got != tt.want {
			t.Errorf("promMetrics(%q) = %q, want %q", tt.expr, got, tt.want)
		}
	}
}

// knownMetrics: esign's metric families, their histogram series, and the
// listed external metrics.
func knownMetrics(t *testing.T) map[string]bool {
	known := map[string]bool{}
	for _, file := range []string{namesGolden, "testdata/external-metrics.txt"} {
		for _, l := range strings.Split(readFile(t, file), "\n") {
			if l = strings.TrimSpace(l); l != "" && !strings.HasPrefix(l, "#") {
				known[l] = true
			}
		}
	}
	if len(known) < 10 {
		t.Fatalf("%d known metrics: is %s there?", len(known), namesGolden)
	}
	return known
}

func checkMetric(known map[string]bool, name string) bool {
	if known[name] {
		return true
	}
	for _, suffix := range []string{"_bucket", "_sum", "_count"} {
		if base, ok := strings.CutSuffix(name, suffix); ok && known[base] {
			return true
		}
	}
	return false
}

func TestDashboardMetricsExist(t *testing.T) {
	var dash struct {
		UID    string
		Panels []struct {
			Title   string
			Type    string
			Targets []struct{ Expr string }
		}
		Templating struct {
			List []struct {
				Name  string
				Query any
			}
		}
	}
	if err := json.Unmarshal([]byte(readFile(t, dashboardFile)), &dash); err != nil {
		t.Fatalf("%s: %v", dashboardFile, err)
	}
	known := knownMetrics(t)
	exprs := map[string]string{}
	for _, p := range dash.Panels {
		if p.Type == "row" {
			continue
		}
		if len(p.Targets) == 0 {
			t.Errorf("panel %q has no query", p.Title)
		}
		for _, tg := range p.Targets {
			exprs["panel "+p.Title] += tg.Expr + "\n"
		}
	}
	for _, v := range dash.Templating.List {
		if q, ok := v.Query.(string); ok && strings.HasPrefix(q, "label_values(") {
			inner := strings.TrimSuffix(strings.TrimPrefix(q, "label_values("), ")")
			exprs["variable "+v.Name], _, _ = strings.Cut(inner, ",")
		}
	}
	if len(exprs) < 10 {
		t.Fatalf("%d queries in the dashboard", len(exprs))
	}
	for where, expr := range exprs {
		for _, m := range promMetrics(expr) {
			if !checkMetric(known, m) {
				t.Errorf("%s: %s is not a metric esign serves (%s)", where, m, namesGolden)
			}
		}
	}
}

type ruleFile struct {
	Groups []struct {
		Name  string
		Rules []struct {
			Alert       string
			Expr        string
			For         string
			Labels      map[string]string
			Annotations map[string]string
		}
	}
}

func TestAlertRules(t *testing.T) {
	var rf ruleFile
	if err := yaml.UnmarshalStrict([]byte(readFile(t, alertsFile)), &rf); err != nil {
		t.Fatalf("%s: %v", alertsFile, err)
	}
	known := knownMetrics(t)
	alerts := map[string]string{}
	for _, g := range rf.Groups {
		for _, r := range g.Rules {
			if r.Alert == "" || r.Expr == "" {
				t.Errorf("group %s: a rule without alert or expr", g.Name)
				continue
			}
			if _, dup := alerts[r.Alert]; dup {
				t.Errorf("alert %s twice", r.Alert)
			}
			alerts[r.Alert] = r.Expr
			if r.Labels["severity"] == "" || r.Annotations["summary"] == "" || r.Annotations["description"] == "" {
				t.Errorf("%s: needs labels.severity, annotations.summary and description", r.Alert)
			}
			for _, m := range promMetrics(r.Expr) {
				if !checkMetric(known, m) {
					t.Errorf("%s: %s is not a metric esign serves (%s)", r.Alert, m, namesGolden)
				}
			}
		}
	}
	// What issue 22 asks the rules to watch, with the alert that does.
	for topic, name := range map[string]string{
		"certificate expiry": "EsignSigningCertificateExpiresSoon",
		"schedule not run":   "EsignScheduleOverdue",
		"stuck offers":       "EsignStuckOffers",
		"TSA errors":         "EsignTSAErrors",
		"queue depth":        "EsignQueueBacklog",
	} {
		if _, ok := alerts[name]; !ok {
			t.Errorf("no alert %s for %s", name, topic)
		}
	}
}
