package pades

import (
	"encoding/json"
	"fmt"
	"strings"
)

// Summary returns a readable multi-line summary of the report.
func (r *Report) Summary() string {
	var b strings.Builder
	if !r.Signed {
		b.WriteString("The document is not signed.\n")
		for _, w := range r.Warnings {
			fmt.Fprintf(&b, "warning: %s\n", w)
		}
		return b.String()
	}
	verdict := "VALID"
	if !r.Valid() {
		verdict = "INVALID"
	}
	fmt.Fprintf(&b, "%s: %d signature(s), %d revision(s), %d bytes\n", verdict, len(r.Signatures), r.Revisions, r.Size)
	if r.Encryption != nil {
		fmt.Fprintf(&b, "encrypted: %s\n", r.Encryption)
	}
	if r.DSS != nil {
		fmt.Fprintf(&b, "DSS: %d certificate(s), %d OCSP response(s), %d CRL(s)\n", r.DSS.Certs, r.DSS.OCSPs, r.DSS.CRLs)
	}
	for _, w := range r.Warnings {
		fmt.Fprintf(&b, "warning: %s\n", w)
	}
	for i, s := range r.Signatures {
		fmt.Fprintf(&b, "\n#%d %s %q (%s)\n", i+1, s.Type, s.Field, s.SubFilter)
		status := "valid"
		if !s.Valid {
			status = "INVALID"
		}
		fmt.Fprintf(&b, "  status:     %s\n", status)
		if s.Signer != nil {
			fmt.Fprintf(&b, "  signer:     %s (issuer %s)\n", s.Signer.Subject, s.Signer.Issuer)
		}
		if s.SigningTime != "" {
			fmt.Fprintf(&b, "  time (/M):  %s\n", s.SigningTime)
		}
		fmt.Fprintf(&b, "  integrity:  %s\n", checkText(s.Integrity))
		if s.Type == "signature" {
			fmt.Fprintf(&b, "  chain:      %s\n", checkText(s.Chain))
		}
		if s.Timestamp != nil {
			fmt.Fprintf(&b, "  timestamp:  %s %s\n", s.Timestamp.Time.UTC().Format("2006-01-02T15:04:05Z"), checkText(s.Timestamp.Check))
		}
		switch {
		case s.Level == LevelLegacyCMS:
			fmt.Fprintf(&b, "  level:      %s\n", s.Level)
		case s.Level != "":
			fmt.Fprintf(&b, "  level:      PAdES %s\n", s.Level)
		}
		cover := "the whole file"
		if !s.CoversWholeFile {
			allowed := 0
			for _, c := range s.Changes {
				if c.Allowed {
					allowed++
				}
			}
			cover = fmt.Sprintf("revision ending at %d; later: %d change(s), %d allowed", s.RevisionEnd, len(s.Changes), allowed)
		}
		fmt.Fprintf(&b, "  covers:     %s\n", cover)
		for _, a := range s.Attacks {
			fmt.Fprintf(&b, "  ATTACK:     %s\n", a)
		}
		for _, p := range s.Problems {
			fmt.Fprintf(&b, "  problem:    %s\n", p)
		}
		for _, w := range s.Warnings {
			fmt.Fprintf(&b, "  warning:    %s\n", w)
		}
	}
	return b.String()
}

func checkText(c Check) string {
	if c.OK {
		return "ok"
	}
	if c.Error == "" {
		return "not checked"
	}
	return "FAILED: " + c.Error
}

// JSON is the report as `esign pdf verify --json` prints it and the admin
// UI offers it for download: indented, one trailing newline.
func (r *Report) JSON() ([]byte, error) {
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}
