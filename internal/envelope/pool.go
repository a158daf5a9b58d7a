package envelope

import "sync"

// chunkPool keeps the chunk buffers of streams of DefaultChunkSize (every
// document of the store): a Writer or Reader needs two buffers of about
// 64 KiB, which for a document of a few KiB were most of what a request
// allocated, and so most of what the garbage collector had to catch up
// with. A buffer goes back when its stream ends (Writer.Close, the Reader's
// io.EOF); a stream abandoned half-way leaves its buffers to the collector.
var chunkPool = sync.Pool{New: func() any {
	b := make([]byte, pooledSize)
	return &b
}}

// pooledSize fits the largest buffer of a default stream: a ciphertext
// chunk plus the Reader's look-ahead byte.
const pooledSize = DefaultChunkSize + tagSize + 1

// chunkBufs are the two buffers of a stream, pooled when the chunk size is
// the default one.
type chunkBufs struct {
	mem [2]*[]byte // nil: not pooled
}

// get returns buffer i (0 or 1) of length 0 and capacity n. The capacity
// is exact: Writer.Write uses it to know when a chunk is full.
func (c *chunkBufs) get(i, n int) []byte {
	if n > pooledSize {
		return make([]byte, 0, n)
	}
	p := chunkPool.Get().(*[]byte)
	c.mem[i] = p
	return (*p)[:0:n]
}

// release returns the buffers to the pool; buffer 0 held plaintext and is
// cleared first, so that no document's bytes go on to the next stream.
// The stream must not use them afterwards.
func (c *chunkBufs) release() {
	for i, p := range c.mem {
		if p == nil {
			continue
		}
		if i == 0 {
			clear(*p)
		}
		chunkPool.Put(p)
		c.mem[i] = nil
	}
}
