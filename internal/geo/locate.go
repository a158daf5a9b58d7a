package geo

import (
	"net/netip"
	"strings"
)

// Unknown is the location of an address no database maps (or when no
// database is configured).
const Unknown = "unknown"

// Locator names the place of client addresses; the zero value (and a nil
// one) knows none.
type Locator struct {
	db *DB
}

// NewLocator returns a locator on db (nil: every answer is Unknown).
func NewLocator(db *DB) *Locator { return &Locator{db: db} }

// Locate returns "City, CC" (the city's English name and the country's
// ISO code), "CC" when the database knows only the country, and Unknown
// when the address is not valid, not in the database, or there is no
// database — or the record is unreadable: a location is never guessed.
func (l *Locator) Locate(ip string) string {
	if l == nil || l.db == nil {
		return Unknown
	}
	addr, err := netip.ParseAddr(strings.TrimSpace(ip))
	if err != nil {
		return Unknown
	}
	v, ok, err := l.db.Lookup(addr)
	if err != nil || !ok {
		return Unknown
	}
	rec, _ := v.(map[string]any)
	country := clean(path(rec, "country", "iso_code"), 3)
	if country == "" {
		country = clean(path(rec, "registered_country", "iso_code"), 3)
	}
	city := clean(path(rec, "city", "names", "en"), 100)
	switch {
	case country == "":
		return Unknown
	case city == "":
		return country
	}
	return city + ", " + country
}

// path returns the string at the keys of nested maps ("" when absent).
func path(m map[string]any, keys ...string) string {
	for i, k := range keys {
		if m == nil {
			return ""
		}
		if i == len(keys)-1 {
			s, _ := m[k].(string)
			return s
		}
		m, _ = m[k].(map[string]any)
	}
	return ""
}

// clean keeps printable text of at most n runes, so a hostile file cannot
// put control characters or a novel into the activity log.
func clean(s string, n int) string {
	s = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || r == 0xfffd {
			return -1
		}
		return r
	}, strings.ToValidUTF8(s, ""))
	if r := []rune(s); len(r) > n {
		s = string(r[:n])
	}
	return strings.TrimSpace(s)
}
