package cli

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"time"

	"esign/internal/branding"
	"esign/internal/bus"
	"esign/internal/config"
	"esign/internal/customers"
	"esign/internal/esign"
	"esign/internal/notify"
	"esign/internal/notify/inbox"
	"esign/internal/offers"
	"esign/internal/pades"
	"esign/internal/seal"
	"esign/internal/signing"
	"esign/internal/sqlstore"
)

// busSigner seals through pdfservice on the process's bus, which is
// opened after the HTTP surfaces are built; noTimestamp for B-B seals.
type busSigner struct {
	a           *app
	noTimestamp bool
}

func (s busSigner) SignDigest(ctx context.Context, digest []byte) ([]byte, error) {
	if s.a.bus == nil {
		return nil, esign.E("cli.busSigner", esign.Unavailable, "the bus is not open")
	}
	return (&seal.Client{Bus: s.a.bus, Timestamp: !s.noTimestamp}).SignDigest(ctx, digest)
}

// SignDigests seals the documents of one contract in one call
// (signing.BatchSigner).
func (s busSigner) SignDigests(ctx context.Context, digests [][]byte) ([][]byte, error) {
	if s.a.bus == nil {
		return nil, esign.E("cli.busSigner", esign.Unavailable, "the bus is not open")
	}
	return (&seal.Client{Bus: s.a.bus, Timestamp: !s.noTimestamp}).SignDigests(ctx, digests)
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
// pdfservice over the bus at seal.level (default B-LTA: the DSS with the
// revocation data of the seal's and the TSA's certificates, from the
// seal.crl_files/ocsp_files first and their responders second, then a
// document time-stamp; B-T when a certificate has no revocation data),
// the contract push goes through the job queue and the operator event
// onto the contract stream.
func (a *app) signingService() (*signing.Service, error) {
	roots, err := trustPool(a.cfg, nil)
	if err != nil {
		return nil, err
	}
	cfg := signing.Config{TSARoots: roots, Algorithms: a.cfg.Mobile.Algorithms(), WebAlgorithms: a.cfg.Mobile.WebAlgorithms()}
	if a.events != nil {
		cfg.Feed = a.events // the operators' live feed
	}
	if a.docs != nil && a.queue != nil {
		// Sealed by a job after M2 commits (jobs.QueueSeal).
		opt, err := a.sealOptions()
		if err != nil {
			return nil, err
		}
		brand, err := a.cfg.Branding.Brand()
		if err != nil {
			return nil, err
		}
		cfg.Sealing = &signing.Sealing{Seal: opt, Log: a.log,
			Docs: a.docs, Queue: a.queue, Events: busPublisher{a}, Stream: bus.StreamContractUpdates, Changes: a.events,
			Jobs: a.queue, Hooks: a.hooks, Logo: brand.Logo.SealJPEG(),
			Line: func(contractID string) string { return brand.SealText(sealFields(a.cfg, contractID)) }}
	}
	return signing.New(a.db, a.customers, cfg)
}

// sealOptions is the template of the bank's seal from the seal.*
// settings: the level aimed at, the document time-stamp's TSA, and the
// revocation data from the operator's files before the responders.
func (a *app) sealOptions() (pades.SignOptions, error) {
	level, err := pades.ParseLevel(a.cfg.Seal.Level)
	if err != nil {
		return pades.SignOptions{}, fmt.Errorf("seal.level: %w", err)
	}
	opt := pades.SignOptions{Level: level, CMS: busSigner{a: a, noTimestamp: level == pades.LevelBB}}
	if level == pades.LevelBLTA {
		if opt.TSA, err = tsaClient(a.cfg, "", nil); err != nil {
			return pades.SignOptions{}, err
		}
	}
	files := &pades.RevocationFiles{CRLFiles: config.Files(a.cfg.Seal.CRLFiles), OCSPFiles: config.Files(a.cfg.Seal.OCSPFiles), Log: a.log}
	opt.Revocation = pades.RevocationSources{files, pades.HTTPRevocation{}}
	files.Set() // logs the files that cannot be read or have expired
	a.log.Info("bank seal", "level", level, "crl_files", len(files.CRLFiles), "ocsp_files", len(files.OCSPFiles))
	return opt, nil
}

// OfferDocument is a PDF of an offer filed by CreateOffer.
type OfferDocument struct {
	Name string
	Data []byte
}

// CreateOffer files an offer of the PDFs for the customer, expiring in a
// week, through the same service as the webhook upload (PDF validation,
// encrypted storage, notifications), for esign-bench flow and tests.
func (s *CustomerSetup) CreateOffer(ctx context.Context, customerID, title string, docs []OfferDocument) (string, error) {
	c, err := s.a.db.GetCustomer(ctx, customerID)
	if err != nil {
		return "", err
	}
	svc, err := offers.New(offers.Deps{DB: s.a.db, Docs: s.a.docs, Queue: s.a.queue, Customers: s.svc,
		LinkLifetime: s.a.cfg.Mobile.LinkLifetime})
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

// waitSMSCode waits until an SMS with a code reaches phone's development
// inbox after the first after SMS to it, and returns the newest such code
// and how many SMS the inbox then holds. An SMS without a code (an offer's
// notice) may arrive before or after the code it is waited for with: only
// the messages past the first after, oldest first, are looked at.
func waitSMSCode(ctx context.Context, db *sqlstore.DB, phone string, after int) (string, int, error) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	for {
		msgs, err := db.Inbox().ListInboxMessages(ctx, inbox.Filter{Channel: notify.SMS, To: phone})
		if err != nil {
			return "", 0, err
		}
		// The inbox lists newest first (by time, then time-ordered id).
		if n := len(msgs); n > after {
			for _, m := range msgs[:n-after] {
				if code := smsCodeRE.FindString(m.Text); code != "" {
					return code, n, nil
				}
			}
		}
		select {
		case <-ctx.Done():
			return "", 0, fmt.Errorf("no SMS with a code reached the development inbox for %s: %w", phone, ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
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

// sealFields fill the placeholders of branding.seal_line: the public verify
// page of the customer UI and the contract's id.
func sealFields(cfg config.Config, contractID string) branding.SealFields {
	return branding.SealFields{VerifyURL: publicVerifyURL(cfg), ContractID: contractID}
}
