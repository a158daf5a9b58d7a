package esigntest

import (
	"testing"

	"esign/internal/netfault"
)

// Proxy is a TCP proxy on loopback in front of a test server, for tests of
// what happens when the connection to it fails: Cut closes every open
// connection and refuses new ones until Restore (package netfault).
type Proxy struct {
	Addr string // host:port to dial instead of the server's

	tb testing.TB
	p  *netfault.Proxy
}

// NewProxy starts a proxy to target (host:port), closed when the test ends.
func NewProxy(tb testing.TB, target string) *Proxy {
	tb.Helper()
	p, err := netfault.Listen("127.0.0.1:0", target)
	if err != nil {
		tb.Fatalf("proxy: %v", err)
	}
	tb.Cleanup(func() { p.Close() })
	return &Proxy{Addr: p.Addr, tb: tb, p: p}
}

// Cut closes every connection through the proxy and refuses new ones.
func (p *Proxy) Cut() { p.p.Cut() }

// Restore lets new connections through again.
func (p *Proxy) Restore() {
	if err := p.p.Restore(); err != nil {
		p.tb.Fatalf("proxy: %v", err)
	}
}
