package memo

import (
	"sync"
	"testing"
)

func TestMap(t *testing.T) {
	m := New[int, string](2)
	m.Put(1, "a")
	m.Put(2, "b")
	if v, ok := m.Get(1); !ok || v != "a" {
		t.Fatalf("Get(1) = %q, %v", v, ok)
	}
	m.Put(3, "c") // past the bound: starts empty again
	if _, ok := m.Get(1); ok {
		t.Fatal("the map grew past its bound")
	}
	if v, ok := m.Get(3); !ok || v != "c" {
		t.Fatalf("Get(3) = %q, %v", v, ok)
	}
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			for j := range 100 {
				m.Put(i*100+j, "x")
				m.Get(j)
			}
		})
	}
	wg.Wait()
}
