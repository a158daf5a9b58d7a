package cli

import (
	"bytes"
	"context"
	"crypto/rand"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"esign/internal/bus"
	"esign/internal/customers"
	"esign/internal/device"
	"esign/internal/esign"
	"esign/internal/notify"
	"esign/internal/notify/inbox"
	"esign/internal/offers"
	"esign/internal/pades"
	"esign/internal/pdf/pdftest"
	"esign/internal/seal"
	"esign/internal/signing"
	"esign/internal/sqlstore"
)

// busSigner seals through pdfservice on the process's bus, which is
// opened after the HTTP surfaces are built.
type busSigner struct{ a *app }

func (s busSigner) SignDigest(ctx context.Context, digest []byte) ([]byte, error) {
	if s.a.bus == nil {
		return nil, esign.E("cli.busSigner", esign.Unavailable, "the bus is not open")
	}
	return (&seal.Client{Bus: s.a.bus, Timestamp: true}).SignDigest(ctx, digest)
}

// busPublisher publishes operator events on the process's bus.
type busPublisher struct{ a *app }

func (p busPublisher) Publish(ctx context.Context, stream, eventType string, body any) error {
	if p.a.bus == nil {
		return esign.E("cli.busPublisher", esign.Unavailable, "the bus is not open")
	}
	return p.a.bus.Publish(ctx, stream, eventType, body)
}

// signingService is oss's signing workflow (M1/M2 and Phase 5): time-stamp
// tokens are trusted like the TSA client's, the bank's seal is made by
// pdfservice over the bus (PAdES B-LT, or B-T when the chain offers no
// revocation data), the contract push goes through the
// job queue and the operator event onto the contract stream.
func (a *app) signingService() (*signing.Service, error) {
	roots, err := trustPool(a.cfg, nil)
	if err != nil {
		return nil, err
	}
	cfg := signing.Config{TSARoots: roots, Algorithms: a.cfg.Mobile.Algorithms()}
	if a.docs != nil && a.queue != nil {
		// B-LT when the chain offers revocation data, else B-T.
		// Sealed by a job after M2 commits (jobs.QueueSeal).
		cfg.Sealing = &signing.Sealing{Seal: pades.SignOptions{Level: pades.LevelBLT, CMS: busSigner{a}},
			Docs: a.docs, Queue: a.queue, Events: busPublisher{a}, Stream: bus.StreamContractUpdates, Changes: a.events,
			Jobs: a.queue}
	}
	return signing.New(a.db, a.customers, cfg)
}

// OfferDocument is a PDF of an offer filed by CreateOffer.
type OfferDocument struct {
	Name string
	Data []byte
}

// CreateOffer files an offer of the PDFs for the customer, expiring in a
// week, through the same service as the webhook upload (PDF validation,
// encrypted storage, notifications), for tools (esign demo, esign-bench
// flow) and tests.
func (s *CustomerSetup) CreateOffer(ctx context.Context, customerID, title string, docs []OfferDocument) (string, error) {
	c, err := s.a.db.GetCustomer(ctx, customerID)
	if err != nil {
		return "", err
	}
	svc, err := offers.New(offers.Deps{DB: s.a.db, Docs: s.a.docs, Queue: s.a.queue, Customers: s.svc})
	if err != nil {
		return "", err
	}
	up := offers.Upload{CustomerRef: c.ExternalRef, Title: title, ExpiresAt: time.Now().Add(7 * 24 * time.Hour)}
	for _, d := range docs {
		up.Files = append(up.Files, offers.File{Name: d.Name, Data: d.Data})
	}
	o, _, err := svc.UploadOffer(ctx, up)
	if err != nil {
		return "", err
	}
	return o.ID, nil
}

// smsCodeRE finds a one-time code in an SMS text.
var smsCodeRE = regexp.MustCompile(`\b[0-9]{6}\b`)

// waitSMSCode waits until the development inbox holds more than after SMS
// to phone and returns the code of the newest and their number.
func waitSMSCode(ctx context.Context, db *sqlstore.DB, phone string, after int) (string, int, error) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	for {
		msgs, err := db.Inbox().ListInboxMessages(ctx, inbox.Filter{Channel: notify.SMS, To: phone})
		if err != nil {
			return "", 0, err
		}
		if len(msgs) > after {
			newest := msgs[0]
			for _, m := range msgs {
				if m.CreatedAt.After(newest.CreatedAt) {
					newest = m
				}
			}
			if code := smsCodeRE.FindString(newest.Text); code != "" {
				return code, len(msgs), nil
			}
		}
		select {
		case <-ctx.Done():
			return "", 0, fmt.Errorf("no SMS with a code reached the development inbox for %s: %w", phone, ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// runDemo is `esign demo`: against a running system (default: the local
// `esign all`, whose SMS land in the development inbox) it files an offer
// of two PDFs, onboards a reference device, signs with M1/M2, downloads
// the sealed contract, verifies it and prints a short report.
func runDemo(ctx context.Context, env Env, args []string) error {
	fs, path := newFlagSet(env, "demo")
	mobile := fs.String("mobile", "", "base URL of the mobile API (default: http:// + listen.mobile)")
	outDir := fs.String("out", ".", "directory to write the sealed contract's PDFs to")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("unexpected argument %q", fs.Arg(0))
	}
	cfg, err := loadConfig(env, *path)
	if err != nil {
		return err
	}
	base := *mobile
	if base == "" {
		base = "http://" + displayAddr(cfg.Listen.Mobile)
	}
	roots, err := trustPool(cfg, nil)
	if err != nil {
		return err
	}
	setup, err := OpenCustomerSetup(ctx, *path, env.Environ)
	if err != nil {
		return err
	}
	defer setup.Close()
	w := env.Stdout
	step := func(format string, args ...any) { fmt.Fprintf(w, "  "+format+"\n", args...) }

	n, err := rand.Int(rand.Reader, big.NewInt(10_000_000))
	if err != nil {
		return err
	}
	phone := fmt.Sprintf("+3630%07d", n)
	user := "demo" + strings.ToLower(rand.Text()[:8])
	pw := "Demo-" + rand.Text()[:12] + "-9a"
	custID, code, err := setup.CreateCustomer(ctx, "Demo Customer", phone)
	if err != nil {
		return fmt.Errorf("create the customer: %w", err)
	}
	_, seen, err := waitSMSCode(ctx, setup.a.db, phone, 0)
	if err != nil {
		return err
	}
	d := &device.Client{BaseURL: base, DeviceInfo: "esign demo (reference client)"}
	if err := d.NewKey(); err != nil {
		return err
	}
	fmt.Fprintf(w, "esign demo against %s\n", base)
	for _, s := range []struct {
		what string
		f    func() error
	}{
		{"register the device", func() error { return d.Register(ctx, "demo-"+rand.Text()[:10], "") }},
		{"associate it with the SMS code", func() error { return d.Associate(ctx, phone, code) }},
		{"create the credentials " + user, func() error { return d.Create(ctx, user, pw) }},
		{"operator approval", func() error { return setup.Approve(ctx, custID) }},
		{"log in", func() error { return d.Login(ctx, user, pw) }},
	} {
		if err := s.f(); err != nil {
			return fmt.Errorf("%s: %w", s.what, err)
		}
		step("%s: ok", s.what)
	}
	offerID, err := setup.CreateOffer(ctx, custID, "Demo loan agreement",
		[]OfferDocument{{"agreement.pdf", pdftest.Minimal(2)}, {"terms.pdf", pdftest.Minimal(1)}})
	if err != nil {
		return fmt.Errorf("file the offer: %w", err)
	}
	step("offer %s filed with two PDFs", offerID)
	o, err := d.GetOffer(ctx, offerID)
	if err != nil {
		return fmt.Errorf("open the offer: %w", err)
	}
	var docs [][]byte
	for _, doc := range o.Documents {
		var b bytes.Buffer
		if err := d.Download(ctx, doc.ID, &b); err != nil {
			return fmt.Errorf("download %s: %w", doc.Name, err)
		}
		docs = append(docs, b.Bytes())
	}
	m1, err := d.BuildM1(ctx, offerID)
	if err != nil {
		return fmt.Errorf("build M1: %w", err)
	}
	sigID, err := d.SendM1(ctx, m1)
	if err != nil {
		return fmt.Errorf("M1: %w", err)
	}
	step("M1 accepted: signature %s (%s)", sigID, d.Algorithm)
	sms, _, err := waitSMSCode(ctx, setup.a.db, phone, seen)
	if err != nil {
		return err
	}
	m2, err := d.BuildM2(ctx, &device.M2Input{SignatureID: sigID, OfferID: offerID, Documents: docs, Password: pw, SMSToken: sms})
	if err != nil {
		return fmt.Errorf("build M2: %w", err)
	}
	res, err := d.SendM2(ctx, m2)
	if err != nil {
		return fmt.Errorf("M2: %w", err)
	}
	step("M2 accepted: customer signature hash %s", res.CustomerSignatureHash)
	contractID, err := d.WaitContract(ctx, res)
	if err != nil {
		return fmt.Errorf("wait for the sealed contract: %w", err)
	}
	k, err := d.GetContract(ctx, contractID)
	if err != nil {
		return fmt.Errorf("read the contract: %w", err)
	}
	if err := os.MkdirAll(*outDir, 0o755); err != nil {
		return err
	}
	for i, doc := range k.Documents {
		var b bytes.Buffer
		if err := d.Download(ctx, doc.ID, &b); err != nil {
			return fmt.Errorf("download the contract: %w", err)
		}
		file := filepath.Join(*outDir, fmt.Sprintf("esign-demo-%s-%d-%s", k.ID[:8], i+1, filepath.Base(doc.Name)))
		if err := os.WriteFile(file, b.Bytes(), 0o644); err != nil {
			return err
		}
		rep, err := pades.Verify(ctx, bytes.NewReader(b.Bytes()), int64(b.Len()), pades.VerifyOptions{Roots: roots})
		if err != nil {
			return fmt.Errorf("verify %s: %w", file, err)
		}
		level := ""
		if len(rep.Signatures) > 0 {
			level = rep.Signatures[0].Level
		}
		if !rep.Valid() {
			return fmt.Errorf("%s does not verify:\n%s", file, rep.Summary())
		}
		step("contract %s: %s — valid, PAdES %s", k.ID, file, level)
	}
	if err := d.Acknowledge(ctx, k.ID); err != nil {
		return fmt.Errorf("acknowledge: %w", err)
	}
	step("contract acknowledged")
	fmt.Fprintln(w, "signed.")
	return nil
}

// WaitSigningCode waits until the development inbox holds the signing code
// sent to phone for the signature (M1 sends it) and returns it.
func (s *CustomerSetup) WaitSigningCode(ctx context.Context, phone, signatureID string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	prefix := customers.TwoFactorKeyPrefix(signatureID)
	for {
		msgs, err := s.a.db.Inbox().ListInboxMessages(ctx, inbox.Filter{Channel: notify.SMS, To: phone, Limit: 20})
		if err != nil {
			return "", err
		}
		for _, m := range msgs { // newest first
			if strings.HasPrefix(m.Key, prefix) {
				if code := smsCodeRE.FindString(m.Text); code != "" {
					return code, nil
				}
			}
		}
		select {
		case <-ctx.Done():
			return "", fmt.Errorf("the signing code of %s did not reach the development inbox for %s (SMS limits such as notify.sms_per_hour reached?): %w", signatureID, phone, ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// WaitSMSCode waits until the development inbox (the SMS sender of a
// system without an SMS provider) holds more than after SMS to phone, and
// returns the code in the newest and the number of SMS.
func (s *CustomerSetup) WaitSMSCode(ctx context.Context, phone string, after int) (string, int, error) {
	return waitSMSCode(ctx, s.a.db, phone, after)
}
