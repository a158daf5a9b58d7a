package mobileapi

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"esign/internal/customers"
	"esign/internal/customers/customerstest"
	"esign/internal/esigntest"
	"esign/internal/notify"
)

// benchClient is a client on an unthrottled service (the per-app login
// limit would stop a benchmark).
func benchClient(b *testing.B, s setup) *client {
	b.Helper()
	if s.driver == "postgres" {
		esigntest.ServerURL(b, esigntest.PostgresURLEnv)
	}
	var sessions customers.SessionStore
	if s.sessions != nil {
		sessions = redisSessions(b)
	}
	env := customerstest.New(b, customerstest.OpenDB(b, s.driver), sessions,
		customers.Config{LoginPerApp: notify.Limit{N: -1}}, nil)
	srv := httptest.NewServer(New(env.Svc, slog.New(slog.DiscardHandler)))
	b.Cleanup(srv.Close)
	return &client{t: b, url: srv.URL, doc: loadDoc(b), env: env}
}

func post(b *testing.B, hc *http.Client, url, token string, body any) int {
	data, _ := json.Marshal(body)
	req, _ := http.NewRequest("POST", url, bytes.NewReader(data))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := hc.Do(req)
	if err != nil {
		b.Error(err)
		return 0
	}
	io.Copy(io.Discard, res.Body)
	res.Body.Close()
	return res.StatusCode
}

func get(b *testing.B, hc *http.Client, url, token string) int {
	req, _ := http.NewRequest("GET", url, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := hc.Do(req)
	if err != nil {
		b.Error(err)
		return 0
	}
	io.Copy(io.Discard, res.Body)
	res.Body.Close()
	return res.StatusCode
}

// BenchmarkLogin measures /api/customer/login (Argon2id verification, the
// session write and the activity row) with 4 apps logging in in parallel.
func BenchmarkLogin(b *testing.B) {
	for _, s := range setups {
		b.Run(s.name, func(b *testing.B) {
			c := benchClient(b, s)
			accts := make(chan *account, 64)
			for range 4 {
				accts <- c.account(fmt.Sprintf("Bench %d", len(accts)), true)
			}
			hc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
			start := time.Now()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				a := <-accts
				defer func() { accts <- a }()
				for pb.Next() {
					if st := post(b, hc, c.url+"/api/customer/login", a.deviceToken, map[string]string{"username": a.username, "password": a.password}); st != 200 {
						b.Errorf("login: %d", st)
						return
					}
				}
			})
			b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "logins/s")
		})
	}
}

// BenchmarkOfferList measures GET /api/offers (session check, app and
// customer reads, one page of 20 offers) from 4 sessions in parallel.
func BenchmarkOfferList(b *testing.B) {
	for _, s := range setups {
		b.Run(s.name, func(b *testing.B) {
			c := benchClient(b, s)
			tokens := make(chan string, 64)
			for i := range 4 {
				a := c.account(fmt.Sprintf("Bench %d", i), true)
				for j := range 20 {
					d := c.env.Document(b, a.customer.ID, "doc.pdf", []byte(fmt.Sprintf("%%PDF %d %d", i, j)))
					c.env.Offer(b, a.customer.ID, fmt.Sprintf("Offer %d", j), d.ID)
				}
				tokens <- c.login(a)
			}
			hc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
			start := time.Now()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				tok := <-tokens
				defer func() { tokens <- tok }()
				for pb.Next() {
					if st := get(b, hc, c.url+"/api/offers", tok); st != 200 {
						b.Errorf("offers: %d", st)
						return
					}
				}
			})
			b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "req/s")
		})
	}
}
