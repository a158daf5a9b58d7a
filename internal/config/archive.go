package config

import "time"

// Archive configures the renewal of sealed contracts' archives (the
// ArchiveRenewal cron job; docs/pades.md, "Archive renewal").
type Archive struct {
	RenewalMargin time.Duration `json:"renewal_margin" help:"A B-LTA contract is renewed (fresh validation data and a new document time-stamp from tsa.url) when its newest document time-stamp's TSA certificate, or a certificate above it, expires within this margin, or uses a weak algorithm (SHA-1, RSA under 2048 bits). From 1h to 10 years (87600h)."`
}

func (a Archive) validate() error {
	if a.RenewalMargin < time.Hour || a.RenewalMargin > 10*365*24*time.Hour {
		return &FieldError{Key: "archive.renewal_margin", Reason: "must be from 1h to 87600h (10 years)"}
	}
	return nil
}
