package config

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"esign/internal/bus"
	"esign/internal/esign"
)

// fillDerived sets the values that default to something computed from other
// settings.
func (c *Config) fillDerived() {
	if c.Database.Driver == "sqlite" && c.Database.URL == "" && c.DataDir != "" {
		c.Database.URL = filepath.Join(c.DataDir, "esign.db")
	}
}

// Validate checks every setting and returns the first problem as a
// *FieldError.
func (c Config) Validate() error {
	if strings.TrimSpace(c.DataDir) == "" {
		return &FieldError{Key: "data_dir", Reason: "must not be empty"}
	}
	switch c.Log.Level {
	case "debug", "info", "warn", "error":
	default:
		return &FieldError{Key: "log.level", Reason: fmt.Sprintf("%q is not one of debug, info, warn, error", c.Log.Level)}
	}
	switch c.Log.Format {
	case "text", "json":
	default:
		return &FieldError{Key: "log.format", Reason: fmt.Sprintf("%q is not one of text, json", c.Log.Format)}
	}
	switch c.Database.Driver {
	case "sqlite":
		if c.Database.URL == "" {
			return &FieldError{Key: "database.url", Reason: "must name the SQLite file"}
		}
	case "postgres":
		if err := checkURL(c.Database.URL, "postgres", "postgresql"); err != nil {
			return &FieldError{Key: "database.url", Reason: err.Error()}
		}
	default:
		return &FieldError{Key: "database.driver", Reason: fmt.Sprintf("%q is not one of sqlite, postgres", c.Database.Driver)}
	}
	if c.Database.JobPoll < 10*time.Millisecond || c.Database.JobPoll > time.Minute {
		return &FieldError{Key: "database.job_poll", Reason: "must be from 10ms to 1m"}
	}
	if c.Database.MaxOpenConns < 0 {
		return &FieldError{Key: "database.max_open_conns", Reason: "must not be negative"}
	}
	for _, l := range []struct{ key, addr string }{
		{"listen.admin", c.Listen.Admin},
		{"listen.webhook", c.Listen.Webhook},
		{"listen.realtime", c.Listen.Realtime},
		{"listen.mobile", c.Listen.Mobile},
		{"listen.customer", c.Listen.Customer},
		{"listen.customer_realtime", c.Listen.CustomerRealtime},
		{"listen.tsa", c.Listen.TSA},
		{"listen.pdfservice", c.Listen.PDFService},
		{"listen.cron", c.Listen.Cron},
		{"listen.ops", c.Listen.Ops},
	} {
		if err := checkListen(l.addr); err != nil {
			return &FieldError{Key: l.key, Reason: err.Error()}
		}
	}
	if a := c.Listen.Debug; a != "" {
		host, _, err := net.SplitHostPort(a)
		ip := net.ParseIP(host)
		if err != nil || (host != "localhost" && (ip == nil || !ip.IsLoopback())) {
			return &FieldError{Key: "listen.debug", Reason: "must be a loopback host:port such as 127.0.0.1:6060"}
		}
	}
	for _, u := range []struct{ key, val string }{
		{"public.admin_url", c.Public.AdminURL},
		{"public.customer_url", c.Public.CustomerURL},
		{"public.realtime_url", c.Public.RealtimeURL},
		{"public.customer_realtime_url", c.Public.CustomerRealtimeURL},
		{"tsa.url", c.TSA.URL},
	} {
		if u.val != "" {
			if err := checkURL(u.val, "http", "https"); err != nil {
				return &FieldError{Key: u.key, Reason: err.Error()}
			}
		}
	}
	if c.Bus.AMQPURL != "" {
		if err := checkURL(c.Bus.AMQPURL, "amqp", "amqps"); err != nil {
			return &FieldError{Key: "bus.amqp_url", Reason: err.Error()}
		}
	}
	if err := bus.CheckNamespace(c.Bus.Namespace); err != nil {
		return &FieldError{Key: "bus.namespace", Reason: esign.ErrorMessage(err)}
	}
	if c.Redis.URL != "" {
		if err := checkURL(c.Redis.URL, "redis", "rediss"); err != nil {
			return &FieldError{Key: "redis.url", Reason: err.Error()}
		}
	}
	for _, d := range []struct {
		key string
		val int64
	}{
		{"bus.request_timeout", int64(c.Bus.RequestTimeout)},
		{"tsa.timeout", int64(c.TSA.Timeout)},
		{"http.read_header_timeout", int64(c.HTTP.ReadHeaderTimeout)},
		{"http.read_timeout", int64(c.HTTP.ReadTimeout)},
		{"http.write_timeout", int64(c.HTTP.WriteTimeout)},
		{"http.idle_timeout", int64(c.HTTP.IdleTimeout)},
		{"http.shutdown_timeout", int64(c.HTTP.ShutdownTimeout)},
	} {
		if d.val <= 0 {
			return &FieldError{Key: d.key, Reason: "must be a positive duration"}
		}
	}
	if c.TSA.Retries < 0 || c.TSA.Retries > 10 {
		return &FieldError{Key: "tsa.retries", Reason: "must be from 0 to 10"}
	}
	if c.TSA.Accuracy < time.Millisecond || c.TSA.Accuracy > time.Minute {
		// The built-in TSA writes genTime to the millisecond.
		return &FieldError{Key: "tsa.accuracy", Reason: "must be from 1ms to 1m"}
	}
	if c.TSA.PublicURL != "" {
		if err := checkURL(c.TSA.PublicURL, "http", "https"); err != nil {
			return &FieldError{Key: "tsa.public_url", Reason: err.Error()}
		}
	}
	if err := checkOID(c.TSA.PolicyOID); err != nil {
		return &FieldError{Key: "tsa.policy_oid", Reason: err.Error()}
	}
	if err := c.Seal.validate(); err != nil {
		return err
	}
	if err := c.Archive.validate(); err != nil {
		return err
	}
	if err := c.PKCS11.validate(c); err != nil {
		return err
	}
	if c.Crypto.Keys == "" && c.Database.Driver == "postgres" {
		return &FieldError{Key: "crypto.keys", Reason: "must be set when the database is postgres: every replica needs the same keys (see docs/crypto.md)"}
	}
	if err := c.Notify.validate(); err != nil {
		return err
	}
	if _, err := time.LoadLocation(c.Cron.TimeZone); err != nil {
		return &FieldError{Key: "cron.time_zone", Reason: fmt.Sprintf("unknown time zone %q", c.Cron.TimeZone)}
	}
	if c.Cron.DocumentRetention <= 0 {
		return &FieldError{Key: "cron.document_retention", Reason: "must be a positive duration"}
	}
	if c.Cron.ContractRetention < 0 {
		return &FieldError{Key: "cron.contract_retention", Reason: "must not be negative"}
	}
	if _, err := c.Branding.Brand(); err != nil {
		return err
	}
	if c.HTTP.MaxBodyBytes <= 0 {
		return &FieldError{Key: "http.max_body_bytes", Reason: "must be positive"}
	}
	if err := c.Mobile.validate(); err != nil {
		return err
	}
	if err := c.Webhook.validate(); err != nil {
		return err
	}
	if err := c.Tracing.validate(); err != nil {
		return err
	}
	if err := c.Customize.validate(); err != nil {
		return err
	}
	if err := c.Hooks.validate(); err != nil {
		return err
	}
	if err := c.CSC.validate(); err != nil {
		return err
	}
	if c.Webhook.DevInbox != "" && !c.Notify.UsesInbox() {
		return &FieldError{Key: "webhook.dev_inbox", Reason: "only with a development inbox: set notify.sms, notify.email or notify.push to inbox, or leave it empty"}
	}
	return nil
}

// checkOID accepts a dotted object identifier such as 1.3.6.1.4.1.32473.1.
func checkOID(s string) error {
	parts := strings.Split(s, ".")
	if len(parts) < 2 {
		return fmt.Errorf("%q is not a dotted object identifier", s)
	}
	for _, p := range parts {
		if _, err := strconv.ParseUint(p, 10, 31); err != nil {
			return fmt.Errorf("%q is not a dotted object identifier", s)
		}
	}
	return nil
}

// checkListen accepts "" (disabled) or host:port with a port in 0–65535 (0:
// any free port, for tests).
func checkListen(addr string) error {
	if addr == "" {
		return nil
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("%q is not host:port", addr)
	}
	n, err := strconv.Atoi(port)
	if err != nil || n < 0 || n > 65535 {
		return fmt.Errorf("invalid port %q: must be a number from 1 to 65535", port)
	}
	if host != "" && net.ParseIP(host) == nil && strings.ContainsAny(host, " /") {
		return fmt.Errorf("invalid host %q", host)
	}
	return nil
}

func checkURL(raw string, schemes ...string) error {
	if raw == "" {
		return errors.New("must be set")
	}
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("not a URL: %v", Mask(raw))
	}
	for _, s := range schemes {
		if u.Scheme == s {
			if u.Host == "" {
				return fmt.Errorf("URL %s has no host", Mask(raw))
			}
			return nil
		}
	}
	return fmt.Errorf("URL %s must start with %s://", Mask(raw), strings.Join(schemes, ":// or "))
}

// checkProviderURL accepts an https URL, or an http URL to a loopback
// address (a test server, or a proxy on the same host): the providers'
// requests carry credentials.
func checkProviderURL(raw string) error {
	if err := checkURL(raw, "https", "http"); err != nil {
		return err
	}
	u, _ := url.Parse(raw)
	if u.Scheme == "https" {
		return nil
	}
	host := u.Hostname()
	if ip := net.ParseIP(host); host == "localhost" || (ip != nil && ip.IsLoopback()) {
		return nil
	}
	return fmt.Errorf("URL %s must start with https:// (http:// only to a loopback address)", Mask(raw))
}

// Mask hides a secret. A URL keeps its scheme, user name, host and path so
// that operators can still see where it points.
func Mask(s string) string {
	if s == "" {
		return ""
	}
	if u, err := url.Parse(s); err == nil && u.Scheme != "" && u.Host != "" {
		if _, has := u.User.Password(); has {
			u.User = url.UserPassword(u.User.Username(), "xxxxx")
		}
		q := u.Query()
		for k := range q {
			if strings.Contains(strings.ToLower(k), "password") {
				q.Set(k, "xxxxx")
			}
		}
		u.RawQuery = q.Encode()
		return strings.Replace(u.String(), "xxxxx", "********", -1)
	}
	return "********"
}

func (n Notify) validate() error {
	oneOf := func(key, v string, allowed ...string) error {
		for _, a := range allowed {
			if v == a {
				return nil
			}
		}
		return &FieldError{Key: key, Reason: fmt.Sprintf("%q is not one of %s", v, strings.Join(allowed, ", "))}
	}
	if err := oneOf("notify.sms", n.SMS, "inbox", "smsapi"); err != nil {
		return err
	}
	if err := oneOf("notify.email", n.Email, "inbox", "smtp"); err != nil {
		return err
	}
	if err := oneOf("notify.push", n.Push, "inbox", "fcm"); err != nil {
		return err
	}
	if err := oneOf("notify.smtp_security", n.SMTPSecurity, "starttls", "tls", "none"); err != nil {
		return err
	}
	required := []struct {
		on       bool
		key, val string
	}{
		{n.SMS == "smsapi", "notify.smsapi_token", n.SmsAPIToken},
		{n.Email == "smtp", "notify.smtp_host", n.SMTPHost},
		{n.Email == "smtp", "notify.email_from", n.EmailFrom},
		{n.Push == "fcm", "notify.fcm_service_account_file", n.FCMServiceAccountFile},
	}
	for _, r := range required {
		if r.on && r.val == "" {
			return &FieldError{Key: r.key, Reason: "must be set for the chosen provider"}
		}
	}
	if err := checkProviderURL(n.FCMEndpoint); err != nil {
		return &FieldError{Key: "notify.fcm_endpoint", Reason: err.Error()}
	}
	if n.SMTPPort < 0 || n.SMTPPort > 65535 {
		return &FieldError{Key: "notify.smtp_port", Reason: "must be from 0 to 65535"}
	}
	if n.SMSPerHour < 0 || n.EmailPerHour < 0 {
		return &FieldError{Key: "notify.sms_per_hour", Reason: "rate limits must not be negative"}
	}
	if n.Workers < 1 || n.Workers > 1000 {
		return &FieldError{Key: "notify.workers", Reason: "must be from 1 to 1000"}
	}
	return nil
}
