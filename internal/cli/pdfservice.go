package cli

import (
	"context"
	"fmt"
	"time"

	"esign/internal/config"
	"esign/internal/hsm"
	"esign/internal/pki"
	"esign/internal/seal"
	"esign/internal/signer"
)

// servePDFService answers sign-digest requests with the bank's active
// certificate. On SQLite (the embedded deployment and laptops) a database
// without one falls back to the development signer; on PostgreSQL
// pdfservice refuses to sign until the bank's .p12 is imported.
func (a *app) servePDFService(ctx context.Context) error {
	ids := &seal.StoreIdentities{Store: a.db, Keys: a.keys, Log: a.log, Signers: keySources(a.cfg)}
	if err := cscOpeners(a.cfg, ids.Signers); err != nil {
		return err
	}
	if a.db.Driver() == "sqlite" {
		dev := a.devPKI
		if dev == nil {
			var err error
			if dev, err = openDevPKI(a.cfg, a.keys, a.log); err != nil {
				return err
			}
		}
		ids.Fallback = &dev.Signer
	}
	client, err := tsaClient(a.cfg, "", nil)
	if err != nil {
		return err
	}
	// The key's session with its token or service ends with the process.
	a.closers = append(a.closers, ids.Close)
	svc := &seal.Service{IDs: ids, TSA: client, Log: a.log}
	if err := svc.Serve(ctx, a.bus); err != nil {
		return fmt.Errorf("serve pdfservice: %w", err)
	}
	// Operators hear about an expiring certificate in the log every day
	// (pki.DefaultWarnBefore ahead) and see it in /metrics, before
	// signing stops.
	expiry := a.reg.Gauge("esign_signing_certificate_expiry_seconds", "Seconds until the active signing certificate expires.")
	a.background(func(ctx context.Context) {
		t := time.NewTicker(24 * time.Hour)
		defer t.Stop()
		for {
			if id, err := ids.Identity(ctx); err == nil {
				expiry.Set(time.Until(id.Certificate.NotAfter).Seconds())
				if w, soon := pki.ExpiryWarning(id.Certificate, time.Now(), 0); soon {
					a.log.Warn("signing certificate", "warning", w)
				}
			}
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
		}
	})
	a.checks["signing_certificate"] = func(ctx context.Context) error {
		id, err := ids.Identity(ctx)
		if err != nil {
			return err
		}
		// Each readiness probe refreshes the gauge, so a certificate
		// imported or activated shows in /metrics without waiting a day.
		expiry.Set(time.Until(id.Certificate.NotAfter).Seconds())
		if err := pki.CheckValidity(id.Certificate, time.Now()); err != nil {
			return err
		}
		// A key in a token or a remote service: is it reachable now?
		return ids.Check(ctx)
	}
	return nil
}

// keySources are the key stores this process is configured to reach,
// besides the database's .p12 keys (docs/key-custody.md).
func keySources(cfg config.Config) signer.Openers {
	o := signer.Openers{}
	if cfg.PKCS11.Module != "" {
		o[signer.PKCS11] = &hsm.Opener{Config: hsm.Config{Module: cfg.PKCS11.Module, PIN: cfg.PKCS11.PIN}}
	}
	return o
}
