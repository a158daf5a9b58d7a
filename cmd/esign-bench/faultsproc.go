package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// procs are the esign processes of the deployment under test:
// bench/deploy.sh starts one of each (writing NAME.pid into the work
// directory); the fault driver adds the second oss and cron, and restarts
// what it killed, as a supervisor would.
type procs struct {
	esign string // the esign binary
	work  string // bench/deploy.sh's work directory: pid files and logs

	mu     sync.Mutex
	byName map[string]*proc
}

// proc is one process: NAME is its log and pid file name, role the esign
// subcommand, env what differs from the deployment's environment.
type proc struct {
	name, role string
	env        []string
	ready      string // host:port whose /readyz says it is up
	pid        int
	exited     chan struct{} // closed when a process started here exits; nil for deploy.sh's
}

// readyAddr is the listener of role whose /readyz the driver polls.
func readyAddr(role string, env []string) string {
	key := map[string]string{"oss": "ESIGN_LISTEN_MOBILE", "cron": "ESIGN_LISTEN_CRON", "css": "ESIGN_LISTEN_CUSTOMER",
		"pdfservice": "ESIGN_LISTEN_PDFSERVICE", "tsa": "ESIGN_LISTEN_TSA"}[role]
	for i := len(env) - 1; i >= 0; i-- {
		if v, ok := strings.CutPrefix(env[i], key+"="); ok {
			return v
		}
	}
	return os.Getenv(key)
}

// adopt records a process bench/deploy.sh started.
func (ps *procs) adopt(name string) error {
	b, err := os.ReadFile(filepath.Join(ps.work, name+".pid"))
	if err != nil {
		return fmt.Errorf("the pid of %s (bench/deploy.sh writes NAME.pid): %w", name, err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		return fmt.Errorf("the pid file of %s: %w", name, err)
	}
	// NAME.env: the variables deploy.sh set for this process only (its
	// operations listener), which a restart needs too.
	var env []string
	if b, err := os.ReadFile(filepath.Join(ps.work, name+".env")); err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			if strings.HasPrefix(l, "ESIGN_") && strings.Contains(l, "=") {
				env = append(env, l)
			}
		}
	}
	ps.mu.Lock()
	defer ps.mu.Unlock()
	ps.byName[name] = &proc{name: name, role: name, env: env, ready: readyAddr(name, env), pid: pid}
	return nil
}

// start starts name as `esign ROLE` with the extra environment and waits
// until it is ready.
func (ps *procs) start(ctx context.Context, name, role string, env []string) error {
	log, err := os.OpenFile(filepath.Join(ps.work, name+".log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return err
	}
	defer log.Close()
	cmd := exec.Command(ps.esign, role)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdout, cmd.Stderr = log, log
	// Gone with the driver, whatever ends it.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start %s: %w", name, err)
	}
	p := &proc{name: name, role: role, env: env, ready: readyAddr(role, env), pid: cmd.Process.Pid, exited: make(chan struct{})}
	go func() {
		_ = cmd.Wait()
		close(p.exited)
	}()
	ps.mu.Lock()
	ps.byName[name] = p
	ps.mu.Unlock()
	return waitReady(ctx, p.ready, 60*time.Second)
}

// restart starts a killed process again as it was.
func (ps *procs) restart(ctx context.Context, name string) error {
	p := ps.get(name)
	return ps.start(ctx, name, p.role, p.env)
}

func (ps *procs) get(name string) *proc {
	ps.mu.Lock()
	defer ps.mu.Unlock()
	return ps.byName[name]
}

// byPID returns the name of the process with the pid, or "".
func (ps *procs) byPID(pid int) string {
	ps.mu.Lock()
	defer ps.mu.Unlock()
	for n, p := range ps.byName {
		if p.pid == pid {
			return n
		}
	}
	return ""
}

// kill sends SIGKILL to name and waits until it is gone.
func (ps *procs) kill(name string) error {
	p := ps.get(name)
	if p == nil {
		return fmt.Errorf("no process %s", name)
	}
	if err := syscall.Kill(p.pid, syscall.SIGKILL); err != nil {
		return fmt.Errorf("kill -9 %s (pid %d): %w", name, p.pid, err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if p.exited != nil {
			select {
			case <-p.exited:
				return nil
			case <-time.After(10 * time.Millisecond):
			}
			continue
		}
		if !alive(p.pid) {
			return nil
		}
		time.Sleep(10 * time.Millisecond)
	}
	return fmt.Errorf("%s (pid %d) still runs 10 s after SIGKILL", name, p.pid)
}

// alive reports whether pid runs (a zombie, dead but not yet reaped by
// its parent shell, does not).
func alive(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	// pid (comm) STATE …: the state follows the last ')'.
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	return i < 0 || i+2 >= len(s) || s[i+2] != 'Z'
}

// pids returns the pids of the processes whose name starts with prefix.
func (ps *procs) pids(prefix string) map[string]int {
	ps.mu.Lock()
	defer ps.mu.Unlock()
	out := map[string]int{}
	for n, p := range ps.byName {
		if strings.HasPrefix(n, prefix) {
			out[n] = p.pid
		}
	}
	return out
}

// ensureUp restarts every process that is not running and waits until
// all are ready.
func (ps *procs) ensureUp(ctx context.Context) error {
	ps.mu.Lock()
	var all []*proc
	for _, p := range ps.byName {
		all = append(all, p)
	}
	ps.mu.Unlock()
	var errs []error
	for _, p := range all {
		if !alive(p.pid) {
			if err := ps.restart(ctx, p.name); err != nil {
				errs = append(errs, err)
			}
			continue
		}
		if err := waitReady(ctx, p.ready, 60*time.Second); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", p.name, err))
		}
	}
	return errors.Join(errs...)
}

// waitReady polls http://addr/readyz until it answers 200.
func waitReady(ctx context.Context, addr string, limit time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	hc := &http.Client{Timeout: 2 * time.Second}
	for {
		req, _ := http.NewRequestWithContext(ctx, "GET", "http://"+addr+"/readyz", nil)
		resp, err := hc.Do(req)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s/readyz not ready within %s (last: %v)", addr, limit, err)
		case <-time.After(200 * time.Millisecond):
		}
	}
}
