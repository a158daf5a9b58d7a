package main

import (
	"bytes"
	"maps"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
)

func TestParseProcStat(t *testing.T) {
	for _, tc := range []struct {
		file    string
		want    procStat
		wantErr bool
	}{
		{file: "postgres.stat", want: procStat{comm: "postgres", utime: 53, stime: 137}},
		{file: "parens.stat", want: procStat{comm: "esign (oss) x", utime: 1234, stime: 567, cutime: 89, cstime: 10}},
		{file: "truncated.stat", wantErr: true},
		{file: "notanumber.stat", wantErr: true},
	} {
		t.Run(strings.TrimSuffix(tc.file, ".stat"), func(t *testing.T) {
			b, err := os.ReadFile(filepath.Join("testdata", "flowcost", tc.file))
			if err != nil {
				t.Fatal(err)
			}
			got, err := parseProcStat(b)
			if tc.wantErr {
				if err == nil {
					t.Fatalf("parsed %+v, want an error", got)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Errorf("parseProcStat = %+v, %v; want %+v", got, err, tc.want)
			}
		})
	}
}

// TestReadProcTicksSelf reads this process's own line, which must parse.
func TestReadProcTicksSelf(t *testing.T) {
	if _, err := os.Stat("/proc/self/stat"); err != nil {
		t.Skip("no /proc")
	}
	if _, err := readProcTicks("/proc/self/stat"); err != nil {
		t.Fatal(err)
	}
}

func readMetrics(t *testing.T, file string) ([]metricSample, error) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "flowcost", file))
	if err != nil {
		t.Fatal(err)
	}
	return parseMetricsText(bytes.NewReader(b), func(name string) bool { return costMetrics[name] })
}

func TestParseMetricsText(t *testing.T) {
	for _, tc := range []struct {
		file    string
		want    []metricSample
		wantErr bool
	}{
		{file: "escapes.metrics", want: []metricSample{
			{name: "esign_http_requests_total", labels: map[string]string{"listener": `a "quoted" } name`, "method": "GET", "code": "200"}, value: 15},
			{name: "esign_http_requests_total", labels: map[string]string{"listener": "x\\y\nz", "code": "500"}, value: 2},
			{name: "esign_http_requests_total", value: 7},
		}},
		{file: "tsa-start.metrics", want: []metricSample{
			{name: "esign_http_requests_total", labels: map[string]string{"code": "200", "listener": "tsa", "method": "POST"}, value: 40},
			{name: "esign_http_requests_total", labels: map[string]string{"code": "200", "listener": "tsa", "method": "GET"}, value: 5},
		}},
		{file: "unterminated.metrics", wantErr: true},
		{file: "nan.metrics", wantErr: true},
		{file: "extra.metrics", wantErr: true},
		{file: "novalue.metrics", wantErr: true},
	} {
		t.Run(strings.TrimSuffix(tc.file, ".metrics"), func(t *testing.T) {
			got, err := readMetrics(t, tc.file)
			if tc.wantErr {
				if err == nil {
					t.Fatalf("parsed %+v, want an error", got)
				}
				return
			}
			if err != nil || !reflect.DeepEqual(got, tc.want) {
				t.Errorf("parseMetricsText = %+v, %v\nwant %+v", got, err, tc.want)
			}
		})
	}
}

// TestCosts builds two snapshots from scraped metrics and CPU times and
// checks the per-flow figures: deltas only, the operations and debug
// listeners left out, each source as documented.
func TestCosts(t *testing.T) {
	snap := func(suffix string, cpu map[string]uint64, bench, pgss float64, pgssOK bool) *costSnapshot {
		s := &costSnapshot{cpuTicks: maps.Clone(cpu), sql: map[string]float64{"esign-bench": bench}, pgss: pgss, pgssOK: pgssOK, ownReads: 1}
		for _, p := range []string{"oss", "tsa"} {
			samples, err := readMetrics(t, p+"-"+suffix+".metrics")
			if err != nil {
				t.Fatal(err)
			}
			s.add(p, samples)
		}
		return s
	}
	for _, tc := range []struct {
		name          string
		pgssOK        bool
		wantSQL       float64
		wantSQLSource string
	}{
		// pg_stat_statements: 5000 calls less the first snapshot's own read.
		{name: "pg_stat_statements", pgssOK: true, wantSQL: 499.9, wantSQLSource: "pg_stat_statements"},
		// counters: oss 1000, esign-bench 201 less its read.
		{name: "counters", wantSQL: 120, wantSQLSource: "counters (test)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := snap("start", map[string]uint64{"oss": 1000, "tsa": 50, "esign-bench": 10, "postgresql": 7000}, 100, 10000, tc.pgssOK)
			b := snap("end", map[string]uint64{"oss": 1500, "tsa": 70, "esign-bench": 30, "postgresql": 7400}, 301, 15000, tc.pgssOK)
			m := &costMeter{pgssProblem: "test"}
			got := m.costs(a, b, 10)
			want := flowCosts{
				SQLPerFlow: tc.wantSQL, SQLSource: tc.wantSQLSource,
				SQLPerFlowByProcess: map[string]float64{"oss": 100, "esign-bench": 20},
				// mobile 200 more, tsa 60 more; not ops (6), not debug (6).
				HTTPPerFlow: 26,
				BusPerFlow:  2,
				// (500+20+20+400) ticks of 10 ms over 10 flows.
				CPUMsPerFlow:   940,
				CPUMsByProcess: map[string]float64{"oss": 500, "tsa": 20, "esign-bench": 20, "postgresql": 400},
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("costs =\n%+v\nwant\n%+v", got, want)
			}
		})
	}
	t.Run("no_flows", func(t *testing.T) {
		a := snap("start", map[string]uint64{"oss": 1}, 0, 0, false)
		got := (&costMeter{}).costs(a, a, 0)
		if got.SQLPerFlow != 0 || got.CPUMsPerFlow != 0 || got.HTTPPerFlow != 0 {
			t.Errorf("costs of no flow = %+v, want zeros", got)
		}
	})
}

func TestParseCostProcess(t *testing.T) {
	for _, tc := range []struct {
		in      string
		want    costProcess
		wantErr bool
	}{
		{in: "oss=/tmp/w/oss.pid,http://127.0.0.1:10196", want: costProcess{name: "oss", pidFile: "/tmp/w/oss.pid", metrics: "http://127.0.0.1:10196/metrics"}},
		{in: "all=,http://127.0.0.1:1/", want: costProcess{name: "all", metrics: "http://127.0.0.1:1/metrics"}},
		{in: "tsa=/tmp/tsa.pid", want: costProcess{name: "tsa", pidFile: "/tmp/tsa.pid"}},
		{in: "x=,http://127.0.0.1:1/other", want: costProcess{name: "x", metrics: "http://127.0.0.1:1/other"}},
		{in: "oss", wantErr: true},
		{in: "=/tmp/p", wantErr: true},
		{in: "oss=/p,127.0.0.1:1", wantErr: true},
		{in: "oss=/p,ftp://h/", wantErr: true},
	} {
		got, err := parseCostProcess(tc.in)
		if (err != nil) != tc.wantErr || (!tc.wantErr && got != tc.want) {
			t.Errorf("parseCostProcess(%q) = %+v, %v; want %+v (error %v)", tc.in, got, err, tc.want, tc.wantErr)
		}
	}
}

func TestPGBackendDatabase(t *testing.T) {
	for _, tc := range []struct {
		cmdline string
		db      string
		backend bool
	}{
		{"/usr/lib/postgresql/15/bin/postgres\x00-D\x00/var/lib/postgresql/15/main\x00", "", false},
		{"postgres: 15/main: checkpointer                    ", "", false},
		{"postgres: walwriter   ", "", false},
		{"postgres: 15/main: logical replication launcher ", "", false},
		{"postgres: 15/main: postgres esign_bench 127.0.0.1(50412) idle                ", "esign_bench", true},
		{"postgres: app esign [local] SELECT", "esign", true},
		{"postgres: 15/main: postgres esign_bench 127.0.0.1(50412) idle in transaction", "esign_bench", true},
		{"postgres: 15/main: autovacuum worker esign_bench", "esign_bench", true},
		{"postgres: autovacuum launcher", "", false},
	} {
		db, backend := pgBackendDatabase(tc.cmdline)
		if db != tc.db || backend != tc.backend {
			t.Errorf("pgBackendDatabase(%q) = %q, %v; want %q, %v", tc.cmdline, db, backend, tc.db, tc.backend)
		}
	}
}

// TestServerTicks sums a server's processes in a made-up /proc: the
// PostgreSQL backends of other databases and other programs left out.
func TestServerTicks(t *testing.T) {
	dir := t.TempDir()
	add := func(pid, comm, cmdline string, utime, stime int) {
		p := filepath.Join(dir, pid)
		if err := os.MkdirAll(p, 0o755); err != nil {
			t.Fatal(err)
		}
		stat := pid + " (" + comm + ") S 1 1 1 0 -1 0 0 0 0 0 " + strconv.Itoa(utime) + " " + strconv.Itoa(stime) + " 0 0 20 0 1 0 1 1 1\n"
		for name, data := range map[string]string{"comm": comm + "\n", "cmdline": cmdline, "stat": stat} {
			if err := os.WriteFile(filepath.Join(p, name), []byte(data), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	add("10", "postgres", "/usr/lib/postgresql/15/bin/postgres\x00-D\x00/x\x00", 1, 2)
	add("11", "postgres", "postgres: 15/main: checkpointer", 10, 20)
	add("12", "postgres", "postgres: 15/main: postgres esign_bench 127.0.0.1(1) idle", 100, 200)
	add("13", "postgres", "postgres: 15/main: postgres other 127.0.0.1(2) idle", 1000, 2000)
	add("14", "beam.smp", "/usr/lib/erlang/erts/bin/beam.smp\x00", 7, 8)
	add("15", "redis-server", "redis-server 127.0.0.1:6379\x00", 3, 4)
	if err := os.MkdirAll(filepath.Join(dir, "self"), 0o755); err != nil {
		t.Fatal(err)
	}
	m := &costMeter{procDir: dir, dbName: "esign_bench"}
	for name, want := range map[string]uint64{"postgresql": 333, "rabbitmq": 15, "redis": 7} {
		got, err := m.serverTicks(name)
		if err != nil || got != want {
			t.Errorf("serverTicks(%s) = %d, %v; want %d", name, got, err, want)
		}
	}
}

// FuzzParseProcStat: a stat line comes from outside; any input parses or
// fails, without a panic.
func FuzzParseProcStat(f *testing.F) {
	for _, n := range []string{"postgres.stat", "parens.stat", "truncated.stat", "notanumber.stat"} {
		b, err := os.ReadFile(filepath.Join("testdata", "flowcost", n))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(")("))
	f.Fuzz(func(t *testing.T, b []byte) {
		st, err := parseProcStat(b)
		if err == nil && !bytes.Contains(b, []byte("("+st.comm+")")) {
			t.Errorf("comm %q is not in the input", st.comm)
		}
	})
}

// FuzzParseMetricsText: a /metrics body comes from outside; any input
// parses or fails, without a panic, and what parses has finite values.
func FuzzParseMetricsText(f *testing.F) {
	for _, n := range []string{"oss-start.metrics", "tsa-end.metrics", "escapes.metrics", "unterminated.metrics", "nan.metrics"} {
		b, err := os.ReadFile(filepath.Join("testdata", "flowcost", n))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(string(b))
	}
	f.Fuzz(func(t *testing.T, s string) {
		samples, err := parseMetricsText(strings.NewReader(s), func(string) bool { return true })
		if err != nil {
			return
		}
		for _, x := range samples {
			if x.name == "" || x.value != x.value {
				t.Errorf("sample %+v", x)
			}
		}
	})
}
