package smtp

import (
	"bytes"
	"context"
	"crypto/tls"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/mail"
	"strings"
	"testing"

	"esign/internal/esign"
	"esign/internal/notify"
)

func newSender(t *testing.T, srv *testServer, cfg Config) *Sender {
	t.Helper()
	cfg.Host = "127.0.0.1"
	cfg.Port = srv.port()
	if cfg.From == "" {
		cfg.From = "noreply@pelda.hu"
	}
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestSendEmail(t *testing.T) {
	ctx := context.Background()
	msg := notify.EmailMessage{
		To:      "kovacs.eva@example.com",
		ToName:  "Kovács Éva",
		Subject: "Új ajánlat: Lakáshitel – 2026",
		Text:    "Tisztelt Kovács Éva!\n\nÚj ajánlat vár.\n.\nSor ponttal.",
		HTML:    "<p>Tisztelt <strong>Kovács Éva</strong>!</p>",
		Key:     "job-7",
	}
	tests := []struct {
		name     string
		implicit bool
		security Security
		auth     string
	}{
		{"starttls_plain", false, StartTLS, "plain"},
		{"starttls_login", false, StartTLS, "login"},
		{"implicit_tls_plain", true, TLS, "plain"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, pool := startServer(t, tt.implicit)
			s := newSender(t, srv, Config{Security: tt.security, Username: "mailer", Password: "s3cret", Auth: tt.auth,
				FromName: "Példa Bank Zrt.", TLSConfig: &tls.Config{RootCAs: pool}})
			rc, err := s.SendEmail(ctx, msg)
			if err != nil {
				t.Fatal(err)
			}
			if rc.Provider != "smtp" || rc.ID != "<job-7@pelda.hu>" {
				t.Errorf("receipt = %+v", rc)
			}
			got := srv.messages()
			if len(got) != 1 {
				t.Fatalf("%d messages received", len(got))
			}
			if got[0].From != "noreply@pelda.hu" || len(got[0].To) != 1 || got[0].To[0] != "kovacs.eva@example.com" {
				t.Errorf("envelope = %q → %q", got[0].From, got[0].To)
			}
			checkMessage(t, got[0].Data, msg)
		})
	}
}

func checkMessage(t *testing.T, data []byte, want notify.EmailMessage) {
	t.Helper()
	m, err := mail.ReadMessage(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	dec := new(mime.WordDecoder)
	subj, err := dec.DecodeHeader(m.Header.Get("Subject"))
	if err != nil || subj != want.Subject {
		t.Errorf("subject = %q (%v), want %q", subj, err, want.Subject)
	}
	if raw := m.Header.Get("Subject"); !strings.HasPrefix(raw, "=?utf-8?q?") {
		t.Errorf("subject not RFC 2047 encoded: %q", raw)
	}
	from, err := m.Header.AddressList("From")
	if err != nil || from[0].Name != "Példa Bank Zrt." || from[0].Address != "noreply@pelda.hu" {
		t.Errorf("from = %v (%v)", from, err)
	}
	to, err := m.Header.AddressList("To")
	if err != nil || to[0].Name != want.ToName {
		t.Errorf("to = %v (%v)", to, err)
	}
	for _, h := range []string{"Date", "Message-Id", "Mime-Version"} {
		if m.Header.Get(h) == "" {
			t.Errorf("header %s missing", h)
		}
	}
	mt, params, err := mime.ParseMediaType(m.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/alternative" {
		t.Fatalf("content type %q (%v)", mt, err)
	}
	mr := multipart.NewReader(m.Body, params["boundary"])
	var types, bodies []string
	for {
		p, err := mr.NextRawPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if p.Header.Get("Content-Transfer-Encoding") != "quoted-printable" {
			t.Errorf("part encoding %q", p.Header.Get("Content-Transfer-Encoding"))
		}
		b, err := io.ReadAll(quotedprintable.NewReader(p))
		if err != nil {
			t.Fatal(err)
		}
		types = append(types, p.Header.Get("Content-Type"))
		bodies = append(bodies, strings.ReplaceAll(string(b), "\r\n", "\n"))
	}
	if len(types) != 2 || types[0] != "text/plain; charset=utf-8" || types[1] != "text/html; charset=utf-8" {
		t.Fatalf("parts = %q", types)
	}
	if bodies[0] != want.Text || bodies[1] != want.HTML {
		t.Errorf("bodies = %q", bodies)
	}
}

func TestSendEmailErrors(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name      string
		to        string
		password  string
		kind      esign.Kind
		code      string
		permanent bool
	}{
		{"unknown_mailbox", "nobody@example.com", "s3cret", esign.Invalid, "smtp_550", true},
		{"greylisted", "busy@example.com", "s3cret", esign.Unavailable, "smtp_451", false},
		{"bad_password", "eva@example.com", "wrong", esign.Unauthorized, "smtp_535", true},
		{"bad_address", "not an address", "s3cret", esign.Invalid, "invalid_address", true},
		{"header_injection", "eva@example.com\r\nBcc: x@example.com", "s3cret", esign.Invalid, "invalid_address", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, pool := startServer(t, false)
			s := newSender(t, srv, Config{Username: "mailer", Password: tt.password, TLSConfig: &tls.Config{RootCAs: pool}})
			_, err := s.SendEmail(ctx, notify.EmailMessage{To: tt.to, Subject: "x", Text: "x"})
			if esign.ErrorKind(err) != tt.kind || esign.ErrorCode(err) != tt.code || notify.Permanent(err) != tt.permanent {
				t.Errorf("err = %v (kind %v code %q), want %v %q", err, esign.ErrorKind(err), esign.ErrorCode(err), tt.kind, tt.code)
			}
			if n := len(srv.messages()); n != 0 {
				t.Errorf("%d messages delivered", n)
			}
		})
	}
}

func TestSendEmailRefusesUntrustedCert(t *testing.T) {
	srv, _ := startServer(t, false)
	s := newSender(t, srv, Config{Username: "mailer", Password: "s3cret"})
	_, err := s.SendEmail(context.Background(), notify.EmailMessage{To: "eva@example.com", Subject: "x", Text: "x"})
	if err == nil || notify.Permanent(err) {
		t.Fatalf("err = %v, want a temporary TLS failure", err)
	}
	if srv.sawAuth() {
		t.Error("credentials were sent over an untrusted connection")
	}
}

func TestNewValidates(t *testing.T) {
	for name, cfg := range map[string]Config{
		"no_host":          {From: "a@b.hu"},
		"bad_from":         {Host: "h", From: "nope"},
		"password_no_tls":  {Host: "h", From: "a@b.hu", Security: None, Username: "u"},
		"unknown_security": {Host: "h", From: "a@b.hu", Security: "ssl3"},
		"unknown_auth":     {Host: "h", From: "a@b.hu", Auth: "cram-md5"},
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := New(cfg); esign.ErrorKind(err) != esign.Invalid {
				t.Errorf("err = %v", err)
			}
		})
	}
}

func TestTextOnly(t *testing.T) {
	srv, pool := startServer(t, false)
	s := newSender(t, srv, Config{Username: "mailer", Password: "s3cret", TLSConfig: &tls.Config{RootCAs: pool}})
	if _, err := s.SendEmail(context.Background(), notify.EmailMessage{To: "eva@example.com", Subject: "plain", Text: "csak szöveg"}); err != nil {
		t.Fatal(err)
	}
	m, err := mail.ReadMessage(bytes.NewReader(srv.messages()[0].Data))
	if err != nil {
		t.Fatal(err)
	}
	if ct := m.Header.Get("Content-Type"); ct != "text/plain; charset=utf-8" {
		t.Errorf("content type %q", ct)
	}
	b, _ := io.ReadAll(quotedprintable.NewReader(m.Body))
	if strings.TrimRight(string(b), "\r\n") != "csak szöveg" {
		t.Errorf("body %q", b)
	}
}
