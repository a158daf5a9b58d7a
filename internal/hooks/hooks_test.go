package hooks_test

import (
	"context"
	"crypto/hmac"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"esign/customize"
	"esign/internal/esign"
	"esign/internal/hooks"
	"esign/internal/offers"
)

var secret = []byte("0123456789abcdef0123456789abcdef")

// receiver is the bank's hook endpoint: it checks the signature as a bank
// would (offers.Sign over timestamp "." body, constant-time compare) and
// answers what answer returns.
func receiver(t *testing.T, answer func(env hooks.Envelope) (int, string, time.Duration)) (*httptest.Server, *atomic.Int32) {
	t.Helper()
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		body, _ := io.ReadAll(r.Body)
		ts, err := strconv.ParseInt(r.Header.Get("X-Esign-Timestamp"), 10, 64)
		if err != nil || !hmac.Equal([]byte(r.Header.Get("X-Esign-Signature")), []byte(offers.Sign(secret, ts, body))) {
			t.Errorf("the callout's signature does not verify")
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		var env hooks.Envelope
		if err := json.Unmarshal(body, &env); err != nil {
			t.Errorf("the callout's body: %v", err)
		}
		if env.Type != "hook."+r.Header.Get("X-Esign-Hook") {
			t.Errorf("type %q, header %q", env.Type, r.Header.Get("X-Esign-Hook"))
		}
		status, ans, delay := answer(env)
		select {
		case <-time.After(delay):
		case <-r.Context().Done():
			return
		}
		w.WriteHeader(status)
		io.WriteString(w, ans)
	}))
	t.Cleanup(srv.Close)
	return srv, &calls
}

func offer() customize.OfferCreated {
	return customize.OfferCreated{OfferID: esign.NewID(), CustomerID: esign.NewID(), CustomerRef: "C-1", Title: "Loan",
		Documents: []customize.Document{{Name: "a.pdf", Size: 10, SHA256: strings.Repeat("ab", 32)}}}
}

func TestCalloutSignedAndVetoes(t *testing.T) {
	srv, calls := receiver(t, func(env hooks.Envelope) (int, string, time.Duration) {
		data, _ := env.Data.(map[string]any)
		if data["title"] != "Loan" || data["customer_ref"] != "C-1" {
			t.Errorf("payload %v", data)
		}
		return 200, `{"veto":true,"reason":"credit limit exceeded"}`, 0
	})
	r := hooks.New(hooks.Config{Secret: secret, Callouts: map[string]hooks.Callout{
		customize.OfferCreatedHook: {URL: srv.URL}}}, nil)
	a := r.OfferCreated(t.Context(), offer())
	if !a.Veto || a.Reason != "credit limit exceeded" || calls.Load() != 1 {
		t.Fatalf("answer %+v after %d calls", a, calls.Load())
	}
}

func TestPolicies(t *testing.T) {
	slow, _ := receiver(t, func(hooks.Envelope) (int, string, time.Duration) {
		return 200, `{"veto":true,"reason":"late"}`, 2 * time.Second
	})
	failing, _ := receiver(t, func(hooks.Envelope) (int, string, time.Duration) { return 500, "", 0 })
	refusing, _ := receiver(t, func(hooks.Envelope) (int, string, time.Duration) {
		return 200, `{"pdf_metadata":{"Title":"Another title"}}`, 0
	})
	sig := customize.SignatureVerified{SignatureID: esign.NewID(), Title: "Loan"}
	for _, tc := range []struct {
		name   string
		url    string
		policy hooks.Policy
		veto   bool
	}{
		{"timeout_open", slow.URL, hooks.FailOpen, false},
		{"timeout_closed", slow.URL, hooks.FailClosed, true},
		{"error_open", failing.URL, hooks.FailOpen, false},
		{"error_closed", failing.URL, hooks.FailClosed, true},
		{"default_is_open", failing.URL, "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := hooks.New(hooks.Config{Secret: secret, Timeout: 200 * time.Millisecond, Callouts: map[string]hooks.Callout{
				customize.OfferCreatedHook:      {URL: tc.url, Policy: tc.policy},
				customize.SignatureVerifiedHook: {URL: tc.url, Policy: tc.policy}}}, nil)
			start := time.Now()
			a := r.OfferCreated(t.Context(), offer())
			if time.Since(start) > time.Second {
				t.Errorf("took %s: the timeout was not kept", time.Since(start))
			}
			if a.Veto != tc.veto || (tc.veto && !strings.Contains(a.Reason, "fail closed")) {
				t.Errorf("offer_created: %+v, want veto %v", a, tc.veto)
			}
			_, err := r.SignatureVerified(t.Context(), sig)
			if (err != nil) != tc.veto || (err != nil && esign.ErrorCode(err) != "hook_failed") {
				t.Errorf("signature_verified: %v", err)
			}
		})
	}
	t.Run("change_of_signed_content_refused", func(t *testing.T) {
		for _, pol := range []hooks.Policy{hooks.FailOpen, hooks.FailClosed} {
			r := hooks.New(hooks.Config{Secret: secret, Callouts: map[string]hooks.Callout{
				customize.SignatureVerifiedHook: {URL: refusing.URL, Policy: pol}}}, nil)
			md, err := r.SignatureVerified(t.Context(), sig)
			if md != nil || (pol == hooks.FailClosed) != (err != nil) {
				t.Errorf("policy %s: metadata %v, error %v", pol, md, err)
			}
		}
	})
}

func TestInProcess(t *testing.T) {
	var reg customize.Registry
	var order []string
	reg.RegisterOfferCreated(func(ctx context.Context, p customize.OfferCreated) (customize.Answer, error) {
		order = append(order, "first")
		return customize.Answer{Data: map[string]string{"branch": "042"}}, nil
	})
	reg.RegisterOfferCreated(func(ctx context.Context, p customize.OfferCreated) (customize.Answer, error) {
		order = append(order, "second")
		if p.Title == "Loan" {
			return customize.Answer{Veto: true, Reason: "loans need a second approval"}, nil
		}
		return customize.Answer{}, nil
	})
	reg.RegisterOfferCreated(func(ctx context.Context, p customize.OfferCreated) (customize.Answer, error) {
		order = append(order, "third")
		return customize.Answer{}, nil
	})
	reg.RegisterSignatureVerified(func(ctx context.Context, p customize.SignatureVerified) (customize.Answer, error) {
		<-ctx.Done() // ignores nothing: waits for the deadline
		return customize.Answer{}, ctx.Err()
	})
	reg.RegisterSignatureVerified(func(ctx context.Context, p customize.SignatureVerified) (customize.Answer, error) {
		panic("bug in the bank's hook")
	})
	reg.RegisterSignatureVerified(func(ctx context.Context, p customize.SignatureVerified) (customize.Answer, error) {
		return customize.Answer{PDFMetadata: map[string]string{"BankCaseID": "K-77"}}, nil
	})
	r := hooks.New(hooks.Config{Timeout: 100 * time.Millisecond}, &reg)
	a := r.OfferCreated(t.Context(), offer())
	if !a.Veto || a.Reason != "loans need a second approval" || a.Data["branch"] != "042" ||
		strings.Join(order, ",") != "first,second" {
		t.Fatalf("answer %+v, order %v", a, order)
	}
	md, err := r.SignatureVerified(t.Context(), customize.SignatureVerified{})
	if err != nil || md["BankCaseID"] != "K-77" || len(md) != 1 {
		t.Fatalf("metadata %v, %v (a timed-out and a panicking hook fail open)", md, err)
	}
	var nilRunner *hooks.Runner
	if a := nilRunner.OfferCreated(t.Context(), offer()); a.Veto {
		t.Fatal("a nil runner vetoed")
	}
}

func TestAfterTheFact(t *testing.T) {
	got := make(chan string, 4)
	srv, _ := receiver(t, func(env hooks.Envelope) (int, string, time.Duration) {
		got <- env.Type
		return 200, `ignored`, 0
	})
	var reg customize.Registry
	reg.RegisterContractSealed(func(ctx context.Context, p customize.ContractSealed) error {
		got <- "go:" + p.ContractID
		return errors.New("logged, nothing else")
	})
	r := hooks.New(hooks.Config{Secret: secret, Callouts: map[string]hooks.Callout{
		customize.ContractSealedHook: {URL: srv.URL}, customize.OfferEndedHook: {URL: srv.URL}}}, &reg)
	r.ContractSealed(t.Context(), customize.ContractSealed{ContractID: "c1"})
	r.Wait()
	r.OfferEnded(t.Context(), customize.OfferEnded{OfferID: "o1", State: "refused"})
	r.Wait()
	close(got)
	var all []string
	for s := range got {
		all = append(all, s)
	}
	if strings.Join(all, ",") != "go:c1,hook.contract_sealed,hook.offer_ended" {
		t.Fatalf("got %v", all)
	}
}

func TestParseAnswer(t *testing.T) {
	for _, tc := range []struct {
		hook, body string
		ok         bool
	}{
		{customize.OfferCreatedHook, ``, true},
		{customize.OfferCreatedHook, `{}`, true},
		{customize.OfferCreatedHook, `{"veto":true,"reason":"no"}`, true},
		{customize.OfferCreatedHook, `{"veto":true}`, false},
		{customize.OfferCreatedHook, `{"reason":"why"}`, false},
		{customize.OfferCreatedHook, `{"data":{"branch":"042"}}`, true},
		{customize.OfferCreatedHook, `{"data":{"1bad":"x"}}`, false},
		{customize.OfferCreatedHook, `{"pdf_metadata":{"A":"b"}}`, false},
		{customize.OfferCreatedHook, `{"title":"changed"}`, false},
		{customize.OfferCreatedHook, `{} {}`, false},
		{customize.SignatureVerifiedHook, `{"pdf_metadata":{"BankCaseID":"K-77"}}`, true},
		{customize.SignatureVerifiedHook, `{"pdf_metadata":{"Producer":"x"}}`, false},
		{customize.SignatureVerifiedHook, `{"pdf_metadata":{"customerSignatureHash":"00"}}`, false},
		{customize.SignatureVerifiedHook, `{"documents":[{"name":"a.pdf","content_base64":"JVBERi0="}]}`, false},
		{customize.SignatureVerifiedHook, `{"veto":true,"reason":"no"}`, false},
		{customize.CustomerRegisteredHook, `{"veto":true,"reason":"KYC pending"}`, true},
		{customize.CustomerRegisteredHook, `{"data":{"a":"b"}}`, false},
	} {
		_, err := hooks.ParseAnswer(tc.hook, []byte(tc.body))
		if (err == nil) != tc.ok {
			t.Errorf("%s %s: %v, want ok %v", tc.hook, tc.body, err, tc.ok)
		}
	}
}

func FuzzParseAnswer(f *testing.F) {
	for _, s := range []string{``, `{}`, `{"veto":true,"reason":"no"}`, `{"data":{"a":"b"}}`,
		`{"pdf_metadata":{"BankCaseID":"K"}}`, `{"pdf_metadata":{"Title":"x"}}`, `[1]`, `{"veto":1}`} {
		f.Add(customize.OfferCreatedHook, []byte(s))
		f.Add(customize.SignatureVerifiedHook, []byte(s))
	}
	f.Fuzz(func(t *testing.T, hook string, body []byte) {
		a, err := hooks.ParseAnswer(hook, body)
		if err != nil {
			return
		}
		// what is accepted keeps the limits
		if len(a.Reason) > 1024 || len(a.Data) > 32 || len(a.PDFMetadata) > 32 || (a.Veto && a.Reason == "") {
			t.Fatalf("accepted %+v", a)
		}
		if len(a.PDFMetadata) > 0 && hook != customize.SignatureVerifiedHook {
			t.Fatalf("%s accepted pdf metadata", hook)
		}
		for k := range a.PDFMetadata {
			if strings.EqualFold(k, "title") || strings.EqualFold(k, "evidence.json") {
				t.Fatalf("accepted %q", k)
			}
		}
	})
}
