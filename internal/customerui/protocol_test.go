package customerui

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"sync"
	"testing"

	"github.com/chromedp/chromedp"

	"esign/internal/signing"
	"esign/internal/webui/webuitest"
)

// protocolHarness serves the customer UI's scripts, the test vectors and a
// stand-in time-stamp endpoint that records what it was asked to stamp.
type protocolHarness struct {
	mu      sync.Mutex
	stamped [][]byte
}

func (h *protocolHarness) serve(t *testing.T) *httptest.Server {
	vectors, err := os.ReadFile("../protocol/testdata/vectors.json")
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("GET /static/", http.StripPrefix("/static/", http.FileServerFS(mustSub(staticFS, "static"))))
	mux.HandleFunc("GET /vectors.json", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write(vectors)
	})
	keyVectors, err := os.ReadFile("../signing/testdata/key_vectors.json")
	if err != nil {
		t.Fatal(err)
	}
	mux.HandleFunc("GET /key_vectors.json", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write(keyVectors)
	})
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		io.WriteString(w, `<!doctype html><html lang="en"><head><title>protocol</title></head><body><h1>protocol</h1></body></html>`)
	})
	// The "token" is the SHA-256 of the data: the test checks the data.
	mux.HandleFunc("POST /stamp", func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		h.mu.Lock()
		h.stamped = append(h.stamped, b)
		h.mu.Unlock()
		sum := sha256.Sum256(b)
		w.Write(sum[:])
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

// TestProtocolVectorsInBrowser runs static/protocol.js in Chromium: every
// valid vector encodes to exactly its bytes and decodes back, every
// invalid one is refused.
func TestProtocolVectorsInBrowser(t *testing.T) {
	if testing.Short() {
		t.Skip("browser test")
	}
	srv := new(protocolHarness).serve(t)
	ctx := webuitest.Browser(t)
	webuitest.Do(t, ctx, "open the harness", chromedp.Navigate(srv.URL+"/"), chromedp.WaitVisible(chromedp.CSS("h1")))
	out := webuitest.Get(t, ctx, "run the vectors", chromedp.Evaluate[string](`(async () => {
  const p = await import("/static/protocol.js");
  const v = await (await fetch("/vectors.json")).json();
  const hex = (b) => Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
  const unhex = (s) => new Uint8Array((s.match(/../g) || []).map((x) => parseInt(x, 16)));
  const value = (j) => j.list ? j.list.map(value) : (j.bytes !== undefined ? unhex(j.bytes) : j.string);
  const plain = (x) => x instanceof Uint8Array ? {bytes: hex(x)} : (typeof x === "string" ? {string: x} : {list: x.map(plain)});
  const res = {valid: [], invalid: []};
  for (const t of v.valid) {
    let enc = "", round = "";
    try { enc = hex(p.encode(value(t.value))); round = JSON.stringify(plain(p.decode(unhex(t.encoding)))); } catch (e) { enc = "error: " + e.message; }
    res.valid.push({name: t.name, encoding: enc, decoded: round});
  }
  for (const t of v.invalid) {
    let refused = false;
    try { p.decode(unhex(t.encoding)); } catch (e) { refused = true; }
    res.invalid.push({name: t.name, refused});
  }
  return JSON.stringify(res);
})()`, chromedp.EvalAwaitPromise))
	var res struct {
		Valid []struct {
			Name, Encoding, Decoded string
		}
		Invalid []struct {
			Name    string
			Refused bool
		}
	}
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatal(err)
	}
	var vec struct {
		Valid []struct {
			Name     string          `json:"name"`
			Value    json.RawMessage `json:"value"`
			Encoding string          `json:"encoding"`
		} `json:"valid"`
		Invalid []struct {
			Name string `json:"name"`
		} `json:"invalid"`
	}
	raw, _ := os.ReadFile("../protocol/testdata/vectors.json")
	if err := json.Unmarshal(raw, &vec); err != nil {
		t.Fatal(err)
	}
	if len(res.Valid) != len(vec.Valid) || len(res.Invalid) != len(vec.Invalid) || len(vec.Valid) == 0 {
		t.Fatalf("ran %d/%d valid and %d/%d invalid vectors", len(res.Valid), len(vec.Valid), len(res.Invalid), len(vec.Invalid))
	}
	for i, v := range vec.Valid {
		if res.Valid[i].Encoding != v.Encoding {
			t.Errorf("%s: JS encodes\n %s\nwant\n %s", v.Name, res.Valid[i].Encoding, v.Encoding)
		}
		var got, want any
		json.Unmarshal([]byte(res.Valid[i].Decoded), &got)
		json.Unmarshal(v.Value, &want)
		if g, w := mustJSON(got), mustJSON(want); g != w {
			t.Errorf("%s: JS decodes to %s, want %s", v.Name, g, w)
		}
	}
	for _, r := range res.Invalid {
		if !r.Refused {
			t.Errorf("%s: JS decodes an invalid encoding", r.Name)
		}
	}
}

// TestBrowserMessagesVerifyInGo builds M1 and M2 in Chromium with a
// non-extractable WebCrypto key and checks them with the Go side of the
// protocol: the arrays the browser time-stamped are byte for byte those
// internal/signing builds from the message's fields, and both signatures
// verify with signing.Verify under the key of the message.
func TestBrowserMessagesVerifyInGo(t *testing.T) {
	if testing.Short() {
		t.Skip("browser test")
	}
	for _, alg := range []string{signing.ECDSAP256, signing.RSAPSS} {
		t.Run(alg, func(t *testing.T) { browserMessagesVerifyInGo(t, alg) })
	}
}

// browserMessagesVerifyInGo is TestBrowserMessagesVerifyInGo with a key
// of the algorithm.
func browserMessagesVerifyInGo(t *testing.T, alg string) {
	h := new(protocolHarness)
	srv := h.serve(t)
	ctx := webuitest.Browser(t)
	webuitest.Do(t, ctx, "open the harness", chromedp.Navigate(srv.URL+"/"), chromedp.WaitVisible(chromedp.CSS("h1")))
	out := webuitest.Get(t, ctx, "build M1 and M2", chromedp.Evaluate[string](`(async () => {
  const p = await import("/static/protocol.js");
  const stamp = async (data) => new Uint8Array(await (await fetch("/stamp", {method: "POST", body: data})).arrayBuffer());
  const key = await p.newKey(`+"`"+alg+"`"+`);
  let exported = "refused";
  try { await crypto.subtle.exportKey("pkcs8", key.privateKey); exported = "exported"; } catch (e) {}
  const m1 = await p.buildM1(key, "kovacs.anna", "0b7c6f0e-1d2a-4c1e-9a57-3d1f0c2b9e11", stamp);
  const docs = [new TextEncoder().encode("%PDF-1.7 one"), new TextEncoder().encode("%PDF-1.7 two")];
  const m2 = await p.buildM2(key, {signatureId: "sig-1", offerId: m1.offerId, userName: "kovacs.anna", password: "pw",
    smsToken: "123456", deviceInfo: "Árvíztűrő browser", documents: docs}, stamp);
  return JSON.stringify({m1: p.toJSON(m1), m2: p.toJSON(m2), extractable: key.privateKey.extractable, exported});
})()`, chromedp.EvalAwaitPromise))
	var res struct {
		M1          signing.M1 `json:"m1"`
		M2          signing.M2 `json:"m2"`
		Extractable bool       `json:"extractable"`
		Exported    string     `json:"exported"`
	}
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("%v in %s", err, out)
	}
	if res.Extractable || res.Exported != "refused" {
		t.Errorf("the private key is extractable (%v, %s)", res.Extractable, res.Exported)
	}
	m1, m2 := res.M1, res.M2
	if m1.Algorithm != alg || m2.Algorithm != alg {
		t.Fatalf("the browser's messages name %s and %s, want %s", m1.Algorithm, m2.Algorithm, alg)
	}
	pub, err := signing.ParsePublicKey(m1.PublicKey, m1.Algorithm)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := signing.M1Raw(m1.PublicKey, "kovacs.anna", m1.Algorithm, m1.OfferID)
	if !signing.Verify(pub, m1.Algorithm, raw, m1.SignedData) {
		t.Error("SIGNATURE1 of the browser does not verify in Go")
	}
	f := &signing.M2Fields{PublicKey: m2.PublicKey, Algorithm: m2.Algorithm, OfferID: m2.OfferID, OfferHashes: m2.Offers,
		UserName: m2.UserName, SMSToken: m2.SMSToken, DeviceInfo: m2.DeviceInfo, Photo: m2.Photo}
	for i, d := range []string{"%PDF-1.7 one", "%PDF-1.7 two"} {
		if h := sha256.Sum256([]byte(d)); !bytes.Equal(h[:], m2.Offers[i]) {
			t.Errorf("offer hash %d differs", i)
		}
	}
	hash, _ := signing.CustomerSignatureHash(f, m2.TS2)
	if !bytes.Equal(hash, m2.CustomerSignatureHash) {
		t.Errorf("customerSignatureHash: browser %x, Go %x", m2.CustomerSignatureHash, hash)
	}
	s2, _ := signing.Signature2Data(f, m2.TS2, hash)
	if !signing.Verify(pub, m2.Algorithm, s2, m2.SignedTS3) {
		t.Error("SIGNATURE2 of the browser does not verify in Go")
	}
	ts1, _ := signing.TS1Data(m1.SignedData, raw)
	ts2, _ := signing.TS2Data(f)
	ts3, _ := signing.TS3Data(f, m2.TS2, hash, m2.SignedTS3)
	want := [][]byte{ts1, ts2, ts3}
	if len(h.stamped) != 3 {
		t.Fatalf("the browser asked for %d time-stamps, want 3", len(h.stamped))
	}
	for i := range want {
		if !bytes.Equal(h.stamped[i], want[i]) {
			t.Errorf("time-stamped data %d differs from Go's:\n browser %s\n Go      %s", i+1, hex.EncodeToString(h.stamped[i]), hex.EncodeToString(want[i]))
		}
	}
	if sum := sha256.Sum256(ts2); base64.StdEncoding.EncodeToString(m2.TS2) != base64.StdEncoding.EncodeToString(sum[:]) {
		t.Error("TS2 is not the token the endpoint returned")
	}
}

// TestKeyVectorsInBrowser: WebCrypto, with protocol.js's parameters,
// agrees with Go (signing.TestKeyVectors) on every signature vector of
// internal/signing/testdata/key_vectors.json: ECDSA P-256 r‖s and RSA-PSS
// with SHA-256 and a 32-byte salt verify; other data, another salt length,
// a PKCS #1 v1.5 signature and a key of the other kind do not.
func TestKeyVectorsInBrowser(t *testing.T) {
	if testing.Short() {
		t.Skip("browser test")
	}
	srv := new(protocolHarness).serve(t)
	ctx := webuitest.Browser(t)
	webuitest.Do(t, ctx, "open the harness", chromedp.Navigate(srv.URL+"/"), chromedp.WaitVisible(chromedp.CSS("h1")))
	out := webuitest.Get(t, ctx, "verify the key vectors", chromedp.Evaluate[string](`(async () => {
  const p = await import("/static/protocol.js");
  const v = await (await fetch("/key_vectors.json")).json();
  const unhex = (s) => new Uint8Array((s.match(/../g) || []).map((x) => parseInt(x, 16)));
  const res = [];
  for (const t of v) {
    let ok = false;
    try { ok = await p.verify(t.algorithm, unhex(t.publicKey), unhex(t.data), unhex(t.signature)); } catch (e) { ok = false; }
    res.push({name: t.name, valid: ok});
  }
  return JSON.stringify(res);
})()`, chromedp.EvalAwaitPromise))
	var got []struct {
		Name  string
		Valid bool
	}
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatal(err)
	}
	var want []struct {
		Name  string `json:"name"`
		Valid bool   `json:"valid"`
	}
	raw, _ := os.ReadFile("../signing/testdata/key_vectors.json")
	if err := json.Unmarshal(raw, &want); err != nil {
		t.Fatal(err)
	}
	if len(got) != len(want) || len(want) == 0 {
		t.Fatalf("ran %d of %d vectors", len(got), len(want))
	}
	for i, w := range want {
		if got[i].Valid != w.Valid {
			t.Errorf("%s: the browser verifies %v, Go and the vector say %v", w.Name, got[i].Valid, w.Valid)
		}
	}
}

func mustJSON(v any) string { b, _ := json.Marshal(v); return string(b) }
