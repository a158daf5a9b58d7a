// Package smsapi sends text messages through the SmsApi.com REST API
// (POST /sms.do with a bearer token, JSON answers).
//
// Errors are classified for the retry logic of package jobs: invalid numbers,
// message errors, authentication and credit problems are permanent
// (notify.Permanent reports true); server errors, throttling (codes 52, 202,
// 203, HTTP 429) and transport failures are temporary.
package smsapi

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"esign/internal/esign"
	"esign/internal/notify"
)

// DefaultEndpoint is SmsApi.com's send endpoint.
const DefaultEndpoint = "https://api.smsapi.com/sms.do"

// Config configures a Client.
type Config struct {
	Endpoint   string       // default DefaultEndpoint
	Token      string       // OAuth bearer token from the SmsApi.com panel (secret)
	From       string       // registered sender name; empty: the account default
	Test       bool         // test=1: validated and charged nothing, not delivered
	Normalize  bool         // normalize=1: strip diacritics so that a message fits GSM-7
	HTTPClient *http.Client // default: a client with a 15 s timeout
}

// Client is an SMS sender for SmsApi.com. It is safe for concurrent use.
type Client struct {
	cfg Config
}

// New checks cfg and returns a Client.
func New(cfg Config) (*Client, error) {
	if cfg.Token == "" {
		return nil, esign.E("smsapi.New", esign.Invalid, "smsapi: token is required")
	}
	if cfg.Endpoint == "" {
		cfg.Endpoint = DefaultEndpoint
	}
	if u, err := url.Parse(cfg.Endpoint); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return nil, esign.E("smsapi.New", esign.Invalid, "smsapi: endpoint must be an http(s) URL")
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: 15 * time.Second}
	}
	return &Client{cfg: cfg}, nil
}

// response is the JSON SmsApi.com answers with: a list of accepted messages
// or an error code with a message. Newer endpoints send the error as a
// string ("authorization_failed"), older ones as a number.
type response struct {
	Count int `json:"count"`
	List  []struct {
		ID     string `json:"id"`
		Status string `json:"status"`
		Number string `json:"number"`
		Error  any    `json:"error"`
	} `json:"list"`
	Error   json.RawMessage `json:"error"`
	Message string          `json:"message"`
}

// SendSMS sends one message. msg.Key is sent as idx with check_idx=1, so a
// retry of an accepted message is refused by SmsApi.com with code 53, which
// SendSMS reports as success with Receipt.ID "idx:<idx>".
func (c *Client) SendSMS(ctx context.Context, msg notify.SMSMessage) (notify.Receipt, error) {
	const op = "smsapi.SendSMS"
	to := strings.TrimPrefix(strings.Map(func(r rune) rune {
		if r == ' ' || r == '-' || r == '(' || r == ')' {
			return -1
		}
		return r
	}, msg.To), "+")
	if to == "" || strings.Trim(to, "0123456789") != "" {
		return notify.Receipt{}, notify.ProviderError(op, esign.Invalid, "invalid_number", "invalid phone number", nil)
	}
	if msg.Text == "" {
		return notify.Receipt{}, notify.ProviderError(op, esign.Invalid, "empty_message", "empty message", nil)
	}
	form := url.Values{
		"to":       {to},
		"message":  {msg.Text},
		"format":   {"json"},
		"encoding": {"utf-8"},
	}
	if c.cfg.From != "" {
		form.Set("from", c.cfg.From)
	}
	idx := ""
	if msg.Key != "" {
		idx = Idx(msg.Key)
		form.Set("idx", idx)
		form.Set("check_idx", "1")
	}
	if c.cfg.Test {
		form.Set("test", "1")
	}
	if c.cfg.Normalize {
		form.Set("normalize", "1")
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.cfg.Endpoint, strings.NewReader(form.Encode()))
	if err != nil {
		return notify.Receipt{}, fmt.Errorf("smsapi: build request: %w", err)
	}
	req.Header.Set("Authorization", "Bearer "+c.cfg.Token)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	resp, err := c.cfg.HTTPClient.Do(req)
	if err != nil {
		if ctx.Err() != nil || errors.Is(err, context.DeadlineExceeded) {
			return notify.Receipt{}, esign.E(op, esign.Timeout, "SMS provider did not answer in time", err)
		}
		return notify.Receipt{}, notify.Unavailable(op, "smsapi: send", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return notify.Receipt{}, notify.Unavailable(op, "smsapi: read answer", err)
	}
	return parseAnswer(op, resp.StatusCode, body, idx)
}

// parseAnswer interprets SmsApi.com's answer to a send request.
func parseAnswer(op string, status int, body []byte, idx string) (notify.Receipt, error) {
	var r response
	jsonErr := json.Unmarshal(body, &r)
	if code, text, ok := errorOf(r, jsonErr); ok {
		if code == "53" && idx != "" {
			// The message with this idx was accepted earlier: a retry after a crash.
			return notify.Receipt{Provider: "smsapi", ID: "idx:" + idx}, nil
		}
		return notify.Receipt{}, classify(op, status, code, text)
	}
	if status != http.StatusOK {
		return notify.Receipt{}, classify(op, status, "", http.StatusText(status))
	}
	if jsonErr != nil || len(r.List) == 0 || r.List[0].ID == "" {
		return notify.Receipt{}, notify.ProviderError(op, esign.Internal, "smsapi_bad_answer", "unexpected answer from the SMS provider", jsonErr)
	}
	return notify.Receipt{Provider: "smsapi", ID: r.List[0].ID}, nil
}

// Idx turns a message key into an SmsApi.com idx (at most 36 characters of
// [A-Za-z0-9_-]); longer or unusual keys are hashed.
func Idx(key string) string {
	if len(key) <= 36 && strings.Trim(key, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-") == "" {
		return key
	}
	sum := sha256.Sum256([]byte(key))
	return hex.EncodeToString(sum[:16])
}

func errorOf(r response, jsonErr error) (code, text string, ok bool) {
	if jsonErr != nil || len(r.Error) == 0 || string(r.Error) == "null" {
		return "", "", false
	}
	var n int
	if err := json.Unmarshal(r.Error, &n); err == nil {
		return strconv.Itoa(n), r.Message, true
	}
	var s string
	if err := json.Unmarshal(r.Error, &s); err == nil && s != "" {
		return s, r.Message, true
	}
	return "", "", false
}

// classify maps SmsApi.com's error codes and HTTP statuses to error kinds.
func classify(op string, status int, code, text string) error {
	kind := esign.Internal
	switch code {
	case "":
	case "101", "102", "105", "authorization_failed", "invalid_token":
		kind = esign.Unauthorized
	case "103", "110", "1000", "insufficient_credits":
		kind = esign.Forbidden
	case "52", "202", "203", "too_many_requests":
		kind = esign.TooMany
	case "200", "201", "999":
		kind = esign.Unavailable
	case "8", "11", "12", "13", "14", "17", "18", "19", "20", "21", "22", "23", "24", "25", "26", "27", "28",
		"30", "31", "32", "33", "35", "36", "40", "41", "50", "54", "56", "57", "59", "70", "74", "94", "96", "104", "112":
		kind = esign.Invalid
	}
	if kind == esign.Internal {
		switch {
		case status == http.StatusUnauthorized:
			kind = esign.Unauthorized
		case status == http.StatusForbidden || status == http.StatusPaymentRequired:
			kind = esign.Forbidden
		case status == http.StatusTooManyRequests:
			kind = esign.TooMany
		case status >= 500:
			kind = esign.Unavailable
		case status >= 400:
			kind = esign.Invalid
		}
	}
	c := "smsapi_http_" + strconv.Itoa(status)
	if code != "" {
		c = "smsapi_" + code
	}
	if text == "" {
		text = "SMS provider refused the message"
	}
	return notify.ProviderError(op, kind, c, text, nil)
}
