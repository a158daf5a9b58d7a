package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"

	"esign/internal/netfault"
)

// routeList is the repeatable --route flag: NAME=LISTEN=TARGET[,TARGET…].
type routeList []string

func (r *routeList) String() string     { return strings.Join(*r, " ") }
func (r *routeList) Set(v string) error { *r = append(*r, v); return nil }

// runProxy runs fault-injecting TCP proxies (package netfault) until ctx
// ends, for bench/faults.sh: the esign processes reach PostgreSQL,
// RabbitMQ and Redis through them, and the fault driver (esign-bench
// faults) switches them over the control listener:
//
//	POST /NAME/cut         refuse connections, close the open ones
//	POST /NAME/terminate   close the open connections, accept new ones
//	POST /NAME/stall       hold every connection (the server SIGSTOPped)
//	POST /NAME/restore     forward again
//	GET  /NAME             the mode
func runProxy(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("proxy", flag.ContinueOnError)
	fs.SetOutput(stderr)
	control := fs.String("control", "127.0.0.1:10469", "loopback address of the control listener")
	var routes routeList
	fs.Var(&routes, "route", "NAME=LISTEN=TARGET[,TARGET…]: a proxy from LISTEN to the targets (repeatable)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if len(routes) == 0 {
		return errors.New("proxy: no --route")
	}
	proxies := map[string]*netfault.Proxy{}
	defer func() {
		for _, p := range proxies {
			p.Close()
		}
	}()
	for _, r := range routes {
		parts := strings.SplitN(r, "=", 3)
		if len(parts) != 3 || parts[0] == "" {
			return fmt.Errorf("proxy: --route %q is not NAME=LISTEN=TARGET[,TARGET…]", r)
		}
		p, err := netfault.Listen(parts[1], strings.Split(parts[2], ",")...)
		if err != nil {
			return err
		}
		proxies[parts[0]] = p
	}
	l, err := net.Listen("tcp", *control)
	if err != nil {
		return fmt.Errorf("proxy: control listener: %w", err)
	}
	srv := &http.Server{Handler: proxyControl(proxies), ReadHeaderTimeout: 5 * time.Second}
	go func() {
		<-ctx.Done()
		srv.Close()
	}()
	fmt.Fprintf(stdout, "esign-bench proxy: %d routes, control on %s\n", len(proxies), l.Addr())
	if err := srv.Serve(l); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// proxyControl is the control API of runProxy.
func proxyControl(proxies map[string]*netfault.Proxy) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{name}", func(w http.ResponseWriter, r *http.Request) {
		p, ok := proxies[r.PathValue("name")]
		if !ok {
			http.NotFound(w, r)
			return
		}
		fmt.Fprintln(w, p.Mode())
	})
	mux.HandleFunc("POST /{name}/{op}", func(w http.ResponseWriter, r *http.Request) {
		p, ok := proxies[r.PathValue("name")]
		if !ok {
			http.NotFound(w, r)
			return
		}
		switch r.PathValue("op") {
		case "cut":
			p.Cut()
		case "terminate":
			p.Terminate()
		case "stall":
			p.Stall()
		case "restore":
			if err := p.Restore(); err != nil {
				http.Error(w, err.Error(), http.StatusInternalServerError)
				return
			}
		default:
			http.NotFound(w, r)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
	return mux
}
