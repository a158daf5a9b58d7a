package csc

import (
	"context"
	"crypto"
	"testing"
)

// BenchmarkSign: one signature through signatures/signHash over loopback
// HTTP (token cached, SCAL1), returned signature verified: the cost CSC
// adds to a seal besides the service's own signing.
func BenchmarkSign(b *testing.B) {
	for _, kind := range []string{"rsa", "p256"} {
		b.Run(kind, func(b *testing.B) {
			_, hs := testServer(b, nil)
			c := testClient(b, hs.URL, nil)
			k, err := c.Open(context.Background(), kind)
			if err != nil {
				b.Fatal(err)
			}
			d := digestOf(crypto.SHA256, "bench")
			b.ReportAllocs()
			for b.Loop() {
				if _, err := k.SignContext(context.Background(), d, crypto.SHA256); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
