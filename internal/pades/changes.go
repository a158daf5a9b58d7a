package pades

import (
	"bytes"
	"crypto/sha256"
	"io"
	"sort"

	"esign/internal/pdf"
)

// Change kinds. Allowed after a signature: kindAdded (a new object, which
// matters only through changed ones), kindDSS, kindSignature (new
// signature fields, widgets, signature dictionaries, AcroForm and catalog
// entries for them), kindFormFill (field values, when DocMDP permits).
const (
	kindAdded         = "added"
	kindDSS           = "dss"
	kindSignature     = "signature_field"
	kindFormFill      = "form_fill"
	kindCatalog       = "catalog_modified"
	kindPage          = "page_modified"
	kindAnnotation    = "annotation_added"
	kindStream        = "stream_modified"
	kindObject        = "object_modified"
	kindDeleted       = "object_deleted"
	kindReusedNumber  = "object_revealed"
	kindUnchanged     = ""
	maxComparedStream = 64 << 20
)

func docMDP(d pdf.Dict, doc *pdf.Document) int64 {
	refs, _ := resolveArray(doc, d["Reference"])
	for _, r := range refs {
		rd, err := doc.ResolveDict(r)
		if err != nil || rd == nil || rd["TransformMethod"] != pdf.Name("DocMDP") {
			continue
		}
		tp, _ := doc.ResolveDict(rd["TransformParams"])
		if p, ok := pdf.AsInt(tp.Get("P")); ok && p >= 1 && p <= 3 {
			return p
		}
		return 2
	}
	return 0 // not a certification signature
}

// changesAfter lists the objects that revisions after the signed one
// (ending at end) add or change, and flags the disallowed ones.
func (v *verifier) changesAfter(rep *SignatureReport, s sigRef, end int64) {
	signed, err := pdf.Open(io.NewSectionReader(v.r, 0, end), end)
	if err != nil {
		return // reported by checkByteRange
	}
	nums := map[int]bool{}
	for _, sec := range v.doc.Sections {
		if sec.Offset >= end {
			for _, n := range sec.Objects {
				nums[n] = true
			}
		}
	}
	sorted := make([]int, 0, len(nums))
	for n := range nums {
		sorted = append(sorted, n)
	}
	sort.Ints(sorted)
	p := docMDP(s.dict, v.doc)
	c := &comparer{old: signed, cur: v.doc}
	for _, n := range sorted {
		kind, allowed := c.classify(n, p)
		if kind == kindUnchanged {
			continue
		}
		rep.Changes = append(rep.Changes, Change{Object: n, Kind: kind, Allowed: allowed})
		if allowed {
			continue
		}
		rep.Modified = true
		switch kind {
		case kindStream, kindPage:
			rep.fail(AttackIncrementalSaving, "object %d was changed after signing (%s)", n, kind)
		default:
			rep.fail(AttackShadow, "object %d was changed after signing (%s)", n, kind)
		}
	}
}

type comparer struct {
	old, cur *pdf.Document
	dangling map[int]bool // numbers the signed revision refers to but does not define
}

// danglingRefs walks the signed revision from the trailer and returns the
// object numbers it refers to without defining them: content an attacker
// could reveal later by defining them.
func danglingRefs(d *pdf.Document) map[int]bool {
	out := map[int]bool{}
	seen := map[int]bool{}
	var queue []pdf.Object
	queue = append(queue, d.Trailer["Root"], d.Trailer["Info"])
	const maxObjects = 1 << 20
	for len(queue) > 0 && len(seen) < maxObjects {
		o := queue[len(queue)-1]
		queue = queue[:len(queue)-1]
		switch x := o.(type) {
		case pdf.Ref:
			if seen[x.Num] {
				continue
			}
			seen[x.Num] = true
			if !d.Defined(x.Num) {
				out[x.Num] = true
				continue
			}
			v, err := d.Object(x.Num)
			if err == nil {
				queue = append(queue, v)
			}
		case pdf.Dict:
			for _, v := range x {
				queue = append(queue, v)
			}
		case pdf.Array:
			queue = append(queue, []pdf.Object(x)...)
		case *pdf.Stream:
			queue = append(queue, x.Dict)
		}
	}
	return out
}

func (c *comparer) classify(n int, docmdp int64) (string, bool) {
	oldDef, curDef := c.old.Defined(n), c.cur.Defined(n)
	o, oerr := c.old.Object(n)
	cur, cerr := c.cur.Object(n)
	if cerr != nil {
		return kindObject, false
	}
	if isContainer(cur) || (oerr == nil && isContainer(o)) {
		return kindUnchanged, true // xref and object streams: their objects are compared one by one
	}
	if !curDef {
		if oldDef {
			return kindDeleted, false
		}
		return kindUnchanged, true
	}
	if !oldDef || oerr != nil {
		if c.dangling == nil {
			c.dangling = danglingRefs(c.old)
		}
		if c.dangling[n] {
			// the signed revision refers to this object, which read as
			// null when it was signed and now has content
			return kindReusedNumber, false
		}
		return kindAdded, true
	}
	if c.equal(o, cur) {
		return kindUnchanged, true
	}
	od, oIsDict := o.(pdf.Dict)
	nd, nIsDict := cur.(pdf.Dict)
	switch {
	case oIsDict && nIsDict:
		return c.classifyDict(od, nd, docmdp)
	case isArray(o) && isArray(cur):
		if c.onlyAddsSignatureWidgets(o.(pdf.Array), cur.(pdf.Array)) && docmdp != 1 {
			return kindSignature, true
		}
		return kindObject, false
	}
	if _, ok := o.(*pdf.Stream); ok {
		return kindStream, false
	}
	return kindObject, false
}

func isContainer(o pdf.Object) bool {
	s, ok := o.(*pdf.Stream)
	return ok && (s.Dict["Type"] == pdf.Name("XRef") || s.Dict["Type"] == pdf.Name("ObjStm"))
}

func isArray(o pdf.Object) bool { _, ok := o.(pdf.Array); return ok }

func diffKeys(a, b pdf.Dict) []pdf.Name {
	var ks []pdf.Name
	for k, v := range a {
		if w, ok := b[k]; !ok || !pdf.Equal(v, w) {
			ks = append(ks, k)
		}
	}
	for k := range b {
		if _, ok := a[k]; !ok {
			ks = append(ks, k)
		}
	}
	return ks
}

func subset(ks []pdf.Name, allowed ...pdf.Name) bool {
	for _, k := range ks {
		ok := false
		for _, a := range allowed {
			if k == a {
				ok = true
			}
		}
		if !ok {
			return false
		}
	}
	return true
}

func (c *comparer) classifyDict(od, nd pdf.Dict, docmdp int64) (string, bool) {
	ks := diffKeys(od, nd)
	switch {
	case od["Type"] == pdf.Name("Catalog"):
		if subset(ks, "AcroForm", "DSS", "Extensions") {
			if slicesContainsOnly(ks, "DSS", "Extensions") || docmdp != 1 {
				return kindSignature, true
			}
		}
		return kindCatalog, false
	case od["Type"] == pdf.Name("DSS"):
		return kindDSS, true
	case od["Type"] == pdf.Name("Page"):
		if subset(ks, "Annots") {
			oa, _ := resolveArray(c.old, od["Annots"])
			na, _ := resolveArray(c.cur, nd["Annots"])
			if c.onlyAddsSignatureWidgets(oa, na) && docmdp != 1 {
				return kindSignature, true
			}
			return kindAnnotation, false
		}
		return kindPage, false
	case od["FT"] == pdf.Name("Sig") || nd["FT"] == pdf.Name("Sig"):
		// an empty signature field being signed
		if subset(ks, "V", "AP", "F", "Lock", "SV") && od["V"] == nil && docmdp != 1 {
			return kindSignature, true
		}
		return kindObject, false
	case od["FT"] != nil || od["Parent"] != nil && od["Subtype"] == pdf.Name("Widget"):
		if subset(ks, "V", "AP", "AS") && docmdp != 1 {
			return kindFormFill, true
		}
		return kindObject, false
	case od["Fields"] != nil: // the AcroForm dictionary
		if subset(ks, "Fields", "SigFlags", "DR", "DA", "NeedAppearances") && docmdp != 1 {
			of, _ := resolveArray(c.old, od["Fields"])
			nf, _ := resolveArray(c.cur, nd["Fields"])
			if c.onlyAddsSignatureWidgets(of, nf) {
				return kindSignature, true
			}
		}
		return kindObject, false
	}
	return kindObject, false
}

func slicesContainsOnly(ks []pdf.Name, allowed ...pdf.Name) bool { return subset(ks, allowed...) }

// onlyAddsSignatureWidgets reports whether cur keeps every element of old
// and adds only signature fields or their widgets.
func (c *comparer) onlyAddsSignatureWidgets(old, cur pdf.Array) bool {
	if len(cur) < len(old) {
		return false
	}
	for i := range old {
		if !pdf.Equal(old[i], cur[i]) {
			return false
		}
	}
	for _, e := range cur[len(old):] {
		d, err := c.cur.ResolveDict(e)
		if err != nil || d == nil {
			return false
		}
		ft := d["FT"]
		if ft == nil {
			if p, err := c.cur.ResolveDict(d["Parent"]); err == nil && p != nil {
				ft = p["FT"]
			}
		}
		if ft != pdf.Name("Sig") {
			return false
		}
	}
	return true
}

// equal compares an object of the signed revision with its current
// version; streams compare by dictionary and raw data.
func (c *comparer) equal(a, b pdf.Object) bool {
	sa, ok1 := a.(*pdf.Stream)
	sb, ok2 := b.(*pdf.Stream)
	if !ok1 || !ok2 {
		return pdf.Equal(a, b)
	}
	da, db := sa.Dict.Clone(), sb.Dict.Clone()
	delete(da, "Length")
	delete(db, "Length")
	if !pdf.Equal(da, db) || sa.Length != sb.Length || sa.Length > maxComparedStream {
		return false
	}
	if sa.Offset == sb.Offset {
		return true
	}
	ha, hb := sha256.New(), sha256.New()
	io.Copy(ha, c.old.RawStream(sa))
	io.Copy(hb, c.cur.RawStream(sb))
	return bytes.Equal(ha.Sum(nil), hb.Sum(nil))
}
