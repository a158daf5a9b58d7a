package main

import (
	"bufio"
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"
)

// What a signing flow costs, counted over the measured window of `flow`
// (docs/performance.md, "The signing flow"): a snapshot when the warm-up
// ends and one when the last flow is done; each figure is the difference
// divided by the flows completed in between.
//
//   - SQL statements: pg_stat_statements' calls of the system's database
//     (by its oid; never reset) on PostgreSQL when the server has the
//     module loaded; else the sum of the processes' esign_sql_statements_total
//     and the statements of esign-bench's own pool (the bank's side: offers
//     filed, codes read from the development inbox).
//   - HTTP requests: the processes' esign_http_requests_total, every listener
//     but ops and debug (the benchmark's own scrapes).
//   - Bus calls: the processes' esign_bus_calls_total.
//   - CPU: utime+stime of /proc/PID/stat of each process, esign-bench and,
//     with --servers, the shared servers found by name in /proc.

// clockTicks is USER_HZ, the unit of /proc/PID/stat's times. Go cannot ask
// sysconf(_SC_CLK_TCK); Linux fixes it at 100 on every architecture it
// builds Go for (the kernel's HZ may differ, the ABI's USER_HZ does not).
const clockTicks = 100

// costProcess is one process of the system under test (--process).
type costProcess struct {
	name    string
	pidFile string // "": no CPU figure
	metrics string // its /metrics URL; "": no counters
}

// parseCostProcess parses NAME=PIDFILE,OPS_URL (either part may be empty;
// an OPS_URL without a path means its /metrics).
func parseCostProcess(s string) (costProcess, error) {
	name, rest, ok := strings.Cut(s, "=")
	if !ok || name == "" || strings.ContainsAny(name, " ,") {
		return costProcess{}, fmt.Errorf("--process %q: want NAME=PIDFILE,OPS_URL", s)
	}
	pidFile, u, _ := strings.Cut(rest, ",")
	p := costProcess{name: name, pidFile: pidFile}
	if u != "" {
		pu, err := url.Parse(u)
		if err != nil || (pu.Scheme != "http" && pu.Scheme != "https") || pu.Host == "" {
			return costProcess{}, fmt.Errorf("--process %q: the operations URL must be http://HOST:PORT", s)
		}
		if pu.Path == "" || pu.Path == "/" {
			pu.Path = "/metrics"
		}
		p.metrics = pu.String()
	}
	return p, nil
}

// costServers are the shared servers --servers may name, with the command
// name (/proc/PID/comm) of their processes.
var costServers = map[string]string{"postgresql": "postgres", "rabbitmq": "beam.smp", "redis": "redis-server"}

// costMeter takes the snapshots.
type costMeter struct {
	procs   []costProcess
	servers []string
	hc      *http.Client
	procDir string // /proc, or a test's tree
	pids    map[string]int

	// The system's database, for pg_stat_statements (nil on SQLite or
	// without the module) and to tell its PostgreSQL backends from
	// others' (dbName).
	db          *sql.DB
	dbOID       int64
	dbName      string
	ownSQL      func() uint64 // esign-bench's own pool's statements
	pgssProblem string        // why pg_stat_statements is not used
}

// costSnapshot is the state of every counter at one moment.
type costSnapshot struct {
	cpuTicks map[string]uint64  // process name → utime+stime
	sql      map[string]float64 // process name → esign_sql_statements_total
	http     float64
	bus      float64
	pgss     float64 // pg_stat_statements' calls of the database
	pgssOK   bool
	ownReads float64 // statements of esign-bench's own pool that read pg_stat_statements
}

// flowCosts are the per-flow figures of the JSON line.
type flowCosts struct {
	SQLPerFlow          float64            `json:"sql_statements_per_flow"`
	SQLSource           string             `json:"sql_source"`
	SQLPerFlowByProcess map[string]float64 `json:"sql_statements_per_flow_by_process,omitempty"`
	HTTPPerFlow         float64            `json:"http_requests_per_flow"`
	BusPerFlow          float64            `json:"bus_calls_per_flow"`
	CPUMsPerFlow        float64            `json:"cpu_ms_per_flow"`
	CPUMsByProcess      map[string]float64 `json:"cpu_ms_per_flow_by_process"`
}

// newCostMeter prepares the meter: reads the pid files and, on
// PostgreSQL, finds the database and makes sure pg_stat_statements can be
// read in it (creating the extension there when it lacks it).
func newCostMeter(ctx context.Context, procs []costProcess, servers []string, db *sql.DB, driver string, ownSQL func() uint64) (*costMeter, error) {
	m := &costMeter{procs: procs, servers: servers, hc: &http.Client{Timeout: 10 * time.Second}, procDir: "/proc",
		pids: map[string]int{}, ownSQL: ownSQL}
	for _, s := range servers {
		if _, ok := costServers[s]; !ok {
			return nil, fmt.Errorf("--servers: unknown server %q (want postgresql, rabbitmq, redis)", s)
		}
	}
	for _, p := range procs {
		if p.pidFile == "" {
			continue
		}
		b, err := os.ReadFile(p.pidFile)
		if err != nil {
			return nil, fmt.Errorf("the pid of %s: %w", p.name, err)
		}
		pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
		if err != nil || pid <= 0 {
			return nil, fmt.Errorf("the pid file of %s holds %q", p.name, b)
		}
		m.pids[p.name] = pid
	}
	if driver != "postgres" {
		return m, nil // SQLite: the counters are the only source
	}
	if err := db.QueryRowContext(ctx, "SELECT oid, datname FROM pg_database WHERE datname = current_database()").Scan(&m.dbOID, &m.dbName); err != nil {
		return nil, fmt.Errorf("find the system's database: %w", err)
	}
	// The server must load the module (shared_preload_libraries); the
	// extension only makes its view visible in this database.
	var loaded bool
	if err := db.QueryRowContext(ctx, "SELECT COALESCE(current_setting('shared_preload_libraries', true), '') ~ 'pg_stat_statements'").Scan(&loaded); err != nil {
		return nil, fmt.Errorf("read shared_preload_libraries: %w", err)
	}
	if !loaded {
		m.pgssProblem = "pg_stat_statements is not in shared_preload_libraries"
		return m, nil
	}
	if _, err := db.ExecContext(ctx, "CREATE EXTENSION IF NOT EXISTS pg_stat_statements"); err != nil {
		m.pgssProblem = "create extension pg_stat_statements: " + err.Error()
		return m, nil
	}
	m.db = db
	return m, nil
}

// snapshot reads every counter: the processes' metrics at once and
// pg_stat_statements right after them, so that the two SQL sources see
// nearly the same moment under load, then the CPU times. Exactly one
// statement of the benchmark's own falls inside the window of both SQL
// sources: the first snapshot's read of pg_stat_statements.
func (m *costMeter) snapshot(ctx context.Context) (*costSnapshot, error) {
	s := &costSnapshot{cpuTicks: map[string]uint64{}, sql: map[string]float64{}}
	samples := make([][]metricSample, len(m.procs))
	errs := make([]error, len(m.procs))
	var wg sync.WaitGroup
	for i, p := range m.procs {
		if p.metrics == "" {
			continue
		}
		wg.Go(func() {
			if samples[i], errs[i] = m.scrape(ctx, p.metrics); errs[i] != nil {
				errs[i] = fmt.Errorf("the metrics of %s: %w", p.name, errs[i])
			}
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	for i, p := range m.procs {
		s.add(p.name, samples[i])
	}
	if m.db != nil {
		s.ownReads = 1
		err := m.db.QueryRowContext(ctx, "SELECT COALESCE(SUM(calls), 0) FROM pg_stat_statements WHERE dbid = $1", m.dbOID).Scan(&s.pgss)
		if err == nil {
			s.pgssOK = true
		} else {
			m.pgssProblem = "read pg_stat_statements: " + err.Error()
		}
	}
	s.sql["esign-bench"] = float64(m.ownSQL())
	for _, p := range m.procs {
		if pid, ok := m.pids[p.name]; ok {
			t, err := readProcTicks(filepath.Join(m.procDir, strconv.Itoa(pid), "stat"))
			if err != nil {
				return nil, fmt.Errorf("the CPU time of %s: %w", p.name, err)
			}
			s.cpuTicks[p.name] = t
		}
	}
	self, err := readProcTicks(filepath.Join(m.procDir, "self", "stat"))
	if err != nil {
		return nil, fmt.Errorf("the CPU time of esign-bench: %w", err)
	}
	s.cpuTicks["esign-bench"] = self
	for _, name := range m.servers {
		t, err := m.serverTicks(name)
		if err != nil {
			return nil, err
		}
		s.cpuTicks[name] = t
	}
	return s, nil
}

// costMetrics are the families a snapshot reads.
var costMetrics = map[string]bool{"esign_sql_statements_total": true, "esign_http_requests_total": true, "esign_bus_calls_total": true}

// add counts the samples of process's /metrics into s.
func (s *costSnapshot) add(process string, samples []metricSample) {
	for _, x := range samples {
		switch x.name {
		case "esign_sql_statements_total":
			s.sql[process] += x.value
		case "esign_http_requests_total":
			// Not the benchmark's own scrapes, nor a profile it took.
			if l := x.labels["listener"]; l != "ops" && l != "debug" {
				s.http += x.value
			}
		case "esign_bus_calls_total":
			s.bus += x.value
		}
	}
}

// costs turns two snapshots into per-flow figures.
func (m *costMeter) costs(a, b *costSnapshot, flows int) flowCosts {
	per := func(d float64) float64 {
		if flows <= 0 {
			return 0
		}
		return round(d/float64(flows), 1)
	}
	var c flowCosts
	c.CPUMsByProcess = map[string]float64{}
	var ticks uint64
	for name, t := range b.cpuTicks {
		d := t - min(t, a.cpuTicks[name])
		ticks += d
		c.CPUMsByProcess[name] = per(float64(d) * 1000 / clockTicks)
	}
	c.CPUMsPerFlow = per(float64(ticks) * 1000 / clockTicks)
	c.SQLPerFlowByProcess = map[string]float64{}
	var sqlSum float64
	for name, n := range b.sql {
		d := max(n-a.sql[name], 0)
		if name == "esign-bench" {
			d = max(d-b.ownReads, 0) // the last snapshot's query of pg_stat_statements
		}
		sqlSum += d
		c.SQLPerFlowByProcess[name] = per(d)
	}
	if a.pgssOK && b.pgssOK {
		c.SQLSource = "pg_stat_statements"
		c.SQLPerFlow = per(max(b.pgss-a.pgss-1, 0))
	} else {
		c.SQLSource = "counters"
		if m.pgssProblem != "" {
			c.SQLSource += " (" + m.pgssProblem + ")"
		}
		c.SQLPerFlow = per(sqlSum)
	}
	c.HTTPPerFlow = per(b.http - a.http)
	c.BusPerFlow = per(b.bus - a.bus)
	return c
}

func (m *costMeter) scrape(ctx context.Context, u string) ([]metricSample, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "text/plain;version=0.0.4")
	resp, err := m.hc.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: %s", u, resp.Status)
	}
	return parseMetricsText(io.LimitReader(resp.Body, 16<<20), func(name string) bool { return costMetrics[name] })
}

// serverTicks sums the CPU time of the processes of a shared server. Of
// PostgreSQL it takes the server's own processes (checkpointer, WAL
// writer, …) and the backends of the system's database, not those of
// other databases on the same server. A process that ended between the
// snapshots is missed (its time went to its parent's cutime): PostgreSQL
// backends of pooled connections live through the window, so this is the
// odd short-lived connection only.
func (m *costMeter) serverTicks(name string) (uint64, error) {
	comm := costServers[name]
	entries, err := os.ReadDir(m.procDir)
	if err != nil {
		return 0, fmt.Errorf("list processes: %w", err)
	}
	var sum uint64
	for _, e := range entries {
		if _, err := strconv.Atoi(e.Name()); err != nil {
			continue
		}
		dir := filepath.Join(m.procDir, e.Name())
		c, err := os.ReadFile(filepath.Join(dir, "comm"))
		if err != nil || strings.TrimSpace(string(c)) != comm {
			continue // gone, or another program
		}
		if name == "postgresql" {
			cmdline, err := os.ReadFile(filepath.Join(dir, "cmdline"))
			if err != nil {
				continue
			}
			if db, backend := pgBackendDatabase(string(cmdline)); backend && db != m.dbName {
				continue
			}
		}
		t, err := readProcTicks(filepath.Join(dir, "stat"))
		if err != nil {
			continue // ended since the listing
		}
		sum += t
	}
	return sum, nil
}

// pgBackendDatabase reads a PostgreSQL process title (its cmdline):
// "postgres: [CLUSTER: ]USER DATABASE HOST(PORT) STATE" for a client
// backend, "postgres: [CLUSTER: ]autovacuum worker DATABASE" for an
// autovacuum worker. backend is false for the server's other processes.
func pgBackendDatabase(cmdline string) (db string, backend bool) {
	title, ok := strings.CutPrefix(strings.TrimRight(cmdline, "\x00 "), "postgres: ")
	if !ok {
		return "", false // the postmaster: its command line
	}
	f := strings.Fields(title)
	if len(f) > 0 && strings.HasSuffix(f[0], ":") { // cluster_name
		f = f[1:]
	}
	switch {
	case len(f) >= 3 && f[0] == "autovacuum" && f[1] == "worker":
		return f[2], true
	case len(f) >= 3 && (f[2] == "[local]" || strings.HasSuffix(f[2], ")")):
		return f[1], true
	}
	return "", false
}

// readProcTicks returns utime+stime of a /proc/PID/stat file.
func readProcTicks(path string) (uint64, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, err
	}
	st, err := parseProcStat(b)
	if err != nil {
		return 0, fmt.Errorf("%s: %w", path, err)
	}
	return st.utime + st.stime, nil
}

// procStat holds the fields of /proc/PID/stat the benchmark uses, in clock
// ticks.
type procStat struct {
	comm                         string
	utime, stime, cutime, cstime uint64
}

// parseProcStat parses /proc/PID/stat (proc(5)): "PID (COMM) STATE PPID …",
// utime, stime, cutime and cstime being fields 14 to 17. COMM may hold
// spaces and parentheses, so the fields are counted from its last ')'.
func parseProcStat(b []byte) (procStat, error) {
	open, end := bytes.IndexByte(b, '('), bytes.LastIndexByte(b, ')')
	if open < 0 || end < open {
		return procStat{}, errors.New("no (comm) in the stat line")
	}
	f := strings.Fields(string(b[end+1:]))
	if len(f) < 15 { // fields 3 … 17
		return procStat{}, fmt.Errorf("%d fields after the command name, want at least 15", len(f))
	}
	st := procStat{comm: string(b[open+1 : end])}
	for i, p := range []*uint64{&st.utime, &st.stime, &st.cutime, &st.cstime} {
		n, err := strconv.ParseInt(f[11+i], 10, 64) // field 14+i; cutime is signed
		if err != nil || n < 0 {
			return procStat{}, fmt.Errorf("field %d is %q, want clock ticks", 14+i, f[11+i])
		}
		*p = uint64(n)
	}
	return st, nil
}

// metricSample is one line of the Prometheus text format.
type metricSample struct {
	name   string
	labels map[string]string
	value  float64
}

// parseMetricsText reads the Prometheus text exposition format (0.0.4)
// and returns the samples of the families keep accepts. Comments and other
// families are skipped unparsed; a malformed sample of a kept family is an
// error, as is a value that is not a finite number.
func parseMetricsText(r io.Reader, keep func(name string) bool) ([]metricSample, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	var out []metricSample
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' {
			continue
		}
		i := strings.IndexAny(line, "{ \t")
		if i <= 0 {
			return nil, fmt.Errorf("line %d: no value: %q", n, line)
		}
		s := metricSample{name: line[:i]}
		if !keep(s.name) {
			continue
		}
		rest := line[i:]
		if rest[0] == '{' {
			labels, after, err := parseLabels(rest[1:])
			if err != nil {
				return nil, fmt.Errorf("line %d: %w", n, err)
			}
			s.labels, rest = labels, after
		}
		f := strings.Fields(rest)
		if len(f) < 1 || len(f) > 2 { // value [timestamp]
			return nil, fmt.Errorf("line %d: want a value and at most a timestamp after the name: %q", n, line)
		}
		v, err := strconv.ParseFloat(f[0], 64)
		if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
			return nil, fmt.Errorf("line %d: value %q is not a finite number", n, f[0])
		}
		s.value = v
		out = append(out, s)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read metrics: %w", err)
	}
	return out, nil
}

// parseLabels parses `name="value",…}` (after the '{'), with the format's
// escapes \\, \" and \n in values, and returns the rest of the line.
func parseLabels(s string) (map[string]string, string, error) {
	labels := map[string]string{}
	for {
		s = strings.TrimLeft(s, " ")
		if strings.HasPrefix(s, "}") {
			return labels, s[1:], nil
		}
		eq := strings.IndexByte(s, '=')
		if eq <= 0 || eq+1 >= len(s) || s[eq+1] != '"' {
			return nil, "", errors.New("malformed label")
		}
		name := strings.TrimSpace(s[:eq])
		var v strings.Builder
		i := eq + 2
		for ; i < len(s) && s[i] != '"'; i++ {
			if s[i] == '\\' && i+1 < len(s) {
				i++
				switch s[i] {
				case 'n':
					v.WriteByte('\n')
				default:
					v.WriteByte(s[i])
				}
				continue
			}
			v.WriteByte(s[i])
		}
		if i >= len(s) {
			return nil, "", errors.New("unterminated label value")
		}
		labels[name] = v.String()
		s = strings.TrimLeft(s[i+1:], " ")
		switch {
		case strings.HasPrefix(s, ","):
			s = s[1:]
		case strings.HasPrefix(s, "}"):
		default:
			return nil, "", errors.New("malformed label list")
		}
	}
}
