package cli

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"esign/internal/pades"
	"esign/internal/pades/padestest"
)

// TestSealOptions: the seal.* settings make the seal's template: the
// level, the document time-stamp's TSA for B-LTA only, no time-stamp from
// pdfservice for B-B, and the operator's CRL and OCSP files read (and read
// again when they change) before the responders; an expired file is
// logged at start and not used.
func TestSealOptions(t *testing.T) {
	dir := t.TempDir()
	now := time.Now()
	p := padestest.NewOutsidePKI(t, now)
	crlFile := filepath.Join(dir, "ca.crl")
	os.WriteFile(crlFile, p.CRL(t, false, now.Add(-48*time.Hour), now.Add(-time.Hour)), 0o600)
	tests := []struct {
		env       []string
		level     pades.Level
		tsa, noTS bool
	}{
		{nil, pades.LevelBLTA, true, false},
		{[]string{"ESIGN_SEAL_LEVEL=B-LT"}, pades.LevelBLT, false, false},
		{[]string{"ESIGN_SEAL_LEVEL=B-B"}, pades.LevelBB, false, true},
	}
	for _, tt := range tests {
		t.Run(string(tt.level), func(t *testing.T) {
			env := append(testEnviron(dir, "ESIGN_SEAL_CRL_FILES= "+crlFile+" ,"), tt.env...)
			cfg, err := loadConfig(Env{Environ: env}, "")
			if err != nil {
				t.Fatal(err)
			}
			var logs bytes.Buffer
			a := &app{cfg: cfg, log: slog.New(slog.NewTextHandler(&logs, nil))}
			opt, err := a.sealOptions()
			if err != nil {
				t.Fatal(err)
			}
			if opt.Level != tt.level || (opt.TSA != nil) != tt.tsa || opt.CMS.(busSigner).noTimestamp != tt.noTS {
				t.Fatalf("options %+v", opt)
			}
			if !strings.Contains(logs.String(), "revocation data expired") || !strings.Contains(logs.String(), crlFile) {
				t.Errorf("log:\n%s", logs.String())
			}
			src := opt.Revocation.(pades.RevocationSources)
			if _, _, err := src[0].Fetch(context.Background(), p.Signer, p.CA); err == nil || !strings.Contains(err.Error(), "expired") {
				t.Fatalf("expired CRL: %v", err)
			}
			fresh := p.CRL(t, false, now.Add(-time.Minute), now.Add(time.Hour))
			os.WriteFile(crlFile, fresh, 0o600)
			os.Chtimes(crlFile, now.Add(time.Second), now.Add(time.Second))
			if _, crl, err := src.Fetch(context.Background(), p.Signer, p.CA); err != nil || !bytes.Equal(crl, fresh) {
				t.Fatalf("refreshed CRL: %v", err)
			}
			os.WriteFile(crlFile, p.CRL(t, false, now.Add(-48*time.Hour), now.Add(-time.Hour)), 0o600) // for the next case
		})
	}
	if _, err := loadConfig(Env{Environ: testEnviron(dir, "ESIGN_SEAL_LEVEL=B-LTX")}, ""); err == nil || !strings.Contains(err.Error(), "seal.level") {
		t.Errorf("bad level: %v", err)
	}
}
