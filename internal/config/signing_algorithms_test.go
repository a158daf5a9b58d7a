package config

import (
	"slices"
	"strings"
	"testing"
)

func TestMobileSigningAlgorithms(t *testing.T) {
	tests := []struct {
		value   string
		want    []string
		wantErr string
	}{
		{"", nil, ""},
		{"ecdsa-p256-sha256", []string{"ecdsa-p256-sha256"}, ""},
		{" ecdsa-p256-sha256 , rsa-pss-sha256 ", []string{"ecdsa-p256-sha256", "rsa-pss-sha256"}, ""},
		{"rsa-pkcs1v15-sha1", nil, `unknown algorithm "rsa-pkcs1v15-sha1"`},
		{" , ", nil, "lists no algorithm"},
	}
	for _, tt := range tests {
		t.Run(strings.TrimSpace(tt.value)+"_", func(t *testing.T) {
			cfg, err := Load("", []string{"ESIGN_MOBILE_SIGNING_ALGORITHMS=" + tt.value})
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), "mobile.signing_algorithms") || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("got %v, want an error with %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := cfg.Mobile.Algorithms(); !slices.Equal(got, tt.want) {
				t.Fatalf("got %q, want %q", got, tt.want)
			}
		})
	}
}
