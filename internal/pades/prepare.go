package pades

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"strconv"
	"sync"
	"time"

	"esign/internal/esign"
	"esign/internal/pdf"
)

// DefaultContentsSize is the number of bytes reserved for the CMS
// SignedData when PrepareOptions.ContentsSize is zero: room for a B-T
// signature with two chains of RSA-4096 certificates.
const DefaultContentsSize = 20 << 10

// byteRangePlaceholder is patched in place with the real values, padded
// with spaces; ten digits per number allow files up to 9.3 GB.
const byteRangePlaceholder = "[0 0000000000 0000000000 0000000000]"

// PrepareOptions describe the signature to prepare.
type PrepareOptions struct {
	Time         time.Time // goes into /M; default now (the CMS carries no signing-time)
	Name         string    // /Name: the signer's name (optional)
	Reason       string    // /Reason (optional)
	Location     string    // /Location (optional)
	ContactInfo  string    // /ContactInfo (optional)
	FieldName    string    // default "Signature<n>", the first unused n
	ContentsSize int       // bytes reserved for the CMS; default DefaultContentsSize
	// Appearance makes the signature visible; nil: an invisible signature.
	Appearance *Appearance
	// Attachments are embedded files added in the same incremental update
	// (so that the signature covers them).
	Attachments []Attachment
	// Info are entries added to the document information dictionary in
	// the same update (so that the signature covers them): new names
	// only, a name the dictionary has is refused (ErrInfoExists).
	Info map[string]string

	docTimeStamp bool // a /DocTimeStamp (PAdES B-LTA) instead of a /Sig

	// for the test fixtures of other signers' documents (see
	// testdata/inputs/make.sh): another /SubFilter, a certification
	// signature with these DocMDP permissions
	subFilter pdf.Name
	docMDP    int
}

// Prepared is a PDF with a signature placeholder: ByteRange fixed, digest
// computed, /Contents still zeros.
type Prepared struct {
	Digest         []byte   // SHA-256 over the two byte ranges
	ByteRange      [4]int64 // offsets and lengths of the signed ranges
	ContentsOffset int64    // offset of the '<' that opens the /Contents hex string
	ContentsSize   int      // bytes available for the DER CMS

	brOffset int64 // offset of the ByteRange placeholder

	// For continuing the hash of the whole file (B-LTA) without reading
	// it back: the hash of the bytes before the update and the update
	// itself, into which Embed copies the signature too.
	prefix hash.Hash
	tail   []byte
	base   int64 // offset of tail in the file
}

// CMSSigner builds a CMS SignedData (DER ContentInfo) over a SHA-256 digest
// of the ByteRange. For PAdES B-T the result already carries the signature
// time-stamp. pdfservice implements it with the bank's key; LocalSigner
// implements it in-process.
type CMSSigner interface {
	SignDigest(ctx context.Context, digest []byte) ([]byte, error)
}

// Prepare reads the PDF in (size bytes), writes it unchanged to out followed
// by an incremental update with a signature field and a signature
// dictionary whose /Contents is a zero placeholder, and returns the digest
// the CMS must sign. The input is streamed, never held in memory. Embed then
// fills the placeholder in out.
//
// It refuses (esign.Invalid) what is not a readable PDF (pdf.Open's codes)
// and what must not be signed (CodePolyglot, CodeCertifiedNoChanges; see
// CheckSignable).
func Prepare(ctx context.Context, in io.ReaderAt, size int64, out io.Writer, opt PrepareOptions) (*Prepared, error) {
	doc, err := pdf.Open(in, size)
	if err != nil {
		return nil, err
	}
	if err := checkSignable(doc); err != nil {
		return nil, err
	}
	return prepareDoc(ctx, doc, in, size, out, opt)
}

// prepareDoc is Prepare after the checks.
func prepareDoc(ctx context.Context, doc *pdf.Document, in io.ReaderAt, size int64, out io.Writer, opt PrepareOptions) (*Prepared, error) {
	const op = "pades.Prepare"
	built, p, err := buildSignatureUpdate(doc, opt)
	if err != nil {
		return nil, pdf.Unreadable(op, err)
	}
	h := sha256.New()
	// original bytes: copied and hashed in one pass
	if err := copyHash(ctx, out, h, in, 0, size); err != nil {
		return nil, esign.E(op, fmt.Errorf("pades: copy input: %w", err))
	}
	if c, ok := h.(hash.Cloner); ok {
		if pre, err := c.Clone(); err == nil {
			p.prefix = pre
		}
	}
	if err := finishTail(built, p, h, out); err != nil {
		return nil, esign.E(op, err)
	}
	return p, nil
}

// prepareInPlace appends a signature update to the file f (size bytes)
// itself. h, if not nil, is the SHA-256 state over exactly those size
// bytes (carried along while they were written); otherwise they are read
// back and hashed.
func prepareInPlace(ctx context.Context, f ReadWriterAt, size int64, opt PrepareOptions, h hash.Hash) (*Prepared, error) {
	doc, err := pdf.Open(f, size)
	if err != nil {
		return nil, err
	}
	built, p, err := buildSignatureUpdate(doc, opt)
	if err != nil {
		return nil, err
	}
	if h == nil {
		h = sha256.New()
		if err := copyHash(ctx, nil, h, f, 0, size); err != nil {
			return nil, fmt.Errorf("pades: read back: %w", err)
		}
	}
	if err := finishTail(built, p, h, &offsetWriter{w: f, off: size}); err != nil {
		return nil, err
	}
	return p, nil
}

// ReadWriterAt is a file that updates are appended to in place (*os.File).
type ReadWriterAt interface {
	io.ReaderAt
	io.WriterAt
}

type offsetWriter struct {
	w   io.WriterAt
	off int64
}

func (o *offsetWriter) Write(b []byte) (int, error) {
	n, err := o.w.WriteAt(b, o.off)
	o.off += int64(n)
	return n, err
}

// finishTail patches the ByteRange into the tail, hashes the tail outside
// the /Contents gap and writes it.
func finishTail(built *pdf.Built, p *Prepared, h io.Writer, out io.Writer) error {
	total := built.TotalSize()
	gapStart := p.ContentsOffset
	gapEnd := gapStart + 2 + 2*int64(p.ContentsSize)
	p.ByteRange = [4]int64{0, gapStart, gapEnd, total - gapEnd}
	br := fmt.Sprintf("[0 %d %d %d]", p.ByteRange[1], p.ByteRange[2], p.ByteRange[3])
	if len(br) > len(byteRangePlaceholder) {
		return errors.New("pades: file too large for the ByteRange placeholder")
	}
	br += string(bytes.Repeat([]byte{' '}, len(byteRangePlaceholder)-len(br)))
	tail := built.Tail
	brOff := int(p.brOffset - built.Size)
	copy(tail[brOff:], br)
	gs, ge := int(gapStart-built.Size), int(gapEnd-built.Size)
	h.Write(tail[:gs])
	h.Write(tail[ge:])
	p.Digest = h.(interface{ Sum([]byte) []byte }).Sum(nil)
	if _, err := out.Write(tail); err != nil {
		return fmt.Errorf("pades: write update: %w", err)
	}
	p.tail, p.base = tail, built.Size
	return nil
}

// revisionHash returns the SHA-256 state over the whole signed revision
// (the input and the update with the embedded signature), or nil if
// Prepare could not keep it. Call it after Embed.
func (p *Prepared) revisionHash() hash.Hash {
	if p.prefix == nil || p.tail == nil {
		return nil
	}
	c, err := p.prefix.(hash.Cloner).Clone()
	if err != nil {
		return nil
	}
	c.Write(p.tail)
	return c
}

// Embed writes the DER CMS (or time-stamp token) into the /Contents
// placeholder of the prepared file w.
func (p *Prepared) Embed(w io.WriterAt, der []byte) error {
	const op = "pades.Embed"
	if len(der) == 0 {
		return esign.E(op, esign.Invalid, "empty signature")
	}
	if len(der) > p.ContentsSize {
		return &esign.Error{Op: op, Kind: esign.Invalid, Code: "contents_too_small",
			Msg: fmt.Sprintf("the signature needs %d bytes but only %d are reserved; raise ContentsSize", len(der), p.ContentsSize)}
	}
	buf := make([]byte, 2*len(der))
	hex.Encode(buf, der)
	if _, err := w.WriteAt(buf, p.ContentsOffset+1); err != nil {
		return esign.E(op, fmt.Errorf("pades: embed: %w", err))
	}
	if p.tail != nil {
		copy(p.tail[p.ContentsOffset+1-p.base:], buf)
	}
	return nil
}

// buildSignatureUpdate creates the update objects and computes the offsets
// of the ByteRange and /Contents placeholders.
func buildSignatureUpdate(doc *pdf.Document, opt PrepareOptions) (*pdf.Built, *Prepared, error) {
	if opt.ContentsSize <= 0 {
		opt.ContentsSize = DefaultContentsSize
	}
	if opt.ContentsSize > 1<<20 {
		return nil, nil, esign.E("pades.Prepare", esign.Invalid, "ContentsSize larger than 1 MiB")
	}
	if opt.Time.IsZero() {
		opt.Time = time.Now()
	}
	if err := SignPermitted(doc); err != nil {
		return nil, nil, err
	}
	u := doc.NewUpdate()
	cat, catRef, err := doc.Catalog()
	if err != nil {
		return nil, nil, err
	}
	cat = cat.Clone()
	pages, err := doc.Pages()
	if err != nil {
		return nil, nil, err
	}
	if len(pages) == 0 {
		return nil, nil, esign.E("pades.Prepare", esign.Invalid, "the PDF has no pages")
	}

	// The signature dictionary, written as raw syntax so that the offsets
	// of its placeholders inside the object are known. In an encrypted
	// document its strings are encrypted with its object's key, except
	// /Contents (ISO 32000-1 7.6.1).
	sig := make([]byte, 0, 2*opt.ContentsSize+512)
	sig = append(sig, "<</ByteRange "...)
	brIn := len(sig)
	sig = append(sig, byteRangePlaceholder...)
	sig = append(sig, "/Contents "...)
	cIn := len(sig)
	sig = append(sig, '<')
	sig = appendZeros(sig, 2*opt.ContentsSize)
	sig = append(sig, '>')
	rest := pdf.Dict{"Filter": pdf.Name("Adobe.PPKLite")}
	if opt.docTimeStamp {
		rest["Type"] = pdf.Name("DocTimeStamp")
		rest["SubFilter"] = pdf.Name("ETSI.RFC3161")
	} else {
		rest["Type"] = pdf.Name("Sig")
		rest["SubFilter"] = pdf.Name("ETSI.CAdES.detached")
		if opt.subFilter != "" {
			rest["SubFilter"] = opt.subFilter
		}
		if opt.docMDP > 0 {
			rest["Reference"] = pdf.Array{pdf.Dict{"Type": pdf.Name("SigRef"), "TransformMethod": pdf.Name("DocMDP"),
				"TransformParams": pdf.Dict{"Type": pdf.Name("TransformParams"), "P": pdf.Int(opt.docMDP), "V": pdf.Name("1.2")}}}
		}
		rest["M"] = pdf.String{Value: []byte(pdfDate(opt.Time))}
		for k, v := range map[pdf.Name]string{"Name": opt.Name, "Reason": opt.Reason, "Location": opt.Location, "ContactInfo": opt.ContactInfo} {
			if v != "" {
				rest[k] = textString(v)
			}
		}
		rest["Prop_Build"] = pdf.Dict{"App": pdf.Dict{"Name": pdf.Name("esign")}}
	}
	restE, err := u.Encrypt(u.Next(), rest) // the object Add gives it below
	if err != nil {
		return nil, nil, err
	}
	restB := pdf.Format(nil, restE)
	sig = append(sig, restB[2:]...) // drop "<<" of the formatted rest
	sigRef := u.Add(pdf.Raw(sig))
	if opt.docMDP > 0 {
		cat["Perms"] = pdf.Dict{"DocMDP": sigRef}
	}

	// The field (merged with its widget annotation).
	acro, acroRef, err := resolveAcroForm(doc, cat)
	if err != nil {
		return nil, nil, err
	}
	fields, err := resolveArray(doc, acro["Fields"])
	if err != nil {
		return nil, nil, err
	}
	name := opt.FieldName
	if name == "" {
		name = uniqueFieldName(doc, fields)
	}
	pageIdx := 0
	if opt.Appearance != nil && opt.Appearance.Page > 0 {
		pageIdx = opt.Appearance.Page - 1
		if pageIdx >= len(pages) {
			return nil, nil, esign.Errorf("pades.Prepare", esign.Invalid, "page %d does not exist (the PDF has %d)", opt.Appearance.Page, len(pages))
		}
	}
	pageRef := pages[pageIdx]
	widget := pdf.Dict{
		"Type": pdf.Name("Annot"), "Subtype": pdf.Name("Widget"), "FT": pdf.Name("Sig"),
		"T": textString(name), "V": sigRef, "F": pdf.Int(132), "P": pageRef,
		"Rect": pdf.Array{pdf.Int(0), pdf.Int(0), pdf.Int(0), pdf.Int(0)},
	}
	if opt.Appearance != nil {
		if err := opt.Appearance.addTo(u, widget); err != nil {
			return nil, nil, err
		}
	} else {
		// an empty appearance, so that viewers need not synthesize one
		widget["AP"] = pdf.Dict{"N": u.Add(&pdf.Stream{Dict: pdf.Dict{"Type": pdf.Name("XObject"), "Subtype": pdf.Name("Form"),
			"BBox": pdf.Array{pdf.Int(0), pdf.Int(0), pdf.Int(0), pdf.Int(0)}}})}
	}
	widgetRef := u.Add(widget)

	acro = acro.Clone()
	acro["Fields"] = append(fields, widgetRef)
	acro["SigFlags"] = pdf.Int(3)
	if acroRef != nil {
		u.Set(*acroRef, acro)
	} else {
		cat["AcroForm"] = u.Add(acro)
	}

	// The page's /Annots.
	page, err := doc.ResolveDict(pageRef)
	if err != nil {
		return nil, nil, err
	}
	if ar, ok := page["Annots"].(pdf.Ref); ok {
		annots, err := resolveArray(doc, ar)
		if err != nil {
			return nil, nil, err
		}
		u.Set(ar, append(annots, widgetRef))
	} else {
		annots, _ := pdf.AsArray(page["Annots"])
		np := page.Clone()
		np["Annots"] = append(append(pdf.Array(nil), annots...), widgetRef)
		u.Set(pageRef, np)
	}

	if len(opt.Attachments) > 0 {
		if err := addAttachments(doc, u, cat, opt.Attachments, opt.Time); err != nil {
			return nil, nil, err
		}
	}
	if len(opt.Info) > 0 {
		if err := addInfo(doc, u, opt.Info); err != nil {
			return nil, nil, err
		}
	}
	u.Set(catRef, cat)

	built, err := u.Build()
	if err != nil {
		return nil, nil, err
	}
	base := built.Offsets[sigRef.Num] + int64(built.Headers[sigRef.Num])
	p := &Prepared{ContentsOffset: base + int64(cIn), ContentsSize: opt.ContentsSize, brOffset: base + int64(brIn)}
	return built, p, nil
}

func resolveAcroForm(doc *pdf.Document, cat pdf.Dict) (pdf.Dict, *pdf.Ref, error) {
	switch a := cat["AcroForm"].(type) {
	case pdf.Ref:
		d, err := doc.ResolveDict(a)
		if err != nil {
			return nil, nil, err
		}
		if d == nil {
			return pdf.Dict{}, nil, nil
		}
		return d, &a, nil
	case pdf.Dict:
		return a, nil, nil
	}
	return pdf.Dict{}, nil, nil
}

func resolveArray(doc *pdf.Document, o pdf.Object) (pdf.Array, error) {
	v, err := doc.Resolve(o)
	if err != nil {
		return nil, err
	}
	a, _ := pdf.AsArray(v)
	return append(pdf.Array(nil), a...), nil
}

func uniqueFieldName(doc *pdf.Document, fields pdf.Array) string {
	used := map[string]bool{}
	for _, f := range fields {
		d, err := doc.ResolveDict(f)
		if err != nil || d == nil {
			continue
		}
		if t, ok := pdf.AsString(d["T"]); ok {
			used[decodeText(t)] = true
		}
	}
	for n := 1; ; n++ {
		name := "Signature" + strconv.Itoa(n)
		if !used[name] {
			return name
		}
	}
}

// appendZeros appends n ASCII '0' characters to b.
func appendZeros(b []byte, n int) []byte {
	z := len(b)
	b = append(b, make([]byte, n)...)
	b[z] = '0'
	for done := 1; done < n; done *= 2 {
		copy(b[z+done:], b[z:z+done])
	}
	return b
}

// pdfDate formats t as a PDF date string in UTC.
func pdfDate(t time.Time) string {
	return t.UTC().Format("D:20060102150405Z")
}

// textString encodes s as a PDF text string: PDFDocEncoding-compatible
// Latin-1 when possible, UTF-16BE with a BOM otherwise.
func textString(s string) pdf.String {
	latin := true
	for _, r := range s {
		if r > 0x7e || r < 0x20 {
			latin = false
			break
		}
	}
	if latin {
		return pdf.String{Value: []byte(s)}
	}
	b := []byte{0xfe, 0xff}
	for _, r := range s {
		if r > 0xffff {
			r -= 0x10000
			hi, lo := 0xd800+(r>>10), 0xdc00+(r&0x3ff)
			b = append(b, byte(hi>>8), byte(hi), byte(lo>>8), byte(lo))
			continue
		}
		b = append(b, byte(r>>8), byte(r))
	}
	return pdf.String{Value: b, Hex: true}
}

func decodeText(b []byte) string {
	if len(b) >= 2 && b[0] == 0xfe && b[1] == 0xff {
		var rs []rune
		for i := 2; i+1 < len(b); i += 2 {
			r := rune(b[i])<<8 | rune(b[i+1])
			if r >= 0xd800 && r < 0xdc00 && i+3 < len(b) {
				lo := rune(b[i+2])<<8 | rune(b[i+3])
				r = 0x10000 + (r-0xd800)<<10 + (lo - 0xdc00)
				i += 2
			}
			rs = append(rs, r)
		}
		return string(rs)
	}
	rs := make([]rune, len(b))
	for i, c := range b {
		rs[i] = rune(c)
	}
	return string(rs)
}

// copyBufSize is the chunk copyHash reads, hashes and writes at a time:
// large enough that syscalls cost little against hashing (1 MiB takes
// ~0.6 ms to hash), small enough to keep memory flat for any file size.
const copyBufSize = 256 << 10

// copyBufs recycles copyHash's buffers: allocating (and zeroing) 256 KiB per
// signature costs more than hashing a 100 KB document.
var copyBufs = sync.Pool{New: func() any { b := make([]byte, copyBufSize); return &b }}

// copyHash reads the n bytes of in at off once, in large chunks, and
// feeds each chunk to h and then to out (nil: hash only). It checks ctx
// between chunks and fails if in ends early.
func copyHash(ctx context.Context, out io.Writer, h hash.Hash, in io.ReaderAt, off, n int64) error {
	bp := copyBufs.Get().(*[]byte)
	defer copyBufs.Put(bp)
	buf := *bp
	for end := off + n; off < end; {
		if err := ctx.Err(); err != nil {
			return err
		}
		chunk := buf[:min(int64(len(buf)), end-off)]
		m, err := in.ReadAt(chunk, off)
		if m < len(chunk) {
			if err == nil || err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return err
		}
		h.Write(chunk)
		if out != nil {
			if _, err := out.Write(chunk); err != nil {
				return err
			}
		}
		off += int64(m)
	}
	return nil
}
