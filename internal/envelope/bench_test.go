//go:build unix

package envelope

import (
	"bytes"
	"fmt"
	"io"
	"syscall"
	"testing"
	"time"
)

func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// cpuThroughput reports bytes per CPU second of the process (including the
// garbage collector), which other load on the machine does not distort.
func cpuThroughput(b *testing.B, size int64) func() {
	b.SetBytes(size)
	start := cpuTime()
	return func() {
		b.ReportMetric(float64(size)*float64(b.N)/(cpuTime()-start).Seconds()/1e6, "MB/cpu-s")
	}
}

func BenchmarkEncrypt(b *testing.B) {
	k := testKeyring(b)
	for _, size := range []int{1 << 10, 1 << 20, 16 << 20} {
		pt := make([]byte, size)
		b.Run(fmt.Sprintf("size=%d", size), func(b *testing.B) {
			defer cpuThroughput(b, int64(size))()
			for b.Loop() {
				if _, err := k.Encrypt(pt, nil); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkDecrypt(b *testing.B) {
	k := testKeyring(b)
	for _, size := range []int{1 << 10, 1 << 20, 16 << 20} {
		ct, _ := k.Encrypt(make([]byte, size), nil)
		b.Run(fmt.Sprintf("size=%d", size), func(b *testing.B) {
			defer cpuThroughput(b, int64(size))()
			for b.Loop() {
				if _, err := k.Decrypt(ct, nil); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkStream measures the streaming form on 64 MiB per iteration.
func BenchmarkStream(b *testing.B) {
	k := testKeyring(b)
	const size = 64 << 20
	b.Run("encrypt", func(b *testing.B) {
		defer cpuThroughput(b, size)()
		for b.Loop() {
			w, _ := k.NewWriter(io.Discard)
			if _, err := io.CopyN(w, zeroReader{}, size); err != nil {
				b.Fatal(err)
			}
			w.Close()
		}
	})
	var buf bytes.Buffer
	w, _ := k.NewWriter(&buf)
	io.CopyN(w, zeroReader{}, size)
	w.Close()
	ct := buf.Bytes()
	b.Run("decrypt", func(b *testing.B) {
		defer cpuThroughput(b, size)()
		for b.Loop() {
			r, err := k.NewReader(bytes.NewReader(ct))
			if err != nil {
				b.Fatal(err)
			}
			if _, err := io.Copy(io.Discard, r); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkStreamSmall writes and reads back a document of the signing
// flow's size (30 KiB) in the streaming form: for documents this small the
// chunk buffers, not the AEAD, were the cost (B/op, and the collector's
// CPU in MB/cpu-s).
func BenchmarkStreamSmall(b *testing.B) {
	k := testKeyring(b)
	const size = 30 << 10
	pt := make([]byte, size)
	var buf bytes.Buffer
	b.ReportAllocs()
	defer cpuThroughput(b, size)()
	for b.Loop() {
		buf.Reset()
		w, _ := k.NewWriter(&buf)
		w.Write(pt)
		if err := w.Close(); err != nil {
			b.Fatal(err)
		}
		r, err := k.NewReader(bytes.NewReader(buf.Bytes()))
		if err != nil {
			b.Fatal(err)
		}
		if _, err := io.Copy(io.Discard, r); err != nil {
			b.Fatal(err)
		}
	}
}
