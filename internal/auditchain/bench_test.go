package auditchain_test

import (
	"context"
	"path/filepath"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"

	"esign/internal/esign"
	"esign/internal/esigntest"
	"esign/internal/sqlstore"
)

// BenchmarkAppend measures one chained append (CreateAuditLog: lock the
// head, insert, move the head, commit): alone, and on PostgreSQL under
// contention from two pools (two replicas) with GOMAXPROCS×parallel
// goroutines between them. docs/performance.md has the numbers.
func BenchmarkAppend(b *testing.B) {
	entry := func() *esign.AuditLog {
		return &esign.AuditLog{ActorType: "user", ActorID: "u1", Action: "bench.append", ObjectType: "offer", Detail: `{"n":1}`}
	}
	b.Run("sqlite", func(b *testing.B) {
		db := open(b, "sqlite", filepath.Join(b.TempDir(), "esign.db"))
		for b.Loop() {
			if err := db.CreateAuditLog(context.Background(), entry()); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("postgres_serial", func(b *testing.B) {
		db := open(b, "postgres", esigntest.PostgresSchemaURL(b))
		for b.Loop() {
			if err := db.CreateAuditLog(context.Background(), entry()); err != nil {
				b.Fatal(err)
			}
		}
	})
	// The same row without the chain (seq NULL, no head), for the cost
	// of the chain itself.
	b.Run("postgres_unchained", func(b *testing.B) {
		db := open(b, "postgres", esigntest.PostgresSchemaURL(b))
		for b.Loop() {
			if _, err := db.SQL().ExecContext(context.Background(), `INSERT INTO audit_log (id, actor_type, actor_id, action,
				object_type, detail, created_at) VALUES ($1, 'user', 'u1', 'bench.append', 'offer', '{"n":1}', now())`, esign.NewID()); err != nil {
				b.Fatal(err)
			}
		}
	})
	for _, par := range []int{4, 16} {
		b.Run("postgres_two_pools_x"+strconv.Itoa(par), func(b *testing.B) {
			dsn := esigntest.PostgresSchemaURL(b)
			pools := []*sqlstore.DB{open(b, "postgres", dsn), open(b, "postgres", dsn)}
			// Warm up: open every connection the goroutines will hold,
			// so that the numbers are appends, not connection set-ups.
			var wg sync.WaitGroup
			for i := range 2 * par * runtime.GOMAXPROCS(0) {
				wg.Go(func() {
					if err := pools[i%2].CreateAuditLog(context.Background(), entry()); err != nil {
						b.Error(err)
					}
				})
			}
			wg.Wait()
			b.ResetTimer()
			var n atomic.Int64
			b.SetParallelism(par)
			b.RunParallel(func(pb *testing.PB) {
				db := pools[n.Add(1)%2]
				for pb.Next() {
					if err := db.CreateAuditLog(context.Background(), entry()); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
}
