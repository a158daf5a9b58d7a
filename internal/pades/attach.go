package pades

import (
	"bytes"
	"compress/zlib"
	"crypto/md5"
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
