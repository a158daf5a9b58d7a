package offers

import (
	"slices"

	"esign/internal/pades"
)

// uploadedLevel is the PAdES baseline level an uploaded contract's last
// signature reached (its document time-stamps raise it to B-LTA), or ""
// when that signature reached none.
func uploadedLevel(rep *pades.Report) string {
	for i := len(rep.Signatures) - 1; i >= 0; i-- {
		s := rep.Signatures[i]
		if s.Type == "document_timestamp" {
			continue
		}
		if slices.Contains([]string{"B-B", "B-T", "B-LT", "B-LTA"}, s.Level) {
			return s.Level
		}
		return ""
	}
	return ""
}
