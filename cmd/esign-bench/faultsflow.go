package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"esign/internal/cli"
	"esign/internal/device"
	"esign/internal/esign"
	"esign/internal/pdf/pdftest"
	"esign/internal/signing"
)

// faultClient is one customer's app: a reference device client whose
// connections go through the balancer in front of the oss replicas (or,
// while pinned, straight to one oss), retrying as the app does.
type faultClient struct {
	id, phone, user, password string
	dev                       *device.Client
	pinned                    atomic.Pointer[string] // oss mobile address to dial instead of the balancer
}

// flowRecord is what the driver knows of one signing flow.
type flowRecord struct {
	client      *faultClient
	offerID     string
	sigID       string
	start, end  time.Time
	verifiedAt  time.Time // M2 answered verified (or completed)
	contractID  string
	files       []string // the contract's documents as downloaded
	err         error    // the flow gave up
	rejected    string   // a valid M2 was rejected with this code
	m2Attempts  int
	transient   int    // answers retried (5xx, 429, connection errors, conflicts while a claim is held)
	internal500 int    // 500 answers among them
	first500    string // the first of them
	step        string // the request being made
}

// flowDriver runs retrying signing flows.
type flowDriver struct {
	setup    *cli.CustomerSetup
	balancer string // host:port of the mobile API balancer
	dir      string // downloads
	deadline time.Duration

	// beforeM2, when set, runs just before the first send of each M2 (the
	// M2 crash scenario watches the claim from there).
	beforeM2 atomic.Pointer[func(*flowRecord)]
}

func randomDigits(n int64) (int64, error) {
	v, err := rand.Int(rand.Reader, big.NewInt(n))
	if err != nil {
		return 0, err
	}
	return v.Int64(), nil
}

// newClient onboards a customer with a device that registered an FCM
// token (so the contract_ready push is sent) and logged in.
func (fd *flowDriver) newClient(ctx context.Context) (*faultClient, error) {
	n, err := randomDigits(10_000_000)
	if err != nil {
		return nil, err
	}
	c := &faultClient{phone: fmt.Sprintf("+3671%07d", n), password: "Fault-" + rand.Text()[:12] + "-9a",
		user: "fault" + strings.ToLower(rand.Text()[:10])}
	dialer := &net.Dialer{Timeout: 5 * time.Second}
	tr := &http.Transport{MaxIdleConnsPerHost: 4, DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
		addr := fd.balancer
		if p := c.pinned.Load(); p != nil {
			addr = *p
		}
		return dialer.DialContext(ctx, network, addr)
	}}
	c.dev = &device.Client{BaseURL: "http://oss.invalid", HTTPClient: &http.Client{Timeout: 30 * time.Second, Transport: tr},
		DeviceInfo: "esign-bench faults"}
	d := c.dev
	if err := d.NewKey(); err != nil {
		return nil, err
	}
	var code string
	err = retry(ctx, time.Minute, nil, func() error {
		var err error
		c.id, code, err = fd.setup.CreateCustomer(ctx, "Fault Customer", c.phone)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("create customer: %w", err)
	}
	steps := []struct {
		what string
		do   func() error
	}{
		{"register", func() error { return d.Register(ctx, "fault-"+rand.Text()[:10], "fcm-"+rand.Text()) }},
		{"associate", func() error { return d.Associate(ctx, c.phone, code) }},
		{"create credentials", func() error { return d.Create(ctx, c.user, c.password) }},
		{"approve", func() error { return fd.setup.Approve(ctx, c.id) }},
		{"login", func() error { return d.Login(ctx, c.user, c.password) }},
	}
	for _, s := range steps {
		if err := retry(ctx, time.Minute, nil, s.do); err != nil {
			return nil, fmt.Errorf("%s: %w", s.what, err)
		}
	}
	return c, nil
}

// transient reports whether the app retries the request unchanged: no
// answer at all, 5xx, 429, or a conflict that a held claim causes.
func transient(err error) bool {
	var ee *esign.Error
	if !errors.As(err, &ee) {
		return true // connection refused or reset, timeout
	}
	switch ee.Kind {
	case esign.Unavailable, esign.TooMany, esign.Internal:
		return true
	case esign.Conflict:
		return ee.Code == "signature_state" || ee.Code == "signature_pending"
	}
	return false
}

// retry runs op until it succeeds, fails for good, or limit passes, with
// backoff from 200 ms doubling to 3 s; a lost session logs in again
// (login, when set). rec counts the retried answers.
func retry(ctx context.Context, limit time.Duration, rec *flowRecord, op func() error, login ...func() error) error {
	end := time.Now().Add(limit)
	wait := 200 * time.Millisecond
	for {
		err := op()
		if err == nil {
			return nil
		}
		switch {
		case transient(err):
			if rec != nil {
				rec.transient++
				if ee := (*esign.Error)(nil); errors.As(err, &ee) && ee.Op == "device" && ee.Kind == esign.Internal {
					rec.internal500++
					if rec.first500 == "" {
						rec.first500 = rec.step + ": " + err.Error()
					}
				}
			}
		case esign.IsKind(err, esign.Unauthorized) && len(login) > 0:
			if lerr := login[0](); lerr != nil && !transient(lerr) {
				return fmt.Errorf("%w (logging in again: %v)", err, lerr)
			}
		default:
			return err
		}
		if time.Now().Add(wait).After(end) {
			return fmt.Errorf("still failing after %s: %w", limit, err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(wait):
		}
		wait = min(wait*2, 3*time.Second)
	}
}

// steps runs one flow for c: the bank files an offer, the app opens it,
// downloads the documents, M1, the SMS code, M2, waits for the contract,
// downloads and acknowledges it. Every request is retried as the app
// does; the flow gives up after fd.deadline.
func (fd *flowDriver) steps(ctx context.Context, c *faultClient, r *flowRecord) error {
	ctx, cancel := context.WithTimeout(ctx, fd.deadline)
	defer cancel()
	d := c.dev
	left := func() time.Duration { dl, _ := ctx.Deadline(); return time.Until(dl) }
	login := func() error { return d.Login(ctx, c.user, c.password) }
	do := func(step string, op func() error) error { r.step = step; return retry(ctx, left(), r, op, login) }
	if err := do("file offer", func() error {
		var err error
		r.offerID, err = fd.setup.CreateOffer(ctx, c.id, "Fault suite offer",
			[]cli.OfferDocument{{Name: "a.pdf", Data: pdftest.Minimal(1)}, {Name: "b.pdf", Data: pdftest.Minimal(2)}})
		return err
	}); err != nil {
		return fmt.Errorf("file offer: %w", err)
	}
	var o *device.Offer
	if err := do("GET /api/offer", func() error { var err error; o, err = d.GetOffer(ctx, r.offerID); return err }); err != nil {
		return fmt.Errorf("open offer: %w", err)
	}
	var docs [][]byte
	for _, doc := range o.Documents {
		var b bytes.Buffer
		if err := do("GET /api/document", func() error { b.Reset(); return d.Download(ctx, doc.ID, &b) }); err != nil {
			return fmt.Errorf("download: %w", err)
		}
		docs = append(docs, b.Bytes())
	}
	var m1 *signing.M1
	if err := do("build M1", func() error { var err error; m1, err = d.BuildM1(ctx, r.offerID); return err }); err != nil {
		return fmt.Errorf("build M1: %w", err)
	}
	// M1, then the code; a code that does not come is asked for again
	// with the same M1 (the app's "send the code again").
	var sms string
	for sms == "" {
		if err := do("POST /api/signature/m1", func() error { var err error; r.sigID, err = d.SendM1(ctx, m1); return err }); err != nil {
			return fmt.Errorf("M1: %w", err)
		}
		code, err := fd.setup.WaitSigningCode(ctx, c.phone, r.sigID)
		if ctx.Err() != nil {
			return fmt.Errorf("wait for the signing code: %w", err)
		}
		sms = code
	}
	// M2. A code that a newer one replaced (the retried M1 sent a fresh
	// code while the first SMS was still on its way) is answered
	// invalid_code with attempts left: the customer types the newest code
	// and signs again, as the app lets them.
	var res *signing.M2Result
	for typed := 1; ; typed++ {
		var m2 *signing.M2
		if err := do("build M2 (POST /api/timestamp: TS2)", func() error {
			var err error
			m2, err = d.BuildM2(ctx, &device.M2Input{SignatureID: r.sigID, OfferID: r.offerID, Documents: docs, Password: c.password, SMSToken: sms})
			return err
		}); err != nil {
			return fmt.Errorf("build M2: %w", err)
		}
		if h := fd.beforeM2.Load(); h != nil && typed == 1 {
			(*h)(r)
		}
		err := do("POST /api/signature/m2", func() error { r.m2Attempts++; var err error; res, err = d.SendM2(ctx, m2); return err })
		if err == nil {
			break
		}
		if left, ok := esign.ErrorAttemptsLeft(err); ok && left > 0 && esign.ErrorCode(err) == "invalid_code" && typed < 3 {
			if newest, werr := fd.setup.WaitSigningCode(ctx, c.phone, r.sigID); werr == nil && newest != sms {
				sms = newest
				continue
			}
		}
		if code := esign.ErrorCode(err); esign.IsKind(err, esign.Invalid) && code != "" {
			r.rejected = code
		}
		return fmt.Errorf("M2: %w", err)
	}
	r.verifiedAt = time.Now()
	if err := do("GET /api/signature/status", func() error { var err error; r.contractID, err = d.WaitContract(ctx, res); return waitErr(err) }); err != nil {
		return fmt.Errorf("wait for the contract: %w", err)
	}
	if err := fd.download(ctx, c, r, do); err != nil {
		return err
	}
	if err := do("POST /api/contract/acknowledge", func() error { return d.Acknowledge(ctx, r.contractID) }); err != nil {
		return fmt.Errorf("acknowledge: %w", err)
	}
	return nil
}

// waitErr makes the contract wait's own timeout retryable: the app keeps
// waiting for the contract_ready push.
func waitErr(err error) error {
	if err != nil && errors.Is(err, context.DeadlineExceeded) {
		return esign.E("device.WaitContract", esign.Unavailable, err.Error())
	}
	return err
}

// download saves the contract's documents for `esign pdf verify`.
func (fd *flowDriver) download(ctx context.Context, c *faultClient, r *flowRecord, do func(string, func() error) error) error {
	var ct *device.Contract
	if err := do("GET /api/contract", func() error { var err error; ct, err = c.dev.GetContract(ctx, r.contractID); return err }); err != nil {
		return fmt.Errorf("open the contract: %w", err)
	}
	r.files = r.files[:0]
	for i, doc := range ct.Documents {
		var b bytes.Buffer
		if err := do("GET /api/document (contract)", func() error { b.Reset(); return c.dev.Download(ctx, doc.ID, &b) }); err != nil {
			return fmt.Errorf("download the contract: %w", err)
		}
		p := filepath.Join(fd.dir, fmt.Sprintf("%s-%d.pdf", r.contractID, i))
		if err := os.WriteFile(p, b.Bytes(), 0o600); err != nil {
			return err
		}
		r.files = append(r.files, p)
	}
	return nil
}

// load runs flows on its clients back to back until stopped.
type load struct {
	fd      *flowDriver
	mu      sync.Mutex
	records []*flowRecord
	active  map[*flowRecord]bool
	stop    chan struct{}
	wg      sync.WaitGroup
}

func (fd *flowDriver) startLoad(ctx context.Context, clients []*faultClient) *load {
	l := &load{fd: fd, stop: make(chan struct{}), active: map[*flowRecord]bool{}}
	for _, c := range clients {
		l.wg.Go(func() {
			for {
				select {
				case <-l.stop:
					return
				case <-ctx.Done():
					return
				default:
				}
				l.runOne(ctx, c)
			}
		})
	}
	return l
}

// runOne runs one flow for c, recorded with the load's.
func (l *load) runOne(ctx context.Context, c *faultClient) *flowRecord {
	r := &flowRecord{client: c, start: time.Now()}
	l.mu.Lock()
	l.records = append(l.records, r)
	l.active[r] = true
	l.mu.Unlock()
	err := l.fd.steps(ctx, c, r)
	l.mu.Lock()
	r.err, r.end = err, time.Now()
	delete(l.active, r)
	l.mu.Unlock()
	return r
}

// finish stops starting flows and waits for the running ones.
func (l *load) finish() []*flowRecord {
	close(l.stop)
	l.wg.Wait()
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.records
}

// recovered reports when the load was whole again after the fault that
// began at from and ended at t: every flow running at from has ended, and
// a flow that started after t has succeeded. ok is false while that is
// not so. (A flow that gave up is a violation of its own.)
func (l *load) recovered(from, t time.Time) (at time.Time, ok bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	var inflight, fresh time.Time
	for _, r := range l.records {
		switch {
		case r.start.Before(from) && (r.end.IsZero() || r.end.After(from)):
			if r.end.IsZero() {
				return time.Time{}, false
			}
			inflight = later(inflight, r.end)
		case r.start.After(t) && !r.end.IsZero() && r.err == nil:
			if fresh.IsZero() || r.end.Before(fresh) {
				fresh = r.end
			}
		}
	}
	if fresh.IsZero() {
		return time.Time{}, false
	}
	return later(inflight, fresh), true
}

func later(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}
