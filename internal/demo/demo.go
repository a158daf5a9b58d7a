// Package demo is `esign demo`: a whole signing flow driven only through
// esign's public interfaces — the webhook API as the bank's systems use it
// (create and approve the customer, file and revoke offers), the mobile
// API as the app uses it (the reference device client of package device)
// and the development inbox API (GET /dev/inbox) to read the SMS codes —
// so that it runs against the embedded deployment (`esign all`) and the
// production one alike (docs/operations.md).
//
// Every run reuses one demo customer (its bank reference, phone number,
// user name and password are derived, so each step accepts "already
// done"), registers a fresh device that it removes again at the end, and
// files one offer under an idempotency key. A run that fails revokes the
// offer it filed; one that was killed leaves open offers behind, and the
// next run revokes them before it files its own.
package demo

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base32"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"esign/internal/customers"
	"esign/internal/device"
	"esign/internal/esign"
	"esign/internal/pades"
	"esign/internal/pdf/pdftest"
	"esign/internal/webhookapi"
)

// DefaultCustomerRef is the bank reference of the demo customer.
const DefaultCustomerRef = "esign-demo"

// ErrNoCredentials is returned by Run when the system answers but Options
// holds no webhook credentials.
var ErrNoCredentials = errors.New("no webhook credentials")

// Options says where the system is and how to reach it.
type Options struct {
	WebhookURL string // base URL of the webhook API, e.g. http://127.0.0.1:10182
	MobileURL  string // base URL of the mobile API, e.g. http://127.0.0.1:10185
	InboxURL   string // URL of the development inbox API, e.g. http://127.0.0.1:10182/dev/inbox

	// User and Password are the HTTP Basic-auth credentials of the webhook
	// endpoints the demo calls (customer bootstrap, send-association-token
	// and approve, offer upload and revoke) and of the inbox API. They
	// also derive the demo customer's password.
	User, Password string

	// Browser stops after filing the offer (announced by SMS) and prints
	// its short link with the customer's username and password, to sign
	// it in the customer web UI; Result.Link holds the link.
	Browser bool

	CustomerRef string         // the demo customer's bank reference; default DefaultCustomerRef
	Roots       *x509.CertPool // trust anchors of the sealed contract's signatures
	OutDir      string         // directory for the contract's PDFs (created); default "."
	Out         io.Writer      // progress, one line a step; default io.Discard

	HTTPClient   *http.Client  // default: one with a 2-minute timeout per request
	CodeWait     time.Duration // how long an SMS code may take to arrive; default 30 s
	ProbeTimeout time.Duration // how long a listener may take to answer at all; default 5 s
}

// Result is what a successful run made.
type Result struct {
	CustomerRef string
	OfferID     string
	ContractID  string
	Files       []string // the sealed PDFs written to OutDir
	Link        string   // Browser: the offer's short link in the customer UI
}

// Customer is the demo customer of a reference: a phone number, user name
// and password derived from it (and, for the password, from the webhook
// password), so that every run with the same credentials finds the same
// customer and nobody without them can log in as it.
type Customer struct {
	Ref, Name, Phone, Email, Username, Password string
}

// CustomerFor derives the demo customer of ref.
func CustomerFor(ref, webhookPassword string) Customer {
	h := sha256.Sum256([]byte("esign demo customer\x00" + ref))
	mac := hmac.New(sha256.New, []byte(webhookPassword))
	mac.Write([]byte("esign demo customer password\x00" + ref))
	pw := base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(mac.Sum(nil))[:20]
	return Customer{
		Ref:      ref,
		Name:     "Demo Customer",
		Phone:    fmt.Sprintf("+3630%07d", binary.BigEndian.Uint64(h[:8])%10_000_000),
		Email:    "demo-" + hex.EncodeToString(h[:5]) + "@example.invalid",
		Username: "demo-" + hex.EncodeToString(h[:5]),
		Password: "Demo-" + pw + "-9a",
	}
}

func (o *Options) defaults() {
	trim := func(s string) string { return strings.TrimRight(s, "/") }
	o.WebhookURL, o.MobileURL = trim(o.WebhookURL), trim(o.MobileURL)
	if o.CustomerRef == "" {
		o.CustomerRef = DefaultCustomerRef
	}
	if o.OutDir == "" {
		o.OutDir = "."
	}
	if o.Out == nil {
		o.Out = io.Discard
	}
	if o.HTTPClient == nil {
		o.HTTPClient = &http.Client{Timeout: 2 * time.Minute}
	}
	if o.CodeWait <= 0 {
		o.CodeWait = 30 * time.Second
	}
	if o.ProbeTimeout <= 0 {
		o.ProbeTimeout = 5 * time.Second
	}
}

type runner struct {
	o   Options
	c   Customer
	dev *device.Client
}

func (r *runner) step(format string, args ...any) { fmt.Fprintf(r.o.Out, "  "+format+"\n", args...) }

// Run onboards the demo customer (or reuses it) with a new device, files
// an offer of two PDFs through the webhook API, signs it with M1/M2
// through the mobile API, downloads the sealed contract, verifies it
// against Roots, writes it to OutDir and acknowledges it. It checks first
// that the three URLs answer, and says to start `esign all` at once when
// they do not. On failure it revokes the offer it filed; it removes its
// device whatever happens.
func Run(ctx context.Context, o Options) (res *Result, err error) {
	o.defaults()
	if err := os.MkdirAll(o.OutDir, 0o755); err != nil {
		return nil, fmt.Errorf("create the output directory: %w", err)
	}
	if err := o.probe(ctx); err != nil {
		return nil, err
	}
	if o.User == "" || o.Password == "" {
		return nil, ErrNoCredentials
	}
	r := &runner{o: o, c: CustomerFor(o.CustomerRef, o.Password)}
	if _, err := r.inbox(ctx, 1); err != nil {
		return nil, err
	}
	fmt.Fprintf(o.Out, "esign demo: webhook API %s, mobile API %s, inbox %s\n", o.WebhookURL, o.MobileURL, o.InboxURL)
	if err := r.customer(ctx); err != nil {
		return nil, err
	}
	r.dev = &device.Client{BaseURL: o.MobileURL, HTTPClient: o.HTTPClient, DeviceInfo: "esign demo (reference client)"}
	if err := r.dev.NewKey(); err != nil {
		return nil, err
	}
	if err := r.dev.Register(ctx, "esign-demo-"+strings.ToLower(rand.Text()[:10]), ""); err != nil {
		return nil, fmt.Errorf("register the device: %w", err)
	}
	r.step("device registered (%s)", r.dev.Algorithm)
	defer func() {
		cctx, cancel := cleanupContext(ctx)
		defer cancel()
		if rerr := r.dev.RemoveAccount(cctx); rerr != nil {
			r.step("removing the device failed: %v", rerr)
			return
		}
		r.step("device removed")
	}()
	if err := r.onboard(ctx); err != nil {
		return nil, err
	}
	if err := r.revokeLeftovers(ctx); err != nil {
		return nil, err
	}
	if o.Browser {
		return r.forBrowser(ctx)
	}
	offerID, err := r.fileOffer(ctx, "email")
	if err != nil {
		return nil, err
	}
	signed := false
	defer func() {
		if signed {
			return
		}
		cctx, cancel := cleanupContext(ctx)
		defer cancel()
		if rerr := r.revoke(cctx, offerID, "esign demo: the run failed"); rerr != nil {
			r.step("revoking offer %s failed: %v (the next run revokes it)", offerID, rerr)
			return
		}
		r.step("offer %s revoked: the run failed", offerID)
	}()
	contractID, err := r.sign(ctx, offerID)
	if err != nil {
		return nil, err
	}
	signed = true
	files, err := r.contract(ctx, contractID)
	if err != nil {
		return nil, err
	}
	return &Result{CustomerRef: o.CustomerRef, OfferID: offerID, ContractID: contractID, Files: files}, nil
}

// cleanupContext bounds the clean-up after a failure, which must run even
// when ctx is what failed.
func cleanupContext(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(ctx), 15*time.Second)
}

// probe checks that something answers at each URL, any HTTP answer being
// enough: the errors of an answering system are clearer from the calls
// themselves.
func (o *Options) probe(ctx context.Context) error {
	for _, p := range []struct{ name, flag, url string }{
		{"webhook API", "--webhook", o.WebhookURL + "/healthz"},
		{"mobile API", "--mobile", o.MobileURL + "/healthz"},
		{"development inbox API", "--inbox", o.InboxURL},
	} {
		pctx, cancel := context.WithTimeout(ctx, o.ProbeTimeout)
		req, err := http.NewRequestWithContext(pctx, http.MethodGet, p.url, nil)
		if err != nil {
			cancel()
			return fmt.Errorf("%s %q: %w", p.flag, p.url, err)
		}
		resp, err := o.HTTPClient.Do(req)
		cancel()
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return fmt.Errorf("nothing answers at %s (the %s): start `esign all` first, or point --webhook, --mobile and --inbox at a running system (%v)",
				p.url, p.name, unwrapURLError(err))
		}
		resp.Body.Close()
	}
	return nil
}

func unwrapURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// webhook POSTs in as JSON to the webhook API and decodes the answer into
// out. With an idempotency key, a request that got no answer or a 5xx is
// sent again (the server answers a repeat with the first result).
func (r *runner) webhook(ctx context.Context, path, idemKey string, in, out any) error {
	body, err := json.Marshal(in)
	if err != nil {
		return err
	}
	for attempt := 1; ; attempt++ {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, r.o.WebhookURL+path, bytes.NewReader(body))
		if err != nil {
			return err
		}
		req.Header.Set("Content-Type", "application/json")
		req.SetBasicAuth(r.o.User, r.o.Password)
		if idemKey != "" {
			req.Header.Set("Idempotency-Key", idemKey)
		}
		resp, err := r.o.HTTPClient.Do(req)
		if idemKey != "" && attempt < 3 && ctx.Err() == nil && (err != nil || resp.StatusCode >= 500) {
			if err == nil {
				resp.Body.Close()
			}
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(time.Duration(attempt) * time.Second):
			}
			continue
		}
		if err != nil {
			return fmt.Errorf("POST %s: %w", path, unwrapURLError(err))
		}
		defer resp.Body.Close()
		if resp.StatusCode >= 300 {
			return webhookError(path, device.ReadError(resp))
		}
		if out == nil {
			return nil
		}
		return json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(out)
	}
}

// webhookError explains the answers that mean the system is not set up
// for the demo.
func webhookError(path string, err error) error {
	switch {
	case esign.IsKind(err, esign.NotFound) && esign.ErrorCode(err) == "":
		return fmt.Errorf("POST %s is disabled on this system: the demo needs webhook.customer_bootstrap, "+
			"customer_send_association_token, customer_approve, offer_upload and offer_revoke enabled with its credentials (docs/operations.md)", path)
	case esign.IsKind(err, esign.Unauthorized):
		return fmt.Errorf("POST %s: the webhook API refuses the demo's credentials", path)
	}
	return fmt.Errorf("POST %s: %w", path, err)
}

// inbox reads the newest SMS to the demo customer's phone from the
// development inbox API.
func (r *runner) inbox(ctx context.Context, limit int) ([]webhookapi.InboxMessage, error) {
	u, err := url.Parse(r.o.InboxURL)
	if err != nil {
		return nil, fmt.Errorf("--inbox %q: %w", r.o.InboxURL, err)
	}
	q := u.Query()
	q.Set("channel", "sms")
	q.Set("to", r.c.Phone)
	q.Set("limit", fmt.Sprint(limit))
	u.RawQuery = q.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, err
	}
	req.SetBasicAuth(r.o.User, r.o.Password)
	resp, err := r.o.HTTPClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("read the development inbox: %w", unwrapURLError(err))
	}
	defer resp.Body.Close()
	switch {
	case resp.StatusCode == http.StatusNotFound:
		return nil, fmt.Errorf("no development inbox API at %s: it is served only where notifications go to the "+
			"development inbox and webhook.dev_inbox is set (docs/operations.md)", r.o.InboxURL)
	case resp.StatusCode == http.StatusUnauthorized:
		return nil, fmt.Errorf("the development inbox API at %s refuses the demo's credentials", r.o.InboxURL)
	case resp.StatusCode >= 300:
		return nil, fmt.Errorf("read the development inbox: %w", device.ReadError(resp))
	}
	var l webhookapi.InboxList
	if err := json.NewDecoder(io.LimitReader(resp.Body, 4<<20)).Decode(&l); err != nil {
		return nil, fmt.Errorf("read the development inbox: %w", err)
	}
	return l.Messages, nil
}

// codeRE finds a one-time code in an SMS text.
var codeRE = regexp.MustCompile(`\b[0-9]{6}\b`)

// waitCode polls the inbox until pick finds a code among the newest SMS
// to the demo phone, for at most CodeWait.
func (r *runner) waitCode(ctx context.Context, what string, pick func([]webhookapi.InboxMessage) string) (string, error) {
	wctx, cancel := context.WithTimeout(ctx, r.o.CodeWait)
	defer cancel()
	for {
		msgs, err := r.inbox(wctx, 20)
		if err != nil && wctx.Err() == nil {
			return "", err
		}
		if code := pick(msgs); code != "" {
			return code, nil
		}
		select {
		case <-wctx.Done():
			if ctx.Err() != nil {
				return "", ctx.Err()
			}
			return "", fmt.Errorf("%s did not reach the development inbox for %s within %s (does the system's job queue run? "+
				"SMS limits such as notify.sms_per_hour or mobile.sms_per_number_per_hour reached? another --customer-ref has its own phone number)",
				what, r.c.Phone, r.o.CodeWait)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// smsLimit explains a refused SMS code: every run sends the demo phone
// two (association and signing), so the default limits allow about five
// runs an hour.
func (r *runner) smsLimit(err error) error {
	if esign.ErrorCode(err) != "sms_limit" {
		return err
	}
	return fmt.Errorf("%w: the demo phone %s has reached its SMS limit (mobile.sms_per_number_per_hour; each run sends two codes); "+
		"wait, or run with another --customer-ref, which has a phone number of its own", err, r.c.Phone)
}

// customer creates the demo customer, or finds it made by an earlier run.
func (r *runner) customer(ctx context.Context) error {
	err := r.webhook(ctx, "/customer/bootstrap", "", map[string]string{"customer_ref": r.c.Ref, "name": r.c.Name,
		"phone": r.c.Phone, "email": r.c.Email, "locale": "en"}, nil)
	switch {
	case err == nil:
		r.step("customer %s created (phone %s)", r.c.Ref, r.c.Phone)
	case esign.IsKind(err, esign.Conflict):
		r.step("customer %s exists: reused (phone %s)", r.c.Ref, r.c.Phone)
	default:
		return fmt.Errorf("create the customer: %w", err)
	}
	return nil
}

// onboard associates the device with the SMS code, sets the credentials
// (or finds them set), has the bank approve the customer (or finds it
// approved) and logs in.
func (r *runner) onboard(ctx context.Context) error {
	before, err := r.inbox(ctx, 1)
	if err != nil {
		return err
	}
	if err := r.webhook(ctx, "/customer/send-association-token", "", map[string]string{"customer_ref": r.c.Ref}, nil); err != nil {
		return fmt.Errorf("send the association code: %w", r.smsLimit(err))
	}
	code, err := r.waitCode(ctx, "the association code", func(msgs []webhookapi.InboxMessage) string {
		for _, m := range msgs { // newest first, down to the newest before the request
			if len(before) > 0 && m.ID == before[0].ID {
				break
			}
			if c := codeRE.FindString(m.Text); c != "" {
				return c
			}
		}
		return ""
	})
	if err != nil {
		return err
	}
	if err := r.dev.Associate(ctx, r.c.Phone, code); err != nil {
		return fmt.Errorf("associate the device: %w", err)
	}
	r.step("device associated with the SMS code")
	switch err := r.dev.Create(ctx, r.c.Username, r.c.Password); {
	case err == nil:
		r.step("credentials %s created", r.c.Username)
	case esign.ErrorCode(err) == "already_created":
		r.step("credentials %s exist: reused", r.c.Username)
	default:
		return fmt.Errorf("create the credentials: %w", err)
	}
	switch err := r.webhook(ctx, "/customer/approve", "", map[string]string{"customer_ref": r.c.Ref}, nil); {
	case err == nil:
		r.step("customer approved by the bank")
	case esign.ErrorCode(err) == "not_pending":
		r.step("customer approved already")
	default:
		return fmt.Errorf("approve the customer: %w", err)
	}
	if err := r.dev.Login(ctx, r.c.Username, r.c.Password); err != nil {
		if esign.IsKind(err, esign.Unauthorized) {
			return fmt.Errorf("log in as %s: refused; the customer %s was made with other webhook credentials, "+
				"or its account is locked: run with another --customer-ref (%w)", r.c.Username, r.c.Ref, err)
		}
		return fmt.Errorf("log in: %w", err)
	}
	r.step("logged in as %s", r.c.Username)
	return nil
}

// revokeLeftovers revokes the offers that earlier runs left open (a run
// that was killed cannot clean up after itself).
func (r *runner) revokeLeftovers(ctx context.Context) error {
	offers, err := r.dev.ListOffers(ctx)
	if err != nil {
		return fmt.Errorf("list the customer's offers: %w", err)
	}
	n := 0
	for _, o := range offers {
		switch esign.OfferState(o.State) {
		case esign.OfferCreated, esign.OfferNotified, esign.OfferOpened, esign.OfferSigning:
			if err := r.revoke(ctx, o.ID, "esign demo: left open by an earlier run"); err != nil {
				return fmt.Errorf("revoke offer %s of an earlier run: %w", o.ID, err)
			}
			n++
		}
	}
	if n > 0 {
		r.step("revoked %d offer(s) an earlier run left open", n)
	}
	return nil
}

func (r *runner) revoke(ctx context.Context, offerID, reason string) error {
	return r.webhook(ctx, "/offer/revoke", "esign-demo-revoke-"+offerID,
		map[string]string{"customer_ref": r.c.Ref, "offer_id": offerID, "reason": reason}, nil)
}

// fileOffer uploads the offer of two PDFs, announced on channel (e-mail
// when the demo signs: the SMS budget of the demo phone is kept for the
// codes). The idempotency key
// makes a repeated upload return the first offer.
func (r *runner) fileOffer(ctx context.Context, channel string) (string, error) {
	ref := "esign-demo-" + strings.ToLower(rand.Text()[:12])
	up := webhookapi.UploadRequest{CustomerRef: r.c.Ref, ExternalRef: ref, Title: "Demo loan agreement",
		ExpiresAt: time.Now().Add(7 * 24 * time.Hour).UTC().Truncate(time.Second), Channel: channel}
	for _, d := range []struct {
		name string
		pdf  []byte
	}{{"agreement.pdf", pdftest.Minimal(2)}, {"terms.pdf", pdftest.Minimal(1)}} {
		up.Documents = append(up.Documents, webhookapi.DocumentJSON{Name: d.name, Content: base64.StdEncoding.EncodeToString(d.pdf)})
	}
	var o webhookapi.OfferJSON
	if err := r.webhook(ctx, "/offer/upload", ref, up, &o); err != nil {
		return "", fmt.Errorf("file the offer: %w", err)
	}
	r.step("offer %s filed with two PDFs (reference %s)", o.ID, ref)
	return o.ID, nil
}

// sign opens the offer, downloads its documents, sends M1, reads the
// signing code from the inbox, sends M2 and waits for the bank's seal.
func (r *runner) sign(ctx context.Context, offerID string) (string, error) {
	d := r.dev
	o, err := d.GetOffer(ctx, offerID)
	if err != nil {
		return "", fmt.Errorf("open the offer: %w", err)
	}
	var docs [][]byte
	for _, doc := range o.Documents {
		var b bytes.Buffer
		if err := d.Download(ctx, doc.ID, &b); err != nil {
			return "", fmt.Errorf("download %s: %w", doc.Name, err)
		}
		docs = append(docs, b.Bytes())
	}
	m1, err := d.BuildM1(ctx, offerID)
	if err != nil {
		return "", fmt.Errorf("build M1: %w", err)
	}
	sigID, err := d.SendM1(ctx, m1)
	if err != nil {
		return "", fmt.Errorf("M1: %w", r.smsLimit(err))
	}
	r.step("M1 accepted: signature %s (%s)", sigID, d.Algorithm)
	prefix := customers.TwoFactorKeyPrefix(sigID)
	sms, err := r.waitCode(ctx, "the signing code", func(msgs []webhookapi.InboxMessage) string {
		for _, m := range msgs {
			if strings.HasPrefix(m.Key, prefix) {
				return codeRE.FindString(m.Text)
			}
		}
		return ""
	})
	if err != nil {
		return "", err
	}
	// As the specification's app does: confirm the factors (2f-auth,
	// which leaves the code to M2), then sign.
	if err := d.TwoFactorAuth(ctx, sigID, r.c.Password, sms); err != nil {
		return "", fmt.Errorf("2f-auth: %w", err)
	}
	r.step("2f-auth: username, password and SMS code confirmed")
	m2, err := d.BuildM2(ctx, &device.M2Input{SignatureID: sigID, OfferID: offerID, Documents: docs, Password: r.c.Password, SMSToken: sms})
	if err != nil {
		return "", fmt.Errorf("build M2: %w", err)
	}
	res, err := d.SendM2(ctx, m2)
	if err != nil {
		return "", fmt.Errorf("M2: %w", err)
	}
	r.step("M2 accepted: customer signature hash %s", res.CustomerSignatureHash)
	id, err := d.WaitContract(ctx, res)
	if err != nil {
		return "", fmt.Errorf("wait for the sealed contract: %w", err)
	}
	return id, nil
}

// contract downloads the sealed contract's PDFs into OutDir, verifies
// each and acknowledges the contract.
func (r *runner) contract(ctx context.Context, id string) ([]string, error) {
	k, err := r.dev.GetContract(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("read the contract: %w", err)
	}
	var files []string
	for i, doc := range k.Documents {
		var b bytes.Buffer
		if err := r.dev.Download(ctx, doc.ID, &b); err != nil {
			return nil, fmt.Errorf("download the contract: %w", err)
		}
		file := filepath.Join(r.o.OutDir, fmt.Sprintf("esign-demo-%s-%d-%s", k.ID, i+1, filepath.Base(doc.Name)))
		if err := os.WriteFile(file, b.Bytes(), 0o644); err != nil {
			return nil, err
		}
		files = append(files, file)
		rep, err := pades.Verify(ctx, bytes.NewReader(b.Bytes()), int64(b.Len()), pades.VerifyOptions{Roots: r.o.Roots})
		if err != nil {
			return nil, fmt.Errorf("verify %s: %w", file, err)
		}
		if !rep.Valid() {
			return nil, fmt.Errorf("%s does not verify:\n%s", file, rep.Summary())
		}
		level := ""
		if len(rep.Signatures) > 0 {
			level = rep.Signatures[0].Level
		}
		r.step("contract %s: %s — valid, PAdES %s", k.ID, file, level)
	}
	if err := r.dev.Acknowledge(ctx, k.ID); err != nil {
		return nil, fmt.Errorf("acknowledge the contract: %w", err)
	}
	r.step("contract acknowledged")
	return files, nil
}

// linkRE finds the short link of an offer in an SMS text.
var linkRE = regexp.MustCompile(`https?://\S+/s/[a-z0-9]+`)

// forBrowser files an offer announced by SMS and prints its short link
// and the customer's credentials, for signing in the customer web UI.
func (r *runner) forBrowser(ctx context.Context) (*Result, error) {
	before, err := r.inbox(ctx, 1)
	if err != nil {
		return nil, err
	}
	offerID, err := r.fileOffer(ctx, "sms")
	if err != nil {
		return nil, err
	}
	link, err := r.waitCode(ctx, "the offer's SMS", func(msgs []webhookapi.InboxMessage) string {
		for _, m := range msgs {
			if len(before) > 0 && m.ID == before[0].ID {
				break
			}
			if l := linkRE.FindString(m.Text); l != "" {
				return l
			}
		}
		return ""
	})
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(r.o.Out, "\nOpen %s in a browser and sign in as %s with the password %s\n"+
		"(the signing code arrives in the development inbox of the admin UI).\n", link, r.c.Username, r.c.Password)
	return &Result{CustomerRef: r.o.CustomerRef, OfferID: offerID, Link: link}, nil
}
