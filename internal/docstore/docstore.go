// Package docstore keeps document bytes (offers, signed contracts,
// attachments) as files under a directory, encrypted at rest with the
// envelope's streaming form, so that a document of any size is written and
// read in constant memory.
package docstore

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"esign/internal/envelope"
	"esign/internal/esign"
)

// Store is a directory of encrypted documents. It is safe for concurrent
// use; a key is written once (Put refuses to overwrite).
type Store struct {
	dir  string
	keys *envelope.Keyring
}

// validKey keeps keys to a safe alphabet: no "..", no absolute paths.
var validKey = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_-]*(/[A-Za-z0-9][A-Za-z0-9._-]*){0,3}$`)

// Open returns the store in dir, creating the directory.
func Open(dir string, keys *envelope.Keyring) (*Store, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("docstore: %w", err)
	}
	return &Store{dir: dir, keys: keys}, nil
}

func (s *Store) path(op, key string) (string, error) {
	if !validKey.MatchString(key) {
		return "", esign.Errorf(op, esign.Invalid, "invalid document key %q", key)
	}
	return filepath.Join(s.dir, filepath.FromSlash(key)), nil
}

// Put encrypts r into the document key and returns the plaintext size. The
// document appears only when complete (written to a temporary file, synced,
// renamed). Errors: Invalid (bad key), Conflict (key exists).
func (s *Store) Put(ctx context.Context, key string, r io.Reader) (int64, error) {
	const op = "docstore.Put"
	p, err := s.path(op, key)
	if err != nil {
		return 0, err
	}
	if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
		return 0, esign.E(op, err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(p), ".put-*")
	if err != nil {
		return 0, esign.E(op, err)
	}
	defer os.Remove(tmp.Name())
	defer tmp.Close()
	w, err := s.keys.NewWriter(tmp)
	if err != nil {
		return 0, esign.E(op, err)
	}
	n, err := io.Copy(w, ctxReader{ctx, r})
	if err != nil {
		return 0, esign.E(op, fmt.Errorf("write %s: %w", key, err))
	}
	if err := w.Close(); err != nil {
		return 0, esign.E(op, err)
	}
	if err := tmp.Sync(); err != nil {
		return 0, esign.E(op, err)
	}
	if err := tmp.Close(); err != nil {
		return 0, esign.E(op, err)
	}
	// Link, not rename: link fails when the key exists, so a document is
	// never replaced.
	if err := os.Link(tmp.Name(), p); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return 0, esign.Errorf(op, esign.Conflict, "document %q exists already", key)
		}
		return 0, esign.E(op, err)
	}
	return n, nil
}

// Open returns a reader of the decrypted document. Reading fails if the
// file was tampered with or truncated. Errors: Invalid, NotFound.
func (s *Store) Open(ctx context.Context, key string) (io.ReadCloser, error) {
	const op = "docstore.Open"
	p, err := s.path(op, key)
	if err != nil {
		return nil, err
	}
	f, err := os.Open(p)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, esign.Errorf(op, esign.NotFound, "document %q not found", key)
		}
		return nil, esign.E(op, err)
	}
	r, err := s.keys.NewReader(f)
	if err != nil {
		f.Close()
		return nil, esign.E(op, fmt.Errorf("read %s: %w", key, err))
	}
	return readCloser{ctxReader{ctx, r}, f}, nil
}

// Delete removes the document; deleting a missing one is not an error (the
// retention job may run again after a crash). A folder of its own that it
// leaves empty (contracts/ID/ of a failed seal) goes too; the top-level
// folders (documents/, contracts/) stay. Errors: Invalid.
func (s *Store) Delete(ctx context.Context, key string) error {
	const op = "docstore.Delete"
	p, err := s.path(op, key)
	if err != nil {
		return err
	}
	if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return esign.E(op, err)
	}
	if strings.Count(key, "/") >= 2 {
		_ = os.Remove(filepath.Dir(p)) // fails, as it should, while the folder holds anything
	}
	return nil
}

type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}

type readCloser struct {
	io.Reader
	c io.Closer
}

func (r readCloser) Close() error { return r.c.Close() }
