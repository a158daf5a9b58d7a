package password

import (
	"errors"
	"os/exec"
	"strings"
	"testing"

	"esign/internal/esign"
	"esign/internal/esigntest"
)

// fast keeps the tests quick; DefaultParams are exercised once.
var fast = Params{Memory: 1024, Iterations: 2, Parallelism: 1, SaltLen: 16, KeyLen: 32}

func TestHashVerify(t *testing.T) {
	h, err := Hash("correct horse battery staple")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(h, "$argon2id$v=19$m=19456,t=2,p=1$") {
		t.Fatalf("hash %q", h)
	}
	if rehash, err := Verify("correct horse battery staple", h); err != nil || rehash {
		t.Fatalf("verify: %v rehash=%v", err, rehash)
	}
	if _, err := Verify("correct horse battery stapl", h); !errors.Is(err, ErrMismatch) || !esign.IsKind(err, esign.Unauthorized) {
		t.Fatalf("wrong password: %v", err)
	}
	h2, _ := Hash("correct horse battery staple")
	if h == h2 {
		t.Fatal("same salt twice")
	}
}

func TestNeedsRehash(t *testing.T) {
	h, err := HashWithParams("pw", fast)
	if err != nil {
		t.Fatal(err)
	}
	rehash, err := Verify("pw", h)
	if err != nil || !rehash {
		t.Fatalf("weak parameters not flagged: %v %v", rehash, err)
	}
}

func TestMalformed(t *testing.T) {
	good, _ := HashWithParams("pw", fast)
	parts := strings.Split(good, "$")
	tests := []struct{ name, enc string }{
		{"empty", ""},
		{"argon2i", strings.Replace(good, "argon2id", "argon2i", 1)},
		{"version", strings.Replace(good, "v=19", "v=16", 1)},
		{"huge-memory", "$argon2id$v=19$m=4194304,t=2,p=1$" + parts[4] + "$" + parts[5]},
		{"huge-time", "$argon2id$v=19$m=1024,t=1000,p=1$" + parts[4] + "$" + parts[5]},
		{"zero-parallel", "$argon2id$v=19$m=1024,t=2,p=0$" + parts[4] + "$" + parts[5]},
		{"params-junk", "$argon2id$v=19$m=1024,t=2,p=1x$" + parts[4] + "$" + parts[5]},
		{"bad-salt", "$argon2id$v=19$m=1024,t=2,p=1$!!$" + parts[5]},
		{"short-hash", "$argon2id$v=19$m=1024,t=2,p=1$" + parts[4] + "$AAAA"},
		{"extra-field", good + "$x"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := Verify("pw", tt.enc); !esign.IsKind(err, esign.Invalid) {
				t.Fatalf("err = %v", err)
			}
		})
	}
	if _, err := HashWithParams("pw", Params{Memory: 1, Iterations: 1, Parallelism: 1, SaltLen: 16, KeyLen: 32}); err == nil {
		t.Fatal("too little memory accepted")
	}
	if _, err := Hash(strings.Repeat("x", MaxPasswordLen+1)); err == nil {
		t.Fatal("huge password accepted")
	}
}

func TestVerifyDummy(t *testing.T) {
	if err := VerifyDummy("anything"); !errors.Is(err, ErrMismatch) {
		t.Fatal(err)
	}
}

// TestReferenceImplementation checks PHC strings against the reference
// argon2 command-line tool (Debian package argon2), both directions.
func TestReferenceImplementation(t *testing.T) {
	argon2 := esigntest.Tool(t, "argon2")
	cmd := exec.Command(argon2, "somesaltsomesalt", "-id", "-t", "2", "-m", "10", "-p", "1", "-l", "32", "-e")
	cmd.Stdin = strings.NewReader("correct horse")
	out, err := cmd.Output()
	if err != nil {
		t.Fatal(err)
	}
	ref := strings.TrimSpace(string(out))
	if _, err := Verify("correct horse", ref); err != nil {
		t.Fatalf("reference hash %q: %v", ref, err)
	}
	ours := encode("correct horse", []byte("anothersaltvalue"), fast)
	cmd = exec.Command(argon2, "anothersaltvalue", "-id", "-t", "2", "-k", "1024", "-p", "1", "-l", "32", "-e")
	cmd.Stdin = strings.NewReader("correct horse")
	if out, err = cmd.Output(); err != nil {
		t.Fatal(err)
	}
	if got := strings.TrimSpace(string(out)); got != ours {
		t.Fatalf("reference %q, ours %q", got, ours)
	}
}

func FuzzVerify(f *testing.F) {
	good, _ := HashWithParams("pw", fast)
	f.Add("pw", good)
	f.Add("pw", "$argon2id$v=19$m=8,t=1,p=1$AAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAA")
	f.Fuzz(func(t *testing.T, pw, enc string) {
		Verify(pw, enc)
	})
}

// BenchmarkHash is the cost of one login check with DefaultParams.
func BenchmarkHash(b *testing.B) {
	for b.Loop() {
		if _, err := Hash("correct horse battery staple"); err != nil {
			b.Fatal(err)
		}
	}
}
