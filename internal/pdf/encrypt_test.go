package pdf_test

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"esign/internal/esign"
	"esign/internal/esigntest"
	"esign/internal/pdf"
)

// The fixtures under testdata/encrypted are made by ghostscript and qpdf
// (make.sh there); source.pdf is the clear document they encrypt.
const encDir = "testdata/encrypted"

type encCase struct {
	file   string
	v, r   int
	method string
	perms  pdf.Permissions // bits that must be set
	denied pdf.Permissions // bits that must be clear
	clearM bool            // EncryptMetadata false
	source string          // the clear document; default source.pdf
}

var encCases = []encCase{
	{file: "aes128.pdf", v: 4, r: 4, method: "AES-128", perms: pdf.PermModify | pdf.PermAnnotate | pdf.PermFillForms},
	{file: "aes128-cleartext-metadata.pdf", v: 4, r: 4, method: "AES-128", perms: pdf.PermModify | pdf.PermAnnotate, clearM: true},
	{file: "aes128-annotate-n.pdf", v: 4, r: 4, method: "AES-128", perms: pdf.PermModify, denied: pdf.PermAnnotate},
	{file: "aes256.pdf", v: 5, r: 6, method: "AES-256", perms: pdf.PermModify | pdf.PermAnnotate},
	{file: "aes256-r5.pdf", v: 5, r: 5, method: "AES-256", perms: pdf.PermModify | pdf.PermAnnotate},
	{file: "aes256-objstm.pdf", v: 5, r: 6, method: "AES-256", perms: pdf.PermModify | pdf.PermAnnotate},
	{file: "aes256-modify-none.pdf", v: 5, r: 6, method: "AES-256", perms: pdf.PermPrint, denied: pdf.PermModify | pdf.PermAnnotate | pdf.PermFillForms},
	{file: "aes256-modify-annotate.pdf", v: 5, r: 6, method: "AES-256", perms: pdf.PermAnnotate | pdf.PermFillForms, denied: pdf.PermModify},
	{file: "rc4-128.pdf", v: 2, r: 3, method: "RC4-128", perms: pdf.PermModify | pdf.PermAnnotate},
	{file: "rc4-40.pdf", v: 1, r: 2, method: "RC4-40", perms: pdf.PermModify | pdf.PermAnnotate},
	{file: "gs-rc4-128.pdf", v: 2, r: 3, method: "RC4-128", perms: pdf.PermModify | pdf.PermAnnotate},
	{file: "gs-rc4-128-no-changes.pdf", v: 2, r: 3, method: "RC4-128", denied: pdf.PermPrint | pdf.PermModify | pdf.PermAnnotate | pdf.PermFillForms},
	{file: "lo-rc4-128.pdf", v: 2, r: 3, method: "RC4-128", perms: pdf.PermModify | pdf.PermAnnotate | pdf.PermFillForms, denied: pdf.PermAssemble, source: "lo-source.pdf"},
	{file: "lo-rc4-128-comments-only.pdf", v: 2, r: 3, method: "RC4-128", perms: pdf.PermAnnotate, denied: pdf.PermModify, source: "lo-source.pdf"},
}

func readFixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(encDir, name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// pageText returns the number of pages and the decoded content stream of
// the first page.
func pageText(t *testing.T, d *pdf.Document) (int, []byte) {
	t.Helper()
	pages, err := d.Pages()
	if err != nil || len(pages) == 0 {
		t.Fatalf("pages: %d %v", len(pages), err)
	}
	pg, err := d.ResolveDict(pages[0])
	if err != nil {
		t.Fatal(err)
	}
	c, err := d.Resolve(pg["Contents"])
	if err != nil {
		t.Fatal(err)
	}
	if a, ok := c.(pdf.Array); ok {
		c, _ = d.Resolve(a[0])
	}
	s, ok := c.(*pdf.Stream)
	if !ok {
		t.Fatalf("page contents %T", c)
	}
	data, err := d.StreamData(s, 1<<20)
	if err != nil {
		t.Fatalf("StreamData: %v", err)
	}
	return len(pages), data
}

type clearDoc struct {
	pages    int
	text     []byte
	producer string
}

func readClear(t *testing.T, name string) clearDoc {
	t.Helper()
	d := openBytes(t, readFixture(t, name))
	if d.Encryption() != nil {
		t.Fatalf("%s reported as encrypted", name)
	}
	var c clearDoc
	c.pages, c.text = pageText(t, d)
	c.producer = infoString(t, d, "Producer")
	if c.producer == "" {
		t.Fatalf("%s has no /Producer", name)
	}
	return c
}

func infoString(t *testing.T, d *pdf.Document, key pdf.Name) string {
	t.Helper()
	info, err := d.ResolveDict(d.Trailer["Info"])
	if err != nil {
		t.Fatal(err)
	}
	s, _ := pdf.AsString(info[key])
	return string(s)
}

// TestOpenEncrypted reads every fixture through decryption and compares
// its page content and document information with the clear source.
func TestOpenEncrypted(t *testing.T) {
	sources := map[string]clearDoc{}
	for _, c := range encCases {
		t.Run(strings.TrimSuffix(c.file, ".pdf"), func(t *testing.T) {
			if c.source == "" {
				c.source = "source.pdf"
			}
			src, ok := sources[c.source]
			if !ok {
				src = readClear(t, c.source)
				sources[c.source] = src
			}
			b := readFixture(t, c.file)
			d := openBytes(t, b)
			e := d.Encryption()
			if e == nil {
				t.Fatal("Encryption() is nil")
			}
			if e.V != c.v || e.R != c.r || e.Method != c.method {
				t.Errorf("V %d R %d %s, want V %d R %d %s", e.V, e.R, e.Method, c.v, c.r, c.method)
			}
			if !e.Permissions.Has(c.perms) || e.Permissions&c.denied != 0 {
				t.Errorf("permissions %#x: want %#x set and %#x clear", uint32(e.Permissions), uint32(c.perms), uint32(c.denied))
			}
			if e.EncryptMetadata == c.clearM {
				t.Errorf("EncryptMetadata %v", e.EncryptMetadata)
			}
			if n, got := pageText(t, d); n != src.pages || !bytes.Equal(got, src.text) {
				t.Errorf("%d pages, page content after decryption\n%q\nwant %d pages,\n%q", n, got, src.pages, src.text)
			}
			if got := infoString(t, d, "Producer"); got != src.producer {
				t.Errorf("/Producer %q, want %q", got, src.producer)
			}
			if c.clearM || strings.HasPrefix(c.file, "aes") {
				cat, _, err := d.Catalog()
				if err != nil {
					t.Fatal(err)
				}
				m, err := d.Resolve(cat["Metadata"])
				if err != nil {
					t.Fatal(err)
				}
				if s, ok := m.(*pdf.Stream); ok {
					xmp, err := d.StreamData(s, 1<<20)
					if err != nil || !bytes.Contains(xmp, []byte("<x:xmpmeta")) {
						t.Errorf("metadata stream not read: %v %.40q", err, xmp)
					}
				}
			}
			testEncryptedUpdate(t, b, d, src.text)
		})
	}
}

// testEncryptedUpdate appends an update with a new string and stream and
// checks that our reader and qpdf both read them back, and that qpdf
// --check accepts the file.
func testEncryptedUpdate(t *testing.T, orig []byte, d *pdf.Document, wantText []byte) {
	t.Helper()
	cat, catRef, err := d.Catalog()
	if err != nil {
		t.Fatal(err)
	}
	const text = "added (by) an encrypted update \xe9"
	u := d.NewUpdate()
	sr := u.Add(&pdf.Stream{Dict: pdf.Dict{}, Data: []byte("stream data " + text)})
	r := u.Add(pdf.Dict{"Test": pdf.String{Value: []byte(text)}, "S": sr})
	nc := cat.Clone()
	nc["EsignTest"] = r
	u.Set(catRef, nc)
	built, err := u.Build()
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(built.Tail, []byte("added")) {
		t.Fatal("the update holds the new string in clear")
	}
	var out bytes.Buffer
	if _, err := built.WriteTo(bytes.NewReader(orig), &out); err != nil {
		t.Fatal(err)
	}
	check := func(t *testing.T, d2 *pdf.Document) {
		t.Helper()
		cat2, _, err := d2.Catalog()
		if err != nil {
			t.Fatal(err)
		}
		o, err := d2.ResolveDict(cat2["EsignTest"])
		if err != nil || o == nil {
			t.Fatalf("added object: %v %v", o, err)
		}
		if s, _ := pdf.AsString(o["Test"]); string(s) != text {
			t.Errorf("string read back %q", s)
		}
		so, _ := d2.Resolve(o["S"])
		st, ok := so.(*pdf.Stream)
		if !ok {
			t.Fatalf("stream read back: %T", so)
		}
		if data, err := d2.StreamData(st, 1<<20); err != nil || string(data) != "stream data "+text {
			t.Errorf("stream read back %q %v", data, err)
		}
		if _, got := pageText(t, d2); !bytes.Equal(got, wantText) {
			t.Error("page content changed")
		}
	}
	d2 := openBytes(t, out.Bytes())
	if d2.Encryption() == nil {
		t.Fatal("the update lost the encryption")
	}
	check(t, d2)

	qpdf := esigntest.Tool(t, "qpdf")
	dir := t.TempDir()
	p := filepath.Join(dir, "updated.pdf")
	if err := os.WriteFile(p, out.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	if msg, err := exec.Command(qpdf, "--check", p).CombinedOutput(); err != nil || bytes.Contains(msg, []byte("WARNING")) {
		t.Fatalf("qpdf --check: %v\n%s", err, msg)
	}
	plain := filepath.Join(dir, "decrypted.pdf")
	if msg, err := exec.Command(qpdf, "--decrypt", p, plain).CombinedOutput(); err != nil {
		t.Fatalf("qpdf --decrypt: %v\n%s", err, msg)
	}
	db, err := os.ReadFile(plain)
	if err != nil {
		t.Fatal(err)
	}
	d3 := openBytes(t, db)
	if d3.Encryption() != nil {
		t.Fatal("qpdf --decrypt left the file encrypted")
	}
	check(t, d3)
}

// TestOpenEncryptedRefused: a document that needs a user password is
// refused with a sentence saying so.
func TestOpenEncryptedRefused(t *testing.T) {
	for _, f := range []string{"aes128-user-password.pdf", "aes256-user-password.pdf"} {
		t.Run(strings.TrimSuffix(f, ".pdf"), func(t *testing.T) {
			b := readFixture(t, f)
			_, err := pdf.Open(bytes.NewReader(b), int64(len(b)))
			if esign.ErrorCode(err) != pdf.CodeEncrypted {
				t.Fatalf("error %v, want code %s", err, pdf.CodeEncrypted)
			}
			if msg := esign.ErrorMessage(err); !strings.Contains(msg, "encrypted with a password: not supported") {
				t.Errorf("message %q", msg)
			}
		})
	}
}

// TestOpenEncryptedTampered: permissions raised in /P of an AES-256 file
// without the owner password no longer match /Perms and are refused.
func TestOpenEncryptedTampered(t *testing.T) {
	b := readFixture(t, "aes256-modify-none.pdf")
	i := bytes.Index(b, []byte("/P -1324"))
	if i < 0 {
		t.Fatal("no /P -1324 in the fixture")
	}
	b = bytes.Replace(b, []byte("/P -1324"), []byte("/P -0004"), 1)
	_, err := pdf.Open(bytes.NewReader(b), int64(len(b)))
	if esign.ErrorCode(err) != pdf.CodeEncrypted || !strings.Contains(esign.ErrorMessage(err), "altered") {
		t.Fatalf("error %v", err)
	}
}

func FuzzOpenEncrypted(f *testing.F) {
	for _, c := range encCases {
		f.Add(readFixture(f, c.file))
	}
	f.Add(readFixture(f, "aes256-user-password.pdf"))
	f.Fuzz(func(t *testing.T, b []byte) {
		d, err := pdf.Open(bytes.NewReader(b), int64(len(b)))
		if err != nil {
			return
		}
		for num := 0; num <= min(d.MaxObjectNumber(), 200); num++ {
			o, err := d.Object(num)
			if s, ok := o.(*pdf.Stream); ok && err == nil {
				d.StreamData(s, 1<<20)
			}
		}
		u := d.NewUpdate()
		u.Add(pdf.Dict{"S": pdf.String{Value: []byte("x")}})
		u.Add(&pdf.Stream{Dict: pdf.Dict{}, Data: []byte("y")})
		u.Build()
	})
}

// BenchmarkOpenEncrypted measures opening (key derivation included) and
// reading the first page of an encrypted document.
func BenchmarkOpenEncrypted(b *testing.B) {
	for _, f := range []string{"source.pdf", "rc4-128.pdf", "aes128.pdf", "aes256.pdf"} {
		data := readFixture(b, f)
		b.Run(strings.TrimSuffix(f, ".pdf"), func(b *testing.B) {
			for b.Loop() {
				d, err := pdf.Open(bytes.NewReader(data), int64(len(data)))
				if err != nil {
					b.Fatal(err)
				}
				pages, err := d.Pages()
				if err != nil || len(pages) == 0 {
					b.Fatal(err)
				}
			}
		})
	}
}

// TestSignatureContentsInClear: the /Contents of a signature dictionary is
// written and read unencrypted (ISO 32000-1 7.6.1), every other string is
// encrypted.
func TestSignatureContentsInClear(t *testing.T) {
	contents := pdf.String{Value: []byte("\x30\x82CMS-bytes"), Hex: true}
	tests := []struct {
		name  string
		dict  pdf.Dict
		clear bool // /Contents written in clear
	}{
		{"sig", pdf.Dict{"Type": pdf.Name("Sig"), "Contents": contents}, true},
		{"doc_timestamp", pdf.Dict{"Type": pdf.Name("DocTimeStamp"), "Contents": contents}, true},
		{"untyped_with_byterange", pdf.Dict{"ByteRange": pdf.Array{pdf.Int(0), pdf.Int(1), pdf.Int(2), pdf.Int(3)}, "Contents": contents}, true},
		{"annotation", pdf.Dict{"Type": pdf.Name("Annot"), "Contents": contents}, false},
		{"untyped_without_byterange", pdf.Dict{"Contents": contents}, false},
	}
	for _, f := range []string{"aes128.pdf", "aes256.pdf", "rc4-40.pdf"} {
		orig := readFixture(t, f)
		for _, tt := range tests {
			t.Run(strings.TrimSuffix(f, ".pdf")+"/"+tt.name, func(t *testing.T) {
				d := openBytes(t, orig)
				u := d.NewUpdate()
				dict := tt.dict.Clone()
				dict["M"] = pdf.String{Value: []byte("D:20260101000000Z")}
				r := u.Add(dict)
				built, err := u.Build()
				if err != nil {
					t.Fatal(err)
				}
				hexContents := pdf.Format(nil, contents)
				if got := bytes.Contains(built.Tail, hexContents); got != tt.clear {
					t.Errorf("/Contents in clear: %v, want %v", got, tt.clear)
				}
				if bytes.Contains(built.Tail, []byte("D:2026")) {
					t.Error("/M written in clear")
				}
				out := append(append([]byte(nil), orig...), built.Tail...)
				o, err := openBytes(t, out).Object(r.Num)
				if err != nil {
					t.Fatal(err)
				}
				got, _ := o.(pdf.Dict)
				if c, _ := pdf.AsString(got["Contents"]); !bytes.Equal(c, contents.Value) {
					t.Errorf("/Contents read back %q", c)
				}
				if m, _ := pdf.AsString(got["M"]); string(m) != "D:20260101000000Z" {
					t.Errorf("/M read back %q", m)
				}
			})
		}
	}
}
