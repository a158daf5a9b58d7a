package cli

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"esign/internal/bus"
	"esign/internal/bus/inproc"
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
	a := &app{db: db}
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
	if err != nil || got.Settings["customer.notice"] != "Maintenance on Sunday" {
		t.Fatalf("another replica holds %+v (%v)", got, err)
	}
}
