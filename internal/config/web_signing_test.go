package config

import (
	"slices"
	"strings"
	"testing"
)

// TestMobileWebSigningAlgorithms: the browser's key algorithms are ECDSA
// P-256 by default, may add or prefer RSA-PSS, never anything WebCrypto
// cannot make non-extractable or the general policy refuses.
func TestMobileWebSigningAlgorithms(t *testing.T) {
	tests := []struct {
		env     []string
		want    []string
		wantErr string
	}{
		{nil, []string{"ecdsa-p256-sha256"}, ""},
		{[]string{"ESIGN_MOBILE_WEB_SIGNING_ALGORITHMS=rsa-pss-sha256, ecdsa-p256-sha256"}, []string{"rsa-pss-sha256", "ecdsa-p256-sha256"}, ""},
		{[]string{"ESIGN_MOBILE_WEB_SIGNING_ALGORITHMS=rsa-pkcs1v15-sha256"}, nil, "must be ecdsa-p256-sha256 or rsa-pss-sha256"},
		{[]string{"ESIGN_MOBILE_WEB_SIGNING_ALGORITHMS= , "}, nil, "lists no algorithm"},
		{[]string{"ESIGN_MOBILE_SIGNING_ALGORITHMS=ecdsa-p256-sha256", "ESIGN_MOBILE_WEB_SIGNING_ALGORITHMS=rsa-pss-sha256"}, nil,
			"not in mobile.signing_algorithms"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.env, ";"), func(t *testing.T) {
			cfg, err := Load("", tt.env)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), "mobile.web_signing_algorithms") || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("got %v, want an error with %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := cfg.Mobile.WebAlgorithms(); !slices.Equal(got, tt.want) {
				t.Fatalf("got %q, want %q", got, tt.want)
			}
		})
	}
}
