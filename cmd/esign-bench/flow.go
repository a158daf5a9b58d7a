package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"esign/internal/cli"
	"esign/internal/device"
	"esign/internal/pdf/pdftest"
)

// flowSummary is the one JSON line the flow scenario prints.
type flowSummary struct {
	Scenario    string `json:"scenario"`
	URL         string `json:"url"`
	Concurrency int    `json:"concurrency"`
	OnboardEach bool   `json:"onboard_each"`
	// SeparateTimestamps: the app's original form (TS1 and TS3 requested
	// by the app), for a server before the combined M1/M2.
	SeparateTimestamps bool    `json:"separate_timestamps,omitempty"`
	DurationS          float64 `json:"duration_s"`
	Flows              int     `json:"flows"`
	FlowsPS            float64 `json:"flows_per_s"`
	FlowP50Ms          float64 `json:"flow_p50_ms"`
	FlowP99Ms          float64 `json:"flow_p99_ms"`
	M2P50Ms            float64 `json:"m2_p50_ms"`
	M2P99Ms            float64 `json:"m2_p99_ms"`
	Errors             int     `json:"errors"`
	FirstError         string  `json:"first_error,omitempty"`
	flowCosts
}

// runFlow runs --concurrency reference device clients (internal/device)
// through complete signing flows against a running system and reports
// flows/s and the latency of the M2 request.
//
// A flow is what happens for each offer: the bank files an offer of two
// PDFs (through the same service as the webhook upload), the customer's
// app opens it and downloads the documents, M1, the SMS code read from the
// development inbox, M2 with the bank's seal, the contract acknowledged.
// Each client is one customer, onboarded before the measurement (created,
// associated, credentials, approved, logged in) and signing offer after
// offer in its session, as a customer signing several offers does.
// --onboard-each makes every flow a new customer instead, with
// onboarding and login inside the flow.
//
// Beside the latencies it counts what a flow costs (flowcost.go): SQL
// statements, HTTP requests, bus calls and CPU milliseconds per flow, of
// the processes named by --process (pid file and operations listener) and
// the shared servers named by --servers.
//
// The clients wait between time-stamps for the TSA's stated accuracy
// (tsa.accuracy of the built-in TSA). Every flow sends SMS codes, so the
// system under test needs SMS limits above the load (docs/performance.md).
func runFlow(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("flow", flag.ContinueOnError)
	fs.SetOutput(stderr)
	baseURL := fs.String("url", "http://127.0.0.1:10185", "base URL of the mobile API")
	concurrency := fs.Int("concurrency", 4, "concurrent device clients")
	duration := fs.Duration("duration", 30*time.Second, "measured duration")
	warmup := fs.Duration("warmup", 0, "unmeasured warm-up before the measurement")
	timeout := fs.Duration("timeout", 30*time.Second, "deadline of each request")
	onboardEach := fs.Bool("onboard-each", false, "onboard a new customer and log in within every flow")
	separate := fs.Bool("separate-timestamps", false, "the app's original form: TS1 and TS3 through /api/timestamp before M1 and M2 (a server before issue #19 needs it)")
	configPath := fs.String("config", "", "esign configuration file of the system under test (default: ESIGN_CONFIG; ESIGN_* variables apply as for esign)")
	var procs []costProcess
	fs.Func("process", "`NAME=PIDFILE,OPS_URL` of a process of the system (repeated): its CPU time from /proc and its counters from OPS_URL/metrics (either may be empty)", func(s string) error {
		p, err := parseCostProcess(s)
		procs = append(procs, p)
		return err
	})
	servers := fs.String("servers", "", "shared servers whose CPU time counts too, comma-separated: postgresql, rabbitmq, redis")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *concurrency < 1 || *duration <= 0 {
		return fmt.Errorf("flow: --concurrency must be ≥ 1 and --duration > 0")
	}
	hc := &http.Client{Timeout: *timeout, Transport: &http.Transport{MaxIdleConnsPerHost: *concurrency * 2}}
	defer hc.CloseIdleConnections()
	setup, err := cli.OpenCustomerSetup(ctx, *configPath, os.Environ())
	if err != nil {
		return fmt.Errorf("flow: open the system's database: %w", err)
	}
	defer setup.Close()
	base := strings.TrimRight(*baseURL, "/")
	customers := make([]*flowCustomer, *concurrency)
	if !*onboardEach {
		// Onboarding costs three Argon2id hashes; a few at a time.
		sem := make(chan struct{}, 4)
		var g sync.WaitGroup
		errs := make([]error, len(customers))
		for i := range customers {
			g.Go(func() {
				sem <- struct{}{}
				defer func() { <-sem }()
				customers[i], errs[i] = onboard(ctx, setup, base, hc, *separate)
			})
		}
		g.Wait()
		if err := errors.Join(errs...); err != nil {
			return fmt.Errorf("flow: onboard the clients: %w", err)
		}
	}
	var serverList []string
	if *servers != "" {
		serverList = strings.Split(*servers, ",")
	}
	sqlDB, driver := setup.SQL()
	meter, err := newCostMeter(ctx, procs, serverList, sqlDB, driver, setup.SQLStatements)
	if err != nil {
		return fmt.Errorf("flow: %w", err)
	}
	// The costs are counted from the end of the warm-up (a snapshot taken
	// then, in the background) to the end of the last flow.
	start := make(chan *costSnapshot, 1)
	startErr := make(chan error, 1)
	snapStart := func() {
		if driver == "postgres" && *warmup > 0 {
			// The database was created for this run: its tables grew from
			// nothing during the warm-up, and autovacuum analyses a table
			// at most once a minute, so the first minute would run on
			// plans made for empty tables (a sequential scan where an
			// index serves a production database: 25.6 instead of 18.9 ms
			// of PostgreSQL CPU a flow). Measured as a database that has
			// statistics, as every production one has.
			if _, err := sqlDB.ExecContext(ctx, "ANALYZE"); err != nil {
				fmt.Fprintf(stderr, "flow: analyse the database: %v\n", err)
			}
		}
		snap, err := meter.snapshot(ctx)
		start <- snap
		startErr <- err
	}
	var mu sync.Mutex
	var m2 []time.Duration
	measureFrom := time.Now().Add(*warmup)
	if *warmup <= 0 {
		snapStart()
	} else {
		timer := time.AfterFunc(*warmup, snapStart)
		defer timer.Stop()
	}
	res, err := runLoad(ctx, loadOptions{Concurrency: *concurrency, Warmup: *warmup, Duration: *duration},
		func(ctx context.Context, w, _ int) error {
			c := customers[w]
			if *onboardEach {
				var err error
				if c, err = onboard(ctx, setup, base, hc, *separate); err != nil {
					return err
				}
			}
			d, err := signFlow(ctx, setup, c)
			if err == nil && time.Now().After(measureFrom) {
				mu.Lock()
				m2 = append(m2, d)
				mu.Unlock()
			}
			return err
		})
	if err != nil {
		return err
	}
	first := <-start
	if err := <-startErr; err != nil {
		return fmt.Errorf("flow: count the costs: %w", err)
	}
	last, err := meter.snapshot(ctx)
	if err != nil {
		return fmt.Errorf("flow: count the costs: %w", err)
	}
	// m2 holds a latency of every flow that completed after the warm-up.
	costs := meter.costs(first, last, len(m2))
	slices.Sort(m2)
	sum := flowSummary{Scenario: "flow", URL: base, Concurrency: *concurrency, DurationS: duration.Seconds(),
		OnboardEach: *onboardEach, SeparateTimestamps: *separate, Flows: res.OK, FlowsPS: res.PerS, FlowP50Ms: res.P50Ms, FlowP99Ms: res.P99Ms,
		M2P50Ms: ms(percentile(m2, 0.50)), M2P99Ms: ms(percentile(m2, 0.99)), Errors: res.Errors, FirstError: res.FirstError,
		flowCosts: costs}
	return json.NewEncoder(stdout).Encode(sum)
}

// flowCustomer is an onboarded customer with its logged-in device.
type flowCustomer struct {
	id, phone, password string
	dev                 *device.Client
}

// onboard creates a customer as the bank would (through
// cli.OpenCustomerSetup: created, sent the association code, approved)
// and a device that registers, associates, creates the credentials and
// logs in.
func onboard(ctx context.Context, setup *cli.CustomerSetup, base string, hc *http.Client, separate bool) (*flowCustomer, error) {
	n, err := rand.Int(rand.Reader, big.NewInt(10_000_000))
	if err != nil {
		return nil, err
	}
	c := &flowCustomer{phone: fmt.Sprintf("+3670%07d", n), password: "Flow-" + rand.Text()[:12] + "-9a"}
	user := "flow" + strings.ToLower(rand.Text()[:10])
	id, code, err := setup.CreateCustomer(ctx, "Flow Customer", c.phone)
	if err != nil {
		return nil, fmt.Errorf("create customer: %w", err)
	}
	c.id = id
	c.dev = &device.Client{BaseURL: base, HTTPClient: hc, DeviceInfo: "esign-bench flow", SeparateTimestamps: separate}
	d := c.dev
	if err := d.NewKey(); err != nil {
		return nil, err
	}
	if err := d.Register(ctx, "bench-"+rand.Text()[:10], ""); err != nil {
		return nil, fmt.Errorf("register: %w", err)
	}
	if err := d.Associate(ctx, c.phone, code); err != nil {
		return nil, fmt.Errorf("associate: %w", err)
	}
	if err := d.Create(ctx, user, c.password); err != nil {
		return nil, fmt.Errorf("create credentials: %w", err)
	}
	if err := setup.Approve(ctx, id); err != nil {
		return nil, fmt.Errorf("approve: %w", err)
	}
	if err := d.Login(ctx, user, c.password); err != nil {
		return nil, fmt.Errorf("login: %w", err)
	}
	return c, nil
}

// signFlow runs one offer through to the acknowledged contract and returns
// the M2 request's latency.
func signFlow(ctx context.Context, setup *cli.CustomerSetup, c *flowCustomer) (time.Duration, error) {
	d := c.dev
	offerID, err := setup.CreateOffer(ctx, c.id, "Benchmark flow offer",
		[]cli.OfferDocument{{Name: "a.pdf", Data: pdftest.Minimal(1)}, {Name: "b.pdf", Data: pdftest.Minimal(2)}})
	if err != nil {
		return 0, fmt.Errorf("file offer: %w", err)
	}
	o, err := d.GetOffer(ctx, offerID)
	if err != nil {
		return 0, fmt.Errorf("open offer: %w", err)
	}
	var docs [][]byte
	for _, doc := range o.Documents {
		var b bytes.Buffer
		if err := d.Download(ctx, doc.ID, &b); err != nil {
			return 0, fmt.Errorf("download: %w", err)
		}
		docs = append(docs, b.Bytes())
	}
	m1, err := d.BuildM1(ctx, offerID)
	if err != nil {
		return 0, fmt.Errorf("build M1: %w", err)
	}
	sigID, err := d.SendM1(ctx, m1)
	if err != nil {
		return 0, fmt.Errorf("M1: %w", err)
	}
	sms, err := setup.WaitSigningCode(ctx, c.phone, sigID)
	if err != nil {
		return 0, err
	}
	m2, err := d.BuildM2(ctx, &device.M2Input{SignatureID: sigID, OfferID: offerID, Documents: docs, Password: c.password, SMSToken: sms})
	if err != nil {
		return 0, fmt.Errorf("build M2: %w", err)
	}
	t0 := time.Now()
	res, err := d.SendM2(ctx, m2)
	lat := time.Since(t0)
	if err != nil {
		return 0, fmt.Errorf("M2: %w", err)
	}
	contractID, err := d.WaitContract(ctx, res)
	if err != nil {
		return 0, fmt.Errorf("wait for the contract: %w", err)
	}
	if err := d.Acknowledge(ctx, contractID); err != nil {
		return 0, fmt.Errorf("acknowledge: %w", err)
	}
	return lat, nil
}
