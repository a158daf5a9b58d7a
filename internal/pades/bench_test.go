package pades_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"

	"esign/internal/cms"
	"esign/internal/pades"
	"esign/internal/pdf/pdftest"
)

// BenchmarkSignBB signs (B-B, RSA-2048, SHA-256) inputs of several sizes
// from a file into a new file, as SignFile does.
func BenchmarkSignBB(b *testing.B) {
	for _, bc := range []struct {
		name string
		size int
	}{{"100KB", 100 << 10}, {"1MB", 1 << 20}, {"100MB", 100 << 20}} {
		b.Run(bc.name, func(b *testing.B) {
			if bc.size > 10<<20 && testing.Short() {
				b.Skip("100 MB input in -short mode")
			}
			e := env(b)
			dir := b.TempDir()
			in := filepath.Join(dir, "in.pdf")
			f, err := os.Create(in)
			if err != nil {
				b.Fatal(err)
			}
			w := bufio.NewWriter(f)
			if err := pdftest.WriteMinimal(w, 2, bc.size); err != nil {
				b.Fatal(err)
			}
			w.Flush()
			f.Close()
			opt := pades.SignOptions{Level: pades.LevelBB, CMS: &pades.LocalSigner{Signer: cms.Signer(e.dev.Signer)}}
			ctx := context.Background()
			b.SetBytes(int64(bc.size))
			b.ResetTimer()
			i := 0
			for b.Loop() {
				// a new file each time, as a service writes new documents
				// (truncating and rewriting one file makes ext4 start
				// writeback on close: that measures the disk)
				out := filepath.Join(dir, "out"+strconv.Itoa(i)+".pdf")
				i++
				if err := pades.SignFile(ctx, in, out, opt); err != nil {
					b.Fatal(err)
				}
				os.Remove(out)
			}
			b.StopTimer()
			var ru syscall.Rusage
			if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) == nil {
				b.ReportMetric(float64(ru.Maxrss)/1024, "peak_rss_MB")
			}
		})
	}
}

// BenchmarkVerify verifies a B-B signature over a 1 MB file.
func BenchmarkVerify(b *testing.B) {
	e := env(b)
	dir := b.TempDir()
	in := filepath.Join(dir, "in.pdf")
	os.WriteFile(in, pdftest.MinimalPadded(2, 1<<20), 0o644)
	out := filepath.Join(dir, "out.pdf")
	opt := pades.SignOptions{Level: pades.LevelBB, CMS: &pades.LocalSigner{Signer: cms.Signer(e.dev.Signer)}}
	if err := pades.SignFile(context.Background(), in, out, opt); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(1 << 20)
	for b.Loop() {
		rep, err := pades.VerifyFile(context.Background(), out, pades.VerifyOptions{Roots: e.roots})
		if err != nil || !rep.Valid() {
			b.Fatal(err)
		}
	}
}

// BenchmarkPrepare is the preparer's share of the hash-based path (1 MB):
// copy, hash and placeholder, no signature.
func BenchmarkPrepare(b *testing.B) {
	in := pdftest.MinimalPadded(2, 1<<20)
	dir := b.TempDir()
	b.SetBytes(int64(len(in)))
	for b.Loop() {
		f, err := os.Create(filepath.Join(dir, "out.pdf"))
		if err != nil {
			b.Fatal(err)
		}
		if _, err := pades.Prepare(context.Background(), bytes.NewReader(in), int64(len(in)), f, pades.PrepareOptions{}); err != nil {
			b.Fatal(err)
		}
		f.Close()
	}
}

// BenchmarkSignBLTA signs at B-LTA (signature time-stamp, DSS with OCSP
// responses, document time-stamp) with the test PKI's TSA and responder on
// 127.0.0.1: the network round trips are local, the document is hashed
// once (the document time-stamp continues the signature's hash).
func BenchmarkSignBLTA(b *testing.B) {
	for _, bc := range []struct {
		name string
		size int
	}{{"1MB", 1 << 20}, {"100MB", 100 << 20}} {
		b.Run(bc.name, func(b *testing.B) {
			if bc.size > 10<<20 && testing.Short() {
				b.Skip("100 MB input in -short mode")
			}
			e := env(b)
			dir := b.TempDir()
			in := filepath.Join(dir, "in.pdf")
			f, err := os.Create(in)
			if err != nil {
				b.Fatal(err)
			}
			w := bufio.NewWriter(f)
			if err := pdftest.WriteMinimal(w, 2, bc.size); err != nil {
				b.Fatal(err)
			}
			w.Flush()
			f.Close()
			opt := e.signOptions(pades.LevelBLTA)
			ctx := context.Background()
			b.SetBytes(int64(bc.size))
			i := 0
			for b.Loop() {
				out := filepath.Join(dir, "out"+strconv.Itoa(i)+".pdf")
				i++
				if err := pades.SignFile(ctx, in, out, opt); err != nil {
					b.Fatal(err)
				}
				os.Remove(out)
			}
		})
	}
}

// BenchmarkFloor measures what a signature cannot avoid on this machine:
// the private-key operation and SHA-256 over the document (compare with
// BenchmarkSignBB; docs/perf/pades.md).
func BenchmarkFloor(b *testing.B) {
	digest := make([]byte, 32)
	rk, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		b.Fatal(err)
	}
	ek, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		b.Fatal(err)
	}
	b.Run("rsa2048-sign", func(b *testing.B) {
		for b.Loop() {
			if _, err := rk.Sign(rand.Reader, digest, crypto.SHA256); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("ecdsa-p256-sign", func(b *testing.B) {
		for b.Loop() {
			if _, err := ek.Sign(rand.Reader, digest, crypto.SHA256); err != nil {
				b.Fatal(err)
			}
		}
	})
	data := make([]byte, 1<<20)
	b.Run("sha256-1MB", func(b *testing.B) {
		b.SetBytes(int64(len(data)))
		for b.Loop() {
			sha256.Sum256(data)
		}
	})
}
