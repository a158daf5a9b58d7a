//go:build unix

package tsa

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"io"
	"math/big"
	"net/http"
	"net/http/httptest"
	"syscall"
	"testing"
	"time"
)

// cpuTime is the user+system CPU time of the process so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// reportCPU adds the process CPU time per operation (server and client
// together), which does not depend on what else the machine runs: on n idle
// cores the throughput is n / cpu-per-op.
func reportCPU(b *testing.B, start time.Duration) {
	b.ReportMetric(float64(cpuTime()-start)/float64(b.N)/1e6, "cpu-ms/op")
}

// BenchmarkServerHTTP measures time-stamp tokens per second over HTTP on
// loopback with an RSA-2048 TSA key, parallel clients (GOMAXPROCS × 4).
func BenchmarkServerHTTP(b *testing.B) {
	p := newTestPKI(b, rsaKey(b), true)
	srv, _ := newTestServerBlock(b, p, nil, DefaultSerialBlock)
	hs := httptest.NewServer(srv)
	defer hs.Close()
	hc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	digest := sha256.Sum256([]byte("bench"))
	q, _ := (&Request{HashAlgorithm: crypto.SHA256, HashedMessage: digest[:], Nonce: big.NewInt(1), CertReq: true}).Marshal()
	b.SetParallelism(4)
	b.ResetTimer()
	start := cpuTime()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			resp, err := hc.Post(hs.URL, QueryMediaType, bytes.NewReader(q))
			if err != nil {
				b.Error(err)
				return
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK || len(body) < 1000 {
				b.Errorf("HTTP %d, %d bytes", resp.StatusCode, len(body))
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "tokens/s")
	reportCPU(b, start)
}

// BenchmarkIssue is the in-process cost of one token (no HTTP).
func BenchmarkIssue(b *testing.B) {
	p := newTestPKI(b, rsaKey(b), true)
	srv, _ := newTestServerBlock(b, p, nil, DefaultSerialBlock)
	digest := sha256.Sum256([]byte("bench"))
	req := &Request{HashAlgorithm: crypto.SHA256, HashedMessage: digest[:], Nonce: big.NewInt(1), CertReq: true}
	b.ResetTimer()
	start := cpuTime()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := srv.Issue(context.Background(), req); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "tokens/s")
	reportCPU(b, start)
}

// BenchmarkRSA2048Sign is the floor: one RSA-2048 PKCS #1 v1.5 signature,
// which every token needs.
func BenchmarkRSA2048Sign(b *testing.B) {
	k := rsaKey(b)
	digest := sha256.Sum256([]byte("bench"))
	b.ResetTimer()
	start := cpuTime()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := k.Sign(rand.Reader, digest[:], crypto.SHA256); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "sigs/s")
	reportCPU(b, start)
}

// BenchmarkVerifyToken is what oss pays to check a token it got (the
// TSA client) or stored (M2, the seal): ECDSA P-256 TSA key, chain of
// two. The chain is the same for every token of a TSA.
func BenchmarkVerifyToken(b *testing.B) {
	k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	p := newTestPKI(b, k, true)
	srv, _ := newTestServerBlock(b, p, nil, DefaultSerialBlock)
	digest := sha256.Sum256([]byte("bench"))
	der, err := srv.Issue(context.Background(), &Request{HashAlgorithm: crypto.SHA256, HashedMessage: digest[:], Nonce: big.NewInt(1), CertReq: true})
	if err != nil {
		b.Fatal(err)
	}
	roots := p.pool()
	b.ReportAllocs()
	start := cpuTime()
	for b.Loop() {
		if _, err := VerifyToken(der, digest[:], crypto.SHA256, VerifyOptions{Roots: roots}); err != nil {
			b.Fatal(err)
		}
	}
	reportCPU(b, start)
}
