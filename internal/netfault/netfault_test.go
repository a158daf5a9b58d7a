package netfault_test

import (
	"bufio"
	"errors"
	"net"
	"os"
	"strings"
	"testing"
	"time"

	"esign/internal/netfault"
)

// echo starts a line echo server and returns its address; each answer is
// prefixed with name.
func echo(t *testing.T, name string) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				r := bufio.NewReader(c)
				for {
					line, err := r.ReadString('\n')
					if err != nil {
						return
					}
					if _, err := c.Write([]byte(name + ":" + line)); err != nil {
						return
					}
				}
			}()
		}
	}()
	return l.Addr().String()
}

// roundTrip sends a line on c and reads the answer within d.
func roundTrip(c net.Conn, d time.Duration) (string, error) {
	if err := c.SetDeadline(time.Now().Add(d)); err != nil {
		return "", err
	}
	if _, err := c.Write([]byte("ping\n")); err != nil {
		return "", err
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	return strings.TrimSpace(line), err
}

func dial(t *testing.T, addr string) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func listen(t *testing.T, targets ...string) *netfault.Proxy {
	t.Helper()
	p, err := netfault.Listen("127.0.0.1:0", targets...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	return p
}

func TestCutRefusesAndRestores(t *testing.T) {
	p := listen(t, echo(t, "a"))
	open := dial(t, p.Addr)
	if got, err := roundTrip(open, 5*time.Second); err != nil || got != "a:ping" {
		t.Fatalf("before the cut: %q, %v", got, err)
	}
	p.Cut()
	if _, err := roundTrip(open, 5*time.Second); err == nil {
		t.Error("an open connection still answers after Cut")
	}
	if c, err := net.Dial("tcp", p.Addr); err == nil {
		c.Close()
		t.Error("a new connection is accepted after Cut, want refused")
	}
	if err := p.Restore(); err != nil {
		t.Fatal(err)
	}
	if got, err := roundTrip(dial(t, p.Addr), 5*time.Second); err != nil || got != "a:ping" {
		t.Fatalf("after Restore: %q, %v", got, err)
	}
}

func TestTerminateClosesOpenConnections(t *testing.T) {
	p := listen(t, echo(t, "a"))
	open := dial(t, p.Addr)
	if _, err := roundTrip(open, 5*time.Second); err != nil {
		t.Fatal(err)
	}
	p.Terminate()
	if _, err := roundTrip(open, 5*time.Second); err == nil {
		t.Error("an open connection still answers after Terminate")
	}
	if got, err := roundTrip(dial(t, p.Addr), 5*time.Second); err != nil || got != "a:ping" {
		t.Fatalf("a new connection after Terminate: %q, %v", got, err)
	}
}

func TestStallHoldsBytes(t *testing.T) {
	p := listen(t, echo(t, "a"))
	open := dial(t, p.Addr)
	if _, err := roundTrip(open, 5*time.Second); err != nil {
		t.Fatal(err)
	}
	p.Stall()
	if _, err := roundTrip(open, 200*time.Millisecond); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("during the stall: %v, want the read deadline exceeded", err)
	}
	fresh := dial(t, p.Addr) // accepted, as a stopped server's kernel does
	done := make(chan string, 1)
	go func() {
		got, _ := roundTrip(fresh, 10*time.Second)
		done <- got
	}()
	select {
	case got := <-done:
		t.Fatalf("a new connection got %q during the stall", got)
	case <-time.After(200 * time.Millisecond):
	}
	if err := p.Restore(); err != nil {
		t.Fatal(err)
	}
	if got := <-done; got != "a:ping" {
		t.Errorf("the held request after Restore: %q", got)
	}
}

func TestBalancesAndSkipsDeadTargets(t *testing.T) {
	dead, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	deadAddr := dead.Addr().String()
	dead.Close()
	p := listen(t, echo(t, "a"), deadAddr, echo(t, "b"))
	seen := map[string]int{}
	for range 6 {
		got, err := roundTrip(dial(t, p.Addr), 5*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		seen[got]++
	}
	if seen["a:ping"] == 0 || seen["b:ping"] == 0 || len(seen) != 2 {
		t.Errorf("answers %v, want both live targets and nothing else", seen)
	}
}
