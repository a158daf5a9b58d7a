// Package memo keeps the results of checks that give the same answer for
// the same input every time (tsa.ChainCache: a certificate chain), so that
// an owner that meets the same few inputs over and over does the work once.
// A Map belongs to the object that holds it, never to a package.
package memo

import "sync"

// Map is a bounded map safe for concurrent use. Past its bound it starts
// empty again: a working set larger than the bound means inputs that keep
// changing, which a memo would not help, and an eviction policy would cost
// more than it saves. The zero value is not usable; see New.
type Map[K comparable, V any] struct {
	mu  sync.Mutex
	m   map[K]V
	max int
}

// New returns a Map of at most max entries.
func New[K comparable, V any](max int) *Map[K, V] {
	return &Map[K, V]{m: make(map[K]V), max: max}
}

// Get returns the value remembered for k.
func (c *Map[K, V]) Get(k K) (V, bool) {
	c.mu.Lock()
	v, ok := c.m[k]
	c.mu.Unlock()
	return v, ok
}

// Put remembers v for k.
func (c *Map[K, V]) Put(k K, v V) {
	c.mu.Lock()
	if len(c.m) >= c.max {
		clear(c.m)
	}
	c.m[k] = v
	c.mu.Unlock()
}

// Len returns the number of entries.
func (c *Map[K, V]) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.m)
}
