// Package smtp sends e-mail over SMTP with STARTTLS or implicit TLS and
// AUTH PLAIN or LOGIN. Messages are multipart/alternative (text and HTML,
// quoted-printable, UTF-8) with RFC 2047 encoded headers.
//
// Errors are classified for the retry logic of package jobs: 5xx replies
// (unknown mailbox, authentication failed) are permanent, 4xx replies and
// connection failures are temporary.
package smtp

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net"
	"net/mail"
	netsmtp "net/smtp"
	"net/textproto"
	"strconv"
	"strings"
	"time"

	"esign/internal/esign"
	"esign/internal/notify"
)

// Security is how the connection is protected.
type Security string

// The security modes.
const (
	StartTLS Security = "starttls" // plain connection upgraded with STARTTLS, which is required (port 587)
	TLS      Security = "tls"      // implicit TLS from the first byte (port 465)
	None     Security = "none"     // no TLS: only for a development relay on loopback
)

// Config configures a Sender.
type Config struct {
	Host     string
	Port     int      // default 587 (StartTLS), 465 (TLS), 25 (None)
	Security Security // default StartTLS
	Username string   // empty: no AUTH
	Password string   // secret
	Auth     string   // "plain" (default) or "login"
	From     string   // envelope and header sender address
	FromName string   // display name, e.g. the bank's name
	HeloName string   // default "localhost"
	// TLSConfig overrides the TLS settings (e.g. RootCAs); ServerName defaults to Host.
	TLSConfig *tls.Config
	Timeout   time.Duration // whole-conversation bound when ctx has no deadline; default 30 s
}

// Sender sends e-mail through one SMTP server. It opens a connection per
// message and is safe for concurrent use.
type Sender struct {
	cfg  Config
	from *mail.Address
}

// New checks cfg and returns a Sender.
func New(cfg Config) (*Sender, error) {
	const op = "smtp.New"
	if cfg.Security == "" {
		cfg.Security = StartTLS
	}
	switch cfg.Security {
	case StartTLS, TLS, None:
	default:
		return nil, esign.Errorf(op, esign.Invalid, "smtp: unknown security %q", cfg.Security)
	}
	if cfg.Host == "" {
		return nil, esign.E(op, esign.Invalid, "smtp: host is required")
	}
	if cfg.Port == 0 {
		cfg.Port = map[Security]int{StartTLS: 587, TLS: 465, None: 25}[cfg.Security]
	}
	from, err := mail.ParseAddress(cfg.From)
	if err != nil {
		return nil, esign.E(op, esign.Invalid, "smtp: from is not an e-mail address", err)
	}
	from.Name = cfg.FromName
	switch strings.ToLower(cfg.Auth) {
	case "", "plain", "login":
	default:
		return nil, esign.Errorf(op, esign.Invalid, "smtp: unknown auth %q", cfg.Auth)
	}
	if cfg.Security == None && cfg.Username != "" {
		return nil, esign.E(op, esign.Invalid, "smtp: refusing to send a password without TLS")
	}
	if cfg.HeloName == "" {
		cfg.HeloName = "localhost"
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = 30 * time.Second
	}
	return &Sender{cfg: cfg, from: from}, nil
}

// SendEmail sends one message and returns its Message-ID as the receipt id.
// The Message-ID is derived from msg.Key when it is set, so that a message
// sent again after a crash carries the same id and mail clients can collapse
// the duplicate.
func (s *Sender) SendEmail(ctx context.Context, msg notify.EmailMessage) (notify.Receipt, error) {
	const op = "smtp.SendEmail"
	to, err := mail.ParseAddress(msg.To)
	if err != nil || strings.ContainsAny(msg.To, "\r\n") {
		return notify.Receipt{}, notify.ProviderError(op, esign.Invalid, "invalid_address", "invalid e-mail address", err)
	}
	to.Name = msg.ToName
	msgID := s.messageID(msg.Key)
	raw, err := s.compose(to, msg, msgID, time.Now())
	if err != nil {
		return notify.Receipt{}, fmt.Errorf("smtp: compose: %w", err)
	}
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, s.cfg.Timeout)
		defer cancel()
	}
	if err := s.deliver(ctx, to.Address, raw); err != nil {
		return notify.Receipt{}, classify(ctx, op, err)
	}
	return notify.Receipt{Provider: "smtp", ID: msgID}, nil
}

func (s *Sender) messageID(key string) string {
	domain := s.from.Address[strings.LastIndexByte(s.from.Address, '@')+1:]
	local := strings.Map(func(r rune) rune {
		if r < 128 && (r == '-' || r == '.' || r == '_' || ('0' <= r && r <= '9') || ('a' <= r && r <= 'z') || ('A' <= r && r <= 'Z')) {
			return r
		}
		return '_'
	}, key)
	if local == "" {
		var b [12]byte
		_, _ = rand.Read(b[:])
		local = hex.EncodeToString(b[:])
	}
	return "<" + local + "@" + domain + ">"
}

// compose builds the RFC 5322 message.
func (s *Sender) compose(to *mail.Address, msg notify.EmailMessage, msgID string, now time.Time) ([]byte, error) {
	var b bytes.Buffer
	h := func(k, v string) { b.WriteString(k + ": " + v + "\r\n") }
	h("From", s.from.String())
	h("To", to.String())
	h("Subject", mime.QEncoding.Encode("utf-8", strings.Join(strings.Fields(msg.Subject), " ")))
	h("Date", now.Format(time.RFC1123Z))
	h("Message-ID", msgID)
	h("MIME-Version", "1.0")
	h("Auto-Submitted", "auto-generated")
	mw := multipart.NewWriter(nil)
	boundary := mw.Boundary()
	if msg.HTML == "" {
		h("Content-Type", "text/plain; charset=utf-8")
		h("Content-Transfer-Encoding", "quoted-printable")
		b.WriteString("\r\n")
		if err := writeQP(&b, msg.Text); err != nil {
			return nil, err
		}
		return b.Bytes(), nil
	}
	h("Content-Type", `multipart/alternative; boundary="`+boundary+`"`)
	b.WriteString("\r\n")
	mw = multipart.NewWriter(&b)
	if err := mw.SetBoundary(boundary); err != nil {
		return nil, err
	}
	for _, part := range []struct{ ctype, body string }{{"text/plain; charset=utf-8", msg.Text}, {"text/html; charset=utf-8", msg.HTML}} {
		w, err := mw.CreatePart(textproto.MIMEHeader{"Content-Type": {part.ctype}, "Content-Transfer-Encoding": {"quoted-printable"}})
		if err != nil {
			return nil, err
		}
		if err := writeQP(w, part.body); err != nil {
			return nil, err
		}
	}
	if err := mw.Close(); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

func writeQP(w interface{ Write([]byte) (int, error) }, s string) error {
	qp := quotedprintable.NewWriter(w)
	s = strings.ReplaceAll(strings.ReplaceAll(s, "\r\n", "\n"), "\n", "\r\n")
	if _, err := qp.Write([]byte(s)); err != nil {
		return err
	}
	return qp.Close()
}

func (s *Sender) deliver(ctx context.Context, rcpt string, raw []byte) error {
	addr := net.JoinHostPort(s.cfg.Host, strconv.Itoa(s.cfg.Port))
	tlsCfg := &tls.Config{ServerName: s.cfg.Host, MinVersion: tls.VersionTLS12}
	if s.cfg.TLSConfig != nil {
		tlsCfg = s.cfg.TLSConfig.Clone()
		if tlsCfg.ServerName == "" {
			tlsCfg.ServerName = s.cfg.Host
		}
	}
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return fmt.Errorf("dial %s: %w", addr, err)
	}
	if dl, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(dl)
	}
	stop := context.AfterFunc(ctx, func() { _ = conn.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	if s.cfg.Security == TLS {
		tc := tls.Client(conn, tlsCfg)
		if err := tc.HandshakeContext(ctx); err != nil {
			conn.Close()
			return fmt.Errorf("tls handshake: %w", err)
		}
		conn = tc
	}
	c, err := netsmtp.NewClient(conn, s.cfg.Host)
	if err != nil {
		conn.Close()
		return fmt.Errorf("greeting: %w", err)
	}
	defer c.Close()
	if err := c.Hello(s.cfg.HeloName); err != nil {
		return fmt.Errorf("ehlo: %w", err)
	}
	if s.cfg.Security == StartTLS {
		if ok, _ := c.Extension("STARTTLS"); !ok {
			return errNoStartTLS
		}
		if err := c.StartTLS(tlsCfg); err != nil {
			return fmt.Errorf("starttls: %w", err)
		}
	}
	if s.cfg.Username != "" {
		var a netsmtp.Auth
		if strings.EqualFold(s.cfg.Auth, "login") {
			a = &loginAuth{user: s.cfg.Username, pass: s.cfg.Password}
		} else {
			a = netsmtp.PlainAuth("", s.cfg.Username, s.cfg.Password, s.cfg.Host)
		}
		if err := c.Auth(a); err != nil {
			return fmt.Errorf("auth: %w", err)
		}
	}
	if err := c.Mail(s.from.Address); err != nil {
		return fmt.Errorf("mail from: %w", err)
	}
	if err := c.Rcpt(rcpt); err != nil {
		return fmt.Errorf("rcpt to: %w", err)
	}
	w, err := c.Data()
	if err != nil {
		return fmt.Errorf("data: %w", err)
	}
	if _, err := w.Write(raw); err != nil {
		return fmt.Errorf("data: %w", err)
	}
	if err := w.Close(); err != nil {
		return fmt.Errorf("data: %w", err)
	}
	// The message is accepted once DATA is answered; a failing QUIT changes nothing.
	_ = c.Quit()
	return nil
}

var errNoStartTLS = errors.New("server does not offer STARTTLS")

// classify maps SMTP replies and transport errors to error kinds.
func classify(ctx context.Context, op string, err error) error {
	var tp *textproto.Error
	if errors.As(err, &tp) {
		code := "smtp_" + strconv.Itoa(tp.Code)
		switch {
		case tp.Code == 535 || tp.Code == 534 || tp.Code == 530:
			return notify.ProviderError(op, esign.Unauthorized, code, "mail server refused the credentials", err)
		case tp.Code >= 500:
			return notify.ProviderError(op, esign.Invalid, code, "mail server refused the message", err)
		case tp.Code >= 400:
			return notify.ProviderError(op, esign.Unavailable, code, "mail server asked to try later", err)
		}
	}
	if ctx.Err() != nil {
		return esign.E(op, esign.Timeout, "mail server did not answer in time", err)
	}
	return notify.Unavailable(op, "smtp: send", err)
}

// loginAuth implements AUTH LOGIN, which some relays offer instead of PLAIN.
// Like net/smtp's PlainAuth it refuses to run without TLS.
type loginAuth struct{ user, pass string }

func (a *loginAuth) Start(server *netsmtp.ServerInfo) (string, []byte, error) {
	if !server.TLS {
		return "", nil, errors.New("smtp: refusing AUTH LOGIN without TLS")
	}
	return "LOGIN", nil, nil
}

func (a *loginAuth) Next(fromServer []byte, more bool) ([]byte, error) {
	if !more {
		return nil, nil
	}
	switch strings.ToLower(strings.TrimSpace(string(fromServer))) {
	case "username:":
		return []byte(a.user), nil
	case "password:":
		return []byte(a.pass), nil
	}
	return nil, fmt.Errorf("smtp: unexpected LOGIN challenge %q", fromServer)
}
