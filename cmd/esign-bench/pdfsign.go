package main

import (
	"bufio"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/big"
	"os"
	"path/filepath"
	"runtime/pprof"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"esign/internal/cms"
	"esign/internal/hsm"
	"esign/internal/pades"
	"esign/internal/pdf/pdftest"
	"esign/internal/pki"
	"esign/internal/tsa"
)

// pdfSignSummary is the one JSON line the pdfsign scenario prints.
type pdfSignSummary struct {
	Scenario       string  `json:"scenario"`
	Level          string  `json:"level"`
	InputBytes     int64   `json:"input_bytes"`
	Concurrency    int     `json:"concurrency"`
	DurationS      float64 `json:"duration_s"`
	Signatures     int     `json:"signatures"`
	SignaturesPerS float64 `json:"signatures_per_s"`
	P50Ms          float64 `json:"p50_ms"`
	P99Ms          float64 `json:"p99_ms"`
	MaxMs          float64 `json:"max_ms"`
	// CPUMsPerSig is the process's user+system CPU time per signature:
	// unlike the latencies it does not grow when other processes compete
	// for the cores.
	CPUMsPerSig float64 `json:"cpu_ms_per_sig"`
	Key         string  `json:"key"`
	// Signer is where the key is (p12: in memory; pkcs11: a token), and
	// KeySignMs the mean time of the key's own signature operation: for
	// pkcs11 the token's cost, round trip included.
	Signer     string  `json:"signer"`
	KeySignMs  float64 `json:"key_sign_ms"`
	PeakRSSMB  float64 `json:"peak_rss_mb"`
	Errors     int     `json:"errors"`
	FirstError string  `json:"first_error,omitempty"`
}

// runPDFSignTo signs a PDF file into new files in a loop (PAdES, RSA-2048 by
// default) and prints one JSON summary line on stdout.
func runPDFSignTo(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("pdfsign", flag.ContinueOnError)
	fs.SetOutput(stderr)
	input := fs.String("input", "", "PDF to sign (default: a generated PDF of --size bytes)")
	size := fs.Int("size", 1<<20, "size of the generated input when --input is not given")
	p12 := fs.String("p12", "", "PKCS #12 signing identity (default: a fresh self-signed certificate with a --key key)")
	keyType := fs.String("key", "rsa2048", "key of the generated identity: rsa2048, rsa3072 or ecdsa-p256")
	p12pw := fs.String("p12-password", "", "password of --p12")
	levelFlag := fs.String("level", "B-B", "PAdES level: B-B or B-T (B-T needs --tsa)")
	tsaURL := fs.String("tsa", "", "RFC 3161 TSA URL for B-T")
	concurrency := fs.Int("concurrency", 1, "concurrent signers")
	duration := fs.Duration("duration", 10*time.Second, "measured duration")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of the measured run to this file")
	signerKind := fs.String("signer", "p12", "where the key is: p12 (in memory: --p12 or a generated key) pkcs11 (a token: --pkcs11-module, --token-label, --key-label, --pin-file) or csc (a remote credential: --csc-url, --csc-client-id, --csc-client-secret-file, --credential-id)")
	var p11 benchPKCS11
	fs.StringVar(&p11.module, "pkcs11-module", "/usr/lib/softhsm/libsofthsm2.so", "PKCS#11 library for --signer pkcs11")
	fs.StringVar(&p11.token, "token-label", "", "token label for --signer pkcs11")
	fs.StringVar(&p11.key, "key-label", "", "key pair label for --signer pkcs11 (a self-signed certificate is made for it)")
	fs.StringVar(&p11.pinFile, "pin-file", "", "file whose first line is the token user's PIN, for --signer pkcs11")
	var cscFlags benchCSC
	cscFlags.flags(fs)
	if err := fs.Parse(args); err != nil {
		return err
	}
	level, err := pades.ParseLevel(*levelFlag)
	if err != nil {
		return err
	}
	if level != pades.LevelBB && level != pades.LevelBT {
		return errors.New("pdfsign: only B-B and B-T are measured (B-LT and B-LTA add network round trips)")
	}
	if level == pades.LevelBT && *tsaURL == "" {
		return errors.New("pdfsign: B-T needs --tsa")
	}
	if *concurrency < 1 || *duration <= 0 {
		return errors.New("pdfsign: --concurrency must be ≥ 1 and --duration > 0")
	}
	dir, err := os.MkdirTemp("", "esign-bench-pdfsign")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	in := *input
	if in == "" {
		in = filepath.Join(dir, "input.pdf")
		if err := writeInput(in, *size); err != nil {
			return err
		}
	}
	st, err := os.Stat(in)
	if err != nil {
		return err
	}
	var signer cms.Signer
	switch *signerKind {
	case "p12":
		signer, err = benchSigner(*p12, *p12pw, *keyType)
	case "pkcs11":
		var closeKey func()
		signer, closeKey, err = p11.signer(ctx)
		if err == nil {
			defer closeKey()
		}
	case "csc":
		signer, err = cscFlags.signer(ctx)
	default:
		err = fmt.Errorf("pdfsign: unknown --signer %q (want p12, pkcs11 or csc)", *signerKind)
	}
	if err != nil {
		return err
	}
	timed := &timedKey{Signer: signer.Key}
	signer.Key = timed
	ls := &pades.LocalSigner{Signer: signer}
	if level == pades.LevelBT {
		ls.TSA = &tsa.Client{URL: *tsaURL}
	}
	opt := pades.SignOptions{Level: level, CMS: ls}

	ctx, cancel := context.WithTimeout(ctx, *duration)
	defer cancel()
	var (
		mu       sync.Mutex
		lat      []time.Duration
		nerr     int
		firstErr string
		wg       sync.WaitGroup
	)
	if *cpuProfile != "" {
		pf, err := os.Create(*cpuProfile)
		if err != nil {
			return err
		}
		defer pf.Close()
		if err := pprof.StartCPUProfile(pf); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	start, cpu0 := time.Now(), cpuTime()
	for w := range *concurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ctx.Err() == nil; i++ {
				// A new file each time, as a service writes new documents:
				// truncating and rewriting one file makes ext4 (auto_da_alloc)
				// start writeback on close, which measures the disk instead.
				out := filepath.Join(dir, fmt.Sprintf("out%d-%d.pdf", w, i))
				t0 := time.Now()
				err := pades.SignFile(ctx, in, out, opt)
				d := time.Since(t0)
				os.Remove(out)
				mu.Lock()
				if err != nil {
					if ctx.Err() == nil {
						nerr++
						if firstErr == "" {
							firstErr = err.Error()
						}
					}
				} else {
					lat = append(lat, d)
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start).Seconds()
	cpu := cpuTime() - cpu0
	slices.Sort(lat)
	pct := func(p float64) float64 { return ms(percentile(lat, p)) }
	sum := pdfSignSummary{Scenario: "pdfsign", Level: string(level), InputBytes: st.Size(), Concurrency: *concurrency,
		DurationS: elapsed, Signatures: len(lat), SignaturesPerS: float64(len(lat)) / elapsed,
		P50Ms: pct(0.50), P99Ms: pct(0.99), MaxMs: pct(1), PeakRSSMB: peakRSSMB(), Errors: nerr, FirstError: firstErr,
		Key: keyName(signer), Signer: *signerKind}
	if len(lat) > 0 {
		sum.CPUMsPerSig = float64(cpu.Microseconds()) / 1000 / float64(len(lat))
	}
	if n := timed.n.Load(); n > 0 {
		sum.KeySignMs = float64(timed.total.Load()) / 1e6 / float64(n)
	}
	return json.NewEncoder(stdout).Encode(sum)
}

func writeInput(path string, size int) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := bufio.NewWriter(f)
	if err := pdftest.WriteMinimal(w, 2, size); err != nil {
		f.Close()
		return err
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func benchSigner(p12, password, keyType string) (cms.Signer, error) {
	if p12 != "" {
		data, err := os.ReadFile(p12)
		if err != nil {
			return cms.Signer{}, err
		}
		id, err := pki.ImportP12(data, password, pki.ImportOptions{})
		if err != nil {
			return cms.Signer{}, err
		}
		return cms.Signer(id.Identity), nil
	}
	var key crypto.Signer
	var err error
	switch keyType {
	case "rsa2048":
		key, err = rsa.GenerateKey(rand.Reader, 2048)
	case "rsa3072":
		key, err = rsa.GenerateKey(rand.Reader, 3072)
	case "ecdsa-p256":
		key, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	default:
		return cms.Signer{}, fmt.Errorf("pdfsign: unknown --key %q (want rsa2048, rsa3072 or ecdsa-p256)", keyType)
	}
	if err != nil {
		return cms.Signer{}, err
	}
	cert, err := selfSigned(key)
	if err != nil {
		return cms.Signer{}, err
	}
	return cms.Signer{Certificate: cert, Key: key}, nil
}

// selfSigned makes a day's self-signed certificate for key.
func selfSigned(key crypto.Signer) (*x509.Certificate, error) {
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "esign-bench signer"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageContentCommitment}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		return nil, err
	}
	return x509.ParseCertificate(der)
}

// timedKey measures the key's own signature operations.
type timedKey struct {
	crypto.Signer
	n, total atomic.Int64 // count, nanoseconds
}

func (k *timedKey) Sign(r io.Reader, digest []byte, opts crypto.SignerOpts) ([]byte, error) {
	t0 := time.Now()
	sig, err := k.Signer.Sign(r, digest, opts)
	if err == nil {
		k.total.Add(int64(time.Since(t0)))
		k.n.Add(1)
	}
	return sig, err
}

// benchPKCS11 names a key pair in a PKCS#11 token.
type benchPKCS11 struct{ module, token, key, pinFile string }

// signer opens the key in the token and makes a self-signed certificate
// for it (signed by the token).
func (p benchPKCS11) signer(ctx context.Context) (cms.Signer, func(), error) {
	if p.token == "" || p.key == "" || p.pinFile == "" {
		return cms.Signer{}, nil, errors.New("pdfsign: --signer pkcs11 needs --token-label, --key-label and --pin-file")
	}
	pin, err := os.ReadFile(p.pinFile)
	if err != nil {
		return cms.Signer{}, nil, err
	}
	first, _, _ := strings.Cut(string(pin), "\n")
	o := &hsm.Opener{Config: hsm.Config{Module: p.module, PIN: strings.TrimSpace(first)}}
	key, err := o.Open(ctx, hsm.Ref{Token: p.token, Key: p.key}.String())
	if err != nil {
		return cms.Signer{}, nil, err
	}
	cert, err := selfSigned(key)
	if err != nil {
		key.Close()
		return cms.Signer{}, nil, err
	}
	return cms.Signer{Certificate: cert, Key: key}, func() { key.Close() }, nil
}

// keyName describes the signer's key, e.g. "rsa2048" or "ecdsa-p256".
func keyName(s cms.Signer) string {
	switch k := s.Key.Public().(type) {
	case *rsa.PublicKey:
		return fmt.Sprintf("rsa%d", k.N.BitLen())
	case *ecdsa.PublicKey:
		return "ecdsa-" + strings.ToLower(strings.ReplaceAll(k.Curve.Params().Name, "-", ""))
	}
	return fmt.Sprintf("%T", s.Key.Public())
}

// cpuTime is the process's user plus system CPU time so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// peakRSSMB is the process's peak resident set size (Linux reports KiB).
func peakRSSMB() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return float64(ru.Maxrss) / 1024
}
