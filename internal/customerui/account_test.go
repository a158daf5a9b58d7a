package customerui

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"esign/internal/esign"
	"esign/internal/rpc"
)

// The fake oss of the account from the link: the link "good" belongs to
// a customer without an account, "made" to one who has one; the code is
// 123456 and the username "taken" is taken.
const pendingToken = "ses_the-session-of-a-pending-customer"

func (f *fakeAPI) accountLink(link string) error {
	switch link {
	case "good":
		return nil
	case "made":
		return esign.WithCode("fake", esign.Conflict, "already_created", "has one")
	}
	return esign.E("fake", esign.NotFound, "link not found")
}

func (f *fakeAPI) AccountStart(ctx context.Context, c rpc.Caller, link string) (*rpc.Account, error) {
	if err := f.accountLink(link); err != nil {
		return nil, err
	}
	return &rpc.Account{PhoneHint: "+36*******567"}, nil
}

func (f *fakeAPI) AccountSendCode(ctx context.Context, c rpc.Caller, link string) (*rpc.Account, error) {
	if err := f.accountLink(link); err != nil {
		return nil, err
	}
	f.codesSent++
	exp := time.Now().Add(5 * time.Minute)
	return &rpc.Account{PhoneHint: "+36*******567", ExpiresAt: &exp}, nil
}

func (f *fakeAPI) AccountCreate(ctx context.Context, c rpc.Caller, r rpc.AccountCreateRequest) (*rpc.LoggedIn, error) {
	f.creates++
	if err := f.accountLink(r.Link); err != nil {
		return nil, err
	}
	if c.Token != "" || c.IP == "" {
		return nil, esign.E("fake", esign.Invalid, "css must send no token and the client address")
	}
	switch {
	case r.Username == "taken":
		return nil, esign.WithCode("fake", esign.Conflict, "username_unavailable", "taken")
	case r.Code != "123456":
		left := 4
		return nil, &esign.Error{Kind: esign.Invalid, Code: "invalid_code", AttemptsLeft: &left}
	}
	return &rpc.LoggedIn{SessionToken: pendingToken, ExpiresAt: time.Now().Add(12 * time.Hour),
		Customer: rpc.Customer{ID: "c2", Status: "pending"}}, nil
}

// TestAccountFromLink: the short link offers the account to a customer
// who is not signed in; the forms show oss's answers as sentences, check
// the repeated password themselves, and a created account is signed in
// and led to the offer — which, before the bank's approval, is the page
// saying so.
func TestAccountFromLink(t *testing.T) {
	f, h := newTestUI(t, false)
	en := map[string]string{"Accept-Language": "en"}
	post := func(path string, v url.Values) *http.Response {
		body, hdr := form(v)
		hdr["Accept-Language"] = "en"
		return do(h, "POST", path, body, hdr).Result()
	}
	text := func(resp *http.Response) string {
		var b strings.Builder
		_, _ = io.Copy(&b, resp.Body)
		return b.String()
	}

	w := do(h, "GET", "/s/good", nil, en)
	if loc := w.Header().Get("Location"); w.Code != http.StatusSeeOther || loc != "/signin?next=%2Fo%2Fo1&link=good" {
		t.Fatalf("the link without a session: %d %q", w.Code, loc)
	}
	w = do(h, "GET", "/signin?next=%2Fo%2Fo1&link=good", nil, en)
	if !strings.Contains(w.Body.String(), `href="/account?link=good&amp;next=%2fo%2fo1"`) {
		t.Fatalf("the sign-in page offers no account: %s", w.Body)
	}
	if w := do(h, "GET", "/account?link=nosuch&next=/o/o1", nil, en); w.Code != http.StatusNotFound ||
		!strings.Contains(w.Body.String(), "This link does not work any more") {
		t.Errorf("unknown link: %d", w.Code)
	}
	if w := do(h, "GET", "/account?link=made&next=/o/o1", nil, en); w.Code != http.StatusSeeOther ||
		!strings.HasPrefix(w.Header().Get("Location"), "/signin?next=") {
		t.Errorf("an account that exists: %d %q", w.Code, w.Header().Get("Location"))
	}
	w = do(h, "GET", "/account?link=good&next=/o/o1", nil, en)
	if w.Code != http.StatusOK || !strings.Contains(w.Body.String(), "The code goes to &#43;36*******567.") {
		t.Fatalf("start: %d %s", w.Code, w.Body)
	}

	base := url.Values{"link": {"good"}, "next": {"/o/o1"}}
	resp := post("/account/code", base)
	if body := text(resp); resp.StatusCode != http.StatusOK || f.codesSent != 1 || !strings.Contains(body, `autocomplete="one-time-code"`) {
		t.Fatalf("send code: %d %s", resp.StatusCode, body)
	}
	with := func(kv ...string) url.Values {
		v := url.Values{"link": {"good"}, "next": {"/o/o1"}, "code": {"123456"}, "username": {"new.user"},
			"password": {"New-Passw0rd-1"}, "password2": {"New-Passw0rd-1"}}
		for i := 0; i < len(kv); i += 2 {
			v.Set(kv[i], kv[i+1])
		}
		return v
	}
	for _, tt := range []struct {
		name   string
		form   url.Values
		status int
		text   string
		rpc    bool
	}{
		{"passwords differ", with("password2", "Other-Passw0rd-1"), 400, "The two passwords differ.", false},
		{"no code", with("code", ""), 400, "Type the code from the SMS.", false},
		{"wrong code", with("code", "000000"), 400, "The code is wrong. 4 attempts left.", true},
		{"username taken", with("username", "taken"), 409, "This username is taken.", true},
	} {
		creates := f.creates
		resp := post("/account", tt.form)
		body := text(resp)
		if resp.StatusCode != tt.status || !strings.Contains(body, tt.text) || (f.creates > creates) != tt.rpc {
			t.Errorf("%s: %d, asked oss: %v\n%s", tt.name, resp.StatusCode, f.creates > creates, body)
		}
		if !strings.Contains(body, `aria-invalid="true"`) {
			t.Errorf("%s: no field is marked invalid", tt.name)
		}
	}
	resp = post("/account", with())
	if loc := resp.Header.Get("Location"); resp.StatusCode != http.StatusSeeOther || loc != "/o/o1" {
		t.Fatalf("create: %d %q", resp.StatusCode, loc)
	}
	var cookie *http.Cookie
	for _, c := range resp.Cookies() {
		if c.Name == sessionCookie {
			cookie = c
		}
	}
	if cookie == nil || cookie.Value != pendingToken || !cookie.HttpOnly {
		t.Fatalf("session cookie: %+v", cookie)
	}
	w = do(h, "GET", "/o/o1", nil, map[string]string{"Accept-Language": "en", "Cookie": sessionCookie + "=" + pendingToken})
	if w.Code != http.StatusOK || !strings.Contains(w.Body.String(), "Your registration is waiting for approval") {
		t.Fatalf("the offer before approval: %d %s", w.Code, w.Body)
	}
	// Cross-site form posts reach no handler.
	body, hdr := form(with())
	hdr["Sec-Fetch-Site"] = "cross-site"
	if w := do(h, "POST", "/account", body, hdr); w.Code != http.StatusForbidden {
		t.Errorf("cross-site account creation: %d", w.Code)
	}
}

// TestKeyAlgorithmOnPage: the offer page tells the signing script the key
// algorithm of oss's policy (customer.me).
func TestKeyAlgorithmOnPage(t *testing.T) {
	_, h := newTestUI(t, false)
	w := do(h, "GET", "/o/o1", nil, map[string]string{"Cookie": sessionCookie + "=" + goodToken})
	if w.Code != http.StatusOK || !strings.Contains(w.Body.String(), `data-algorithm="rsa-pss-sha256"`) {
		t.Fatalf("offer page: %d, no data-algorithm", w.Code)
	}
}
