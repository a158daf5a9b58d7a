package envelopetest

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"os"
	"testing"

	"esign/internal/envelope"
)

// TestLegacySealVectors: sealing the plaintexts of the Node.js vectors with
// their salt and IV gives their ciphertexts byte for byte, so the helper
// writes what the old system wrote.
func TestLegacySealVectors(t *testing.T) {
	data, err := os.ReadFile("../testdata/legacy_vectors.json")
	if err != nil {
		t.Fatal(err)
	}
	var v struct {
		Secret   string `json:"secret"`
		SaltSize int    `json:"salt_size"`
		Vectors  []struct {
			Name      string `json:"name"`
			Plaintext string `json:"plaintext_hex"`
			CT        string `json:"ciphertext_base64"`
		} `json:"vectors"`
	}
	if err := json.Unmarshal(data, &v); err != nil {
		t.Fatal(err)
	}
	if len(v.Vectors) == 0 {
		t.Fatal("no vectors")
	}
	for _, vec := range v.Vectors {
		t.Run(vec.Name, func(t *testing.T) {
			pt, _ := hex.DecodeString(vec.Plaintext)
			want, err := base64.StdEncoding.DecodeString(vec.CT)
			if err != nil {
				t.Fatal(err)
			}
			got, err := LegacySeal(v.Secret, want[:v.SaltSize], want[v.SaltSize:v.SaltSize+12], pt)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				t.Fatalf("LegacySeal = %x\nwant %x", got, want)
			}
		})
	}
}

func TestLegacyEncrypt(t *testing.T) {
	const secret = "Zk3pQ8vR2mX7bN4tY9wL1cF6hJ0sD5gA"
	ct := LegacyEncrypt(t, secret, []byte("p12-Password!"))
	if !envelope.IsLegacy(ct) {
		t.Fatal("not recognised as legacy")
	}
	pt, err := (&envelope.Legacy{Secret: secret}).Decrypt(ct)
	if err != nil || string(pt) != "p12-Password!" {
		t.Fatalf("Legacy.Decrypt = %q, %v", pt, err)
	}
}
