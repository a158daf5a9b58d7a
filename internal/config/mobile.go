package config

import (
	"encoding/base64"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Mobile configures the mobile-app REST API and the customer sessions and
// one-time codes behind it (docs/mobile-api.md).
type Mobile struct {
	SessionIdle                time.Duration `json:"session_idle" help:"A customer session unused this long expires."`
	SessionMax                 time.Duration `json:"session_max" help:"A customer session expires this long after login, however often it is used."`
	SessionCacheTTL            time.Duration `json:"session_cache_ttl" help:"How long an oss replica may answer a customer session it authenticated from memory for the app's reading requests (offers, documents, contracts, time stamps, signature status), at most 2s; a session revoked on another replica may be honoured this long. M1, M2, the second factor and logout always read it. 0: never."`
	CodeKey                    string        `json:"code_key" secret:"true" help:"Base64 key (at least 32 bytes) of the keyed hash under which SMS codes are stored. Empty: derived from the first crypto key; every replica must derive the same."`
	SMSPerNumberPerHour        int           `json:"sms_per_number_per_hour" help:"At most this many one-time codes to one phone number per hour."`
	SMSGlobalPerMinute         int           `json:"sms_global_per_minute" help:"At most this many one-time codes sent by the whole system per minute."`
	LoginPerAppPer10Min        int           `json:"login_per_app_per_10min" help:"At most this many credential and code checks from one app installation per 10 minutes."`
	RegisterPerIPPer10Min      int           `json:"register_per_ip_per_10min" help:"At most this many app registrations from one client address per 10 minutes."`
	TimestampPerAppPer10Min    int           `json:"timestamp_per_app_per_10min" help:"At most this many /api/timestamp requests from one app installation per 10 minutes (a signing takes three)."`
	ClientErrorsPerAppPer10Min int           `json:"client_errors_per_app_per_10min" help:"At most this many client error reports from one app installation (or one customer's web sessions) per 10 minutes."`
	ClientErrorsPerDay         int           `json:"client_errors_per_day" help:"At most this many client error reports (app and customer UI) stored per 24 hours by the whole system; more are refused with 429."`
	WebSessions                string        `json:"web_sessions" help:"What a customer's new sign-in in the customer web UI does to their other web session: end_older (default: one web session per customer) or allow (several at once; a sign-in that finds others lists them, with browser, since and last use, and the customer may end them)."`
	LinkLifetime               time.Duration `json:"link_lifetime" help:"How long the short link of an offer's notification (/s/{code} of the customer UI) works; 0: until the offer expires. A customer whose link expired while the offer is still open asks for a fresh one, sent by SMS to the registered phone."`
	LinkRenewalsPerDay         int           `json:"link_renewals_per_day" help:"At most this many fresh short links sent for one offer per 24 hours (and at most mobile.register_per_ip_per_10min asked from one client address)."`
	SigningAlgorithms          string        `json:"signing_algorithms" help:"Comma-separated signature algorithms accepted in M1/M2 (docs/protocol.md): ecdsa-p256-sha256, rsa-pss-sha256, rsa-pkcs1v15-sha256. Empty: all three."`
	WebSigningAlgorithms       string        `json:"web_signing_algorithms" help:"Comma-separated algorithms a key made in the customer web UI may use: ecdsa-p256-sha256 and/or rsa-pss-sha256, each also accepted by signing_algorithms; the browser makes its key with the first. Default: ecdsa-p256-sha256 only."`
}

// signingAlgorithms are the algorithm identifiers of package signing.
var signingAlgorithms = []string{"ecdsa-p256-sha256", "rsa-pss-sha256", "rsa-pkcs1v15-sha256"}

// Algorithms returns the listed signing algorithms; nil when none are
// listed (all accepted).
func (m Mobile) Algorithms() []string {
	var out []string
	for _, a := range strings.Split(m.SigningAlgorithms, ",") {
		if a = strings.TrimSpace(a); a != "" {
			out = append(out, a)
		}
	}
	return out
}

// webSigningAlgorithms are what WebCrypto can make a non-extractable key of.
var webSigningAlgorithms = []string{"ecdsa-p256-sha256", "rsa-pss-sha256"}

// WebAlgorithms returns the algorithms of web_signing_algorithms, the
// browser's first.
func (m Mobile) WebAlgorithms() []string {
	var out []string
	for _, a := range strings.Split(m.WebSigningAlgorithms, ",") {
		if a = strings.TrimSpace(a); a != "" {
			out = append(out, a)
		}
	}
	return out
}

func defaultMobile() Mobile {
	return Mobile{SessionIdle: 15 * time.Minute, SessionMax: 12 * time.Hour, SessionCacheTTL: time.Second, SMSPerNumberPerHour: 10, SMSGlobalPerMinute: 600,
		LoginPerAppPer10Min: 30, RegisterPerIPPer10Min: 60, TimestampPerAppPer10Min: 120,
		ClientErrorsPerAppPer10Min: 30, ClientErrorsPerDay: 10000, WebSessions: "end_older", LinkRenewalsPerDay: 3,
		WebSigningAlgorithms: "ecdsa-p256-sha256"}
}

func (m Mobile) validate() error {
	if m.SessionIdle <= 0 {
		return &FieldError{Key: "mobile.session_idle", Reason: "must be a positive duration"}
	}
	if m.SessionMax < m.SessionIdle {
		return &FieldError{Key: "mobile.session_max", Reason: "must not be shorter than mobile.session_idle"}
	}
	if m.SessionCacheTTL < 0 || m.SessionCacheTTL > 2*time.Second {
		return &FieldError{Key: "mobile.session_cache_ttl", Reason: "must be from 0 to 2s"}
	}
	if m.CodeKey != "" {
		k, err := base64.StdEncoding.DecodeString(m.CodeKey)
		if err != nil || len(k) < 32 {
			return &FieldError{Key: "mobile.code_key", Reason: "must be base64 of at least 32 bytes"}
		}
	}
	if m.LinkLifetime < 0 {
		return &FieldError{Key: "mobile.link_lifetime", Reason: "must not be negative"}
	}
	if m.LinkRenewalsPerDay < 1 {
		return &FieldError{Key: "mobile.link_renewals_per_day", Reason: "must be at least 1"}
	}
	if m.WebSessions != "end_older" && m.WebSessions != "allow" {
		return &FieldError{Key: "mobile.web_sessions", Reason: "must be end_older or allow"}
	}
	for _, a := range m.Algorithms() {
		if !slices.Contains(signingAlgorithms, a) {
			return &FieldError{Key: "mobile.signing_algorithms", Reason: "unknown algorithm " + strconv.Quote(a)}
		}
	}
	if m.SigningAlgorithms != "" && len(m.Algorithms()) == 0 {
		return &FieldError{Key: "mobile.signing_algorithms", Reason: "lists no algorithm"}
	}
	if len(m.WebAlgorithms()) == 0 {
		return &FieldError{Key: "mobile.web_signing_algorithms", Reason: "lists no algorithm"}
	}
	for _, a := range m.WebAlgorithms() {
		switch {
		case !slices.Contains(webSigningAlgorithms, a):
			return &FieldError{Key: "mobile.web_signing_algorithms", Reason: "must be ecdsa-p256-sha256 or rsa-pss-sha256, not " + strconv.Quote(a)}
		case len(m.Algorithms()) > 0 && !slices.Contains(m.Algorithms(), a):
			return &FieldError{Key: "mobile.web_signing_algorithms", Reason: strconv.Quote(a) + " is not in mobile.signing_algorithms"}
		}
	}
	for _, n := range []struct {
		key string
		v   int
	}{{"mobile.sms_per_number_per_hour", m.SMSPerNumberPerHour}, {"mobile.sms_global_per_minute", m.SMSGlobalPerMinute},
		{"mobile.login_per_app_per_10min", m.LoginPerAppPer10Min}, {"mobile.register_per_ip_per_10min", m.RegisterPerIPPer10Min},
		{"mobile.timestamp_per_app_per_10min", m.TimestampPerAppPer10Min},
		{"mobile.client_errors_per_app_per_10min", m.ClientErrorsPerAppPer10Min}, {"mobile.client_errors_per_day", m.ClientErrorsPerDay}} {
		if n.v <= 0 {
			return &FieldError{Key: n.key, Reason: "must be positive"}
		}
	}
	return nil
}
