// Package netfault is a TCP proxy on loopback that injects the network
// faults of a server outage between clients and their server: the port
// refuses connections and every open one is closed (the server is down,
// or a firewall cuts it off), open connections are closed but new ones
// pass (the server terminated its sessions), or every connection stalls
// with its bytes held (the server stopped with SIGSTOP, a partition that
// drops packets). With several targets it is a round-robin balancer that
// skips a target it cannot dial, as a TCP load balancer in front of
// replicas.
//
// The bench's fault suite (bench/faults.sh) puts one in front of
// PostgreSQL, RabbitMQ and Redis, the tests use it through
// esigntest.NewProxy.
package netfault

import (
	"errors"
	"fmt"
	"net"
	"sync"
	"time"
)

// Mode is what the proxy does with connections.
type Mode string

// The modes.
const (
	Pass  Mode = "pass"  // forward
	Cut   Mode = "cut"   // the port refuses connections, open ones are closed
	Stall Mode = "stall" // connections are accepted and held, no byte moves
)

// Proxy forwards connections from Addr to its targets.
type Proxy struct {
	Addr string // host:port the clients dial

	targets []string
	mu      sync.Mutex
	l       net.Listener // nil while cut
	mode    Mode
	next    int
	conns   map[net.Conn]struct{}
	resume  chan struct{} // closed when a stall ends
	closed  bool
}

// Listen starts a proxy on addr (host:port; port 0 picks one) to the
// targets (host:port each), in mode Pass.
func Listen(addr string, targets ...string) (*Proxy, error) {
	if len(targets) == 0 {
		return nil, errors.New("netfault: no target")
	}
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("netfault: listen on %s: %w", addr, err)
	}
	p := &Proxy{Addr: l.Addr().String(), targets: targets, l: l, mode: Pass, conns: map[net.Conn]struct{}{},
		resume: make(chan struct{})}
	go p.accept(l)
	return p, nil
}

// Mode returns the current mode.
func (p *Proxy) Mode() Mode {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.mode
}

// Cut closes every open connection and refuses new ones (the port is
// closed: connection refused) until Restore.
func (p *Proxy) Cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.setMode(Cut)
	if p.l != nil {
		p.l.Close()
		p.l = nil
	}
	p.closeConns()
}

// Terminate closes every open connection; new ones pass.
func (p *Proxy) Terminate() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.closeConns()
}

// Stall holds every open and new connection: nothing is forwarded until
// Restore, and nothing is closed.
func (p *Proxy) Stall() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.setMode(Stall)
}

// Restore forwards again: a cut port accepts connections, stalled bytes
// move on.
func (p *Proxy) Restore() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return errors.New("netfault: proxy closed")
	}
	if p.l == nil {
		// The port was free a moment ago; another process may take it in
		// between, so try for a while.
		var err error
		for range 50 {
			var l net.Listener
			if l, err = net.Listen("tcp", p.Addr); err == nil {
				p.l = l
				go p.accept(l)
				break
			}
			time.Sleep(20 * time.Millisecond)
		}
		if err != nil {
			return fmt.Errorf("netfault: listen again on %s: %w", p.Addr, err)
		}
	}
	p.setMode(Pass)
	return nil
}

// Close stops the proxy and closes every connection.
func (p *Proxy) Close() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.closed = true
	p.setMode(Cut)
	if p.l != nil {
		p.l.Close()
		p.l = nil
	}
	p.closeConns()
	return nil
}

// setMode changes the mode; a stall's end wakes the held connections.
func (p *Proxy) setMode(m Mode) {
	if p.mode == Stall && m != Stall {
		close(p.resume)
		p.resume = make(chan struct{})
	}
	p.mode = m
}

func (p *Proxy) closeConns() {
	for c := range p.conns {
		c.Close()
	}
	clear(p.conns)
}

func (p *Proxy) accept(l net.Listener) {
	for {
		c, err := l.Accept()
		if err != nil {
			return
		}
		go p.serve(c)
	}
}

// serve dials a target for c (round robin, skipping targets that refuse)
// and pipes both ways.
func (p *Proxy) serve(c net.Conn) {
	p.mu.Lock()
	start := p.next
	p.next = (p.next + 1) % len(p.targets)
	p.mu.Unlock()
	var s net.Conn
	for i := range p.targets {
		var err error
		if s, err = net.DialTimeout("tcp", p.targets[(start+i)%len(p.targets)], 5*time.Second); err == nil {
			break
		}
	}
	if s == nil {
		c.Close()
		return
	}
	p.mu.Lock()
	if p.mode == Cut {
		p.mu.Unlock()
		c.Close()
		s.Close()
		return
	}
	p.conns[c], p.conns[s] = struct{}{}, struct{}{}
	p.mu.Unlock()
	go p.pipe(s, c)
	p.pipe(c, s)
}

// pipe copies src to dst, holding each chunk while the proxy stalls.
func (p *Proxy) pipe(dst, src net.Conn) {
	defer func() {
		dst.Close()
		src.Close()
		p.mu.Lock()
		delete(p.conns, dst)
		delete(p.conns, src)
		p.mu.Unlock()
	}()
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			p.wait()
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil { // EOF or a closed connection: both ends close
			return
		}
	}
}

// wait blocks while the proxy stalls.
func (p *Proxy) wait() {
	for {
		p.mu.Lock()
		m, resume := p.mode, p.resume
		p.mu.Unlock()
		if m != Stall {
			return
		}
		<-resume
	}
}
