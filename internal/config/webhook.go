package config

import (
	"strings"
)

// Webhook configures the external webhook API of oss (docs/webhook-api.md).
// Every endpoint is set independently: empty disables it (it answers 404),
// "user:password" enables it behind HTTP Basic auth with those credentials.
// There is no way to enable an endpoint without credentials.
type Webhook struct {
	OfferUpload             string `json:"offer_upload" secret:"true" help:"POST /offer/upload: empty disables the endpoint (404); user:password enables it behind HTTP Basic auth."`
	OfferRevoke             string `json:"offer_revoke" secret:"true" help:"POST /offer/revoke: empty disables it; user:password enables it behind HTTP Basic auth."`
	ContractUpload          string `json:"contract_upload" secret:"true" help:"POST /contract/upload: empty disables it; user:password enables it behind HTTP Basic auth."`
	SignatureVerify         string `json:"signature_verify" secret:"true" help:"POST /signature/verify: empty disables it; user:password enables it behind HTTP Basic auth."`
	CustomerBootstrap       string `json:"customer_bootstrap" secret:"true" help:"POST /customer/bootstrap: empty disables it; user:password enables it behind HTTP Basic auth."`
	CustomerAssociation     string `json:"customer_send_association_token" secret:"true" help:"POST /customer/send-association-token: empty disables it; user:password enables it behind HTTP Basic auth."`
	CustomerApprove         string `json:"customer_approve" secret:"true" help:"POST /customer/approve: empty disables it; user:password enables it behind HTTP Basic auth."`
	AppNotification         string `json:"app_notification" secret:"true" help:"POST /app/notification: empty disables it; user:password enables it behind HTTP Basic auth."`
	DevInbox                string `json:"dev_inbox" secret:"true" help:"GET /dev/inbox, the development inbox (SMS codes included) as JSON for esign demo and tests: empty disables it (404); user:password enables it behind HTTP Basic auth. Only accepted while notify.sms, notify.email or notify.push is inbox."`
	EventURLs               string `json:"event_urls" help:"Space-separated callback URLs that receive every event (offer.signed, offer.refused, offer.revoked, offer.expired, contract.acknowledged) as a signed JSON POST; empty: no events are recorded."`
	EventSecret             string `json:"event_secret" secret:"true" help:"HMAC-SHA256 key (at least 32 characters) of the X-Esign-Signature header of events; required with webhook.event_urls."`
	EventMaxAttempts        int    `json:"event_max_attempts" help:"Delivery attempts per event and URL before the delivery is marked failed (backoff from 10 s doubling up to 4 h)."`
	MaxBodyBytes            int64  `json:"max_body_bytes" help:"Largest accepted body of an upload (offer and contract upload, signature verify) in bytes, its PDFs as base64 or multipart counted in full; the other endpoints take at most 1 MiB (or this, if smaller)."`
	MaxConcurrentUploads    int    `json:"max_concurrent_uploads" help:"Uploads (offer and contract upload, signature verify) one oss process receives at once; one more is answered 503 with Retry-After. Each is streamed to the document store, so memory does not grow with the upload's size."`
	AuthFailuresPerIPPer10m int    `json:"auth_failures_per_ip_per_10min" help:"At most this many failed Basic-auth attempts from one client address per 10 minutes; beyond it the address gets 429."`
}

// WebhookEndpoints maps the endpoint paths to their settings' keys and
// values, in the order of the spec.
func (w Webhook) WebhookEndpoints() []WebhookEndpoint {
	return []WebhookEndpoint{
		{"/offer/upload", "webhook.offer_upload", w.OfferUpload},
		{"/offer/revoke", "webhook.offer_revoke", w.OfferRevoke},
		{"/contract/upload", "webhook.contract_upload", w.ContractUpload},
		{"/signature/verify", "webhook.signature_verify", w.SignatureVerify},
		{"/customer/bootstrap", "webhook.customer_bootstrap", w.CustomerBootstrap},
		{"/customer/send-association-token", "webhook.customer_send_association_token", w.CustomerAssociation},
		{"/customer/approve", "webhook.customer_approve", w.CustomerApprove},
		{"/app/notification", "webhook.app_notification", w.AppNotification},
	}
}

// DevInboxEndpoint is the setting of GET /dev/inbox, the development
// inbox's read-only API (docs/webhook-api.md).
func (w Webhook) DevInboxEndpoint() WebhookEndpoint {
	return WebhookEndpoint{"/dev/inbox", "webhook.dev_inbox", w.DevInbox}
}

// WebhookEndpoint is one endpoint's setting.
type WebhookEndpoint struct {
	Path  string
	Key   string
	Value string // empty: disabled; else user:password
}

// Credentials splits the setting into user and password; ok is false when
// the endpoint is disabled.
func (e WebhookEndpoint) Credentials() (user, password string, ok bool) {
	if e.Value == "" {
		return "", "", false
	}
	return strings.Cut(e.Value, ":")
}

// MinWebhookPasswordLen is the shortest accepted webhook password.
const MinWebhookPasswordLen = 16

func defaultWebhook() Webhook {
	return Webhook{MaxBodyBytes: 64 << 20, MaxConcurrentUploads: 8, AuthFailuresPerIPPer10m: 20, EventMaxAttempts: 25}
}

func (w Webhook) validate() error {
	for _, e := range append(w.WebhookEndpoints(), w.DevInboxEndpoint()) {
		if e.Value == "" {
			continue
		}
		user, pw, ok := e.Credentials()
		if !ok || user == "" || strings.ContainsAny(user, " \t") {
			return &FieldError{Key: e.Key, Reason: "must be empty (disabled) or user:password"}
		}
		if len(pw) < MinWebhookPasswordLen {
			return &FieldError{Key: e.Key, Reason: "the password must have at least 16 characters"}
		}
	}
	for _, u := range w.CallbackURLs() {
		if err := checkURL(u, "https", "http"); err != nil {
			return &FieldError{Key: "webhook.event_urls", Reason: err.Error()}
		}
	}
	if len(w.CallbackURLs()) > 0 && len(w.EventSecret) < 32 {
		return &FieldError{Key: "webhook.event_secret", Reason: "must have at least 32 characters when webhook.event_urls is set"}
	}
	if w.EventMaxAttempts <= 0 {
		return &FieldError{Key: "webhook.event_max_attempts", Reason: "must be positive"}
	}
	if w.MaxBodyBytes <= 0 {
		return &FieldError{Key: "webhook.max_body_bytes", Reason: "must be positive"}
	}
	if w.MaxConcurrentUploads <= 0 {
		return &FieldError{Key: "webhook.max_concurrent_uploads", Reason: "must be positive"}
	}
	if w.AuthFailuresPerIPPer10m <= 0 {
		return &FieldError{Key: "webhook.auth_failures_per_ip_per_10min", Reason: "must be positive"}
	}
	return nil
}

// CallbackURLs returns the event callback URLs.
func (w Webhook) CallbackURLs() []string { return strings.Fields(w.EventURLs) }
