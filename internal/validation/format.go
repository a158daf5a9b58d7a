package validation

import (
	"bytes"
	"embed"
	"encoding/json"
	"fmt"
	"html/template"
	"io"
	"path/filepath"
	"strings"
	"time"

	"esign/internal/pdf"
)

// Formats of a written report.
const (
	FormatJSON = "json"
	FormatHTML = "html"
	FormatPDF  = "pdf"
)

// FormatOf returns the format named by a file's extension (.json, .html
// or .htm, .pdf), or "" for another.
func FormatOf(path string) string {
	switch strings.ToLower(filepath.Ext(path)) {
	case ".json":
		return FormatJSON
	case ".html", ".htm":
		return FormatHTML
	case ".pdf":
		return FormatPDF
	}
	return ""
}

// Write writes the report in format to w.
func (r *Report) Write(w io.Writer, format string) error {
	switch format {
	case FormatJSON:
		b, err := r.JSON()
		if err != nil {
			return err
		}
		_, err = w.Write(b)
		return err
	case FormatHTML:
		return r.HTML(w)
	case FormatPDF:
		return r.PDF(w)
	}
	return fmt.Errorf("validation: unknown report format %q (json, html or pdf)", format)
}

// JSON is the report in the schema of docs/validation-report.md:
// indented, one trailing newline.
func (r *Report) JSON() ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(r); err != nil {
		return nil, fmt.Errorf("validation: encode the report: %w", err)
	}
	return b.Bytes(), nil
}

//go:embed templates/report.html
var templates embed.FS

var htmlTemplate = template.Must(template.New("report.html").Funcs(template.FuncMap{
	"time":  func(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05 UTC") },
	"class": indicationClass,
}).ParseFS(templates, "templates/report.html"))

// indicationClass is the CSS class of an indication.
func indicationClass(ind string) string {
	switch ind {
	case TotalPassed:
		return "passed"
	case TotalFailed:
		return "failed"
	}
	return "indeterminate"
}

// HTML writes the report as one self-contained HTML page: styles inline,
// no scripts, no outside resources.
func (r *Report) HTML(w io.Writer) error {
	var b bytes.Buffer
	if err := htmlTemplate.Execute(&b, r); err != nil {
		return fmt.Errorf("validation: render the HTML report: %w", err)
	}
	_, err := w.Write(b.Bytes())
	return err
}

// pdfWidth is how many characters of 8-point Helvetica fit on a line of
// the PDF report (roughly).
const pdfWidth = 118

// PDF writes the report as a one-page PDF for people: the verdict, then
// each signature's indication, signer, time, level, chain and changes.
// What does not fit on the page is cut, with a note to read the JSON or
// HTML report.
func (r *Report) PDF(w io.Writer) error {
	var lines []pdf.TextLine
	add := func(size int, bold bool, gap int, format string, args ...any) {
		s := fmt.Sprintf(format, args...)
		width := pdfWidth * 8 / size
		for len([]rune(s)) > width {
			rs := []rune(s)
			lines = append(lines, pdf.TextLine{Text: string(rs[:width]), Size: size, Bold: bold, Gap: gap})
			s, gap = "    "+string(rs[width:]), 0
		}
		lines = append(lines, pdf.TextLine{Text: s, Size: size, Bold: bold, Gap: gap})
	}
	add(16, true, 0, "Signature validation report")
	add(8, false, 4, "%s (%d bytes, SHA-256 %s)", r.Document.Name, r.Document.Size, r.Document.SHA256)
	add(8, false, 0, "Validated %s; %s.", r.ValidationTime.Format("2006-01-02 15:04:05 UTC"), r.Policy)
	verdict := r.Indication
	if r.SubIndication != "" {
		verdict += " / " + r.SubIndication
	}
	add(14, true, 8, "Result: %s", verdict)
	add(8, false, 0, "%d signature(s) and time-stamp(s), %d revision(s).", len(r.Signatures), r.Document.Revisions)
	for _, wn := range r.Warnings {
		add(8, false, 0, "Warning: %s", wn)
	}
	for _, s := range r.Signatures {
		ind := s.Indication
		if s.SubIndication != "" {
			ind += " / " + s.SubIndication
		}
		kind := "Signature"
		if s.Type == "document_timestamp" {
			kind = "Document time-stamp"
		}
		add(11, true, 8, "%s %s \"%s\": %s", s.ID, kind, s.Field, ind)
		add(8, false, 0, "Why: %s", s.Reason)
		if s.Signer != nil {
			add(8, false, 0, "Signer: %s (serial %s, valid %s to %s)", s.Signer.Subject, s.Signer.Serial,
				s.Signer.NotBefore.Format("2006-01-02"), s.Signer.NotAfter.Format("2006-01-02"))
		}
		if t := s.SigningTime; t != nil {
			add(8, false, 0, "Signing time: %s (%s)", t.Time.Format("2006-01-02 15:04:05 UTC"), sourceText(t.Source))
		}
		level := s.Level
		if level == "" {
			level = "none"
		}
		add(8, false, 0, "Format: %s; level: %s", s.Format, level)
		for i, c := range s.Chain {
			add(8, false, 0, "Chain %d: %s — %s", i+1, c.Subject, revocationText(c))
		}
		var checks []string
		for _, c := range s.Checks {
			checks = append(checks, c.Name+" "+strings.ReplaceAll(c.Result, "_", " "))
		}
		add(8, false, 0, "Checks: %s", strings.Join(checks, ", "))
		cover := "the whole file"
		if !s.WholeFile {
			bad := 0
			for _, c := range s.Changes {
				if !c.Allowed {
					bad++
				}
			}
			cover = fmt.Sprintf("bytes %v, the revision ending at %d; %d change(s) after it, %d not allowed", s.ByteRange, s.RevisionEnd, len(s.Changes), bad)
		}
		add(8, false, 0, "Covers: %s", cover)
	}
	if fit := pdf.TextLinesFit(lines); fit < len(lines) {
		lines = append(lines[:fit-1], pdf.TextLine{Text: "(The report continues: see its JSON or HTML form.)", Size: 8})
	}
	var b bytes.Buffer
	if err := pdf.WriteTextPage(&b, "Signature validation report: "+r.Document.Name, lines); err != nil {
		return fmt.Errorf("validation: write the PDF report: %w", err)
	}
	_, err := w.Write(b.Bytes())
	return err
}

// sourceText says where a signing time comes from.
func sourceText(source string) string {
	switch source {
	case "signature_timestamp":
		return "signature time-stamp: proven"
	case "document_timestamp":
		return "document time-stamp: proven"
	case "signed_attribute":
		return "signed attribute: the signer's claim"
	case "dictionary":
		return "signature dictionary /M: the signer's claim"
	}
	return source
}

// revocationText says how a chain element's revocation was checked.
func revocationText(c ChainEntry) string {
	r := c.Revocation
	switch {
	case c.TrustAnchor:
		return "trust anchor"
	case r.Status == "good":
		return "not revoked (" + sourceName(r.Source) + ")"
	case r.Status == "revoked" && r.RevokedAt != nil:
		return "REVOKED at " + r.RevokedAt.Format("2006-01-02 15:04:05 UTC") + " (" + sourceName(r.Source) + ")"
	case r.Status == "revoked":
		return "REVOKED (" + sourceName(r.Source) + ")"
	}
	return "revocation not checked: " + r.Reason
}

func sourceName(s string) string {
	where, what, _ := strings.Cut(s, "_")
	return strings.ToUpper(what) + " from the " + map[string]string{"dss": "DSS", "online": "responder online"}[where]
}
