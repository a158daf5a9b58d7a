package jobs

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Schedule says when a periodic job runs. Next returns the first slot
// strictly after t. Slots are a pure function of wall-clock time, so every
// replica computes the same ones.
type Schedule interface {
	Next(t time.Time) time.Time
}

// ParseSchedule parses a schedule:
//
//	"0 8 * * 1"   five-field cron (minute hour day-of-month month day-of-week),
//	              with *, lists (1,15), ranges (1-5), steps (*/15, 8-18/2) and
//	              day/month names (MON, JAN); 0 and 7 are Sunday
//	"@hourly", "@daily", "@weekly", "@monthly"
//	"@every 90s"  fixed interval aligned to the Unix epoch (at least 1s)
//
// Cron fields are evaluated in loc (nil: UTC).
func ParseSchedule(spec string, loc *time.Location) (Schedule, error) {
	if loc == nil {
		loc = time.UTC
	}
	spec = strings.TrimSpace(spec)
	switch spec {
	case "@hourly":
		spec = "0 * * * *"
	case "@daily", "@midnight":
		spec = "0 0 * * *"
	case "@weekly":
		spec = "0 0 * * 0"
	case "@monthly":
		spec = "0 0 1 * *"
	}
	if rest, ok := strings.CutPrefix(spec, "@every "); ok {
		d, err := time.ParseDuration(strings.TrimSpace(rest))
		if err != nil {
			return nil, fmt.Errorf("jobs: schedule %q: %w", spec, err)
		}
		if d < time.Second || d%time.Second != 0 {
			return nil, fmt.Errorf("jobs: schedule %q: interval must be a whole number of seconds, at least 1s", spec)
		}
		return every(d), nil
	}
	f := strings.Fields(spec)
	if len(f) != 5 {
		return nil, fmt.Errorf("jobs: schedule %q: want 5 cron fields or @every", spec)
	}
	var c cronSchedule
	var err error
	fields := []struct {
		dst      *uint64
		min, max int
		names    []string
	}{
		{&c.minute, 0, 59, nil},
		{&c.hour, 0, 23, nil},
		{&c.dom, 1, 31, nil},
		{&c.month, 1, 12, []string{"", "JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"}},
		{&c.dow, 0, 7, []string{"SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"}},
	}
	for i, fd := range fields {
		if *fd.dst, err = parseField(f[i], fd.min, fd.max, fd.names); err != nil {
			return nil, fmt.Errorf("jobs: schedule %q field %d: %w", spec, i+1, err)
		}
	}
	if c.dow&(1<<7) != 0 {
		c.dow |= 1 // 7 is Sunday too
	}
	c.domStar, c.dowStar = f[2] == "*" || strings.HasPrefix(f[2], "*/"), f[4] == "*" || strings.HasPrefix(f[4], "*/")
	c.loc = loc
	return &c, nil
}

type every time.Duration

func (e every) Next(t time.Time) time.Time {
	d := time.Duration(e)
	return t.Truncate(d).Add(d)
}

type cronSchedule struct {
	minute, hour, dom, month, dow uint64
	domStar, dowStar              bool
	loc                           *time.Location
}

func parseField(s string, min, max int, names []string) (uint64, error) {
	var bits uint64
	for _, part := range strings.Split(s, ",") {
		rng, stepS, hasStep := strings.Cut(part, "/")
		step := 1
		if hasStep {
			n, err := strconv.Atoi(stepS)
			if err != nil || n < 1 {
				return 0, fmt.Errorf("bad step %q", stepS)
			}
			step = n
		}
		lo, hi := min, max
		if rng != "*" {
			a, b, isRange := strings.Cut(rng, "-")
			var err error
			if lo, err = fieldValue(a, min, max, names); err != nil {
				return 0, err
			}
			hi = lo
			if isRange {
				if hi, err = fieldValue(b, min, max, names); err != nil {
					return 0, err
				}
			} else if hasStep {
				hi = max
			}
			if hi < lo {
				return 0, fmt.Errorf("empty range %q", rng)
			}
		}
		for v := lo; v <= hi; v += step {
			bits |= 1 << v
		}
	}
	return bits, nil
}

func fieldValue(s string, min, max int, names []string) (int, error) {
	for i, n := range names {
		if n != "" && strings.EqualFold(s, n) {
			return i, nil
		}
	}
	v, err := strconv.Atoi(s)
	if err != nil || v < min || v > max {
		return 0, fmt.Errorf("value %q out of range %d-%d", s, min, max)
	}
	return v, nil
}

func (c *cronSchedule) dayMatches(t time.Time) bool {
	dom := c.dom&(1<<t.Day()) != 0
	dow := c.dow&(1<<int(t.Weekday())) != 0
	switch {
	case c.domStar && c.dowStar:
		return true
	case c.domStar:
		return dow
	case c.dowStar:
		return dom
	}
	return dom || dow // classic cron: either restricted day field matches
}

// Next implements Schedule.
func (c *cronSchedule) Next(t time.Time) time.Time {
	t = t.In(c.loc)
	t = time.Date(t.Year(), t.Month(), t.Day(), t.Hour(), t.Minute(), 0, 0, c.loc).Add(time.Minute)
	limit := t.AddDate(5, 0, 0)
	for t.Before(limit) {
		switch {
		case c.month&(1<<int(t.Month())) == 0:
			t = time.Date(t.Year(), t.Month()+1, 1, 0, 0, 0, 0, c.loc)
		case !c.dayMatches(t):
			t = time.Date(t.Year(), t.Month(), t.Day()+1, 0, 0, 0, 0, c.loc)
		case c.hour&(1<<t.Hour()) == 0:
			n := time.Date(t.Year(), t.Month(), t.Day(), t.Hour()+1, 0, 0, 0, c.loc)
			if !n.After(t) { // a DST fold: step in absolute time
				n = t.Truncate(time.Hour).Add(time.Hour)
			}
			t = n
		case c.minute&(1<<t.Minute()) == 0:
			t = t.Add(time.Minute)
		default:
			return t
		}
	}
	return time.Time{} // never, e.g. "0 0 31 2 *"
}

// minGap returns the shortest distance between consecutive slots of s over
// the next year (or 1000 slots), at least one second. It is the period of
// the unique-per-slot guard: two different slots are never closer than it,
// so rounding a slot down to a multiple of it names the slot uniquely.
func minGap(s Schedule, from time.Time) time.Duration {
	gap := time.Duration(0)
	prev := s.Next(from)
	if prev.IsZero() {
		return time.Second
	}
	end := from.AddDate(1, 0, 0)
	for i := 0; i < 1000 && prev.Before(end); i++ {
		next := s.Next(prev)
		if next.IsZero() {
			break
		}
		if d := next.Sub(prev); gap == 0 || d < gap {
			gap = d
		}
		prev = next
	}
	gap = gap.Truncate(time.Second)
	if gap < time.Second {
		gap = time.Second
	}
	return gap
}
