package validation

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"esign/internal/atomicfile"
	"esign/internal/pades"
)

// VerifyFile verifies the PDF at path and builds its validation report;
// opt.Now (default time.Now) is also the report's validation time.
func VerifyFile(ctx context.Context, path string, opt pades.VerifyOptions) (*pades.Report, *Report, error) {
	if opt.Now == nil {
		opt.Now = time.Now
	}
	rep, err := pades.VerifyFile(ctx, path, opt)
	if err != nil {
		return nil, nil, err
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, fmt.Errorf("validation: %w", err)
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return nil, nil, fmt.Errorf("validation: read %s: %w", path, err)
	}
	in := Input{Name: filepath.Base(path), SHA256: hex.EncodeToString(h.Sum(nil)), Online: opt.Online, Now: opt.Now()}
	return rep, Build(rep, in), nil
}

// WriteFile writes the report to path in format ("" chooses by the
// extension), replacing the file atomically.
func (r *Report) WriteFile(path, format string) error {
	if format == "" {
		format = FormatOf(path)
		if format == "" {
			return fmt.Errorf("validation: %s: name a format (json, html or pdf) or use one of the extensions .json, .html, .pdf", path)
		}
	}
	var b bytes.Buffer
	if err := r.Write(&b, format); err != nil {
		return err
	}
	if err := atomicfile.Write(path, b.Bytes(), 0o644); err != nil {
		return fmt.Errorf("validation: write %s: %w", path, err)
	}
	return nil
}
