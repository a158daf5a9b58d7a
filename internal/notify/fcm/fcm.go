// Package fcm sends push notifications through Firebase Cloud Messaging's
// HTTP v1 API: a service-account key signs an RS256 JWT, which is exchanged
// at the OAuth token endpoint for an access token (cached until shortly
// before it expires), which authorises POST …/messages:send.
//
// Errors are classified for the retry logic of package jobs: UNREGISTERED
// (kind NotFound: the device token is gone and should be forgotten),
// INVALID_ARGUMENT, SENDER_ID_MISMATCH and a refused service account are
// permanent; QUOTA_EXCEEDED, UNAVAILABLE, INTERNAL and transport failures
// are temporary.
package fcm

import (
	"bytes"
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"esign/internal/esign"
	"esign/internal/notify"
)

// The Google endpoints and the OAuth scope of FCM.
const (
	DefaultTokenURL = "https://oauth2.googleapis.com/token"
	DefaultSendURL  = "https://fcm.googleapis.com/v1/projects/{project}/messages:send"
	Scope           = "https://www.googleapis.com/auth/firebase.messaging"
)

// ServiceAccount is the part of a Google service-account key file that the
// client needs.
type ServiceAccount struct {
	Type         string `json:"type"`
	ProjectID    string `json:"project_id"`
	PrivateKeyID string `json:"private_key_id"`
	PrivateKey   string `json:"private_key"`
	ClientEmail  string `json:"client_email"`
	TokenURI     string `json:"token_uri"`
}

// Config configures a Client.
type Config struct {
	ServiceAccountJSON []byte // the key file's contents (secret)
	// TokenURL overrides the OAuth token endpoint; default the key file's
	// token_uri, else DefaultTokenURL.
	TokenURL string
	// SendURL overrides the send endpoint; "{project}" is replaced by the
	// project id. Default DefaultSendURL.
	SendURL    string
	HTTPClient *http.Client     // default: a client with a 15 s timeout
	Now        func() time.Time // default time.Now
}

// Client is a push sender for FCM. It is safe for concurrent use.
type Client struct {
	sa       ServiceAccount
	key      *rsa.PrivateKey
	tokenURL string
	sendURL  string
	hc       *http.Client
	now      func() time.Time

	mu      sync.Mutex
	token   string
	expires time.Time
}

// New parses the service account and returns a Client.
func New(cfg Config) (*Client, error) {
	const op = "fcm.New"
	var sa ServiceAccount
	if err := json.Unmarshal(cfg.ServiceAccountJSON, &sa); err != nil {
		return nil, esign.E(op, esign.Invalid, "fcm: service account is not JSON", err)
	}
	if sa.ProjectID == "" || sa.ClientEmail == "" || sa.PrivateKey == "" {
		return nil, esign.E(op, esign.Invalid, "fcm: service account lacks project_id, client_email or private_key")
	}
	key, err := parseKey(sa.PrivateKey)
	if err != nil {
		return nil, esign.E(op, esign.Invalid, "fcm: service account private key", err)
	}
	c := &Client{sa: sa, key: key, hc: cfg.HTTPClient, now: cfg.Now}
	c.tokenURL = firstNonEmpty(cfg.TokenURL, sa.TokenURI, DefaultTokenURL)
	c.sendURL = strings.ReplaceAll(firstNonEmpty(cfg.SendURL, DefaultSendURL), "{project}", url.PathEscape(sa.ProjectID))
	if c.hc == nil {
		c.hc = &http.Client{Timeout: 15 * time.Second}
	}
	if c.now == nil {
		c.now = time.Now
	}
	return c, nil
}

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}

func parseKey(p string) (*rsa.PrivateKey, error) {
	block, _ := pem.Decode([]byte(p))
	if block == nil {
		return nil, errors.New("no PEM block")
	}
	if k, err := x509.ParsePKCS8PrivateKey(block.Bytes); err == nil {
		rk, ok := k.(*rsa.PrivateKey)
		if !ok {
			return nil, errors.New("not an RSA key")
		}
		return rk, nil
	}
	return x509.ParsePKCS1PrivateKey(block.Bytes)
}

// assertion returns the signed JWT for the token request (RFC 7523).
func (c *Client) assertion(now time.Time) (string, error) {
	enc := base64.RawURLEncoding
	header, _ := json.Marshal(map[string]string{"alg": "RS256", "typ": "JWT", "kid": c.sa.PrivateKeyID})
	claims, _ := json.Marshal(map[string]any{
		"iss":   c.sa.ClientEmail,
		"scope": Scope,
		"aud":   c.tokenURL,
		"iat":   now.Unix(),
		"exp":   now.Add(time.Hour).Unix(),
	})
	signingInput := enc.EncodeToString(header) + "." + enc.EncodeToString(claims)
	sum := sha256.Sum256([]byte(signingInput))
	sig, err := rsa.SignPKCS1v15(rand.Reader, c.key, crypto.SHA256, sum[:])
	if err != nil {
		return "", fmt.Errorf("fcm: sign assertion: %w", err)
	}
	return signingInput + "." + enc.EncodeToString(sig), nil
}

// accessToken returns the cached token or fetches a new one. Tokens are
// renewed a minute before they expire.
func (c *Client) accessToken(ctx context.Context) (string, error) {
	const op = "fcm.accessToken"
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.now()
	if c.token != "" && now.Before(c.expires.Add(-time.Minute)) {
		return c.token, nil
	}
	jwt, err := c.assertion(now)
	if err != nil {
		return "", err
	}
	form := url.Values{"grant_type": {"urn:ietf:params:oauth:grant-type:jwt-bearer"}, "assertion": {jwt}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.tokenURL, strings.NewReader(form.Encode()))
	if err != nil {
		return "", fmt.Errorf("fcm: token request: %w", err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := c.hc.Do(req)
	if err != nil {
		return "", transportError(ctx, op, "fcm: token", err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	var tr struct {
		AccessToken string `json:"access_token"`
		ExpiresIn   int64  `json:"expires_in"`
		Error       string `json:"error"`
		Description string `json:"error_description"`
	}
	jerr := json.Unmarshal(body, &tr)
	switch {
	case resp.StatusCode >= 500 || resp.StatusCode == http.StatusTooManyRequests:
		return "", notify.ProviderError(op, esign.Unavailable, fmt.Sprintf("fcm_token_http_%d", resp.StatusCode), "push token service unavailable", nil)
	case resp.StatusCode != http.StatusOK:
		return "", notify.ProviderError(op, esign.Unauthorized, "fcm_token_"+firstNonEmpty(tr.Error, "refused"), "push service refused the service account", nil)
	case jerr != nil || tr.AccessToken == "":
		return "", notify.ProviderError(op, esign.Internal, "fcm_token_bad_answer", "unexpected answer from the push token service", jerr)
	}
	if tr.ExpiresIn <= 0 {
		tr.ExpiresIn = 3600
	}
	c.token, c.expires = tr.AccessToken, now.Add(time.Duration(tr.ExpiresIn)*time.Second)
	return c.token, nil
}

func (c *Client) forgetToken(tok string) {
	c.mu.Lock()
	if c.token == tok {
		c.token = ""
	}
	c.mu.Unlock()
}

// SendPush sends one notification and returns FCM's message name
// ("projects/p/messages/123") as the receipt id. A 401 answer (token revoked
// early) drops the cached token and retries once with a fresh one. FCM has no
// idempotency key: a retry after a crash may deliver twice.
func (c *Client) SendPush(ctx context.Context, msg notify.PushMessage) (notify.Receipt, error) {
	const op = "fcm.SendPush"
	if msg.Token == "" {
		return notify.Receipt{}, notify.ProviderError(op, esign.Invalid, "no_token", "no device token", nil)
	}
	body, err := json.Marshal(map[string]any{"message": map[string]any{
		"token":        msg.Token,
		"notification": map[string]string{"title": msg.Title, "body": msg.Body},
		"data":         msg.Data,
		"android":      map[string]any{"priority": "high"},
	}})
	if err != nil {
		return notify.Receipt{}, fmt.Errorf("fcm: encode message: %w", err)
	}
	for attempt := 0; ; attempt++ {
		tok, err := c.accessToken(ctx)
		if err != nil {
			return notify.Receipt{}, err
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.sendURL, bytes.NewReader(body))
		if err != nil {
			return notify.Receipt{}, fmt.Errorf("fcm: send request: %w", err)
		}
		req.Header.Set("Authorization", "Bearer "+tok)
		req.Header.Set("Content-Type", "application/json")
		resp, err := c.hc.Do(req)
		if err != nil {
			return notify.Receipt{}, transportError(ctx, op, "fcm: send", err)
		}
		answer, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		resp.Body.Close()
		if resp.StatusCode == http.StatusUnauthorized && attempt == 0 {
			c.forgetToken(tok)
			continue
		}
		return parseSendAnswer(op, resp.StatusCode, answer)
	}
}

// parseSendAnswer interprets FCM's answer to messages:send.
func parseSendAnswer(op string, status int, body []byte) (notify.Receipt, error) {
	if status == http.StatusOK {
		var ok struct {
			Name string `json:"name"`
		}
		if err := json.Unmarshal(body, &ok); err != nil || ok.Name == "" {
			return notify.Receipt{}, notify.ProviderError(op, esign.Internal, "fcm_bad_answer", "unexpected answer from the push service", err)
		}
		return notify.Receipt{Provider: "fcm", ID: ok.Name}, nil
	}
	var e struct {
		Error struct {
			Code    int    `json:"code"`
			Message string `json:"message"`
			Status  string `json:"status"`
			Details []struct {
				Type      string `json:"@type"`
				ErrorCode string `json:"errorCode"`
			} `json:"details"`
		} `json:"error"`
	}
	_ = json.Unmarshal(body, &e)
	code := e.Error.Status
	for _, d := range e.Error.Details {
		if d.ErrorCode != "" {
			code = d.ErrorCode
		}
	}
	kind := esign.Internal
	switch code {
	case "UNREGISTERED", "NOT_FOUND":
		kind = esign.NotFound
	case "INVALID_ARGUMENT":
		kind = esign.Invalid
	case "SENDER_ID_MISMATCH", "PERMISSION_DENIED":
		kind = esign.Forbidden
	case "THIRD_PARTY_AUTH_ERROR", "UNAUTHENTICATED":
		kind = esign.Unauthorized
	case "QUOTA_EXCEEDED", "RESOURCE_EXHAUSTED":
		kind = esign.TooMany
	case "UNAVAILABLE", "INTERNAL":
		kind = esign.Unavailable
	default:
		switch {
		case status == http.StatusTooManyRequests:
			kind = esign.TooMany
		case status >= 500:
			kind = esign.Unavailable
		case status == http.StatusNotFound:
			kind = esign.NotFound
		case status == http.StatusUnauthorized:
			kind = esign.Unauthorized
		case status == http.StatusForbidden:
			kind = esign.Forbidden
		case status >= 400:
			kind = esign.Invalid
		}
		code = fmt.Sprintf("HTTP_%d", status)
	}
	msg := e.Error.Message
	if msg == "" {
		msg = "push service refused the message"
	}
	return notify.Receipt{}, notify.ProviderError(op, kind, "fcm_"+code, msg, nil)
}

func transportError(ctx context.Context, op, what string, err error) error {
	if ctx.Err() != nil || errors.Is(err, context.DeadlineExceeded) {
		return esign.E(op, esign.Timeout, "push service did not answer in time", err)
	}
	return notify.Unavailable(op, what, err)
}
