package bus

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"esign/internal/esign"
)

func TestErrorRoundTrip(t *testing.T) {
	two, zero := 2, 0
	tests := []struct {
		name string
		err  error
		want esign.Error
	}{
		{"not_found", esign.E("store.GetOffer", esign.NotFound, "offer not found"), esign.Error{Kind: esign.NotFound, Msg: "offer not found"}},
		{"code", esign.WithCode("m2", esign.Invalid, "ts_order", "bad order"), esign.Error{Kind: esign.Invalid, Code: "ts_order", Msg: "bad order"}},
		{"wrapped", esign.E("outer", esign.E("inner", esign.Conflict, "taken")), esign.Error{Kind: esign.Conflict, Msg: "taken"}},
		{"internal_hidden", esign.E("store", errors.New("dsn=postgres://secret")), esign.Error{Kind: esign.Internal, Msg: "an internal error occurred"}},
		{"plain", errors.New("boom"), esign.Error{Kind: esign.Internal, Msg: "an internal error occurred"}},
		{"deadline", context.DeadlineExceeded, esign.Error{Kind: esign.Timeout, Msg: "the request took too long"}},
		{"attempts_left", esign.E("m2", &esign.Error{Kind: esign.Invalid, Code: "invalid_code", Msg: "wrong", AttemptsLeft: &two}),
			esign.Error{Kind: esign.Invalid, Code: "invalid_code", Msg: "wrong", AttemptsLeft: &two}},
		{"no_attempts_left", esign.E("m2", &esign.Error{Kind: esign.Invalid, Code: "invalid_code", Msg: "over", AttemptsLeft: &zero}),
			esign.Error{Kind: esign.Invalid, Code: "invalid_code", Msg: "over", AttemptsLeft: &zero}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := json.Marshal(EncodeError(tt.err))
			if err != nil {
				t.Fatal(err)
			}
			var w WireError
			if err := json.Unmarshal(b, &w); err != nil {
				t.Fatal(err)
			}
			got := w.Err("bus.Call q/m")
			var e *esign.Error
			if !errors.As(got, &e) {
				t.Fatalf("got %T", got)
			}
			if e.Kind != tt.want.Kind || e.Code != tt.want.Code || e.Msg != tt.want.Msg || e.Op != "bus.Call q/m" {
				t.Errorf("got %+v, want %+v", e, tt.want)
			}
			n, ok := esign.ErrorAttemptsLeft(got)
			if want, wantOK := esign.ErrorAttemptsLeft(&tt.want); n != want || ok != wantOK {
				t.Errorf("attempts left %d (%v), want %d (%v)", n, ok, want, wantOK)
			}
			if strings.Contains(string(b), "secret") {
				t.Errorf("wire form leaks the cause: %s", b)
			}
		})
	}
}

// TestEnvelopeGolden pins the wire format: testdata/envelope_*.json must
// parse, and re-encode to the same bytes.
func TestEnvelopeGolden(t *testing.T) {
	files, err := filepath.Glob("testdata/envelope_*.json")
	if err != nil || len(files) == 0 {
		t.Fatalf("no golden envelopes: %v", err)
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			want, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			want = []byte(strings.TrimSpace(string(want)))
			e, err := ParseEnvelope(want, DefaultMaxMessageSize)
			if err != nil {
				t.Fatal(err)
			}
			got, err := e.Marshal(DefaultMaxMessageSize)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != string(want) {
				t.Errorf("re-encoded\n%s\nwant\n%s", got, want)
			}
		})
	}
}

func TestParseEnvelopeRejects(t *testing.T) {
	tests := []struct {
		name, in, code string
		max            int
	}{
		{"empty", "", "", 0},
		{"not_json", "hello", "", 0},
		{"array", "[1]", "", 0},
		{"version", `{"v":2,"id":"a","type":"t"}`, "bad_version", 0},
		{"no_version", `{"id":"a","type":"t"}`, "bad_version", 0},
		{"no_id", `{"v":1,"type":"t"}`, "bad_envelope", 0},
		{"trailing", `{"v":1,"id":"a","type":"t"}x`, "", 0},
		{"not_utf8", "{\"v\":1,\"id\":\"\xff\"}", "bad_envelope", 0},
		{"too_large", `{"v":1,"id":"a","type":"t","body":"xxxxxxxxxxxxxxxx"}`, "message_too_large", 20},
		{"long_type", `{"v":1,"id":"a","type":"` + strings.Repeat("t", 300) + `"}`, "bad_envelope", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseEnvelope([]byte(tt.in), tt.max)
			if !esign.IsKind(err, esign.Invalid) {
				t.Fatalf("ParseEnvelope(%q) = %v, want Invalid", tt.in, err)
			}
			if tt.code != "" && esign.ErrorCode(err) != tt.code {
				t.Errorf("code %q, want %q", esign.ErrorCode(err), tt.code)
			}
		})
	}
}

func TestNewEnvelope(t *testing.T) {
	ctx := WithCorrelationID(context.Background(), "req-1")
	e, err := NewEnvelope(ctx, "offer.get", map[string]int{"id": 7})
	if err != nil {
		t.Fatal(err)
	}
	if e.V != Version || e.CorrelationID != "req-1" || len(e.ID) != 32 || string(e.Body) != `{"id":7}` {
		t.Errorf("envelope %+v", e)
	}
	if _, err := e.Marshal(0); err != nil {
		t.Fatal(err)
	}
	bad, err := NewEnvelope(ctx, "x", json.RawMessage("{bad"))
	if err == nil {
		_, err = bad.Marshal(0)
	}
	if !esign.IsKind(err, esign.Invalid) {
		t.Errorf("invalid raw body: %v, want Invalid", err)
	}
	if _, err := NewEnvelope(ctx, "x", func() {}); !esign.IsKind(err, esign.Invalid) {
		t.Errorf("unencodable body: %v, want Invalid", err)
	}
	e, _ = NewEnvelope(context.Background(), "x", nil)
	if e.CorrelationID != e.ID {
		t.Errorf("a fresh chain should use the message id as correlation id: %+v", e)
	}
}

func TestBackoff(t *testing.T) {
	l := Limits{RetryBackoff: 100 * time.Millisecond}.WithDefaults()
	for attempt, want := range map[int]time.Duration{1: 100 * time.Millisecond, 2: 200 * time.Millisecond, 4: 800 * time.Millisecond, 20: 5 * time.Second} {
		if got := l.Backoff(attempt); got != want {
			t.Errorf("Backoff(%d) = %v, want %v", attempt, got, want)
		}
	}
}

func TestSystemConfigHolder(t *testing.T) {
	var h SystemConfigHolder
	if _, ok := h.Latest(); ok {
		t.Fatal("empty holder has a config")
	}
	for _, tt := range []struct {
		v      int64
		stored bool
	}{{3, true}, {2, false}, {3, false}, {4, true}} {
		if got := h.Set(SystemConfig{Version: tt.v}); got != tt.stored {
			t.Errorf("Set(version %d) = %v, want %v", tt.v, got, tt.stored)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if _, err := h.Wait(ctx, 5); !esign.IsKind(err, esign.Timeout) {
		t.Errorf("Wait for a version never pushed: %v, want Timeout", err)
	}
	if cfg, err := h.Wait(context.Background(), 4); err != nil || cfg.Version != 4 {
		t.Errorf("Wait(4) = %+v, %v", cfg, err)
	}
}

// FuzzParseEnvelope feeds arbitrary bytes to the parser that reads every
// message from the broker: it must never panic, and whatever it accepts must
// re-encode and parse again to the same envelope.
func FuzzParseEnvelope(f *testing.F) {
	files, _ := filepath.Glob("testdata/envelope_*.json")
	for _, file := range files {
		b, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(`{"v":1,"id":"a","type":"t","body":null,"error":{"kind":"nope"}}`))
	f.Add([]byte(`{"v":1,"id":"a","deadline":"not a time"}`))
	f.Add([]byte("\x00"))
	f.Add([]byte(`{"v":1,"id":"a","type":"t","body": [1, {"a" : 2}] }`))
	f.Fuzz(func(t *testing.T, b []byte) {
		e, err := ParseEnvelope(b, 1<<16)
		if err != nil {
			if !esign.IsKind(err, esign.Invalid) {
				t.Fatalf("error of kind %v: %v", esign.ErrorKind(err), err)
			}
			return
		}
		out, err := e.Marshal(0)
		if err != nil {
			t.Fatalf("accepted envelope does not re-encode: %v", err)
		}
		e2, err := ParseEnvelope(out, 0)
		if err != nil {
			t.Fatalf("re-encoded envelope does not parse: %v\n%s", err, out)
		}
		if e2.ID != e.ID || e2.Type != e.Type || compact(e2.Body) != compact(e.Body) {
			t.Fatalf("round trip changed the envelope: %+v vs %+v", e, e2)
		}
		_ = e.Error.Err("fuzz")
		var v any
		_ = DecodeReply("fuzz", e, &v)
	})
}

func compact(b []byte) string {
	var buf bytes.Buffer
	if err := json.Compact(&buf, b); err != nil {
		return "invalid: " + err.Error()
	}
	return buf.String()
}
