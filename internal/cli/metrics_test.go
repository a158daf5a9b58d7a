package cli

import (
	"bufio"
	"flag"
	"net/http"
	"os"
	"slices"
	"strings"
	"testing"
)

var updateMetricNames = flag.Bool("update", false, "add the served metric names to "+metricNamesGolden)

// metricNamesGolden lists every metric family that oss, css, pdfservice,
// cron and tsa serve on /metrics, one per line, sorted. The Grafana
// dashboard and the alert rules may refer only to these names.
const metricNamesGolden = "../metrics/testdata/names.golden"

// scrapeNames returns the metric family names on the /metrics of the
// operations listeners at addrs.
func scrapeNames(t testing.TB, addrs ...string) []string {
	t.Helper()
	seen := map[string]bool{}
	for _, addr := range addrs {
		resp, err := http.Get("http://" + addr + "/metrics")
		if err != nil {
			t.Fatalf("scrape %s: %v", addr, err)
		}
		sc := bufio.NewScanner(resp.Body)
		sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
		for sc.Scan() {
			// # TYPE name kind
			if f := strings.Fields(sc.Text()); len(f) == 4 && f[0] == "#" && f[1] == "TYPE" {
				seen[f[2]] = true
			}
		}
		resp.Body.Close()
		if err := sc.Err(); err != nil {
			t.Fatalf("scrape %s: %v", addr, err)
		}
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("scrape %s: status %d", addr, resp.StatusCode)
		}
	}
	names := make([]string, 0, len(seen))
	for n := range seen {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// checkMetricNames compares the names served with the golden list. With
// -update it adds new names to the list, but a name once served is never
// dropped by -update: dashboards and alert rules outside this repository
// may use it, so removing one is a deliberate edit of the file.
func checkMetricNames(t testing.TB, served []string) {
	t.Helper()
	data, err := os.ReadFile(metricNamesGolden)
	if err != nil && !(*updateMetricNames && os.IsNotExist(err)) {
		t.Fatal(err)
	}
	golden := strings.Fields(string(data))
	var missing, extra []string
	for _, n := range golden {
		if !slices.Contains(served, n) {
			missing = append(missing, n)
		}
	}
	for _, n := range served {
		if !slices.Contains(golden, n) {
			extra = append(extra, n)
		}
	}
	if len(missing) > 0 {
		t.Errorf("metric names no longer served (dashboards and alerts use them): %v", missing)
	}
	if *updateMetricNames {
		if len(extra) > 0 && len(missing) == 0 {
			all := slices.Concat(golden, extra)
			slices.Sort(all)
			if err := os.WriteFile(metricNamesGolden, []byte(strings.Join(all, "\n")+"\n"), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		return
	}
	if len(extra) > 0 {
		t.Errorf("metric names served but not in %s (run the test with -update): %v", metricNamesGolden, extra)
	}
}
