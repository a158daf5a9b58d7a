package pades

import (
	"bytes"
	"compress/zlib"
	"crypto/md5"
	"io"
	"sort"
	"sync"
	"time"

	"esign/internal/esign"
	"esign/internal/pdf"
)

// Attachment is a file embedded in the signed update (e.g. the evidence
// bundle of the customer's signature).
type Attachment struct {
	Name        string // file name shown by viewers
	Description string // optional
	MIMEType    string // e.g. "application/json"
	Data        []byte
}

// addAttachments adds embedded files to the catalog's /Names
// /EmbeddedFiles name tree (a flat tree; one with /Kids is refused) and to the PDF 2.0 /AF array.
func addAttachments(doc *pdf.Document, u *pdf.Update, cat pdf.Dict, atts []Attachment, now time.Time) error {
	const op = "pades.Prepare"
	names, err := doc.ResolveDict(cat["Names"])
	if err != nil {
		return err
	}
	names = names.Clone()
	tree, err := doc.ResolveDict(names["EmbeddedFiles"])
	if err != nil {
		return err
	}
	type entry struct {
		key string
		val pdf.Object
	}
	var entries []entry
	if tree != nil {
		arr, err := resolveArray(doc, tree["Names"])
		if err != nil {
			return err
		}
		for i := 0; i+1 < len(arr); i += 2 {
			k, _ := pdf.AsString(arr[i])
			entries = append(entries, entry{string(k), arr[i+1]})
		}
		if _, ok := tree["Kids"]; ok {
			return esign.WithCode(op, esign.Invalid, "unsupported", "the PDF's embedded-files name tree has /Kids; attaching to it is not supported")
		}
	}
	af, _ := resolveArray(doc, cat["AF"])
	for _, a := range atts {
		if a.Name == "" {
			return esign.E(op, esign.Invalid, "attachment without a name")
		}
		var z bytes.Buffer
		zw := zlibWriters.Get().(*zlib.Writer)
		zw.Reset(&z)
		zw.Write(a.Data)
		zw.Close()
		zlibWriters.Put(zw)
		sum := md5.Sum(a.Data) // /CheckSum is defined as MD5 by ISO 32000
		params := pdf.Dict{"Size": pdf.Int(len(a.Data)), "ModDate": pdf.String{Value: []byte(pdfDate(now))},
			"CheckSum": pdf.String{Value: sum[:], Hex: true}}
		ef := pdf.Dict{"Type": pdf.Name("EmbeddedFile"), "Filter": pdf.Name("FlateDecode"), "Params": params}
		if a.MIMEType != "" {
			ef["Subtype"] = pdf.Name(a.MIMEType)
		}
		efRef := u.Add(&pdf.Stream{Dict: ef, Data: z.Bytes()})
		fs := pdf.Dict{"Type": pdf.Name("Filespec"), "F": textString(a.Name), "UF": textString(a.Name),
			"EF": pdf.Dict{"F": efRef, "UF": efRef}, "AFRelationship": pdf.Name("Supplement")}
		if a.Description != "" {
			fs["Desc"] = textString(a.Description)
		}
		fsRef := u.Add(fs)
		entries = append(entries, entry{a.Name, fsRef})
		af = append(af, fsRef)
	}
	sort.SliceStable(entries, func(i, j int) bool { return entries[i].key < entries[j].key })
	var arr pdf.Array
	for _, e := range entries {
		arr = append(arr, pdf.String{Value: []byte(e.key)}, e.val)
	}
	names["EmbeddedFiles"] = u.Add(pdf.Dict{"Names": arr})
	if r, ok := cat["Names"].(pdf.Ref); ok {
		u.Set(r, names)
	} else {
		cat["Names"] = names
	}
	cat["AF"] = af
	return nil
}

// zlibWriters reuses compressors: a new one allocates about 1 MB of state,
// which costs more than compressing an evidence bundle.
var zlibWriters = sync.Pool{New: func() any { return zlib.NewWriter(nil) }}

// EmbeddedFiles returns the files of the catalog's /EmbeddedFiles name
// tree (a flat one, as Sign writes it), their data decoded; a file larger
// than limit bytes is refused. Names are the tree's keys. Errors: Invalid
// (not a PDF, a tree with /Kids, a malformed file specification or a file
// over the limit).
func EmbeddedFiles(r io.ReaderAt, size, limit int64) ([]Attachment, error) {
	const op = "pades.EmbeddedFiles"
	doc, err := pdf.Open(r, size)
	if err != nil {
		return nil, err
	}
	cat, _, err := doc.Catalog()
	if err != nil {
		return nil, esign.E(op, esign.Invalid, "the PDF has no readable catalog", err)
	}
	names, err := doc.ResolveDict(cat["Names"])
	if err != nil || names == nil {
		return nil, nil
	}
	tree, err := doc.ResolveDict(names["EmbeddedFiles"])
	if err != nil || tree == nil {
		return nil, nil
	}
	if _, ok := tree["Kids"]; ok {
		return nil, esign.WithCode(op, esign.Invalid, "unsupported", "the PDF's embedded-files name tree has /Kids")
	}
	arr, err := resolveArray(doc, tree["Names"])
	if err != nil {
		return nil, esign.E(op, esign.Invalid, "the embedded-files name tree is malformed", err)
	}
	var out []Attachment
	for i := 0; i+1 < len(arr); i += 2 {
		key, ok := pdf.AsString(arr[i])
		if !ok {
			return nil, esign.E(op, esign.Invalid, "an embedded file's name is not a string")
		}
		fs, err := doc.ResolveDict(arr[i+1])
		if err != nil || fs == nil {
			return nil, esign.Errorf(op, esign.Invalid, "the file specification of %q is malformed", key)
		}
		ef, err := doc.ResolveDict(fs["EF"])
		if err != nil || ef == nil {
			return nil, esign.Errorf(op, esign.Invalid, "the file specification of %q has no /EF", key)
		}
		ref := ef["UF"]
		if ref == nil {
			ref = ef["F"]
		}
		o, err := doc.Resolve(ref)
		if err != nil {
			return nil, esign.Errorf(op, esign.Invalid, "the embedded file %q cannot be read: %v", key, err)
		}
		st, ok := o.(*pdf.Stream)
		if !ok {
			return nil, esign.Errorf(op, esign.Invalid, "the embedded file %q is not a stream", key)
		}
		data, err := doc.StreamData(st, limit)
		if err != nil {
			return nil, esign.Errorf(op, esign.Invalid, "the embedded file %q cannot be decoded: %v", key, err)
		}
		a := Attachment{Name: string(key), Data: data}
		if mt, ok := pdf.AsName(st.Dict["Subtype"]); ok {
			a.MIMEType = string(mt)
		}
		out = append(out, a)
	}
	return out, nil
}

// UpdateStarts returns, oldest first, the offsets where the incremental
// updates of the PDF begin (the first object an update writes): the bytes
// before one are the file as it was before that update, possibly with one
// line feed the update added. The original revision has no entry.
func UpdateStarts(r io.ReaderAt, size int64) ([]int64, error) {
	doc, err := pdf.Open(r, size)
	if err != nil {
		return nil, err
	}
	var out []int64
	for i := len(doc.Sections) - 2; i >= 0; i-- { // newest first; skip the original
		s := doc.Sections[i]
		start := s.Offset
		for _, n := range s.Objects {
			if off, ok := s.ObjectOffset(n); ok && off >= 0 && off < start {
				start = off
			}
		}
		out = append(out, start)
	}
	return out, nil
}
