package envelope

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"os"
	"runtime"
	"strings"
	"testing"

	"esign/internal/esign"
)

func testKey(b byte) []byte { return bytes.Repeat([]byte{b}, KeySize) }

func testKeyring(t testing.TB) *Keyring {
	t.Helper()
	k, err := NewKeyring("k2", map[string][]byte{"k1": testKey(1), "k2": testKey(2)})
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func TestNewKeyringValidation(t *testing.T) {
	tests := []struct {
		name    string
		primary string
		keys    map[string][]byte
	}{
		{"missing-primary", "x", map[string][]byte{"k": testKey(1)}},
		{"short-key", "k", map[string][]byte{"k": make([]byte, 16)}},
		{"bad-id", "k k", map[string][]byte{"k k": testKey(1)}},
		{"long-id", strings.Repeat("a", 65), map[string][]byte{strings.Repeat("a", 65): testKey(1)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := NewKeyring(tt.primary, tt.keys); !esign.IsKind(err, esign.Invalid) {
				t.Fatalf("err = %v", err)
			}
		})
	}
}

func TestBufferRoundTrip(t *testing.T) {
	k := testKeyring(t)
	for _, n := range []int{0, 1, 15, 16, 17, 1000, 1 << 20} {
		pt := make([]byte, n)
		rand.Read(pt)
		ct, err := k.Encrypt(pt, []byte("cert/1"))
		if err != nil {
			t.Fatal(err)
		}
		got, err := k.Decrypt(ct, []byte("cert/1"))
		if err != nil || !bytes.Equal(got, pt) {
			t.Fatalf("n=%d: %v", n, err)
		}
		if _, err := k.Decrypt(ct, []byte("cert/2")); !errors.Is(err, ErrDecrypt) {
			t.Fatalf("wrong associated data accepted: %v", err)
		}
		ct2, _ := k.Encrypt(pt, []byte("cert/1"))
		if bytes.Equal(ct, ct2) {
			t.Fatal("encryption is deterministic")
		}
	}
}

func TestStringRoundTrip(t *testing.T) {
	k := testKeyring(t)
	for _, s := range []string{"", "secret", "jelszó ✓"} {
		ct, err := k.EncryptString(s, nil)
		if err != nil {
			t.Fatal(err)
		}
		got, err := k.DecryptString(ct, nil)
		if err != nil || got != s {
			t.Fatalf("%q: %q %v", s, got, err)
		}
	}
	if _, err := k.DecryptString("not base64!", nil); !errors.Is(err, ErrDecrypt) {
		t.Fatalf("err = %v", err)
	}
}

// TestBufferTamper flips every bit position's byte of a ciphertext.
func TestBufferTamper(t *testing.T) {
	k := testKeyring(t)
	ct, _ := k.Encrypt([]byte("the key password"), nil)
	for i := range ct {
		for _, mask := range []byte{0x01, 0x80} {
			mod := bytes.Clone(ct)
			mod[i] ^= mask
			if _, err := k.Decrypt(mod, nil); err == nil {
				t.Fatalf("byte %d ^ %#x accepted", i, mask)
			}
		}
	}
	for n := range ct {
		if _, err := k.Decrypt(ct[:n], nil); err == nil {
			t.Fatalf("truncation to %d accepted", n)
		}
	}
	if _, err := k.Decrypt(append(bytes.Clone(ct), 0), nil); err == nil {
		t.Fatal("extension accepted")
	}
}

func TestRotation(t *testing.T) {
	old, _ := NewKeyring("k1", map[string][]byte{"k1": testKey(1)})
	ct, _ := old.Encrypt([]byte("secret"), nil)
	k := testKeyring(t) // primary k2, still holds k1
	pt, up, err := k.DecryptUpgrade(ct, nil)
	if err != nil || string(pt) != "secret" || up == nil {
		t.Fatalf("%q %v %v", pt, up, err)
	}
	if pt, up2, err := k.DecryptUpgrade(up, nil); err != nil || string(pt) != "secret" || up2 != nil {
		t.Fatalf("current ciphertext upgraded again: %v", err)
	}
	if _, err := old.Decrypt(up, nil); !errors.Is(err, ErrDecrypt) {
		t.Fatalf("unknown key id: %v", err)
	}
}

type legacyVectors struct {
	Secret     string `json:"secret"`
	SaltSize   int    `json:"salt_size"`
	Iterations int    `json:"iterations"`
	Vectors    []struct {
		Name      string `json:"name"`
		Plaintext string `json:"plaintext_hex"`
		Key       string `json:"key_hex"`
		CT        string `json:"ciphertext_base64"`
	} `json:"vectors"`
}

func loadLegacyVectors(t testing.TB) legacyVectors {
	b, err := os.ReadFile("testdata/legacy_vectors.json")
	if err != nil {
		t.Fatal(err)
	}
	var v legacyVectors
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatal(err)
	}
	return v
}

// TestLegacyVectors decrypts vectors written by Node.js (testdata/legacy_gen.js),
// in both the byte and the text form, and upgrades them.
func TestLegacyVectors(t *testing.T) {
	v := loadLegacyVectors(t)
	l := &Legacy{Secret: v.Secret, SaltSize: v.SaltSize, Iterations: v.Iterations}
	k := testKeyring(t).WithLegacy(l)
	for _, vec := range v.Vectors {
		t.Run(vec.Name, func(t *testing.T) {
			want, _ := hex.DecodeString(vec.Plaintext)
			ct, _ := base64.StdEncoding.DecodeString(vec.CT)
			got, err := l.Decrypt(ct)
			if err != nil || !bytes.Equal(got, want) {
				t.Fatalf("Legacy.Decrypt: %x %v", got, err)
			}
			pt, up, err := k.DecryptUpgrade(ct, nil)
			if err != nil || !bytes.Equal(pt, want) || IsLegacy(up) {
				t.Fatalf("DecryptUpgrade: %v", err)
			}
			if got, err := k.Decrypt(up, nil); err != nil || !bytes.Equal(got, want) {
				t.Fatalf("upgraded: %v", err)
			}
			s, ups, err := k.DecryptStringUpgrade(vec.CT, nil)
			if err != nil || s != string(want) || ups == "" {
				t.Fatalf("DecryptStringUpgrade: %v", err)
			}
			if s, err := k.DecryptString(ups, nil); err != nil || s != string(want) {
				t.Fatalf("upgraded string: %v", err)
			}
			mod := bytes.Clone(ct)
			mod[len(mod)-1-len(want)/2] ^= 1
			if _, err := l.Decrypt(mod); !errors.Is(err, ErrDecrypt) {
				t.Fatalf("tampered legacy accepted: %v", err)
			}
			if _, err := (&Legacy{Secret: "wrong"}).Decrypt(ct); !errors.Is(err, ErrDecrypt) {
				t.Fatalf("wrong secret accepted: %v", err)
			}
		})
	}
	if _, err := testKeyring(t).Decrypt(mustB64(v.Vectors[1].CT), nil); !errors.Is(err, ErrDecrypt) {
		t.Fatal("legacy accepted without a Legacy configured")
	}
}

func mustB64(s string) []byte {
	b, _ := base64.StdEncoding.DecodeString(s)
	return b
}

func encryptStream(t testing.TB, k *Keyring, pt []byte, chunk int, writeSize int) []byte {
	t.Helper()
	var buf bytes.Buffer
	w, err := k.NewWriterSize(&buf, chunk)
	if err != nil {
		t.Fatal(err)
	}
	for p := pt; len(p) > 0; {
		n := min(writeSize, len(p))
		if _, err := w.Write(p[:n]); err != nil {
			t.Fatal(err)
		}
		p = p[n:]
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func decryptStream(k *Keyring, ct []byte) ([]byte, error) {
	r, err := k.NewReader(bytes.NewReader(ct))
	if err != nil {
		return nil, err
	}
	return io.ReadAll(r)
}

func TestStreamRoundTrip(t *testing.T) {
	k := testKeyring(t)
	const chunk = 1024
	for _, n := range []int{0, 1, chunk - 1, chunk, chunk + 1, 3 * chunk, 3*chunk + 5, 100_000} {
		for _, ws := range []int{1, 7, chunk, 5000} {
			if n > 10_000 && ws < 1000 {
				continue
			}
			pt := make([]byte, n)
			rand.Read(pt)
			ct := encryptStream(t, k, pt, chunk, ws)
			got, err := decryptStream(k, ct)
			if err != nil || !bytes.Equal(got, pt) {
				t.Fatalf("n=%d ws=%d: %v", n, ws, err)
			}
		}
	}
	if _, err := k.NewWriterSize(io.Discard, 100); err == nil {
		t.Fatal("tiny chunk size accepted")
	}
}

func TestStreamTamper(t *testing.T) {
	k := testKeyring(t)
	const chunk = 1024
	const sealed = chunk + tagSize
	pt := make([]byte, 4*chunk+100) // chunks 0..3 full, 4 final
	rand.Read(pt)
	ct := encryptStream(t, k, pt, chunk, 4096)
	hlen := len(ct) - 4*sealed - (100 + tagSize)
	body := ct[hlen:]
	chunkAt := func(i int) []byte { return body[i*sealed : min((i+1)*sealed, len(body))] }
	join := func(parts ...[]byte) []byte { return bytes.Join(parts, nil) }
	other := encryptStream(t, k, pt, chunk, 4096) // same key and plaintext, other salt
	tests := []struct {
		name string
		ct   []byte
	}{
		{"truncate-at-chunk-boundary", ct[:hlen+3*sealed]},
		{"drop-final-chunk", ct[:hlen+4*sealed]},
		{"truncate-mid-chunk", ct[:hlen+2*sealed+10]},
		{"truncate-header", ct[:hlen-1]},
		{"reorder", join(ct[:hlen], chunkAt(1), chunkAt(0), chunkAt(2), chunkAt(3), chunkAt(4))},
		{"duplicate-chunk", join(ct[:hlen], chunkAt(0), chunkAt(0), chunkAt(2), chunkAt(3), chunkAt(4))},
		{"drop-middle-chunk", join(ct[:hlen], chunkAt(0), chunkAt(2), chunkAt(3), chunkAt(4))},
		{"swap-chunk-from-other-stream", join(ct[:hlen], other[hlen:hlen+sealed], body[sealed:])},
		{"other-header", join(other[:hlen], body)},
		{"append-garbage", join(ct, []byte{0})},
		{"append-chunk", join(ct, chunkAt(0))},
		{"flip-header-key-id", func() []byte { c := bytes.Clone(ct); c[7] = '1'; return c }()},
		{"flip-chunk-size", func() []byte { c := bytes.Clone(ct); c[hlen-1] ^= 1; return c }()},
		{"flip-body", func() []byte { c := bytes.Clone(ct); c[hlen+2*sealed+3] ^= 1; return c }()},
		{"buffer-as-stream", func() []byte { c, _ := k.Encrypt(pt, nil); return c }()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := decryptStream(k, tt.ct)
			if err == nil {
				t.Fatalf("accepted (%d bytes out)", len(got))
			}
		})
	}
	// Stream ciphertexts are not accepted by the buffer decoder either.
	if _, err := k.Decrypt(ct, nil); err == nil {
		t.Fatal("stream accepted as buffer")
	}
}

// TestStreamPeakMemory encrypts and decrypts 1 GiB through the streaming
// form and records the peak heap in use; the bound shows constant memory.
func TestStreamPeakMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("streams 1 GiB twice")
	}
	k := testKeyring(t)
	const size = 1 << 30
	peak := measurePeakHeap(func() {
		pr, pw := io.Pipe()
		go func() {
			w, err := k.NewWriter(pw)
			if err != nil {
				pw.CloseWithError(err)
				return
			}
			_, err = io.CopyN(w, zeroReader{}, size)
			if err == nil {
				err = w.Close()
			}
			pw.CloseWithError(err)
		}()
		r, err := k.NewReader(pr)
		if err != nil {
			t.Error(err)
			return
		}
		n, err := io.Copy(io.Discard, r)
		if err != nil || n != size {
			t.Errorf("decrypted %d bytes: %v", n, err)
		}
	})
	t.Logf("peak HeapInuse while streaming 1 GiB: %.2f MiB", float64(peak)/(1<<20))
	if peak > 16<<20 {
		t.Fatalf("peak heap %d bytes: the stream is not constant-memory", peak)
	}
}

type zeroReader struct{}

func (zeroReader) Read(p []byte) (int, error) { clear(p); return len(p), nil }

func measurePeakHeap(f func()) uint64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	base := ms.HeapInuse
	done := make(chan struct{})
	peakc := make(chan uint64)
	go func() {
		var peak uint64
		for {
			select {
			case <-done:
				peakc <- peak
				return
			default:
			}
			var ms runtime.MemStats
			runtime.ReadMemStats(&ms)
			if ms.HeapInuse > base && ms.HeapInuse-base > peak {
				peak = ms.HeapInuse - base
			}
			runtime.Gosched()
		}
	}()
	f()
	close(done)
	return <-peakc
}

func FuzzDecrypt(f *testing.F) {
	k := testKeyring(f)
	v := loadLegacyVectors(f)
	kl := k.WithLegacy(&Legacy{Secret: v.Secret})
	ct, _ := k.Encrypt([]byte("seed"), nil)
	f.Add(ct) // fuzz workers are other processes: the check below cannot compare with ct
	f.Add(encryptStream(f, k, []byte("stream seed"), 1024, 100))
	f.Add(mustB64(v.Vectors[1].CT))
	f.Fuzz(func(t *testing.T, b []byte) {
		if pt, err := kl.Decrypt(b, nil); err == nil && !IsLegacy(b) && string(pt) != "seed" {
			// Only a genuine ciphertext (the seed, made with this key) may open.
			t.Fatalf("forged buffer envelope opened: %q", pt)
		}
		if r, err := k.NewReader(bytes.NewReader(b)); err == nil {
			io.Copy(io.Discard, r)
		}
	})
}

func TestParseKeys(t *testing.T) {
	a := base64.StdEncoding.EncodeToString(testKey(1))
	b := base64.StdEncoding.EncodeToString(testKey(2))
	k, err := ParseKeys("new:" + b + ", old:" + a)
	if err != nil || k.Primary() != "new" {
		t.Fatalf("%v %v", k, err)
	}
	old, _ := NewKeyring("old", map[string][]byte{"old": testKey(1)})
	ct, _ := old.Encrypt([]byte("x"), nil)
	if _, err := k.Decrypt(ct, nil); err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{"", "nokey", "a:!!", "a:" + a + ",a:" + b, "a:" + base64.StdEncoding.EncodeToString([]byte("short"))} {
		if _, err := ParseKeys(bad); !esign.IsKind(err, esign.Invalid) {
			t.Errorf("%q: %v", bad, err)
		}
	}
}

func TestKeyFromPassphrase(t *testing.T) {
	salt := []byte("0123456789abcdef")
	k1, err := KeyFromPassphrase("correct horse battery", salt)
	if err != nil || len(k1) != KeySize {
		t.Fatal(err)
	}
	k2, _ := KeyFromPassphrase("correct horse battery", salt)
	k3, _ := KeyFromPassphrase("correct horse batterx", salt)
	if !bytes.Equal(k1, k2) || bytes.Equal(k1, k3) {
		t.Fatal("derivation not deterministic or not password-dependent")
	}
	if _, err := KeyFromPassphrase("short", salt); err == nil {
		t.Fatal("short passphrase accepted")
	}
	if _, err := KeyFromPassphrase("correct horse battery", salt[:8]); err == nil {
		t.Fatal("short salt accepted")
	}
}
