// Package docstore keeps document bytes (offers, signed contracts,
// attachments) as files under a directory, encrypted at rest with the
// envelope's streaming form, so that a document of any size is written and
// read in constant memory.
package docstore

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"time"

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
	s := &Store{dir: dir, keys: keys}
	s.removeStale()
	return s, nil
}

// Dir returns the store's directory.
func (s *Store) Dir() string { return s.dir }

func (s *Store) path(op, key string) (string, error) {
	if !validKey.MatchString(key) {
		return "", esign.Errorf(op, esign.Invalid, "invalid document key %q", key)
	}
	return filepath.Join(s.dir, filepath.FromSlash(key)), nil
}

// Put encrypts r into the document key and returns the plaintext size. The
// document appears only when complete (written to a temporary file, synced,
// linked into place). Errors: Invalid (bad key), Conflict (key exists).
func (s *Store) Put(ctx context.Context, key string, r io.Reader) (int64, error) {
	const op = "docstore.Put"
	path, err := s.path(op, key)
	if err != nil {
		return 0, err
	}
	// The temporary file goes beside the document: a failed write leaves
	// no folder behind that was not there.
	p, err := s.create(ctx, filepath.Dir(path), ".put-*")
	if err != nil {
		return 0, err
	}
	defer p.Discard()
	buf := copyBufs.Get().(*[]byte)
	_, err = io.CopyBuffer(p, ctxReader{ctx, r}, *buf)
	copyBufs.Put(buf)
	if err != nil {
		return 0, esign.E(op, fmt.Errorf("write %s: %w", key, err))
	}
	if err := p.Close(); err != nil {
		return 0, err
	}
	if err := p.Commit(key); err != nil {
		return 0, err
	}
	return p.Size(), nil
}

// copyBufs are Put's copy buffers: io.Copy would allocate 32 KiB for
// every document, a good part of what sealing a contract allocated. A
// buffer keeps the last plaintext it carried, as freed memory would; the
// next copy only reads what it wrote there itself.
var copyBufs = sync.Pool{New: func() any {
	b := make([]byte, 32<<10)
	return &b
}}

// tmpDir holds the documents being written (Create); its name cannot be a
// key's.
const tmpDir = ".tmp"

// staleTmp is the age after which Open removes a temporary file that a
// crashed process left behind.
const staleTmp = 24 * time.Hour

// removeStale deletes temporary files older than staleTmp.
func (s *Store) removeStale() {
	entries, err := os.ReadDir(filepath.Join(s.dir, tmpDir))
	if err != nil {
		return
	}
	for _, e := range entries {
		if fi, err := e.Info(); err == nil && time.Since(fi.ModTime()) > staleTmp {
			_ = os.Remove(filepath.Join(s.dir, tmpDir, e.Name()))
		}
	}
}

// Pending is a document being written: what is written to it is encrypted
// into a temporary file of the store and hashed, in constant memory. After
// Close it can be read back at random offsets (ReaderAt: a PDF is checked
// from disk before it is accepted) and Commit links it under its key;
// Discard removes it. Not safe for concurrent writes.
type Pending struct {
	s      *Store
	f      *os.File
	w      *envelope.Writer
	h      hash.Hash
	n      int64
	closed bool
	done   bool
	err    error

	fileSize int64 // of the closed file
	raOnce   sync.Once
	ra       *envelope.ReaderAt
	raErr    error
}

// Create starts a pending document. Call Discard when done with it (after
// Commit it does nothing).
func (s *Store) Create(ctx context.Context) (*Pending, error) {
	return s.create(ctx, filepath.Join(s.dir, tmpDir), "put-*")
}

// create starts a pending document in a temporary file of dir.
func (s *Store) create(ctx context.Context, dir, pattern string) (*Pending, error) {
	const op = "docstore.Create"
	if err := ctx.Err(); err != nil {
		return nil, esign.E(op, err)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, esign.E(op, err)
	}
	f, err := os.CreateTemp(dir, pattern)
	if err != nil {
		return nil, esign.E(op, err)
	}
	w, err := s.keys.NewWriter(f)
	if err != nil {
		f.Close()
		os.Remove(f.Name())
		return nil, esign.E(op, err)
	}
	return &Pending{s: s, f: f, w: w, h: sha256.New()}, nil
}

// Write encrypts p into the temporary file.
func (p *Pending) Write(b []byte) (int, error) {
	if p.closed {
		return 0, esign.E("docstore.Pending.Write", esign.Internal, "write after close")
	}
	n, err := p.w.Write(b)
	p.h.Write(b[:n])
	p.n += int64(n)
	return n, err
}

// Close finishes the encryption and syncs the file; Size, SHA256 and
// ReaderAt are valid after it.
func (p *Pending) Close() error {
	const op = "docstore.Pending.Close"
	if p.closed {
		return p.err
	}
	p.closed = true
	p.err = func() error {
		if err := p.w.Close(); err != nil {
			return esign.E(op, err)
		}
		if err := p.f.Sync(); err != nil {
			return esign.E(op, err)
		}
		st, err := p.f.Stat()
		if err != nil {
			return esign.E(op, err)
		}
		p.fileSize = st.Size()
		return nil
	}()
	return p.err
}

// readerAt opens the ReaderAt of the closed file on the first read: Put
// never reads back, and a ReaderAt costs two chunk buffers.
func (p *Pending) readerAt() (*envelope.ReaderAt, error) {
	p.raOnce.Do(func() {
		p.ra, p.raErr = p.s.keys.NewReaderAt(p.f, p.fileSize)
		if p.raErr != nil {
			p.raErr = esign.E("docstore.Pending.ReadAt", p.raErr)
		}
	})
	return p.ra, p.raErr
}

// Size is the plaintext size written.
func (p *Pending) Size() int64 { return p.n }

// SHA256 is the hex SHA-256 of the plaintext written.
func (p *Pending) SHA256() string { return hex.EncodeToString(p.h.Sum(nil)) }

// ReadAt reads the plaintext (after Close) at off.
func (p *Pending) ReadAt(b []byte, off int64) (int, error) {
	if !p.closed || p.err != nil {
		return 0, esign.E("docstore.Pending.ReadAt", esign.Internal, "read before a successful Close")
	}
	ra, err := p.readerAt()
	if err != nil {
		return 0, err
	}
	return ra.ReadAt(b, off)
}

// Commit links the closed document under key. Errors: Invalid (bad key),
// Conflict (key exists).
func (p *Pending) Commit(key string) error {
	const op = "docstore.Pending.Commit"
	path, err := p.s.path(op, key)
	if err != nil {
		return err
	}
	if err := p.Close(); err != nil {
		return err
	}
	if p.done {
		return esign.E(op, esign.Internal, "committed or discarded already")
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return esign.E(op, err)
	}
	// Link, not rename: link fails when the key exists, so a document is
	// never replaced.
	if err := os.Link(p.f.Name(), path); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return esign.Errorf(op, esign.Conflict, "document %q exists already", key)
		}
		return esign.E(op, err)
	}
	p.Discard()
	return nil
}

// Discard removes the temporary file; after Commit it removes only the
// temporary name.
func (p *Pending) Discard() {
	if p.done {
		return
	}
	p.done = true
	p.f.Close()
	os.Remove(p.f.Name())
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

// OpenSection returns a reader of the n plaintext bytes at off of the
// document (fewer at its end) and the document's plaintext size, decrypting
// only the chunks the section touches (envelope.ReaderAt): a range at the
// end of a large document costs no more than one at its start. Each chunk
// read is authenticated, the last one with its final flag. Errors:
// Invalid, NotFound.
func (s *Store) OpenSection(ctx context.Context, key string, off, n int64) (io.ReadCloser, int64, error) {
	const op = "docstore.OpenSection"
	if off < 0 || n < 0 {
		return nil, 0, esign.E(op, esign.Invalid, "negative offset or length")
	}
	p, err := s.path(op, key)
	if err != nil {
		return nil, 0, err
	}
	f, err := os.Open(p)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, 0, esign.Errorf(op, esign.NotFound, "document %q not found", key)
		}
		return nil, 0, esign.E(op, err)
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, 0, esign.E(op, err)
	}
	ra, err := s.keys.NewReaderAt(f, st.Size())
	if err != nil {
		f.Close()
		return nil, 0, esign.E(op, fmt.Errorf("read %s: %w", key, err))
	}
	off = min(off, ra.Size())
	return readCloser{ctxReader{ctx, io.NewSectionReader(ra, off, min(n, ra.Size()-off))}, f}, ra.Size(), nil
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

// Touch sets the document's modification time to now (the wall clock, as
// Put's files have), as if it had just been written: a file about to lose
// its last reference (an archive renewal replaces a contract document by a
// new version) is then in the window of the next SweepUnreferenced runs,
// which remove it if the process dies before it could. Errors: Invalid,
// NotFound.
func (s *Store) Touch(ctx context.Context, key string) error {
	const op = "docstore.Touch"
	p, err := s.path(op, key)
	if err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return esign.E(op, err)
	}
	now := time.Now()
	if err := os.Chtimes(p, now, now); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return esign.Errorf(op, esign.NotFound, "document %q not found", key)
		}
		return esign.E(op, err)
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

// Walk calls fn with the key and modification time of every document whose
// key starts with prefix ("" for all), in lexical order; temporary files
// are not documents and are skipped. fn's error stops the walk and is
// returned.
func (s *Store) Walk(ctx context.Context, prefix string, fn func(key string, modTime time.Time) error) error {
	const op = "docstore.Walk"
	err := filepath.WalkDir(s.dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil // removed while walking
			}
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		name := d.Name()
		if p != s.dir && strings.HasPrefix(name, ".") {
			if d.IsDir() {
				return fs.SkipDir // .tmp
			}
			return nil // .put-* beside a document
		}
		if d.IsDir() {
			return nil
		}
		rel, err := filepath.Rel(s.dir, p)
		if err != nil {
			return err
		}
		key := filepath.ToSlash(rel)
		if !strings.HasPrefix(key, prefix) || !validKey.MatchString(key) {
			return nil
		}
		fi, err := d.Info()
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		if err != nil {
			return err
		}
		return fn(key, fi.ModTime())
	})
	if err != nil {
		return esign.E(op, err)
	}
	return nil
}

// sweepBatch is how many keys SweepUnreferenced asks about at once.
const sweepBatch = 200

// SweepUnreferenced deletes the documents modified in [from, to) that
// unreferenced reports as named by no row: files a seal attempt stored and
// then could not commit, when it was killed before it could remove them or
// its commit's outcome was unknown (docs/reliability.md). to must leave
// the writes in progress alone (a day is far longer than any seal). It
// returns how many it deleted.
func (s *Store) SweepUnreferenced(ctx context.Context, from, to time.Time,
	unreferenced func(ctx context.Context, keys []string) ([]string, error)) (int64, error) {
	const op = "docstore.SweepUnreferenced"
	var n int64
	var batch []string
	flush := func() error {
		gone, err := unreferenced(ctx, batch)
		batch = batch[:0]
		if err != nil {
			return err
		}
		for _, k := range gone {
			if err := s.Delete(ctx, k); err != nil {
				return err
			}
			n++
		}
		return nil
	}
	err := s.Walk(ctx, "", func(key string, mod time.Time) error {
		if mod.Before(from) || !mod.Before(to) {
			return nil
		}
		if batch = append(batch, key); len(batch) == sweepBatch {
			return flush()
		}
		return nil
	})
	if err == nil && len(batch) > 0 {
		err = flush()
	}
	if err != nil {
		return n, esign.E(op, err)
	}
	return n, nil
}
