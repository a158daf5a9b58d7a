package seal

import (
	"context"
	"crypto/sha256"
	"crypto/x509"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"esign/internal/bus/inproc"
	"esign/internal/csc"
	"esign/internal/esign"
	"esign/internal/pades"
	"esign/internal/pdf/pdftest"
	"esign/internal/pki"
	"esign/internal/signer"
)

// staticIDs is one identity.
type staticIDs struct{ id pki.Identity }

func (s staticIDs) Identity(context.Context) (pki.Identity, error) { return s.id, nil }

// TestSealWithCSCCredential seals through a CSC API v2 service (csc.Server
// over HTTP) with the development signer's key as the remote credential,
// then runs the failure matrix over the bus: each failure reaches the
// seal's caller as a clear error of a retryable kind (a 429 with its
// Retry-After), and nothing is sealed.
func TestSealWithCSCCredential(t *testing.T) {
	f := newFixture(t)
	const secret = "a-csc-client-secret-for-tests"
	chain := append([]*x509.Certificate{f.dev.Signer.Certificate}, f.dev.Signer.Chain...)
	tests := []struct {
		name   string
		server func(*csc.ServerConfig)
		after  func(*csc.Server)
		client string // client secret; default secret
		kind   esign.Kind
		msg    string
		retry  time.Duration
	}{
		{name: "sealed"},
		{name: "sealed-scal2", server: func(c *csc.ServerConfig) { c.Credentials[0].SCAL, c.Credentials[0].PIN = 2, "2468" }},
		{name: "credential-disabled", after: func(s *csc.Server) { s.SetEnabled("bank-seal", false) }, kind: esign.Unavailable, msg: "disabled"},
		{name: "rate-limited", server: func(c *csc.ServerConfig) { c.RateLimit, c.RatePer = 3, time.Minute }, kind: esign.TooMany, msg: "rate-limiting", retry: 50 * time.Second},
		{name: "digest-mismatch", after: func(s *csc.Server) { s.SetWrongDigest(true) }, kind: esign.Unavailable, msg: "does not verify"},
		{name: "wrong-client-secret", client: "not-the-right-secret-at-all", kind: esign.Unavailable, msg: "client credentials"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := csc.ServerConfig{Credentials: []csc.ServerCredential{{ID: "bank-seal", Key: f.dev.Signer.Key, Chain: chain}},
				Clients: []csc.ServerClient{{ID: "pdfservice", Secret: secret}}}
			if tt.server != nil {
				tt.server(&cfg)
			}
			srv, err := csc.NewServer(cfg)
			if err != nil {
				t.Fatal(err)
			}
			hs := httptest.NewServer(srv.Handler())
			defer hs.Close()
			cs := secret
			if tt.client != "" {
				cs = tt.client
			}
			client, err := csc.NewClient(csc.ClientConfig{URL: hs.URL, ClientID: "pdfservice", ClientSecret: cs, CredCache: -1,
				Authorization: map[string]string{"PIN": "2468"}})
			if err != nil {
				t.Fatal(err)
			}
			cred, err := client.Open(t.Context(), "bank-seal")
			if tt.client != "" {
				if !esign.IsKind(err, tt.kind) || !strings.Contains(esign.ErrorMessage(err), tt.msg) {
					t.Fatalf("open: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var _ signer.Signer = cred
			ids := staticIDs{pki.Identity{Certificate: chain[0], Chain: chain[1:], Key: cred}}
			b := inproc.New(inproc.Options{})
			defer b.Close()
			if strings.HasPrefix(tt.name, "sealed") {
				sealOverBus(t, f, b, ids, chain[0].Subject.String())
				return
			}
			if tt.after != nil {
				tt.after(srv)
			}
			ctx, cancel := context.WithCancel(t.Context())
			defer cancel()
			if err := (&Service{IDs: ids, TSA: f.tsa}).Serve(ctx, b); err != nil {
				t.Fatal(err)
			}
			dir := t.TempDir()
			in, out := filepath.Join(dir, "in.pdf"), filepath.Join(dir, "out.pdf")
			os.WriteFile(in, pdftest.MinimalPadded(2, 1<<16), 0o600)
			for i := 0; ; i++ {
				err = pades.SignFile(ctx, in, out, pades.SignOptions{Level: pades.LevelBT, CMS: &Client{Bus: b, Timestamp: true}})
				if err != nil || i > 5 {
					break
				}
			}
			if err == nil {
				t.Fatal("sealed")
			}
			if !esign.IsKind(err, tt.kind) || !strings.Contains(esign.ErrorMessage(err), tt.msg) {
				t.Fatalf("got %v (message %q), want %v saying %q", err, esign.ErrorMessage(err), tt.kind, tt.msg)
			}
			if ra := esign.ErrorRetryAfter(err); ra < tt.retry {
				t.Errorf("retry after %v over the bus, want at least %v", ra, tt.retry)
			}
			if _, err := os.Stat(out); err == nil {
				t.Error("an output file was left")
			}
			d := sha256.Sum256([]byte("x"))
			if tt.name == "digest-mismatch" {
				if _, err := cred.Sign(nil, d[:], nil); err == nil {
					t.Error("nil opts accepted")
				}
			}
		})
	}
}
