package envelope

import (
	"crypto/cipher"
	"encoding/binary"
	"fmt"
	"io"
	"sync"

	"esign/internal/esign"
)

// ReaderAt decrypts a stream made by NewWriter at random offsets, for
// parsers that need to seek in a document kept encrypted on disk (a PDF).
// Each read authenticates the chunks it touches, including the final-chunk
// flag of the last one, so that a truncated or spliced stream fails. It is
// safe for concurrent use and keeps one decrypted chunk cached.
type ReaderAt struct {
	r      io.ReaderAt
	aead   cipher.AEAD
	header []byte
	chunk  int64 // plaintext bytes per chunk
	body   int64 // ciphertext bytes after the header
	chunks int64
	size   int64 // plaintext size

	mu     sync.Mutex
	cached int64 // index of the chunk in plain, -1: none
	plain  []byte
	in     []byte
}

// NewReaderAt returns a ReaderAt of the stream envelope of size bytes in r.
// Errors: Invalid (not a stream envelope, unknown key, truncated).
func (k *Keyring) NewReaderAt(r io.ReaderAt, size int64) (*ReaderAt, error) {
	const op = "envelope.NewReaderAt"
	fail := func(why string) error { return esign.E(op, esign.Invalid, fmt.Errorf("%w: %s", ErrDecrypt, why)) }
	fixed := make([]byte, 7)
	if _, err := r.ReadAt(fixed, 0); err != nil {
		return nil, fail("truncated header")
	}
	n := int(fixed[6])
	if n == 0 || n > maxKeyIDLen {
		return nil, fail("bad header")
	}
	raw := make([]byte, 7+n+saltSize+4)
	if _, err := r.ReadAt(raw, 0); err != nil {
		return nil, fail("truncated header")
	}
	h, err := parseHeader(raw)
	if err != nil {
		return nil, esign.E(op, esign.Invalid, err)
	}
	if h.mode != modeStream {
		return nil, fail("not a stream envelope")
	}
	chunk := int64(binary.BigEndian.Uint32(h.rest))
	if chunk < minChunkSize || chunk > maxChunkSize {
		return nil, fail("bad chunk size")
	}
	g, err := k.aead(h.keyID, h.salt, modeStream)
	if err != nil {
		return nil, esign.E(op, esign.Invalid, err)
	}
	body := size - int64(len(raw))
	if body < tagSize {
		return nil, fail("truncated stream")
	}
	full := chunk + tagSize
	chunks := (body + full - 1) / full
	if chunks > 1<<32 {
		return nil, fail("stream too long")
	}
	last := body - (chunks-1)*full
	if last < tagSize {
		return nil, fail("truncated stream")
	}
	// A document of one chunk (most are a few KiB) gets buffers of its
	// size, not of a full chunk.
	ra := &ReaderAt{r: r, aead: g, header: raw, chunk: chunk, body: body, chunks: chunks,
		size: (chunks-1)*chunk + last - tagSize, cached: -1, in: make([]byte, min(full, body)), plain: make([]byte, 0, min(chunk, body))}
	return ra, nil
}

// Size returns the plaintext size.
func (r *ReaderAt) Size() int64 { return r.size }

// load decrypts chunk i into r.plain; r.mu is held.
func (r *ReaderAt) load(i int64) error {
	if r.cached == i {
		return nil
	}
	full := r.chunk + tagSize
	off := int64(len(r.header)) + i*full
	n := min(full, r.body-i*full)
	in := r.in[:n]
	if _, err := r.r.ReadAt(in, off); err != nil && !(err == io.EOF) {
		return err
	}
	var nonce [nonceSize]byte
	streamNonce(&nonce, uint32(i), i == r.chunks-1)
	pt, err := r.aead.Open(r.plain[:0], nonce[:], in, r.header)
	if err != nil {
		r.cached = -1
		return ErrDecrypt
	}
	r.plain, r.cached = pt, i
	return nil
}

// ReadAt reads len(p) plaintext bytes from off (io.ReaderAt).
func (r *ReaderAt) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, esign.E("envelope.ReadAt", esign.Invalid, "negative offset")
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for len(p) > 0 {
		if off >= r.size {
			return n, io.EOF
		}
		i := off / r.chunk
		if err := r.load(i); err != nil {
			return n, esign.E("envelope.ReadAt", esign.Invalid, err)
		}
		c := copy(p, r.plain[off-i*r.chunk:])
		p, off, n = p[c:], off+int64(c), n+c
	}
	return n, nil
}
