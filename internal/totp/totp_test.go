package totp

import (
	"strings"
	"testing"
	"time"
)

// TestRFC6238 checks the test vectors of RFC 6238 appendix B.
func TestRFC6238(t *testing.T) {
	seeds := map[Algorithm][]byte{
		SHA1:   []byte("12345678901234567890"),
		SHA256: []byte("12345678901234567890123456789012"),
		SHA512: []byte("1234567890123456789012345678901234567890123456789012345678901234"),
	}
	tests := []struct {
		unix int64
		alg  Algorithm
		want string
	}{
		{59, SHA1, "94287082"}, {59, SHA256, "46119246"}, {59, SHA512, "90693936"},
		{1111111109, SHA1, "07081804"}, {1111111109, SHA256, "68084774"}, {1111111109, SHA512, "25091201"},
		{1111111111, SHA1, "14050471"}, {1111111111, SHA256, "67062674"}, {1111111111, SHA512, "99943326"},
		{1234567890, SHA1, "89005924"}, {1234567890, SHA256, "91819424"}, {1234567890, SHA512, "93441116"},
		{2000000000, SHA1, "69279037"}, {2000000000, SHA256, "90698825"}, {2000000000, SHA512, "38618901"},
		{20000000000, SHA1, "65353130"}, {20000000000, SHA256, "77737706"}, {20000000000, SHA512, "47863826"},
	}
	for _, tt := range tests {
		t.Run(string(tt.alg)+"_"+time.Unix(tt.unix, 0).UTC().Format("20060102T150405"), func(t *testing.T) {
			p := Params{Algorithm: tt.alg, Digits: 8}
			got, err := p.CodeAt(seeds[tt.alg], time.Unix(tt.unix, 0))
			if err != nil || got != tt.want {
				t.Fatalf("CodeAt = %q, %v; want %q", got, err, tt.want)
			}
			step, ok := p.Verify(seeds[tt.alg], tt.want, time.Unix(tt.unix, 0))
			if !ok || step != p.Step(time.Unix(tt.unix, 0)) {
				t.Errorf("Verify = %d, %v", step, ok)
			}
		})
	}
}

func TestVerifySkew(t *testing.T) {
	secret := NewSecret()
	var p Params
	at := time.Unix(1_800_000_000, 0)
	code, err := p.CodeAt(secret, at)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		t    time.Time
		ok   bool
	}{
		{"same_step", at, true},
		{"next_step", at.Add(30 * time.Second), true},
		{"previous_step", at.Add(-30 * time.Second), true},
		{"two_steps_later", at.Add(61 * time.Second), false},
		{"two_steps_earlier", at.Add(-60 * time.Second), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			step, ok := p.Verify(secret, code, tt.t)
			if ok != tt.ok {
				t.Fatalf("Verify ok = %v, want %v", ok, tt.ok)
			}
			if ok && step != p.Step(at) {
				t.Errorf("step = %d, want %d", step, p.Step(at))
			}
		})
	}
	for _, bad := range []string{"", "12345", "1234567", "abcdef"} {
		if _, ok := p.Verify(secret, bad, at); ok {
			t.Errorf("Verify(%q) accepted", bad)
		}
	}
}

func TestEncodeDecode(t *testing.T) {
	s := NewSecret()
	enc := Encode(s)
	spaced := strings.ToLower(enc[:4] + " " + enc[4:])
	got, err := Decode(spaced)
	if err != nil || string(got) != string(s) {
		t.Fatalf("Decode(%q) = %x, %v; want %x", spaced, got, err, s)
	}
	if _, err := Decode("not base32!"); err == nil {
		t.Error("Decode accepted garbage")
	}
}

func TestURI(t *testing.T) {
	u := Params{}.URI("esign", "admin", []byte("12345678901234567890"))
	want := "otpauth://totp/esign:admin?algorithm=SHA1&digits=6&issuer=esign&period=30&secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"
	if u != want {
		t.Errorf("URI = %s\nwant  %s", u, want)
	}
}

// FuzzVerify: any typed code is accepted only when it is the code of a
// step within the skew, and never panics.
func FuzzVerify(f *testing.F) {
	secret := []byte("12345678901234567890")
	for _, s := range []string{"", "287082", "28708 2", "abcdef", "0000000", "٣٤٥٦٧٨"} {
		f.Add(s)
	}
	at := time.Unix(59, 0)
	var p Params
	f.Fuzz(func(t *testing.T, code string) {
		step, ok := p.Verify(secret, code, at)
		if !ok {
			return
		}
		want, _ := p.Code(secret, step)
		if strings.ReplaceAll(code, " ", "") != want || step < p.Step(at)-1 || step > p.Step(at)+1 {
			t.Fatalf("Verify(%q) accepted step %d", code, step)
		}
	})
}
