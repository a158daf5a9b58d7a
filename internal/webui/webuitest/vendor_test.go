package webuitest

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestVendoredChecksums checks every vendored file against the sha256 that
// scripts/vendor-assets.sh recorded in the VENDOR file beside it, so that a
// hand edit or a truncated copy fails.
func TestVendoredChecksums(t *testing.T) {
	records, err := filepath.Glob("../*/vendor/*/VENDOR")
	if err != nil {
		t.Fatal(err)
	}
	more, _ := filepath.Glob("../static/vendor/*/VENDOR")
	records = append(records, more...)
	surfaces, _ := filepath.Glob("../../*/static/vendor/*/VENDOR") // internal/<surface>/static/vendor
	records = append(records, surfaces...)
	if len(records) == 0 {
		t.Fatal("no VENDOR files found")
	}
	for _, rec := range records {
		t.Run(filepath.Base(filepath.Dir(rec)), func(t *testing.T) {
			f, err := os.Open(rec)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			var files, version int
			sc := bufio.NewScanner(f)
			for sc.Scan() {
				fields := strings.Fields(sc.Text())
				if len(fields) == 2 && fields[0] == "version" {
					version++
				}
				if len(fields) != 3 || fields[0] != "sha256" {
					continue
				}
				files++
				data, err := os.ReadFile(filepath.Join(filepath.Dir(rec), fields[2]))
				if err != nil {
					t.Fatal(err)
				}
				sum := sha256.Sum256(data)
				if got := hex.EncodeToString(sum[:]); got != fields[1] {
					t.Errorf("%s: sha256 %s, VENDOR records %s: run scripts/vendor-assets.sh", fields[2], got, fields[1])
				}
			}
			if files == 0 || version != 1 {
				t.Errorf("%s records %d files and %d versions", rec, files, version)
			}
		})
	}
}
