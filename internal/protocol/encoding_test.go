package protocol

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"strings"
	"testing"

	"esign/internal/esign"
)

var update = flag.Bool("update", false, "rewrite testdata/vectors.json")

// jsonValue is the JSON form of a Value in the vectors file: exactly one of
// bytes (hex), string or list.
type jsonValue struct {
	Bytes  *string     `json:"bytes,omitempty"`
	String *string     `json:"string,omitempty"`
	List   []jsonValue `json:"list,omitempty"`
	IsList bool        `json:"-"`
}

func (j jsonValue) MarshalJSON() ([]byte, error) {
	switch {
	case j.Bytes != nil:
		return json.Marshal(map[string]string{"bytes": *j.Bytes})
	case j.String != nil:
		return json.Marshal(map[string]string{"string": *j.String})
	}
	l := j.List
	if l == nil {
		l = []jsonValue{}
	}
	return json.Marshal(map[string][]jsonValue{"list": l})
}

func (j *jsonValue) UnmarshalJSON(b []byte) error {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil {
		return err
	}
	if len(m) != 1 {
		return fmt.Errorf("a value needs exactly one of bytes, string, list: %s", b)
	}
	for k, raw := range m {
		switch k {
		case "bytes":
			return json.Unmarshal(raw, &j.Bytes)
		case "string":
			return json.Unmarshal(raw, &j.String)
		case "list":
			j.IsList = true
			return json.Unmarshal(raw, &j.List)
		}
		return fmt.Errorf("unknown key %q", k)
	}
	return nil
}

func (j jsonValue) value(t *testing.T) Value {
	switch {
	case j.Bytes != nil:
		b, err := hex.DecodeString(*j.Bytes)
		if err != nil {
			t.Fatal(err)
		}
		return Bytes(b)
	case j.String != nil:
		return String(*j.String)
	}
	l := List{}
	for _, e := range j.List {
		l = append(l, e.value(t))
	}
	return l
}

func toJSON(v Value) jsonValue {
	switch v := v.(type) {
	case Bytes:
		s := hex.EncodeToString(v)
		return jsonValue{Bytes: &s}
	case String:
		s := string(v)
		return jsonValue{String: &s}
	case List:
		j := jsonValue{List: []jsonValue{}, IsList: true}
		for _, e := range v {
			j.List = append(j.List, toJSON(e))
		}
		return j
	}
	return jsonValue{}
}

type vectors struct {
	Comment string `json:"comment"`
	Valid   []struct {
		Name     string    `json:"name"`
		Value    jsonValue `json:"value"`
		Encoding string    `json:"encoding"`
	} `json:"valid"`
	Invalid []struct {
		Name     string `json:"name"`
		Encoding string `json:"encoding"`
	} `json:"invalid"`
}

// sample builds the valid vectors' values.
func samples() []struct {
	name string
	v    List
} {
	h := func(s string) Bytes { b, _ := hex.DecodeString(s); return b }
	pub := h("3059301306072a8648ce3d020106082a8648ce3d03010703420004")
	hash1 := h(strings.Repeat("11", 32))
	hash2 := h(strings.Repeat("22", 32))
	return []struct {
		name string
		v    List
	}{
		{"empty_list", List{}},
		{"empty_bytes_and_string", List{Bytes{}, String("")}},
		{"m1_raw_data", List{pub, String("kovacs.anna")}},
		{"utf8_string", List{String("Árvíztűrő tükörfúrógép")}},
		{"nested_offer_hashes", List{pub, List{hash1, hash2}, String("kovacs.anna"), String("123456"), String(`{"os":"android"}`), Bytes{}}},
		{"nested_empty_lists", List{List{}, List{List{}}}},
	}
}

func TestVectors(t *testing.T) {
	const path = "testdata/vectors.json"
	if *update {
		var vs vectors
		vs.Comment = "Test vectors of the esign protocol encoding (docs/protocol.md). valid: encoding is the hex of Encode(value); Decode(encoding) gives value back. invalid: Decode must refuse encoding."
		for _, s := range samples() {
			enc, err := Encode(s.v)
			if err != nil {
				t.Fatal(err)
			}
			vs.Valid = append(vs.Valid, struct {
				Name     string    `json:"name"`
				Value    jsonValue `json:"value"`
				Encoding string    `json:"encoding"`
			}{s.name, toJSON(s.v), hex.EncodeToString(enc)})
		}
		for _, bad := range []struct{ name, enc string }{
			{"empty_input", ""},
			{"wrong_magic", "45534758" + "01" + "0300000000"},
			{"unsupported_version", "4553474e" + "02" + "0300000000"},
			{"top_level_not_a_list", "4553474e01" + "0100000000"},
			{"trailing_byte", "4553474e01" + "0300000000" + "00"},
			{"length_past_end", "4553474e01" + "0300000006" + "0100000002aa"},
			{"unknown_tag", "4553474e01" + "0300000005" + "0400000000"},
			{"invalid_utf8", "4553474e01" + "0300000007" + "0200000002c328"},
			{"truncated_prefix", "4553474e01" + "03000000"},
			{"list_length_cuts_a_value", "4553474e01" + "0300000004" + "0100000000"},
		} {
			vs.Invalid = append(vs.Invalid, struct {
				Name     string `json:"name"`
				Encoding string `json:"encoding"`
			}{bad.name, bad.enc})
		}
		data, _ := json.MarshalIndent(vs, "", "  ")
		if err := os.WriteFile(path, append(data, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var vs vectors
	if err := json.Unmarshal(data, &vs); err != nil {
		t.Fatal(err)
	}
	if len(vs.Valid) == 0 || len(vs.Invalid) == 0 {
		t.Fatal("no vectors")
	}
	for _, v := range vs.Valid {
		t.Run("valid_"+v.Name, func(t *testing.T) {
			want, _ := hex.DecodeString(v.Encoding)
			val := v.Value.value(t).(List)
			got, err := Encode(val)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				t.Fatalf("Encode = %x\nwant     %x", got, want)
			}
			dec, err := Decode(want)
			if err != nil {
				t.Fatal(err)
			}
			again, _ := Encode(dec)
			if !bytes.Equal(again, want) {
				t.Fatal("decode/encode is not the identity")
			}
		})
	}
	for _, v := range vs.Invalid {
		t.Run("invalid_"+v.Name, func(t *testing.T) {
			enc, _ := hex.DecodeString(v.Encoding)
			if _, err := Decode(enc); !esign.IsKind(err, esign.Invalid) || esign.ErrorCode(err) != "encoding" {
				t.Fatalf("Decode = %v, want Invalid/encoding", err)
			}
		})
	}
}

// TestUnambiguous: arrays that a naive concatenation would confuse encode
// differently.
func TestUnambiguous(t *testing.T) {
	pairs := [][2]List{
		{{Bytes("ab"), Bytes("c")}, {Bytes("a"), Bytes("bc")}},
		{{Bytes("abc")}, {String("abc")}},
		{{List{Bytes("a")}}, {Bytes("a")}},
		{{Bytes{}}, {}},
		{{List{}, Bytes("x")}, {List{Bytes("x")}}},
	}
	for i, p := range pairs {
		a, _ := Encode(p[0])
		b, _ := Encode(p[1])
		if bytes.Equal(a, b) {
			t.Errorf("pair %d encodes the same: %x", i, a)
		}
	}
}

func TestEncodeRefuses(t *testing.T) {
	deep := List{}
	for range MaxDepth + 1 {
		deep = List{deep}
	}
	for name, l := range map[string]List{
		"nil_value": {nil},
		"bad_utf8":  {String("\xc3\x28")},
		"too_deep":  deep,
	} {
		if _, err := Encode(l); !esign.IsKind(err, esign.Invalid) {
			t.Errorf("%s: %v", name, err)
		}
	}
	if _, err := Decode(append([]byte("ESGN\x01"), deepEncoding(MaxDepth+1)...)); err == nil {
		t.Error("a too deep message decoded")
	}
}

func deepEncoding(depth int) []byte {
	inner := []byte{TagList, 0, 0, 0, 0}
	for range depth - 1 {
		n := len(inner)
		inner = append([]byte{TagList, byte(n >> 24), byte(n >> 16), byte(n >> 8), byte(n)}, inner...)
	}
	return inner
}

func FuzzDecode(f *testing.F) {
	for _, s := range samples() {
		enc, _ := Encode(s.v)
		f.Add(enc)
	}
	f.Add([]byte("ESGN\x01\x03\xff\xff\xff\xff"))
	f.Fuzz(func(t *testing.T, b []byte) {
		l, err := Decode(b)
		if err != nil {
			return
		}
		// Canonical: whatever decodes re-encodes to the same bytes.
		again, err := Encode(l)
		if err != nil {
			t.Fatalf("decoded but does not encode: %v", err)
		}
		if !bytes.Equal(again, b) {
			t.Fatalf("not canonical:\n in %x\nout %x", b, again)
		}
	})
}
