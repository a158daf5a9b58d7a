package shortlink

import (
	"testing"
	"time"

	"esign/internal/esign"
)

func TestExpiry(t *testing.T) {
	now := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	offer := now.Add(7 * 24 * time.Hour)
	tests := []struct {
		name     string
		lifetime time.Duration
		want     time.Time
	}{
		{"with_the_offer", 0, offer},
		{"shorter_lifetime", 48 * time.Hour, now.Add(48 * time.Hour)},
		{"lifetime_past_the_offer", 30 * 24 * time.Hour, offer},
	}
	for _, tt := range tests {
		if got := Expiry(offer, now, tt.lifetime); !got.Equal(tt.want) {
			t.Errorf("%s: %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestOfferID(t *testing.T) {
	id := esign.NewID()
	tests := []struct{ target, want string }{
		{OfferPath(id), id},
		{"/c/" + id, ""},
		{"/o/not-an-id", ""},
		{"https://evil.example/o/" + id, ""},
		{"", ""},
	}
	for _, tt := range tests {
		if got := OfferID(tt.target); got != tt.want {
			t.Errorf("OfferID(%q) = %q, want %q", tt.target, got, tt.want)
		}
	}
	if c := code(); len(c) != 12 || c == code() {
		t.Errorf("codes %q", c)
	}
}
