package geo

import (
	"bytes"
	"errors"
	"flag"
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

var update = flag.Bool("update", false, "rewrite testdata/city.mmdb")

func city(name, country string) map[string]any {
	m := map[string]any{"country": map[string]any{"iso_code": country, "geoname_id": uint32(719819),
		"names": map[string]any{"en": country}}}
	if name != "" {
		m["city"] = map[string]any{"names": map[string]any{"en": name, "hu": name}}
		m["location"] = map[string]any{"latitude": 47.4984, "longitude": 19.0404, "accuracy_radius": uint16(20)}
	}
	return m
}

// testNetworks are documentation and loopback ranges only: the test
// database says nothing about any real address.
func testNetworks() []network {
	return []network{
		{netip.MustParsePrefix("192.0.2.0/24"), city("Budapest", "HU")},
		{netip.MustParsePrefix("198.51.100.0/25"), city("", "DE")},
		{netip.MustParsePrefix("203.0.113.0/24"), map[string]any{"is_anonymous_proxy": true, "continent": map[string]any{"code": "EU"}}},
		{netip.MustParsePrefix("127.0.0.0/8"), city("Budapest", "HU")},
		{netip.MustParsePrefix("2001:db8::/32"), city("Wien", "AT")},
		{netip.MustParsePrefix("::1/128"), city("Budapest", "HU")},
	}
}

// TestGolden: the test writer's database is testdata/city.mmdb byte for
// byte (rewrite with -update), and the reader reads it.
func TestGolden(t *testing.T) {
	got := writeMMDB(t, 28, testNetworks())
	golden := filepath.Join("testdata", "city.mmdb")
	if *update {
		if err := os.WriteFile(golden, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("the written database differs from %s (run with -update)", golden)
	}
	db, err := OpenFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if db.Type != "esign-test-City" {
		t.Errorf("database type %q", db.Type)
	}
	testLocations(t, NewLocator(db))
}

func testLocations(t *testing.T, l *Locator) {
	t.Helper()
	for _, tt := range []struct{ ip, want string }{
		{"192.0.2.1", "Budapest, HU"},
		{"192.0.2.255", "Budapest, HU"},
		{"192.0.3.0", Unknown},
		{"198.51.100.5", "DE"},
		{"198.51.100.200", Unknown}, // outside the /25
		{"203.0.113.9", Unknown},    // a record without a country
		{"127.0.0.1", "Budapest, HU"},
		{"::ffff:192.0.2.7", "Budapest, HU"},
		{"2001:db8:1::5", "Wien, AT"},
		{"2001:db9::1", Unknown},
		{"::1", "Budapest, HU"},
		{"10.0.0.1", Unknown},
		{"", Unknown},
		{"not an address", Unknown},
		{"fe80::1%eth0", Unknown},
	} {
		if got := l.Locate(tt.ip); got != tt.want {
			t.Errorf("Locate(%q) = %q, want %q", tt.ip, got, tt.want)
		}
	}
}

// TestRecordSizes: every record size reads back the same.
func TestRecordSizes(t *testing.T) {
	for _, rs := range []int{24, 28, 32} {
		db, err := Open(writeMMDB(t, rs, testNetworks()))
		if err != nil {
			t.Fatalf("record size %d: %v", rs, err)
		}
		testLocations(t, NewLocator(db))
		v, ok, err := db.Lookup(netip.MustParseAddr("192.0.2.1"))
		if err != nil || !ok {
			t.Fatalf("lookup: %v %v", ok, err)
		}
		want := map[string]any{"country": map[string]any{"iso_code": "HU", "geoname_id": uint64(719819), "names": map[string]any{"en": "HU"}},
			"city":     map[string]any{"names": map[string]any{"en": "Budapest", "hu": "Budapest"}},
			"location": map[string]any{"latitude": 47.4984, "longitude": 19.0404, "accuracy_radius": uint64(20)}}
		if !reflect.DeepEqual(v, want) {
			t.Errorf("record size %d: %#v", rs, v)
		}
	}
}

// TestNoDatabase: without a file every address is unknown.
func TestNoDatabase(t *testing.T) {
	var l *Locator
	if got := l.Locate("192.0.2.1"); got != Unknown {
		t.Errorf("nil locator: %q", got)
	}
	if got := NewLocator(nil).Locate("192.0.2.1"); got != Unknown {
		t.Errorf("no database: %q", got)
	}
}

// TestDecode: the value encodings, including the sizes and pointers the
// small writer never makes.
func TestDecode(t *testing.T) {
	long := bytes.Repeat([]byte("a"), 300)
	for _, tt := range []struct {
		name string
		in   []byte
		off  int
		want any
	}{
		{"short string", []byte{0x43, 'a', 'b', 'c'}, 0, "abc"},
		{"string size 29+", append([]byte{0x5d, 1}, bytes.Repeat([]byte("a"), 30)...), 0, string(bytes.Repeat([]byte("a"), 30))},
		{"string size 285+", append([]byte{0x5e, 0, 15}, long...), 0, string(long)},
		{"uint16", []byte{0xa2, 0x01, 0x02}, 0, uint64(0x0102)},
		{"uint32 zero", []byte{0xc0}, 0, uint64(0)},
		{"int32 negative", []byte{0x04, 0x01, 0xff, 0xff, 0xff, 0xfe}, 0, int64(-2)},
		{"uint64", []byte{0x02, 0x02, 0x01, 0x00}, 0, uint64(0x0100)},
		{"bool true", []byte{0x01, 0x07}, 0, true},
		{"float", []byte{0x04, 0x08, 0x3f, 0x80, 0, 0}, 0, float64(1)},
		{"uint128", []byte{0x01, 0x03, 0xff}, 0, []byte{0xff}},
		{"array", []byte{0x02, 0x04, 0x41, 'x', 0xa1, 5}, 0, []any{"x", uint64(5)}},
		{"pointer ss=0", []byte{0x41, 'x', 0x20, 0x00}, 2, "x"},
		{"pointer ss=1", append(append(make([]byte, 2048), 0x41, 'y'), 0x28, 0, 0), 2050, "y"},
		{"pointer ss=3", []byte{0x41, 'z', 0x38, 0, 0, 0, 0}, 2, "z"},
		{"map with pointer key", []byte{0x41, 'k', 0xe1, 0x20, 0x00, 0x41, 'v'}, 2, map[string]any{"k": "v"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			d := decoder{buf: tt.in}
			got, _, err := d.decode(tt.off, 0)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %#v, want %#v", got, tt.want)
			}
		})
	}
}

// TestBroken: broken files and values are errors, never panics.
func TestBroken(t *testing.T) {
	good := writeMMDB(t, 24, testNetworks())
	for _, tt := range []struct {
		name string
		in   []byte
	}{
		{"empty", nil},
		{"no marker", []byte("not a database")},
		{"marker only", metadataMarker},
		{"truncated tree", good[len(good)/2:]},
	} {
		if _, err := Open(tt.in); !errors.Is(err, ErrFormat) {
			t.Errorf("%s: %v", tt.name, err)
		}
	}
	for _, tt := range []struct {
		name string
		in   []byte
	}{
		{"pointer loop", []byte{0x20, 0x00}},
		{"pointer past the end", []byte{0x20, 0x10}},
		{"string past the end", []byte{0x45, 'a'}},
		{"huge map", []byte{0xff, 0xff, 0xff}},
		{"map key not a string", []byte{0xe1, 0xa1, 1, 0xa1, 1}},
		{"double of 4 bytes", []byte{0x64, 0, 0, 0, 0}},
		{"end marker", []byte{0x00, 0x06}},
		{"self-nesting map", []byte{0xe1, 0x41, 'k', 0x20, 0x00}},
	} {
		d := decoder{buf: tt.in}
		if _, _, err := d.decode(0, 0); !errors.Is(err, ErrFormat) {
			t.Errorf("%s: %v", tt.name, err)
		}
	}
}

// FuzzOpen: whatever the bytes, Open and Lookup end with a value or an
// error, without a panic.
func FuzzOpen(f *testing.F) {
	f.Add(writeMMDB(f, 24, testNetworks()))
	f.Add(writeMMDB(f, 28, testNetworks()[:2]))
	f.Add(writeMMDB(f, 32, testNetworks()[4:]))
	addrs := []netip.Addr{netip.MustParseAddr("192.0.2.1"), netip.MustParseAddr("2001:db8::1"), netip.MustParseAddr("0.0.0.0"),
		netip.MustParseAddr("ffff::ffff")}
	f.Fuzz(func(t *testing.T, data []byte) {
		db, err := Open(data)
		if err != nil {
			return
		}
		for _, a := range addrs {
			_, _, _ = db.Lookup(a)
		}
		NewLocator(db).Locate("198.51.100.1")
	})
}

// FuzzDecode: any bytes decode to a value or an error.
func FuzzDecode(f *testing.F) {
	f.Add([]byte{0xe1, 0x41, 'k', 0x20, 0x00}, 0)
	f.Add([]byte{0x41, 'x', 0x20, 0x00}, 2)
	f.Fuzz(func(t *testing.T, data []byte, off int) {
		d := decoder{buf: data}
		_, _, _ = d.decode(off, 0)
	})
}

// BenchmarkLocate: one lookup in the golden test database (docs/performance.md).
func BenchmarkLocate(b *testing.B) {
	db, err := OpenFile(filepath.Join("testdata", "city.mmdb"))
	if err != nil {
		b.Fatal(err)
	}
	l := NewLocator(db)
	b.ReportAllocs()
	for b.Loop() {
		if l.Locate("192.0.2.1") != "Budapest, HU" {
			b.Fatal("wrong place")
		}
	}
}
