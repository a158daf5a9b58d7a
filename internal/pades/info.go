package pades

import (
	"errors"
	"fmt"
	"slices"

	"esign/internal/pdf"
)

// ErrInfoExists is returned by Prepare (and Sign) when PrepareOptions.Info
// names an entry the document's information dictionary already has: the
// update only adds metadata, it never changes what the signer saw.
var ErrInfoExists = errors.New("pades: the document information dictionary already has this entry")

// addInfo writes, in the update, a new document information dictionary:
// the current one's entries unchanged plus the new ones, and points the
// trailer's /Info at it.
func addInfo(doc *pdf.Document, u *pdf.Update, info map[string]string) error {
	old, err := doc.ResolveDict(doc.Trailer["Info"])
	if err != nil {
		return fmt.Errorf("pades: read the document information dictionary: %w", err)
	}
	nd := pdf.Dict{}
	for k, v := range old {
		nd[k] = v
	}
	keys := make([]string, 0, len(info))
	for k := range info {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		if k == "" {
			return errors.New("pades: an information entry without a name")
		}
		if _, ok := old[pdf.Name(k)]; ok {
			return fmt.Errorf("%w: /%s", ErrInfoExists, k)
		}
		nd[pdf.Name(k)] = textString(info[k])
	}
	u.Trailer["Info"] = u.Add(nd)
	return nil
}
