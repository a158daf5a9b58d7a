package cli

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"esign/internal/config"
	"esign/internal/customers/customerstest"
	"esign/internal/pades"
	"esign/internal/pdf/pdftest"
)

// TestDeviceCLI walks `esign device` through a whole signing against
// `esign all`, the way a person would from the command line, with the SMS
// codes read from the development inbox.
func TestDeviceCLI(t *testing.T) {
	if testing.Short() {
		t.Skip("waits between time-stamps for the TSA's accuracy")
	}
	dir := t.TempDir()
	env := append(testEnviron(dir), "ESIGN_LISTEN_TSA="+freeAddr(t)) // the mobile API asks the TSA at its configured address
	a := startProcess(t, "all", env)
	state := filepath.Join(dir, "device.json")
	try := func(stdin string, args ...string) (int, string, string) {
		var out, errb bytes.Buffer
		code := Run(t.Context(), Env{Args: append([]string{"device", "--state", state}, args...), Stdin: strings.NewReader(stdin),
			Stdout: &out, Stderr: &errb, Environ: env})
		return code, out.String(), errb.String()
	}
	step := func(stdin string, args ...string) string {
		t.Helper()
		code, out, errs := try(stdin, args...)
		if code != 0 {
			t.Fatalf("esign device %v: exit %d: %s", args, code, errs)
		}
		return out
	}
	if code, _, errs := run(t, t.Context(), env, nil, "device", "--state", state, "login", "--username", "x"); code != 2 || !strings.Contains(errs, "register") {
		t.Fatalf("before register: %d %q", code, errs)
	}

	setup, err := OpenCustomerSetup(t.Context(), "", env)
	if err != nil {
		t.Fatal(err)
	}
	defer setup.Close()
	const phone, user, pw = "+36305550001", "kiss.anna", "Correct-Horse-42"
	custID, assoc, err := setup.CreateCustomer(t.Context(), "Kiss Anna", phone)
	if err != nil {
		t.Fatal(err)
	}
	_, seen, err := waitSMSCode(t.Context(), setup.a.db, phone, 0)
	if err != nil {
		t.Fatal(err)
	}

	step("", "register", "--url", "http://"+a["mobile"])
	if fi, err := os.Stat(state); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("state file: %v %v", fi, err)
	}
	step("", "associate", "--phone", phone, "--code", assoc)
	step(pw+"\n", "create", "--username", user)
	if err := setup.Approve(t.Context(), custID); err != nil {
		t.Fatal(err)
	}
	step(pw+"\n", "login", "--username", user)
	offerID, err := setup.CreateOffer(t.Context(), custID, "Hitelszerződés", []OfferDocument{{"hitel.pdf", pdftest.Minimal(1)}})
	if err != nil {
		t.Fatal(err)
	}
	if out := step("", "offer", offerID); !strings.Contains(out, "hitel.pdf") {
		t.Fatalf("offer: %s", out)
	}
	step("", "m1", offerID)
	lost, seen, err := waitSMSCode(t.Context(), setup.a.db, phone, seen)
	if err != nil {
		t.Fatal(err)
	}
	// The code got lost: resend-code asks for a new one, which replaces it.
	if out := step("", "resend-code"); !strings.Contains(out, "a new 2FA code") {
		t.Fatalf("resend-code: %s", out)
	}
	code2fa, _, err := waitSMSCode(t.Context(), setup.a.db, phone, seen)
	if err != nil {
		t.Fatal(err)
	}
	if lost != code2fa {
		if code, _, errs := try(pw+"\n", "m2", "--sms", lost); code == 0 || !strings.Contains(errs, "invalid_code") {
			t.Fatalf("m2 with the replaced code: exit %d: %s", code, errs)
		}
	}
	// A mistyped code says how many attempts are left and keeps the
	// signature: the right code then signs it.
	wrong := customerstest.WrongCode(code2fa)
	if code, _, errs := try(pw+"\n", "m2", "--sms", wrong); code == 0 || !strings.Contains(errs, "invalid_code") || !strings.Contains(errs, "attempts left:") {
		t.Fatalf("m2 with a wrong code: exit %d: %s", code, errs)
	}
	out := step(pw+"\n", "m2", "--sms", code2fa)
	m := regexp.MustCompile(`contract (\S+)`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("m2 printed no contract: %s", out)
	}
	outDir := filepath.Join(dir, "contract")
	if out := step("", "contract", m[1], "--out", outDir); !strings.Contains(out, "acknowledged") {
		t.Fatalf("contract: %s", out)
	}
	pdf, err := os.ReadFile(filepath.Join(outDir, "hitel.pdf"))
	if err != nil {
		t.Fatal(err)
	}
	roots, err := trustPool(mustConfig(t, env), nil)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := pades.Verify(t.Context(), bytes.NewReader(pdf), int64(len(pdf)), pades.VerifyOptions{Roots: roots})
	if err != nil || !rep.Valid() {
		t.Fatalf("the downloaded contract: %v\n%s", err, rep.Summary())
	}
	// m2 without a pending M1 is a usage error.
	if code, _, _ := run(t, t.Context(), env, nil, "device", "--state", state, "m2", "--sms", "123456"); code != 2 {
		t.Errorf("m2 without m1: exit %d", code)
	}
}

func mustConfig(t *testing.T, env []string) config.Config {
	t.Helper()
	cfg, err := loadConfig(Env{Environ: env}, "")
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// TestDeviceStepsSayWhatTheyDid: every step that succeeds prints one line,
// so a person at the terminal knows it worked. The mobile API is a stand-in
// that accepts every request.
func TestDeviceStepsSayWhatTheyDid(t *testing.T) {
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		switch r.URL.Path {
		case "/api/app/register":
			w.WriteHeader(http.StatusCreated)
			io.WriteString(w, `{"appId":"0193a000-0000-7000-8000-000000000001","deviceToken":"esd_test"}`)
		case "/api/app/associate", "/api/customer/create":
			io.WriteString(w, `{}`)
		case "/api/customer/login":
			io.WriteString(w, `{"sessionToken":"ess_test"}`)
		default:
			http.NotFound(w, r)
		}
	}))
	defer api.Close()
	dir := t.TempDir()
	state := filepath.Join(dir, "device.json")
	env := testEnviron(dir)
	steps := []struct {
		name  string
		stdin string
		args  []string
		want  string
	}{
		{"register", "", []string{"register", "--url", api.URL}, "registered app 0193a000-0000-7000-8000-000000000001"},
		{"associate", "", []string{"associate", "--phone", "+36305550001", "--code", "123456"}, "app 0193a000-0000-7000-8000-000000000001 associated with the customer of +36305550001"},
		{"create", "Correct-Horse-42\n", []string{"create", "--username", "kiss.anna"}, `credentials of "kiss.anna" set`},
		{"login", "Correct-Horse-42\n", []string{"login", "--username", "kiss.anna"}, `logged in as "kiss.anna"`},
	}
	for _, s := range steps {
		t.Run(s.name, func(t *testing.T) {
			var out, errb bytes.Buffer
			code := Run(t.Context(), Env{Args: append([]string{"device", "--state", state}, s.args...), Stdin: strings.NewReader(s.stdin),
				Stdout: &out, Stderr: &errb, Environ: env})
			if code != 0 {
				t.Fatalf("exit %d: %s", code, errb.String())
			}
			if got := out.String(); !strings.Contains(got, s.want) || strings.Count(got, "\n") != 1 {
				t.Errorf("printed %q, want one line with %q", got, s.want)
			}
			if strings.Contains(out.String(), "Correct-Horse") {
				t.Error("the password was echoed")
			}
		})
	}
}
