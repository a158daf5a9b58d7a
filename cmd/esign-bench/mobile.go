package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"os"
	"strings"
	"time"

	"esign/internal/cli"
)

// mobileSummary is the one JSON line the mobile scenario prints.
type mobileSummary struct {
	Scenario    string  `json:"scenario"`
	Op          string  `json:"op"`
	URL         string  `json:"url"`
	Concurrency int     `json:"concurrency"`
	Accounts    int     `json:"accounts"`
	DurationS   float64 `json:"duration_s"`
	Requests    int     `json:"requests"`
	RequestsPS  float64 `json:"requests_per_s"`
	P50Ms       float64 `json:"p50_ms"`
	P99Ms       float64 `json:"p99_ms"`
	MaxMs       float64 `json:"max_ms"`
	Errors      int     `json:"errors"`
	FirstError  string  `json:"first_error,omitempty"`
}

// benchAccount is a customer the scenario onboarded.
type benchAccount struct {
	device, session    string
	username, password string
}

// runMobile measures the mobile REST API of a running oss: logins/s
// (--op login) or offer-list requests/s (--op offers). The API cannot
// create customers (the bank does), so the scenario opens the system's
// database with the same configuration as `esign` (--config, ESIGN_*
// environment) through cli.OpenCustomerSetup to create, send the
// association code to and approve its test customers, and drives
// registration → association → credentials → login over HTTP.
func runMobile(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("mobile", flag.ContinueOnError)
	fs.SetOutput(stderr)
	baseURL := fs.String("url", "http://127.0.0.1:10185", "base URL of the mobile API")
	op := fs.String("op", "login", "operation to measure: login or offers")
	concurrency := fs.Int("concurrency", 4, "concurrent clients")
	accounts := fs.Int("accounts", 0, "test customers to create (0: one per client, at most 50)")
	offers := fs.Int("offers", 20, "offers filed for each test customer")
	duration := fs.Duration("duration", 10*time.Second, "measured duration")
	warmup := fs.Duration("warmup", time.Second, "unmeasured warm-up before the measurement")
	timeout := fs.Duration("timeout", 10*time.Second, "deadline of each request")
	configPath := fs.String("config", "", "esign configuration file of the system under test (default: ESIGN_CONFIG; ESIGN_* variables apply as for esign)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *op != "login" && *op != "offers" {
		return fmt.Errorf("mobile: unknown --op %q (login or offers)", *op)
	}
	if *accounts <= 0 {
		*accounts = min(*concurrency, 50)
	}
	if *concurrency < 1 || *duration <= 0 || *accounts > 50 || *offers < 0 || *offers > 1000 {
		return fmt.Errorf("mobile: --concurrency must be ≥ 1, --duration > 0, --accounts ≤ 50, --offers 0 to 1000")
	}
	hc := &http.Client{Timeout: *timeout, Transport: &http.Transport{MaxIdleConnsPerHost: *concurrency * 2}}
	defer hc.CloseIdleConnections()
	m := &mobileClient{base: strings.TrimRight(*baseURL, "/"), hc: hc}

	setup, err := cli.OpenCustomerSetup(ctx, *configPath, os.Environ())
	if err != nil {
		return fmt.Errorf("mobile: open the system's database: %w", err)
	}
	accs := make([]*benchAccount, *accounts)
	for i := range accs {
		if accs[i], err = m.onboard(ctx, setup, *offers); err != nil {
			setup.Close()
			return fmt.Errorf("mobile: set up account %d: %w", i+1, err)
		}
	}
	setup.Close()

	res, err := runLoad(ctx, loadOptions{Concurrency: *concurrency, Warmup: *warmup, Duration: *duration},
		func(ctx context.Context, w, _ int) error {
			acc := accs[w%len(accs)]
			if *op == "login" {
				_, err := m.login(ctx, acc)
				return err
			}
			var out struct {
				Offers []json.RawMessage `json:"offers"`
			}
			if err := m.do(ctx, "GET", "/api/offers?limit=20", acc.session, nil, http.StatusOK, &out); err != nil {
				return err
			}
			if len(out.Offers) != min(*offers, 20) {
				return fmt.Errorf("listed %d offers, want %d", len(out.Offers), min(*offers, 20))
			}
			return nil
		})
	if err != nil {
		return err
	}
	sum := mobileSummary{Scenario: "mobile", Op: *op, URL: m.base, Concurrency: *concurrency, Accounts: len(accs),
		DurationS: duration.Seconds(), Requests: res.OK, RequestsPS: res.PerS, P50Ms: res.P50Ms, P99Ms: res.P99Ms,
		MaxMs: res.MaxMs, Errors: res.Errors, FirstError: res.FirstError}
	return json.NewEncoder(stdout).Encode(sum)
}

// mobileClient speaks the mobile API's JSON.
type mobileClient struct {
	base string
	hc   *http.Client
}

// do sends a JSON request with the bearer token and decodes a reply of
// the wanted status into out (may be nil).
func (m *mobileClient) do(ctx context.Context, method, path, token string, in any, want int, out any) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, m.base+path, body)
	if err != nil {
		return err
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := m.hc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return err
	}
	if resp.StatusCode != want {
		return fmt.Errorf("%s %s: status %d: %s", method, path, resp.StatusCode, bytes.TrimSpace(data))
	}
	if out != nil {
		return json.Unmarshal(data, out)
	}
	return nil
}

func (m *mobileClient) login(ctx context.Context, a *benchAccount) (string, error) {
	var out struct {
		SessionToken string `json:"sessionToken"`
	}
	err := m.do(ctx, "POST", "/api/customer/login", a.device, map[string]string{"username": a.username, "password": a.password}, http.StatusOK, &out)
	if err == nil && out.SessionToken == "" {
		err = fmt.Errorf("login returned no session token")
	}
	return out.SessionToken, err
}

// onboard creates one test customer with offers and a session: register
// the app, create the customer and its association code in the database,
// associate, create credentials, approve, log in.
func (m *mobileClient) onboard(ctx context.Context, setup *cli.CustomerSetup, offers int) (*benchAccount, error) {
	var reg struct {
		DeviceToken string `json:"deviceToken"`
	}
	if err := m.do(ctx, "POST", "/api/app/register", "", map[string]string{"deviceId": "bench-" + rand.Text()[:12], "os": "android",
		"appVersion": "esign-bench"}, http.StatusCreated, &reg); err != nil {
		return nil, err
	}
	n, err := rand.Int(rand.Reader, big.NewInt(10_000_000))
	if err != nil {
		return nil, err
	}
	phone := fmt.Sprintf("+3670%07d", n)
	id, code, err := setup.CreateCustomer(ctx, "Bench Customer", phone)
	if err != nil {
		return nil, err
	}
	a := &benchAccount{device: reg.DeviceToken, username: "bench-" + strings.ToLower(rand.Text()[:12]), password: "Bench-" + rand.Text()[:12] + "-9a"}
	if err := m.do(ctx, "POST", "/api/app/associate", a.device, map[string]string{"phone": phone, "token": code}, http.StatusOK, nil); err != nil {
		return nil, err
	}
	if err := m.do(ctx, "POST", "/api/customer/create", a.device, map[string]string{"username": a.username, "password": a.password},
		http.StatusCreated, nil); err != nil {
		return nil, err
	}
	if err := setup.Approve(ctx, id); err != nil {
		return nil, err
	}
	if err := setup.CreateOffers(ctx, id, offers); err != nil {
		return nil, err
	}
	if a.session, err = m.login(ctx, a); err != nil {
		return nil, err
	}
	return a, nil
}
