package notify

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"esign/internal/esigntest"
)

// fakeClock is a settable clock shared by a limiter and its test.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time          { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *fakeClock) Advance(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

// testLimiter runs the same contract on every Limiter implementation.
func testLimiter(t *testing.T, newLimiter func(now func() time.Time) Limiter) {
	ctx := context.Background()
	t.Run("window", func(t *testing.T) {
		clk := &fakeClock{t: time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)}
		l := newLimiter(clk.Now)
		lim := Limit{N: 3, Per: time.Hour}
		for i := range 3 {
			d, err := l.Allow(ctx, "sms:+36301111111", lim)
			if err != nil || !d.Allowed {
				t.Fatalf("message %d: %+v, %v", i, d, err)
			}
			clk.Advance(10 * time.Minute)
		}
		d, err := l.Allow(ctx, "sms:+36301111111", lim)
		if err != nil || d.Allowed {
			t.Fatalf("4th message allowed: %+v, %v", d, err)
		}
		if d.RetryAfter != 30*time.Minute {
			t.Errorf("RetryAfter = %v, want 30m", d.RetryAfter)
		}
		// Another recipient is independent.
		if d, err := l.Allow(ctx, "sms:+36302222222", lim); err != nil || !d.Allowed {
			t.Fatalf("other key: %+v, %v", d, err)
		}
		// Denied attempts do not count: after the first hit leaves the window, one slot frees up.
		clk.Advance(30*time.Minute + time.Millisecond)
		if d, err := l.Allow(ctx, "sms:+36301111111", lim); err != nil || !d.Allowed {
			t.Fatalf("after window: %+v, %v", d, err)
		}
		if d, err := l.Allow(ctx, "sms:+36301111111", lim); err != nil || d.Allowed {
			t.Fatalf("second after window allowed: %+v, %v", d, err)
		}
	})
	t.Run("check", func(t *testing.T) {
		// Check peeks: it records nothing and says when a slot frees up.
		clk := &fakeClock{t: time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)}
		l := newLimiter(clk.Now).(interface {
			Check(context.Context, string, Limit) (Decision, error)
		})
		lim := Limit{N: 2, Per: 10 * time.Minute}
		for range 5 {
			if d, err := l.Check(ctx, "auth:10.0.0.1", lim); err != nil || !d.Allowed {
				t.Fatalf("check of an empty key: %+v, %v", d, err)
			}
		}
		for range 2 {
			if d, err := l.(Limiter).Allow(ctx, "auth:10.0.0.1", lim); err != nil || !d.Allowed {
				t.Fatalf("allow: %+v, %v", d, err)
			}
			clk.Advance(time.Minute)
		}
		d, err := l.Check(ctx, "auth:10.0.0.1", lim)
		if err != nil || d.Allowed || d.RetryAfter != 8*time.Minute {
			t.Fatalf("check when full: %+v, %v; want denied, retry after 8m", d, err)
		}
		clk.Advance(8*time.Minute + time.Millisecond)
		if d, err := l.Check(ctx, "auth:10.0.0.1", lim); err != nil || !d.Allowed {
			t.Fatalf("check after the oldest left: %+v, %v", d, err)
		}
	})
	t.Run("unlimited", func(t *testing.T) {
		l := newLimiter(nil)
		for range 100 {
			if d, err := l.Allow(ctx, "k", Limit{}); err != nil || !d.Allowed {
				t.Fatalf("%+v, %v", d, err)
			}
		}
	})
	t.Run("concurrent", func(t *testing.T) {
		l := newLimiter(nil)
		var mu sync.Mutex
		allowed := 0
		var wg sync.WaitGroup
		for range 20 {
			wg.Go(func() {
				d, err := l.Allow(ctx, "push:tok", Limit{N: 5, Per: time.Minute})
				if err != nil {
					t.Error(err)
					return
				}
				if d.Allowed {
					mu.Lock()
					allowed++
					mu.Unlock()
				}
			})
		}
		wg.Wait()
		if allowed != 5 {
			t.Errorf("allowed %d of 20, want 5", allowed)
		}
	})
}

func TestMemoryLimiter(t *testing.T) {
	testLimiter(t, func(now func() time.Time) Limiter { return NewMemoryLimiter(now) })
}

func TestRedisLimiter(t *testing.T) {
	url := esigntest.ServerURL(t, esigntest.RedisURLEnv)
	opt, err := redis.ParseURL(url)
	if err != nil {
		t.Fatal(err)
	}
	rdb := redis.NewClient(opt)
	t.Cleanup(func() { rdb.Close() })
	prefix := fmt.Sprintf("esigntest:rl:%d:", time.Now().UnixNano())
	t.Cleanup(func() {
		ctx := context.Background()
		keys, _ := rdb.Keys(ctx, prefix+"*").Result()
		if len(keys) > 0 {
			rdb.Del(ctx, keys...)
		}
	})
	n := 0
	testLimiter(t, func(now func() time.Time) Limiter {
		n++ // a fresh key space per subtest
		return NewRedisLimiter(rdb, fmt.Sprintf("%s%d:", prefix, n), now)
	})
}

// TestMemoryLimiterSweep checks that the periodic cleanup keeps each key's
// own window: a short-window key does not evict a long-window one.
func TestMemoryLimiterSweep(t *testing.T) {
	ctx := context.Background()
	clk := &fakeClock{t: time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)}
	l := NewMemoryLimiter(clk.Now)
	hour := Limit{N: 1, Per: time.Hour}
	if d, _ := l.Allow(ctx, "sms:a", hour); !d.Allowed {
		t.Fatal("first denied")
	}
	clk.Advance(2 * time.Minute)
	for i := range 2048 { // two sweeps; each push key lives one minute
		l.Allow(ctx, fmt.Sprintf("push:%d", i), Limit{N: 1, Per: time.Minute})
		clk.Advance(time.Second)
	}
	if d, _ := l.Allow(ctx, "sms:a", hour); d.Allowed {
		t.Error("sweep forgot a key still inside its window")
	}
	l.mu.Lock()
	n := len(l.keys)
	l.mu.Unlock()
	if n > 1024+61 {
		t.Errorf("%d keys kept after sweep", n)
	}
}
