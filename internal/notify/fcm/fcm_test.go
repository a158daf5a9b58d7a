package fcm

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"esign/internal/esign"
	"esign/internal/notify"
)

var (
	keyOnce sync.Once
	testKey *rsa.PrivateKey
)

func key(t *testing.T) *rsa.PrivateKey {
	keyOnce.Do(func() {
		var err error
		testKey, err = rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			panic(err)
		}
	})
	return testKey
}

// fakeGoogle plays the OAuth token endpoint and the FCM v1 send endpoint.
type fakeGoogle struct {
	t          *testing.T
	pub        *rsa.PublicKey
	tokenURL   string
	mu         sync.Mutex
	tokenCalls int
	issued     []string
	revoked    map[string]bool
	sent       []map[string]any
}

func (g *fakeGoogle) token(w http.ResponseWriter, r *http.Request) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.tokenCalls++
	if r.FormValue("grant_type") != "urn:ietf:params:oauth:grant-type:jwt-bearer" {
		w.WriteHeader(http.StatusBadRequest)
		fmt.Fprint(w, `{"error":"unsupported_grant_type"}`)
		return
	}
	parts := strings.Split(r.FormValue("assertion"), ".")
	if len(parts) != 3 {
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	sig, _ := base64.RawURLEncoding.DecodeString(parts[2])
	sum := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	if err := rsa.VerifyPKCS1v15(g.pub, crypto.SHA256, sum[:], sig); err != nil {
		w.WriteHeader(http.StatusBadRequest)
		fmt.Fprint(w, `{"error":"invalid_grant","error_description":"Invalid JWT Signature."}`)
		return
	}
	var hdr, claims map[string]any
	h, _ := base64.RawURLEncoding.DecodeString(parts[0])
	c, _ := base64.RawURLEncoding.DecodeString(parts[1])
	json.Unmarshal(h, &hdr)
	json.Unmarshal(c, &claims)
	if hdr["alg"] != "RS256" || hdr["kid"] != "kid-1" || claims["iss"] != "push@esign-test.iam.gserviceaccount.com" ||
		claims["scope"] != Scope || claims["aud"] != g.tokenURL {
		g.t.Errorf("bad assertion: %v %v", hdr, claims)
		w.WriteHeader(http.StatusBadRequest)
		fmt.Fprint(w, `{"error":"invalid_grant"}`)
		return
	}
	tok := fmt.Sprintf("ya29.token-%d", g.tokenCalls)
	g.issued = append(g.issued, tok)
	json.NewEncoder(w).Encode(map[string]any{"access_token": tok, "expires_in": 3599, "token_type": "Bearer"})
}

func (g *fakeGoogle) send(w http.ResponseWriter, r *http.Request) {
	g.mu.Lock()
	defer g.mu.Unlock()
	tok := strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
	valid := false
	for _, x := range g.issued {
		valid = valid || (x == tok && !g.revoked[tok])
	}
	if !valid {
		w.WriteHeader(http.StatusUnauthorized)
		fmt.Fprint(w, `{"error":{"code":401,"message":"Request had invalid authentication credentials.","status":"UNAUTHENTICATED"}}`)
		return
	}
	var body struct {
		Message map[string]any `json:"message"`
	}
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	fcmErr := func(status int, s, code string) {
		w.WriteHeader(status)
		fmt.Fprintf(w, `{"error":{"code":%d,"message":"%s","status":"%s","details":[{"@type":"type.googleapis.com/google.firebase.fcm.v1.FcmError","errorCode":"%s"}]}}`, status, code, s, code)
	}
	switch body.Message["token"] {
	case "unregistered":
		fcmErr(404, "NOT_FOUND", "UNREGISTERED")
	case "invalid":
		fcmErr(400, "INVALID_ARGUMENT", "INVALID_ARGUMENT")
	case "quota":
		fcmErr(429, "RESOURCE_EXHAUSTED", "QUOTA_EXCEEDED")
	case "unavailable":
		fcmErr(503, "UNAVAILABLE", "UNAVAILABLE")
	case "mismatch":
		fcmErr(403, "PERMISSION_DENIED", "SENDER_ID_MISMATCH")
	default:
		g.sent = append(g.sent, body.Message)
		fmt.Fprintf(w, `{"name":"projects/esign-test/messages/%d"}`, len(g.sent))
	}
}

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time          { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) advance(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

func setup(t *testing.T) (*Client, *fakeGoogle, *clock) {
	t.Helper()
	k := key(t)
	g := &fakeGoogle{t: t, pub: &k.PublicKey, revoked: map[string]bool{}}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /token", g.token)
	mux.HandleFunc("POST /v1/projects/esign-test/messages:send", g.send)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	g.tokenURL = srv.URL + "/token"
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	sa, _ := json.Marshal(ServiceAccount{
		Type: "service_account", ProjectID: "esign-test", PrivateKeyID: "kid-1",
		PrivateKey:  string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})),
		ClientEmail: "push@esign-test.iam.gserviceaccount.com", TokenURI: g.tokenURL,
	})
	clk := &clock{t: time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)}
	c, err := New(Config{ServiceAccountJSON: sa, SendURL: srv.URL + "/v1/projects/{project}/messages:send", HTTPClient: srv.Client(), Now: clk.now})
	if err != nil {
		t.Fatal(err)
	}
	return c, g, clk
}

func TestSendPushTokenReuse(t *testing.T) {
	ctx := context.Background()
	c, g, clk := setup(t)
	for i := range 3 {
		rc, err := c.SendPush(ctx, notify.PushMessage{Token: "device-1", Title: "Új ajánlat", Body: "Lakáshitel", Data: map[string]string{"offerId": "42"}})
		if err != nil {
			t.Fatal(err)
		}
		if want := fmt.Sprintf("projects/esign-test/messages/%d", i+1); rc.ID != want || rc.Provider != "fcm" {
			t.Errorf("receipt %+v, want id %s", rc, want)
		}
	}
	if g.tokenCalls != 1 {
		t.Errorf("token endpoint called %d times for 3 messages, want 1", g.tokenCalls)
	}
	m := g.sent[0]
	if n := m["notification"].(map[string]any); n["title"] != "Új ajánlat" || n["body"] != "Lakáshitel" {
		t.Errorf("notification = %v", n)
	}
	if d := m["data"].(map[string]any); d["offerId"] != "42" {
		t.Errorf("data = %v", d)
	}
	// Close to expiry the token is renewed.
	clk.advance(59 * time.Minute)
	if _, err := c.SendPush(ctx, notify.PushMessage{Token: "device-1", Title: "t", Body: "b"}); err != nil {
		t.Fatal(err)
	}
	if g.tokenCalls != 2 {
		t.Errorf("token not renewed before expiry: %d calls", g.tokenCalls)
	}
	// A token revoked early: one 401, a fresh token, success.
	g.mu.Lock()
	g.revoked[g.issued[len(g.issued)-1]] = true
	g.mu.Unlock()
	if _, err := c.SendPush(ctx, notify.PushMessage{Token: "device-1", Title: "t", Body: "b"}); err != nil {
		t.Fatal(err)
	}
	if g.tokenCalls != 3 || len(g.sent) != 5 {
		t.Errorf("after revocation: %d token calls, %d sent", g.tokenCalls, len(g.sent))
	}
}

func TestSendPushErrors(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		token     string
		kind      esign.Kind
		code      string
		permanent bool
	}{
		{"unregistered", esign.NotFound, "fcm_UNREGISTERED", true},
		{"invalid", esign.Invalid, "fcm_INVALID_ARGUMENT", true},
		{"mismatch", esign.Forbidden, "fcm_SENDER_ID_MISMATCH", true},
		{"quota", esign.TooMany, "fcm_QUOTA_EXCEEDED", false},
		{"unavailable", esign.Unavailable, "fcm_UNAVAILABLE", false},
	}
	c, _, _ := setup(t)
	for _, tt := range tests {
		t.Run(tt.token, func(t *testing.T) {
			_, err := c.SendPush(ctx, notify.PushMessage{Token: tt.token, Title: "t", Body: "b"})
			if esign.ErrorKind(err) != tt.kind || esign.ErrorCode(err) != tt.code || notify.Permanent(err) != tt.permanent {
				t.Errorf("err = %v (kind %v, code %q)", err, esign.ErrorKind(err), esign.ErrorCode(err))
			}
		})
	}
}

func TestTokenRefused(t *testing.T) {
	c, _, _ := setup(t)
	other, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	c.key = other // the key Google does not know
	_, err = c.SendPush(context.Background(), notify.PushMessage{Token: "device-1", Title: "t", Body: "b"})
	if esign.ErrorKind(err) != esign.Unauthorized || esign.ErrorCode(err) != "fcm_token_invalid_grant" {
		t.Errorf("err = %v", err)
	}
}

func TestNewValidates(t *testing.T) {
	for name, js := range map[string]string{
		"not_json":   `{`,
		"no_project": `{"client_email":"a","private_key":"x"}`,
		"bad_key":    `{"project_id":"p","client_email":"a","private_key":"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"}`,
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := New(Config{ServiceAccountJSON: []byte(js)}); esign.ErrorKind(err) != esign.Invalid {
				t.Errorf("err = %v", err)
			}
		})
	}
}

func FuzzParseSendAnswer(f *testing.F) {
	f.Add(200, []byte(`{"name":"projects/p/messages/1"}`))
	f.Add(404, []byte(`{"error":{"code":404,"status":"NOT_FOUND","details":[{"errorCode":"UNREGISTERED"}]}}`))
	f.Add(500, []byte(`oops`))
	f.Fuzz(func(t *testing.T, status int, body []byte) {
		rc, err := parseSendAnswer("fuzz", status, body)
		if err == nil && rc.ID == "" {
			t.Errorf("success without id")
		}
		if err != nil && status == 200 && esign.ErrorKind(err) != esign.Internal {
			t.Errorf("200 with bad body classified %v", esign.ErrorKind(err))
		}
	})
}
