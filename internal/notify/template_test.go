package notify

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/golden")

func testBranding() Branding {
	return Branding{
		ProductName:  "e-Aláírás",
		BankName:     "Példa Bank Zrt.",
		SupportEmail: "ugyfel@pelda.hu",
		SupportPhone: "+36 1 234 5678",
		BaseURL:      "https://sign.pelda.hu",
		Color:        "#004b87",
	}
}

func TestRenderGolden(t *testing.T) {
	loc := time.FixedZone("CET", 3600)
	r, err := NewRenderer(testBranding(), loc)
	if err != nil {
		t.Fatal(err)
	}
	p := Params{
		CustomerName: "Kovács <Éva>",
		OfferTitle:   "Lakáshitel & biztosítás",
		Code:         "482913",
		URL:          "https://sign.pelda.hu/o/abc123",
		Reason:       "Hibás adatok",
		Title:        "Karbantartás <ma>",
		Message:      "Szolgáltatásunk 22:00 és 23:00 között szünetel.",
		ExpiresAt:    time.Date(2026, 12, 1, 9, 30, 0, 0, time.UTC),
	}
	for _, kind := range Kinds() {
		for _, lang := range Langs() {
			t.Run(string(kind)+"_"+string(lang), func(t *testing.T) {
				got, err := r.Render(kind, lang, p)
				if err != nil {
					t.Fatal(err)
				}
				for name, part := range map[string]string{"sms": got.SMS, "subject": got.Subject, "text": got.Text, "html": got.HTML, "push_title": got.PushTitle, "push_body": got.PushBody} {
					if strings.TrimSpace(part) == "" {
						t.Errorf("%s is empty", name)
					}
				}
				if strings.Contains(got.HTML, "<Éva>") {
					t.Errorf("HTML not escaped: %q", got.HTML)
				}
				if kind.HasCode() && !strings.Contains(got.SMS, p.Code) {
					t.Errorf("SMS lacks the code: %q", got.SMS)
				}
				var b strings.Builder
				for _, s := range []struct{ name, v string }{{"sms", got.SMS}, {"subject", got.Subject}, {"push_title", got.PushTitle}, {"push_body", got.PushBody}, {"text", got.Text}, {"html", got.HTML}} {
					b.WriteString("==== " + s.name + "\n" + s.v + "\n")
				}
				golden := filepath.Join("testdata", "golden", string(kind)+"."+string(lang)+".txt")
				if *update {
					if err := os.MkdirAll(filepath.Dir(golden), 0o755); err != nil {
						t.Fatal(err)
					}
					if err := os.WriteFile(golden, []byte(b.String()), 0o644); err != nil {
						t.Fatal(err)
					}
				}
				want, err := os.ReadFile(golden)
				if err != nil {
					t.Fatalf("%v (run with -update to create)", err)
				}
				if b.String() != string(want) {
					t.Errorf("%s differs from golden file; run go test -run TestRenderGolden -update and review the diff\ngot:\n%s", golden, b.String())
				}
			})
		}
	}
}

func TestRenderErrors(t *testing.T) {
	r, err := NewRenderer(testBranding(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.Render("no_such_kind", Hungarian, Params{}); err == nil {
		t.Error("unknown kind rendered")
	}
	// Unknown language falls back to Hungarian; empty URL falls back to the base URL.
	got, err := r.Render(RegistrationApproved, "de", Params{})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(got.Text, "jóváhagytuk") || !strings.Contains(got.Text, "https://sign.pelda.hu") {
		t.Errorf("fallback not applied: %q", got.Text)
	}
	if !strings.Contains(got.Text, "Tisztelt Ügyfelünk!") {
		t.Errorf("generic greeting missing: %q", got.Text)
	}
}

// TestShortLink: a relative URL (the short link "s/CODE" of an offer) is
// resolved against the customer UI's address; an absolute one is kept.
func TestShortLink(t *testing.T) {
	r, err := NewRenderer(testBranding(), nil)
	if err != nil {
		t.Fatal(err)
	}
	for url, want := range map[string]string{"s/abc123": "https://sign.pelda.hu/s/abc123", "/s/abc123": "https://sign.pelda.hu/s/abc123",
		"https://x.example/y": "https://x.example/y"} {
		got, err := r.Render(OfferAvailable, English, Params{OfferTitle: "Loan", URL: url})
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasSuffix(got.SMS, " "+want) {
			t.Errorf("%s: SMS %q, want the link %s", url, got.SMS, want)
		}
	}
}

func TestParseLang(t *testing.T) {
	for in, want := range map[string]Lang{"hu": Hungarian, "en": English, "en-GB": English, "EN": English, "": Hungarian, "de": "de", "de_AT": "de", "x": Hungarian, "12": Hungarian} {
		if got := ParseLang(in); got != want {
			t.Errorf("ParseLang(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestMask(t *testing.T) {
	tests := []struct {
		name, got, want string
	}{
		{"phone_e164", MaskPhone("+36301234567"), "+36******567"},
		{"phone_national", MaskPhone("06301234567"), "06******567"},
		{"phone_short", MaskPhone("1234"), "****"},
		{"email", MaskEmail("john.doe@example.com"), "j***@e***.com"},
		{"email_no_at", MaskEmail("nobody"), "******"},
		{"email_no_tld", MaskEmail("a@localhost"), "a***@***"},
		{"token", MaskToken("abcdefghijklmnopqrstuvwxyz"), "abcd…wxyz"},
		{"token_short", MaskToken("abc"), "***"},
		{"secret", MaskSecret("kód: 482913, ismét 482913", "482913"), "kód: ******, ismét ******"},
		{"secret_empty", MaskSecret("nothing", ""), "nothing"},
		{"recipient_sms", MaskRecipient(SMS, "+36301234567"), "+36******567"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.got != tt.want {
				t.Errorf("got %q, want %q", tt.got, tt.want)
			}
		})
	}
}

// TestRenderBrandedGolden: the branding's colours, support page, legal
// footer and push title reach the e-mail and the push.
func TestRenderBrandedGolden(t *testing.T) {
	b := testBranding()
	b.Color, b.OnPrimary = "#7a0019", "#fff8e7"
	b.SupportURL = "https://pelda.hu/segitseg"
	b.LegalFooter = "Példa Bank Zrt. · 1051 Budapest · MNB engedély: I-123/2020"
	b.PushTitle = "Példa Bank: {title}"
	r, err := NewRenderer(b, time.UTC)
	if err != nil {
		t.Fatal(err)
	}
	got, err := r.Render(OfferAvailable, Hungarian, Params{CustomerName: "Kovács Éva", OfferTitle: "Lakáshitel", URL: "s/abc"})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"background:#7a0019", "color:#fff8e7", `href="https://pelda.hu/segitseg"`, "MNB engedély: I-123/2020"} {
		if !strings.Contains(got.HTML, want) {
			t.Errorf("HTML lacks %q", want)
		}
	}
	if !strings.HasPrefix(got.PushTitle, "Példa Bank: ") || len(got.PushTitle) <= len("Példa Bank: ") {
		t.Errorf("push title %q", got.PushTitle)
	}
	text := "==== push_title\n" + got.PushTitle + "\n==== html\n" + got.HTML
	golden := filepath.Join("testdata", "golden", "branded.offer_available.hu.txt")
	if *update {
		if err := os.WriteFile(golden, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run with -update to create)", err)
	}
	if text != string(want) {
		t.Errorf("%s differs; run go test -run TestRenderBrandedGolden -update and review the diff\ngot:\n%s", golden, text)
	}
}
