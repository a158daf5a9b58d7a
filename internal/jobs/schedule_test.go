package jobs

import (
	"strconv"
	"testing"
	"time"
	_ "time/tzdata" // Europe/Budapest without the system's zoneinfo
)

func TestSchedule(t *testing.T) {
	bud, err := time.LoadLocation("Europe/Budapest")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, spec string
		loc        *time.Location
		from, want string // RFC 3339
	}{
		{"weekly_monday_8", "0 8 * * 1", time.UTC, "2026-11-25T10:00:00Z", "2026-11-30T08:00:00Z"},
		{"weekly_exactly_at_slot", "0 8 * * MON", time.UTC, "2026-11-30T08:00:00Z", "2026-12-07T08:00:00Z"},
		{"daily_6", "0 6 * * *", time.UTC, "2026-11-25T06:00:30Z", "2026-11-26T06:00:00Z"},
		{"daily_3_budapest_winter", "0 3 * * *", bud, "2026-11-25T12:00:00Z", "2026-11-26T02:00:00Z"},
		{"daily_3_budapest_summer", "0 3 * * *", bud, "2026-07-01T12:00:00Z", "2026-07-02T01:00:00Z"},
		{"dst_gap_skips_missing_hour", "30 2 * * *", bud, "2026-03-28T12:00:00Z", "2026-03-30T00:30:00Z"},
		{"step_minutes", "*/15 * * * *", time.UTC, "2026-01-01T10:07:00Z", "2026-01-01T10:15:00Z"},
		{"range_hours", "0 9-17/4 * * *", time.UTC, "2026-01-01T10:00:00Z", "2026-01-01T13:00:00Z"},
		{"month_name", "0 0 1 JAN *", time.UTC, "2026-05-01T00:00:00Z", "2027-01-01T00:00:00Z"},
		{"dom_or_dow", "0 0 13 * 5", time.UTC, "2026-11-01T00:00:00Z", "2026-11-06T00:00:00Z"},
		{"sunday_7", "0 0 * * 7", time.UTC, "2026-11-25T00:00:00Z", "2026-11-29T00:00:00Z"},
		{"macro_daily", "@daily", time.UTC, "2026-11-25T00:00:00Z", "2026-11-26T00:00:00Z"},
		{"every_2s", "@every 2s", time.UTC, "2026-11-25T00:00:01.5Z", "2026-11-25T00:00:02Z"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := ParseSchedule(tt.spec, tt.loc)
			if err != nil {
				t.Fatal(err)
			}
			from, _ := time.Parse(time.RFC3339Nano, tt.from)
			want, _ := time.Parse(time.RFC3339Nano, tt.want)
			if got := s.Next(from); !got.Equal(want) {
				t.Errorf("Next(%s) = %s, want %s", from, got.UTC(), want)
			}
		})
	}
}

func TestScheduleErrors(t *testing.T) {
	for i, spec := range []string{"", "* * * *", "60 * * * *", "* 24 * * *", "0 0 0 * *", "*/0 * * * *", "5-1 * * * *", "@every 500ms", "@every x", "0 0 * * FUNDAY"} {
		t.Run(strconv.Itoa(i), func(t *testing.T) {
			if _, err := ParseSchedule(spec, nil); err == nil {
				t.Errorf("%q accepted", spec)
			}
		})
	}
}

func TestMinGap(t *testing.T) {
	from := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for spec, want := range map[string]time.Duration{
		"0 8 * * 1":   7 * 24 * time.Hour,
		"0 6 * * *":   24 * time.Hour,
		"0 8,9 * * *": time.Hour,
		"@every 1s":   time.Second,
	} {
		s, err := ParseSchedule(spec, time.UTC)
		if err != nil {
			t.Fatal(err)
		}
		if got := minGap(s, from); got != want {
			t.Errorf("minGap(%q) = %v, want %v", spec, got, want)
		}
	}
}

func FuzzParseSchedule(f *testing.F) {
	for _, s := range []string{"0 8 * * 1", "*/5 1-3 * JAN-MAR MON,FRI", "@every 10s", "@weekly"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, spec string) {
		s, err := ParseSchedule(spec, time.UTC)
		if err != nil {
			return
		}
		from := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
		if n := s.Next(from); !n.IsZero() && !n.After(from) {
			t.Errorf("Next(%v) = %v is not after", from, n)
		}
	})
}
