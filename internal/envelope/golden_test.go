package envelope

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"flag"
	"io"
	"os"
	"testing"
)

var update = flag.Bool("update", false, "rewrite testdata/envelope_v1_vectors.json")

type goldenVectors struct {
	KeyID  string `json:"key_id"`
	KeyHex string `json:"key_hex"`
	AAD    string `json:"associated_data"`
	Vector []struct {
		Form      string `json:"form"` // buffer or stream
		Plaintext string `json:"plaintext_hex"`
		CT        string `json:"ciphertext_hex"`
	} `json:"vectors"`
}

// TestGoldenV1 keeps the v1 format stable: ciphertexts written once (and
// checked with an independent Python implementation, testdata/decrypt_v1.py)
// must decrypt forever.
func TestGoldenV1(t *testing.T) {
	const path = "testdata/envelope_v1_vectors.json"
	key := bytes.Repeat([]byte{0x42}, KeySize)
	k, _ := NewKeyring("2026-11", map[string][]byte{"2026-11": key})
	if *update {
		g := goldenVectors{KeyID: "2026-11", KeyHex: hex.EncodeToString(key), AAD: "cert/1/password"}
		add := func(form string, pt, ct []byte) {
			g.Vector = append(g.Vector, struct {
				Form      string `json:"form"`
				Plaintext string `json:"plaintext_hex"`
				CT        string `json:"ciphertext_hex"`
			}{form, hex.EncodeToString(pt), hex.EncodeToString(ct)})
		}
		pt := []byte("p12-Password!")
		ct, _ := k.Encrypt(pt, []byte(g.AAD))
		add("buffer", pt, ct)
		long := bytes.Repeat([]byte("0123456789abcdef"), 200) // 3200 bytes: 3 full 1 KiB chunks + 128
		add("stream", long, encryptStream(t, k, long, 1024, 1000))
		b, _ := json.MarshalIndent(g, "", "  ")
		if err := os.WriteFile(path, append(b, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var g goldenVectors
	if err := json.Unmarshal(b, &g); err != nil {
		t.Fatal(err)
	}
	for _, v := range g.Vector {
		pt, _ := hex.DecodeString(v.Plaintext)
		ct, _ := hex.DecodeString(v.CT)
		var got []byte
		switch v.Form {
		case "buffer":
			got, err = k.Decrypt(ct, []byte(g.AAD))
		case "stream":
			var r *Reader
			if r, err = k.NewReader(bytes.NewReader(ct)); err == nil {
				got, err = io.ReadAll(r)
			}
		}
		if err != nil || !bytes.Equal(got, pt) {
			t.Fatalf("%s: %v", v.Form, err)
		}
	}
}
