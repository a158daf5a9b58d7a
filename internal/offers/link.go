package offers

import (
	"context"
	"crypto/rand"
	"encoding/base32"
	"strings"

	"esign/internal/esign"
	"esign/internal/sqlstore"
)

// LinkPath is the customer UI's path of a short link; the notification
// carries it relative ("s/CODE"), resolved against the customer UI's
// public address (notify.Branding.BaseURL).
const LinkPath = "s/"

// OfferPath is where a short link of an offer leads in the customer UI.
func OfferPath(offerID string) string { return "/o/" + offerID }

// linkCode returns a fresh short-link code: 12 characters of base32, 60
// random bits (css limits resolutions per address, so guessing is hopeless).
func linkCode() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b) // never fails (crypto/rand)
	return strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b))[:12]
}

// createLink stores a short link to the offer that expires with it and
// returns the link relative to the customer UI ("s/CODE").
func createLink(ctx context.Context, tx *sqlstore.Tx, o *esign.Offer) (string, error) {
	for range 3 { // a taken code (one chance in 2^60 per link) gets another
		x := &esign.Shortener{Code: linkCode(), TargetURL: OfferPath(o.ID), ExpiresAt: o.ExpiresAt}
		err := tx.CreateShortener(ctx, x)
		if esign.IsKind(err, esign.Conflict) {
			continue
		}
		if err != nil {
			return "", err
		}
		return LinkPath + x.Code, nil
	}
	return "", esign.E("offers.createLink", esign.Internal, "no free short-link code")
}
