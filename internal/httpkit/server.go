// Package httpkit is the HTTP plumbing shared by every esign listener: server
// lifecycle with graceful shutdown, the middleware chain (panic recovery,
// request ids, access log, metrics, security headers, body limits), the
// error → status table, and the health endpoints.
package httpkit

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"
)

// Timeouts bound every server of a Group.
type Timeouts struct {
	ReadHeader time.Duration
	Read       time.Duration
	Write      time.Duration
	Idle       time.Duration
	Shutdown   time.Duration // how long in-flight requests may take after the context ends
}

// Listener is one HTTP listener of a process.
type Listener struct {
	Name    string // "admin", "customer", …: used in logs and metrics
	Addr    string // host:port; port 0 picks a free one
	Handler http.Handler
	// Stream marks a listener of long-lived responses (server-sent
	// events): no read or write timeout, which would cut every stream;
	// ReadHeader and Idle still apply, and the handlers end their streams
	// when the process stops.
	Stream bool
}

// Group is a set of bound listeners that are served and shut down together.
type Group struct {
	log     *slog.Logger
	t       Timeouts
	servers []*http.Server
	lns     []net.Listener
	names   []string
}

// Listen binds every listener. If one cannot be bound (address in use, no
// permission) the ones already bound are closed and the error names it.
func Listen(ctx context.Context, log *slog.Logger, t Timeouts, ls []Listener) (*Group, error) {
	g := &Group{log: log, t: t}
	var lc net.ListenConfig
	for _, l := range ls {
		ln, err := lc.Listen(ctx, "tcp", l.Addr)
		if err != nil {
			g.closeListeners()
			return nil, fmt.Errorf("listen %s on %s: %w", l.Name, l.Addr, unwrapOpError(err))
		}
		g.lns = append(g.lns, ln)
		g.names = append(g.names, l.Name)
		read, write := t.Read, t.Write
		if l.Stream {
			read, write = 0, 0
		}
		g.servers = append(g.servers, &http.Server{
			Handler:           l.Handler,
			ReadHeaderTimeout: t.ReadHeader,
			ReadTimeout:       read,
			WriteTimeout:      write,
			IdleTimeout:       t.Idle,
			ErrorLog:          slog.NewLogLogger(log.Handler().WithAttrs([]slog.Attr{slog.String("listener", l.Name)}), slog.LevelWarn),
			BaseContext:       func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
		})
	}
	return g, nil
}

func unwrapOpError(err error) error {
	var op *net.OpError
	if errors.As(err, &op) && op.Err != nil {
		return op.Err
	}
	return err
}

func (g *Group) closeListeners() {
	for _, ln := range g.lns {
		ln.Close()
	}
}

// Addr returns the bound address of the named listener ("" if unknown).
func (g *Group) Addr(name string) string {
	for i, n := range g.names {
		if n == name {
			return g.lns[i].Addr().String()
		}
	}
	return ""
}

// Names returns the listener names in order.
func (g *Group) Names() []string { return g.names }

// Serve serves every listener until ctx ends or one server fails, then shuts
// all of them down: listeners close at once, in-flight requests get up to
// Timeouts.Shutdown to finish, after which their connections are closed.
func (g *Group) Serve(ctx context.Context) error {
	errc := make(chan error, len(g.servers))
	var wg sync.WaitGroup
	for i, srv := range g.servers {
		wg.Go(func() {
			if err := srv.Serve(g.lns[i]); err != nil && !errors.Is(err, http.ErrServerClosed) {
				errc <- fmt.Errorf("serve %s: %w", g.names[i], err)
			}
		})
	}
	var runErr error
	select {
	case <-ctx.Done():
	case runErr = <-errc:
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), g.t.Shutdown)
	defer cancel()
	var shutdownErr error
	var mu sync.Mutex
	var swg sync.WaitGroup
	for i, srv := range g.servers {
		swg.Go(func() {
			if err := srv.Shutdown(sctx); err != nil {
				srv.Close()
				mu.Lock()
				shutdownErr = errors.Join(shutdownErr, fmt.Errorf("shut down %s: %w", g.names[i], err))
				mu.Unlock()
			}
		})
	}
	swg.Wait()
	wg.Wait()
	return errors.Join(runErr, shutdownErr)
}
