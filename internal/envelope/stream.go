package envelope

import (
	"crypto/cipher"
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"esign/internal/esign"
)

// Chunk sizes of the streaming form (plaintext bytes per chunk).
const (
	DefaultChunkSize = 64 << 10
	minChunkSize     = 1 << 10
	maxChunkSize     = 16 << 20
)

// streamNonce is 7 zero bytes || chunk index (uint32, big endian) || final flag.
func streamNonce(n *[nonceSize]byte, index uint32, final bool) {
	binary.BigEndian.PutUint32(n[7:11], index)
	n[11] = 0
	if final {
		n[11] = 1
	}
}

// Writer encrypts a stream; see NewWriter.
type Writer struct {
	w      io.Writer
	aead   cipher.AEAD
	header []byte
	buf    []byte // plaintext of the pending chunk
	out    []byte
	index  uint32
	err    error
	closed bool
	bufs   chunkBufs // of buf and out
}

// NewWriter returns a WriteCloser that encrypts what is written to it into
// w with the primary key, in chunks of DefaultChunkSize. Close must be
// called: it writes the final chunk, without which the stream does not
// decrypt. Memory use is constant (two chunks).
func (k *Keyring) NewWriter(w io.Writer) (*Writer, error) {
	return k.NewWriterSize(w, DefaultChunkSize)
}

// NewWriterSize is NewWriter with a chunk size between 1 KiB and 16 MiB.
func (k *Keyring) NewWriterSize(w io.Writer, chunkSize int) (*Writer, error) {
	const op = "envelope.NewWriter"
	if chunkSize < minChunkSize || chunkSize > maxChunkSize {
		return nil, esign.Errorf(op, esign.Invalid, "chunk size %d out of range", chunkSize)
	}
	h, salt, err := k.header(modeStream, binary.BigEndian.AppendUint32(nil, uint32(chunkSize)))
	if err != nil {
		return nil, esign.E(op, err)
	}
	g, err := k.aead(k.primary, salt, modeStream)
	if err != nil {
		return nil, esign.E(op, err)
	}
	if _, err := w.Write(h); err != nil {
		return nil, esign.E(op, fmt.Errorf("write header: %w", err))
	}
	wr := &Writer{w: w, aead: g, header: h}
	wr.buf, wr.out = wr.bufs.get(0, chunkSize), wr.bufs.get(1, chunkSize+tagSize)
	return wr, nil
}

func (w *Writer) flush(final bool) error {
	if w.index == ^uint32(0) {
		return errors.New("envelope: stream too long")
	}
	var n [nonceSize]byte
	streamNonce(&n, w.index, final)
	w.out = w.aead.Seal(w.out[:0], n[:], w.buf, w.header)
	w.index++
	w.buf = w.buf[:0]
	_, err := w.w.Write(w.out)
	return err
}

// Write encrypts p. A full chunk is written out only once more data
// follows, so that the last chunk can carry the final flag.
func (w *Writer) Write(p []byte) (int, error) {
	if w.err != nil {
		return 0, w.err
	}
	if w.closed {
		return 0, errors.New("envelope: write after close")
	}
	n := 0
	for len(p) > 0 {
		if len(w.buf) == cap(w.buf) {
			if w.err = w.flush(false); w.err != nil {
				return n, w.err
			}
		}
		c := copy(w.buf[len(w.buf):cap(w.buf)], p)
		w.buf = w.buf[:len(w.buf)+c]
		p = p[c:]
		n += c
	}
	return n, nil
}

// Close writes the final chunk. It does not close the underlying writer.
func (w *Writer) Close() error {
	if w.closed {
		return w.err
	}
	w.closed = true
	if w.err != nil {
		return w.err
	}
	w.err = w.flush(true)
	w.buf, w.out = nil, nil
	w.bufs.release()
	return w.err
}

// Reader decrypts a stream; see NewReader.
type Reader struct {
	r      io.Reader
	aead   cipher.AEAD
	header []byte
	chunk  int
	in     []byte // ciphertext of the next chunk plus one look-ahead byte
	inLen  int
	plain  []byte // decrypted, not yet returned
	pbuf   []byte
	index  uint32
	done   bool
	err    error
	bufs   chunkBufs // of pbuf and in
}

// NewReader returns a Reader that decrypts a stream made by NewWriter.
// Every chunk is authenticated before any of its bytes are returned; a
// truncated, reordered or spliced stream makes Read fail. Only a Read that
// returns io.EOF proves the stream complete: treat data as unverified until
// then (write it to a temporary file and rename on EOF).
func (k *Keyring) NewReader(r io.Reader) (*Reader, error) {
	const op = "envelope.NewReader"
	fixed := make([]byte, 7)
	if _, err := io.ReadFull(r, fixed); err != nil {
		return nil, esign.E(op, esign.Invalid, fmt.Errorf("%w: truncated header", ErrDecrypt))
	}
	n := int(fixed[6])
	rest := make([]byte, n+saltSize+4)
	if n == 0 || n > maxKeyIDLen {
		return nil, esign.E(op, esign.Invalid, fmt.Errorf("%w: bad header", ErrDecrypt))
	}
	if _, err := io.ReadFull(r, rest); err != nil {
		return nil, esign.E(op, esign.Invalid, fmt.Errorf("%w: truncated header", ErrDecrypt))
	}
	raw := append(fixed, rest...)
	h, err := parseHeader(raw)
	if err != nil {
		return nil, esign.E(op, esign.Invalid, err)
	}
	if h.mode != modeStream {
		return nil, esign.E(op, esign.Invalid, fmt.Errorf("%w: not a stream envelope", ErrDecrypt))
	}
	chunk := int(binary.BigEndian.Uint32(h.rest))
	if chunk < minChunkSize || chunk > maxChunkSize {
		return nil, esign.E(op, esign.Invalid, fmt.Errorf("%w: bad chunk size", ErrDecrypt))
	}
	g, err := k.aead(h.keyID, h.salt, modeStream)
	if err != nil {
		return nil, esign.E(op, esign.Invalid, err)
	}
	rd := &Reader{r: r, aead: g, header: raw, chunk: chunk}
	rd.pbuf, rd.in = rd.bufs.get(0, chunk), rd.bufs.get(1, chunk+tagSize+1)
	rd.in = rd.in[:cap(rd.in)]
	return rd, nil
}

// KeyID returns the id of the key the stream was encrypted with (rotation:
// re-encrypt when it differs from the keyring's Primary).
func (r *Reader) KeyID() string { return string(r.header[7 : 7+int(r.header[6])]) }

func (r *Reader) next() error {
	// Fill in[] to a full chunk plus one look-ahead byte, or to EOF.
	for r.inLen < len(r.in) {
		n, err := r.r.Read(r.in[r.inLen:])
		r.inLen += n
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
	}
	final := r.inLen < len(r.in)
	size := r.inLen
	if !final {
		size = len(r.in) - 1
	}
	if size < tagSize {
		return fmt.Errorf("%w: truncated stream", ErrDecrypt)
	}
	var n [nonceSize]byte
	streamNonce(&n, r.index, final)
	pt, err := r.aead.Open(r.pbuf[:0], n[:], r.in[:size], r.header)
	if err != nil {
		return ErrDecrypt
	}
	r.plain = pt
	r.index++
	if r.index == 0 {
		return errors.New("envelope: stream too long")
	}
	// Keep the look-ahead byte.
	r.inLen = copy(r.in, r.in[size:r.inLen])
	r.done = final
	return nil
}

// Read returns decrypted, authenticated plaintext.
func (r *Reader) Read(p []byte) (int, error) {
	for len(r.plain) == 0 {
		if r.err != nil {
			return 0, r.err
		}
		if r.done {
			// The last chunk is returned: the buffers are free.
			r.plain, r.pbuf, r.in = nil, nil, nil
			r.bufs.release()
			return 0, io.EOF
		}
		if err := r.next(); err != nil {
			r.err = esign.E("envelope.Reader", esign.Invalid, err)
			return 0, r.err
		}
	}
	n := copy(p, r.plain)
	r.plain = r.plain[n:]
	return n, nil
}
