// Package shortlink makes the short links of the customer UI
// (/s/{code}, the Shortener entity) that the notifications carry: the
// offer's upload makes the first one, a customer whose link expired while
// the offer is still open asks for a fresh one (docs/customer-ui.md).
package shortlink

import (
	"context"
	"crypto/rand"
	"encoding/base32"
	"strings"
	"time"

	"esign/internal/esign"
	"esign/internal/sqlstore"
)

// Path is the customer UI's path of a short link; the notification
// carries it relative ("s/CODE"), resolved against the customer UI's
// public address (notify.Branding.BaseURL).
const Path = "s/"

// OfferPath is where a short link of an offer leads in the customer UI.
func OfferPath(offerID string) string { return "/o/" + offerID }

// OfferID returns the offer a link's target leads to, or "".
func OfferID(target string) string {
	id, ok := strings.CutPrefix(target, "/o/")
	if !ok || !esign.ValidID(id) {
		return ""
	}
	return id
}

// code returns a fresh short-link code: 12 characters of base32, 60
// random bits (link resolutions are limited per address, so guessing is
// hopeless).
func code() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b) // never fails (crypto/rand)
	return strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b))[:12]
}

// Expiry is when a link made at now to an offer expiring at offerExpires
// expires: with the offer, or after lifetime when that is shorter (0: no
// lifetime of its own).
func Expiry(offerExpires, now time.Time, lifetime time.Duration) time.Time {
	if lifetime > 0 && now.Add(lifetime).Before(offerExpires) {
		return now.Add(lifetime)
	}
	return offerExpires
}

// Create stores a short link to the offer that expires at expires and
// returns it relative to the customer UI ("s/CODE").
func Create(ctx context.Context, tx *sqlstore.Tx, offerID string, expires time.Time) (string, error) {
	for range 3 { // a taken code (one chance in 2^60 per link) gets another
		x := &esign.Shortener{Code: code(), TargetURL: OfferPath(offerID), ExpiresAt: expires}
		err := tx.CreateShortener(ctx, x)
		if esign.IsKind(err, esign.Conflict) {
			continue
		}
		if err != nil {
			return "", err
		}
		return Path + x.Code, nil
	}
	return "", esign.E("shortlink.Create", esign.Internal, "no free short-link code")
}
