package signing_test

import (
	"context"
	"testing"
	"time"

	"esign/internal/customers"
	"esign/internal/pades"
	"esign/internal/signing"
)

// BenchmarkM2 measures the server's M2 handling (every Phase-4 check and
// the records) on SQLite, without and with Phase 5 (two PDFs sealed
// PAdES B-T in-process with the TSA on loopback). The device side (M1,
// time-stamps, signatures) is outside the timer.
func BenchmarkM2(b *testing.B) {
	for _, bc := range []struct {
		name string
		cfg  func() signing.Config
	}{
		{"verify", func() signing.Config { return signing.Config{} }},
		{"verify_and_seal", func() signing.Config {
			return signing.Config{Sealing: &signing.Sealing{Seal: pades.SignOptions{Level: pades.LevelBT}}}
		}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			ctx := context.Background()
			e := newEnv(b, "sqlite", bc.cfg())
			d := newDevice(b, signing.ECDSAP256)
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				if i > 0 {
					e.offer = e.newOffer(b)
					e.ce.Clock.Advance(2 * time.Hour) // past the hourly SMS limits
				}
				r1, err := e.svc.M1(ctx, e.p, e.m1(b, d, e.offer.ID))
				if err != nil {
					b.Fatal(err)
				}
				m := e.m2(b, d, r1.SignatureID, m2opts{})
				b.StartTimer()
				if _, err := e.svc.M2(ctx, e.p, m, customers.Meta{}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
