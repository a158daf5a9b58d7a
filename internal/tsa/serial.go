package tsa

import (
	"context"
	"errors"
	"fmt"
	"math/big"
	"os"
	"strconv"
	"strings"
	"sync"

	"esign/internal/atomicfile"
)

// SerialStore hands out time-stamp serial numbers: unique and increasing
// for the lifetime of the TSA, across restarts. A database sequence can
// implement it as well as FileSerialStore.
type SerialStore interface {
	NextSerial(ctx context.Context) (*big.Int, error)
}

// FileSerialStore keeps serial numbers in a file. It reserves blocks of
// serials: the file holds the first serial not yet reserved, written and
// fsync'd before any serial of the new block is handed out, so a crash only
// skips the rest of a block and never repeats a serial. One process may use
// a file at a time (enforced with an advisory lock where available).
type FileSerialStore struct {
	mu    sync.Mutex
	path  string
	block uint64
	next  uint64
	limit uint64
	lock  *os.File
}

// DefaultSerialBlock is the reservation size of OpenFileSerialStore.
const DefaultSerialBlock = 1000

// OpenFileSerialStore opens (or creates) the serial file at path. block <= 0
// means DefaultSerialBlock.
func OpenFileSerialStore(path string, block int) (*FileSerialStore, error) {
	if block <= 0 {
		block = DefaultSerialBlock
	}
	lock, err := os.OpenFile(path+".lock", os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, fmt.Errorf("tsa: open serial store: %w", err)
	}
	if err := lockFile(lock); err != nil {
		lock.Close()
		return nil, fmt.Errorf("tsa: open serial store: %s is in use by another process: %w", path, err)
	}
	s := &FileSerialStore{path: path, block: uint64(block), next: 1, lock: lock}
	b, err := os.ReadFile(path)
	switch {
	case errors.Is(err, os.ErrNotExist):
	case err != nil:
		lock.Close()
		return nil, fmt.Errorf("tsa: open serial store: %w", err)
	default:
		v, err := strconv.ParseUint(strings.TrimSpace(string(b)), 10, 64)
		if err != nil || v == 0 {
			lock.Close()
			return nil, fmt.Errorf("tsa: open serial store: %s is corrupt", path)
		}
		s.next = v
	}
	s.limit = s.next
	return s, nil
}

// NextSerial returns the next serial number.
func (s *FileSerialStore) NextSerial(ctx context.Context) (*big.Int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.lock == nil {
		return nil, errors.New("tsa: serial store is closed")
	}
	if s.next >= s.limit {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		limit := s.next + s.block
		if limit < s.next {
			return nil, errors.New("tsa: serial numbers exhausted")
		}
		if err := atomicfile.Write(s.path, []byte(strconv.FormatUint(limit, 10)+"\n"), 0o600); err != nil {
			return nil, fmt.Errorf("tsa: reserve serial numbers: %w", err)
		}
		s.limit = limit
	}
	n := s.next
	s.next++
	return new(big.Int).SetUint64(n), nil
}

// Close releases the file lock. Unused reserved serials are skipped.
func (s *FileSerialStore) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.lock == nil {
		return nil
	}
	err := s.lock.Close()
	s.lock = nil
	return err
}
