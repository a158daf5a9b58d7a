package sqlstore

import (
	"testing"
	"time"
)

func TestTimeColScan(t *testing.T) {
	want := time.Date(2026, 11, 27, 3, 5, 6, 123456000, time.UTC)
	tests := []struct {
		name string
		src  any
		want time.Time
	}{
		{"sqlite-text", "2026-11-27T03:05:06.123456Z", want},
		{"sqlite-bytes", []byte("2026-11-27T03:05:06.123456Z"), want},
		{"rfc3339-offset", "2026-11-27T04:05:06.123456789+01:00", want},
		{"postgres-time", want.In(time.FixedZone("CET", 3600)), want},
		{"null", nil, time.Time{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := time.Now()
			if err := tm(&got).Scan(tt.src); err != nil {
				t.Fatal(err)
			}
			if !got.Equal(tt.want) || (!got.IsZero() && got.Location() != time.UTC) {
				t.Fatalf("got %v, want %v", got, tt.want)
			}
		})
	}
	var x time.Time
	for _, bad := range []any{"yesterday", 42, "2026-13-01T00:00:00Z"} {
		if err := tm(&x).Scan(bad); err == nil {
			t.Errorf("Scan(%v) succeeded", bad)
		}
	}
}

// TestSQLiteTimeOrder checks that the SQLite text form sorts like the times.
func TestSQLiteTimeOrder(t *testing.T) {
	d := sqliteDialect{}
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	steps := []time.Duration{0, time.Microsecond, 999 * time.Microsecond, time.Second, time.Hour, 400 * 24 * time.Hour}
	prev := ""
	for _, s := range steps {
		v := d.timeValue(base.Add(s)).(string)
		if v <= prev {
			t.Fatalf("%q sorts before %q", v, prev)
		}
		prev = v
	}
}

func FuzzTimeColScan(f *testing.F) {
	f.Add("2026-11-27T03:05:06.123456Z")
	f.Add("")
	f.Fuzz(func(t *testing.T, s string) {
		var got time.Time
		if err := tm(&got).Scan(s); err == nil && !got.IsZero() && got.Location() != time.UTC {
			t.Fatalf("Scan(%q) = %v, not UTC", s, got)
		}
	})
}

func FuzzRebind(f *testing.F) {
	f.Add("a = ? AND b = '?' AND c IN (?, ?)")
	f.Fuzz(func(t *testing.T, q string) {
		out := (postgresDialect{}).rebind(q)
		if len(out) < len(q) {
			t.Fatalf("rebind shortened %q to %q", q, out)
		}
	})
}
