package cli

import (
	"context"
	"crypto/x509"
	"os"
	"path/filepath"
	"testing"
	"time"

	"esign/internal/bus"
	"esign/internal/bus/inproc"
	"esign/internal/pades/padestest"
	"esign/internal/pki"
	"esign/internal/sqlstore"
)

// TestPushSystemConfig: after an operator saves settings, oss hands the
// configuration to the css of its own process at once and pushes it over
// the bus to every other css replica, with a version above the last one.
func TestPushSystemConfig(t *testing.T) {
	ctx := t.Context()
	db, err := sqlstore.Open(ctx, sqlstore.Config{Driver: "sqlite", DSN: filepath.Join(t.TempDir(), "esign.db")})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.MigrateUp(ctx); err != nil {
		t.Fatal(err)
	}
	// The development CA of the data directory goes along as a trust
	// anchor of css's verify page.
	_, root := padestest.Issued(t, "Anchor")
	anchor := pki.CertificatesPEM(root)
	dataDir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dataDir, "pki"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dataDir, "pki", pki.FileCABundle), anchor, 0o600); err != nil {
		t.Fatal(err)
	}
	a := &app{db: db}
	a.cfg.DataDir = dataDir
	if err := a.pushSystemConfig(ctx); err == nil {
		t.Fatal("pushed without a bus")
	}
	b := inproc.New(inproc.Options{})
	defer b.Close()
	var replica bus.SystemConfigHolder
	if err := replica.Subscribe(ctx, b); err != nil {
		t.Fatal(err)
	}
	a.bus, a.sysConfig = b, &bus.SystemConfigHolder{}
	a.sysConfig.Set(bus.SystemConfig{Version: 1, Settings: map[string]string{}})

	if _, err := db.PutSetting(ctx, "customer.notice", "Maintenance on Sunday", ""); err != nil {
		t.Fatal(err)
	}
	if err := a.pushSystemConfig(ctx); err != nil {
		t.Fatal(err)
	}
	own, _ := a.sysConfig.Latest()
	if own.Settings["customer.notice"] != "Maintenance on Sunday" || own.Version <= 1 {
		t.Fatalf("css of this process holds %+v", own)
	}
	wctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	got, err := replica.Wait(wctx, own.Version)
	if err != nil || got.Settings["customer.notice"] != "Maintenance on Sunday" || got.TrustAnchors != string(anchor) {
		t.Fatalf("another replica holds %+v (%v)", got, err)
	}
	if _, err := root.Verify(x509.VerifyOptions{Roots: a.verifyRoots()()}); err != nil {
		t.Errorf("css's verify page does not trust the pushed anchor: %v", err)
	}
}
