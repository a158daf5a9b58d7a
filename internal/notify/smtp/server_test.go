package smtp

import (
	"bufio"
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"math/big"
	"net"
	"strings"
	"sync"
	"testing"
	"time"
)

// testServer is a small in-process SMTP server (RFC 5321 subset) with
// STARTTLS, implicit TLS, AUTH PLAIN/LOGIN and a 550 for one mailbox, good
// enough to exercise a real client conversation.
type testServer struct {
	t        *testing.T
	ln       net.Listener
	tls      *tls.Config
	implicit bool // TLS from the first byte
	user     string
	pass     string

	mu       sync.Mutex
	received []received
	sawTLS   bool
	authed   bool
}

type received struct {
	From string
	To   []string
	Data []byte
}

// testCert returns a server certificate for 127.0.0.1 and localhost and a
// pool that trusts it.
func testCert(t *testing.T) (tls.Certificate, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "smtp test"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1)},
		DNSNames:              []string{"localhost"},
		IsCA:                  true,
		BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, pool
}

func startServer(t *testing.T, implicit bool) (*testServer, *x509.CertPool) {
	t.Helper()
	cert, pool := testCert(t)
	s := &testServer{t: t, tls: &tls.Config{Certificates: []tls.Certificate{cert}}, implicit: implicit, user: "mailer", pass: "s3cret"}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if implicit {
		ln = tls.NewListener(ln, s.tls)
	}
	s.ln = ln
	var wg sync.WaitGroup
	wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Go(func() { s.serve(c) })
		}
	})
	t.Cleanup(func() { ln.Close(); wg.Wait() })
	return s, pool
}

func (s *testServer) sawAuth() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.authed
}

func (s *testServer) port() int { return s.ln.Addr().(*net.TCPAddr).Port }

func (s *testServer) messages() []received {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]received(nil), s.received...)
}

func (s *testServer) serve(c net.Conn) {
	defer func() { c.Close() }()
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	isTLS := s.implicit
	r := bufio.NewReader(c)
	w := bufio.NewWriter(c)
	reply := func(lines ...string) {
		for _, l := range lines {
			w.WriteString(l + "\r\n")
		}
		w.Flush()
	}
	readLine := func() (string, bool) {
		l, err := r.ReadString('\n')
		if err != nil {
			return "", false
		}
		return strings.TrimRight(l, "\r\n"), true
	}
	reply("220 test.local ESMTP ready")
	authed := false
	var cur received
	for {
		line, ok := readLine()
		if !ok {
			return
		}
		verb, arg, _ := strings.Cut(line, " ")
		switch strings.ToUpper(verb) {
		case "EHLO", "HELO":
			lines := []string{"250-test.local", "250-8BITMIME"}
			if !isTLS {
				lines = append(lines, "250-STARTTLS")
			} else {
				lines = append(lines, "250-AUTH PLAIN LOGIN")
			}
			reply(append(lines, "250 SIZE 10485760")...)
		case "STARTTLS":
			if isTLS {
				reply("503 already in TLS")
				continue
			}
			reply("220 go ahead")
			tc := tls.Server(c, s.tls)
			if err := tc.Handshake(); err != nil {
				return
			}
			c, isTLS = tc, true
			r, w = bufio.NewReader(tc), bufio.NewWriter(tc)
			s.mu.Lock()
			s.sawTLS = true
			s.mu.Unlock()
		case "AUTH":
			if !isTLS {
				reply("538 encryption required")
				continue
			}
			mech, initial, _ := strings.Cut(arg, " ")
			var user, pass string
			switch strings.ToUpper(mech) {
			case "PLAIN":
				if initial == "" {
					reply("334 ")
					initial, _ = readLine()
				}
				dec, _ := base64.StdEncoding.DecodeString(initial)
				parts := bytes.Split(dec, []byte{0})
				if len(parts) == 3 {
					user, pass = string(parts[1]), string(parts[2])
				}
			case "LOGIN":
				reply("334 " + base64.StdEncoding.EncodeToString([]byte("Username:")))
				l, _ := readLine()
				u, _ := base64.StdEncoding.DecodeString(l)
				reply("334 " + base64.StdEncoding.EncodeToString([]byte("Password:")))
				l, _ = readLine()
				p, _ := base64.StdEncoding.DecodeString(l)
				user, pass = string(u), string(p)
			default:
				reply("504 unknown mechanism")
				continue
			}
			if user != s.user || pass != s.pass {
				reply("535 5.7.8 authentication failed")
				continue
			}
			authed = true
			s.mu.Lock()
			s.authed = true
			s.mu.Unlock()
			reply("235 2.7.0 authenticated")
		case "MAIL":
			if !authed {
				reply("530 5.7.0 authentication required")
				continue
			}
			from := arg[strings.IndexByte(arg, '<')+1:]
			from, _, _ = strings.Cut(from, ">")
			cur = received{From: from}
			reply("250 ok")
		case "RCPT":
			to := strings.Trim(arg[len("TO:"):], "<>")
			if strings.HasPrefix(to, "nobody@") {
				reply("550 5.1.1 no such user")
				continue
			}
			if strings.HasPrefix(to, "busy@") {
				reply("451 4.3.0 try again later")
				continue
			}
			cur.To = append(cur.To, to)
			reply("250 ok")
		case "DATA":
			reply("354 end with .")
			var data bytes.Buffer
			for {
				l, ok := readLine()
				if !ok {
					return
				}
				if l == "." {
					break
				}
				l = strings.TrimPrefix(l, ".") // dot-unstuffing
				data.WriteString(l + "\r\n")
			}
			cur.Data = data.Bytes()
			s.mu.Lock()
			s.received = append(s.received, cur)
			s.mu.Unlock()
			reply("250 2.0.0 queued as X1")
		case "RSET", "NOOP":
			reply("250 ok")
		case "QUIT":
			reply("221 bye")
			return
		default:
			reply("502 not implemented")
		}
	}
}
