package bus

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"
	"unicode/utf8"

	"esign/internal/esign"
)

// Version is the envelope format version this package writes and reads.
const Version = 1

// Envelope is the wire form of every message, request, reply and event:
//
//	{"v":1,"id":"…","cid":"…","type":"offer.get","time":"…","deadline":"…","body":{…}}
//	{"v":1,"id":"…","cid":"…","type":"offer.get","time":"…","error":{"kind":"not_found","msg":"offer not found"}}
//
// Requests and events sent while a trace is recorded also carry the W3C
// trace context, "traceparent" and "tracestate" (see TraceContext).
type Envelope struct {
	V             int             `json:"v"`
	ID            string          `json:"id"`
	CorrelationID string          `json:"cid,omitempty"`
	Type          string          `json:"type"`
	Time          time.Time       `json:"time"`
	Deadline      *time.Time      `json:"deadline,omitempty"`
	Traceparent   string          `json:"traceparent,omitempty"`
	Tracestate    string          `json:"tracestate,omitempty"`
	Body          json.RawMessage `json:"body,omitempty"`
	Error         *WireError      `json:"error,omitempty"`
}

// WireError is an error on the wire. Kind is esign.Kind.String(); Msg is the
// user-safe message (esign.ErrorMessage), never the internal cause;
// AttemptsLeft is esign.ErrorAttemptsLeft, when the error has it;
// RetryAfterMs is esign.ErrorRetryAfter in milliseconds, when known.
type WireError struct {
	Kind         string `json:"kind"`
	Code         string `json:"code,omitempty"`
	Msg          string `json:"msg,omitempty"`
	AttemptsLeft *int   `json:"attemptsLeft,omitempty"`
	RetryAfterMs int64  `json:"retryAfterMs,omitempty"`
}

// EncodeError turns err into its wire form, keeping only what may cross a
// process boundary: kind, code, the user-safe message and the attempts
// left.
func EncodeError(err error) *WireError {
	if err == nil {
		return nil
	}
	if esign.ErrorKind(err) == esign.Internal && errors.Is(err, context.DeadlineExceeded) {
		err = &esign.Error{Kind: esign.Timeout, Err: err}
	}
	w := &WireError{Kind: esign.ErrorKind(err).String(), Code: esign.ErrorCode(err), Msg: esign.ErrorMessage(err)}
	if n, ok := esign.ErrorAttemptsLeft(err); ok {
		w.AttemptsLeft = &n
	}
	w.RetryAfterMs = esign.ErrorRetryAfter(err).Milliseconds()
	return w
}

// Err rebuilds the *esign.Error on the caller's side. op names the operation
// ("bus.Call esign:rpc-offer/offer.get").
func (w *WireError) Err(op string) error {
	if w == nil {
		return nil
	}
	e := &esign.Error{Op: op, Kind: esign.ParseKind(w.Kind), Code: w.Code, Msg: w.Msg, AttemptsLeft: w.AttemptsLeft,
		RetryAfter: time.Duration(max(w.RetryAfterMs, 0)) * time.Millisecond}
	if e.Kind == esign.Timeout {
		e.Err = context.DeadlineExceeded // errors.Is works as for a local deadline
	}
	return e
}

// Retryable reports whether an event whose handler failed with err should be
// delivered again.
func Retryable(err error) bool {
	switch esign.ErrorKind(err) {
	case esign.Internal, esign.Unavailable, esign.Timeout, esign.TooMany:
		return true
	}
	return false
}

// NewID returns a random 128-bit id in hex.
func NewID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go ≥ 1.24)
	return hex.EncodeToString(b[:])
}

type ctxKey struct{}

// WithCorrelationID returns a context that carries the request id id; calls
// and events sent with it carry id as their correlation id.
func WithCorrelationID(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, ctxKey{}, id)
}

// CorrelationID returns the correlation id carried by ctx, or "".
func CorrelationID(ctx context.Context) string {
	id, _ := ctx.Value(ctxKey{}).(string)
	return id
}

// TraceContext is the W3C trace context of a message (the traceparent and
// tracestate headers of https://www.w3.org/TR/trace-context/), opaque to
// the bus: whoever traces sets it on the sender's context with
// WithTraceContext, the transports carry it in the envelope, and the
// handler finds it in Request.Trace or Event.Trace.
type TraceContext struct {
	Parent string // traceparent
	State  string // tracestate
}

type traceKey struct{}

// WithTraceContext returns a context whose calls and events carry tc.
func WithTraceContext(ctx context.Context, tc TraceContext) context.Context {
	return context.WithValue(ctx, traceKey{}, tc)
}

// TraceContextFrom returns the trace context set by WithTraceContext, or
// the zero value.
func TraceContextFrom(ctx context.Context) TraceContext {
	tc, _ := ctx.Value(traceKey{}).(TraceContext)
	return tc
}

// NewEnvelope builds an envelope of the given type whose body is v marshalled
// to JSON. The correlation id comes from ctx, or is the new message id.
func NewEnvelope(ctx context.Context, typ string, v any) (*Envelope, error) {
	body, err := marshalBody(v)
	if err != nil {
		return nil, esign.E("bus.NewEnvelope", esign.Invalid, "the message body cannot be encoded", err)
	}
	id := NewID()
	cid := CorrelationID(ctx)
	if cid == "" {
		cid = id
	}
	tc := TraceContextFrom(ctx)
	return &Envelope{V: Version, ID: id, CorrelationID: cid, Type: typ, Time: time.Now().UTC(),
		Traceparent: tc.Parent, Tracestate: tc.State, Body: body}, nil
}

func marshalBody(v any) (json.RawMessage, error) {
	switch v := v.(type) {
	case nil:
		return nil, nil
	case json.RawMessage:
		return v, nil // json.Marshal of the envelope checks it
	}
	return json.Marshal(v)
}

// Marshal encodes e and checks the size limit; an envelope over max bytes is
// an Invalid error.
func (e *Envelope) Marshal(max int) ([]byte, error) {
	b, err := json.Marshal(e)
	if err != nil {
		return nil, esign.E("bus.Envelope.Marshal", esign.Invalid, "the message cannot be encoded", err)
	}
	if max > 0 && len(b) > max {
		return nil, esign.WithCode("bus.Envelope.Marshal", esign.Invalid, "message_too_large",
			fmt.Sprintf("the message is %d bytes, more than the limit of %d", len(b), max))
	}
	return b, nil
}

// ParseEnvelope decodes and checks an envelope received from outside. It
// never panics; any defect is an Invalid error.
func ParseEnvelope(b []byte, max int) (*Envelope, error) {
	const op = "bus.ParseEnvelope"
	if max > 0 && len(b) > max {
		return nil, esign.WithCode(op, esign.Invalid, "message_too_large",
			fmt.Sprintf("the message is %d bytes, more than the limit of %d", len(b), max))
	}
	if !utf8.Valid(b) {
		return nil, esign.WithCode(op, esign.Invalid, "bad_envelope", "the message is not UTF-8")
	}
	var e Envelope
	// Unmarshal rejects trailing data after the object, too.
	if err := json.Unmarshal(b, &e); err != nil {
		return nil, esign.E(op, esign.Invalid, "the message is not a JSON envelope", err)
	}
	switch {
	case e.V != Version:
		return nil, esign.WithCode(op, esign.Invalid, "bad_version", fmt.Sprintf("unsupported envelope version %d", e.V))
	case e.ID == "" || len(e.ID) > 128:
		return nil, esign.WithCode(op, esign.Invalid, "bad_envelope", "the envelope id is missing or too long")
	case len(e.CorrelationID) > 256 || len(e.Type) > 256:
		return nil, esign.WithCode(op, esign.Invalid, "bad_envelope", "the envelope type or correlation id is too long")
	case len(e.Traceparent) > 128 || len(e.Tracestate) > 512:
		// W3C: traceparent is 55 characters in version 00; tracestate
		// holds at most 32 entries, and propagators may drop it past 512.
		return nil, esign.WithCode(op, esign.Invalid, "bad_envelope", "the envelope trace context is too long")
	case e.Error != nil && len(e.Error.Msg)+len(e.Error.Code)+len(e.Error.Kind) > 64<<10:
		return nil, esign.WithCode(op, esign.Invalid, "bad_envelope", "the envelope error is too long")
	}
	return &e, nil
}

func decodeBody(op string, body json.RawMessage, v any) error {
	if v == nil {
		return nil
	}
	if len(body) == 0 {
		body = json.RawMessage("null")
	}
	if err := json.Unmarshal(body, v); err != nil {
		return esign.E(op, esign.Invalid, "the message body does not match the expected form", err)
	}
	return nil
}

// DecodeReply returns the reply's error rebuilt as an *esign.Error, or
// decodes its body into resp.
func DecodeReply(op string, e *Envelope, resp any) error {
	if e.Error != nil {
		return e.Error.Err(op)
	}
	if err := decodeBody(op, e.Body, resp); err != nil {
		// The server sent something the client cannot read: not the caller's fault.
		return esign.E(op, esign.Internal, "the reply cannot be decoded", err)
	}
	return nil
}

// Reply builds the reply envelope to req from a handler's result.
func Reply(req *Envelope, result any, herr error) *Envelope {
	r := &Envelope{V: Version, ID: NewID(), CorrelationID: req.CorrelationID, Type: req.Type, Time: time.Now().UTC()}
	if herr != nil {
		r.Error = EncodeError(herr)
		return r
	}
	body, err := marshalBody(result)
	if err != nil {
		r.Error = EncodeError(esign.E("bus.Reply", esign.Internal, "the reply cannot be encoded", err))
		return r
	}
	r.Body = body
	return r
}

// EncodeReply builds and encodes the reply to req. When the result cannot be
// encoded or is over max bytes, the reply carries an Internal error instead,
// and the returned error says why (for the server's log).
func EncodeReply(req *Envelope, result any, herr error, max int) ([]byte, error) {
	r := Reply(req, result, herr)
	b, err := r.Marshal(max)
	if err == nil {
		return b, nil
	}
	r.Body = nil
	if esign.ErrorCode(err) == "message_too_large" {
		r.Error = EncodeError(ErrReplyTooLarge)
	} else {
		r.Error = EncodeError(esign.E("bus.Reply", esign.Internal, "the reply cannot be encoded"))
	}
	b, _ = r.Marshal(0) // kind, code and message only: always encodable
	return b, err
}

// ErrReplyTooLarge is what the caller gets when the handler's reply exceeds
// the message size limit: the server failed, not the caller.
var ErrReplyTooLarge = &esign.Error{Op: "bus.Serve", Kind: esign.Internal, Code: "reply_too_large", Msg: "the reply is too large"}

// CallError turns a context error at the caller into the bus's vocabulary:
// Timeout for a passed deadline; the bare cause otherwise.
func CallError(op string, err error) error {
	if errors.Is(err, context.DeadlineExceeded) {
		return esign.E(op, esign.Timeout, "no reply before the deadline", err)
	}
	return esign.E(op, err)
}

// Unavailable is the error of a call or publish that cannot reach the broker.
func Unavailable(op, msg string, cause error) error {
	return esign.E(op, esign.Unavailable, msg, cause)
}

// RequestFromEnvelope builds the handler's view of a request envelope.
func RequestFromEnvelope(queue string, e *Envelope, redelivered bool) *Request {
	r := &Request{Queue: queue, Method: e.Type, ID: e.ID, CorrelationID: e.CorrelationID, Redelivered: redelivered,
		Trace: TraceContext{Parent: e.Traceparent, State: e.Tracestate}, Body: e.Body}
	if e.Deadline != nil {
		r.Deadline = *e.Deadline
	}
	return r
}

// EventFromEnvelope builds the handler's view of an event envelope.
func EventFromEnvelope(stream string, e *Envelope, attempt int) *Event {
	return &Event{Stream: stream, Type: e.Type, ID: e.ID, CorrelationID: e.CorrelationID, Time: e.Time, Attempt: attempt,
		Trace: TraceContext{Parent: e.Traceparent, State: e.Tracestate}, Body: e.Body}
}

// Deadline returns ctx's deadline, or now+def when ctx has none, and a
// context bounded by it.
func Deadline(ctx context.Context, def time.Duration) (context.Context, context.CancelFunc, time.Time) {
	if d, ok := ctx.Deadline(); ok {
		ctx, cancel := context.WithCancel(ctx)
		return ctx, cancel, d
	}
	d := time.Now().Add(def)
	ctx, cancel := context.WithDeadline(ctx, d)
	return ctx, cancel, d
}

// HandlerContext returns the context a handler runs in: bounded by the
// request's deadline and carrying its correlation id.
func HandlerContext(ctx context.Context, cid string, deadline time.Time) (context.Context, context.CancelFunc) {
	ctx = WithCorrelationID(ctx, cid)
	if deadline.IsZero() {
		return context.WithCancel(ctx)
	}
	return context.WithDeadline(ctx, deadline)
}

// SafeHandle runs h and turns a panic into an Internal error, so that no
// message, however malformed, can crash a consumer.
func SafeHandle(ctx context.Context, h Handler, req *Request) (res any, err error) {
	defer func() {
		if p := recover(); p != nil {
			res, err = nil, esign.E("bus.Serve "+req.Queue, esign.Internal, fmt.Errorf("handler panic: %v", p))
		}
	}()
	return h(ctx, req)
}

// SafeHandleEvent is SafeHandle for event handlers.
func SafeHandleEvent(ctx context.Context, h EventHandler, ev *Event) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = esign.E("bus.Subscribe "+ev.Stream, esign.Internal, fmt.Errorf("handler panic: %v", p))
		}
	}()
	return h(ctx, ev)
}

// Outgoing is an envelope ready to send: what every transport's Call and
// Publish start with.
type Outgoing struct {
	Op       string             // "bus.Call queue/method" or "bus.Publish stream/type", for errors
	Env      *Envelope          // Env.ID is what a reply carries as correlation
	Ctx      context.Context    // bounded by Deadline
	Cancel   context.CancelFunc // the caller defers it
	Deadline time.Time
	Msg      []byte // the encoded envelope
}

// NewCall checks the queue name, bounds ctx by its deadline (or l's
// default) and encodes req with the deadline into an envelope of at most
// l.MaxMessageSize bytes. On error nothing needs cancelling.
func NewCall(ctx context.Context, l Limits, queue, method string, req any) (*Outgoing, error) {
	return newOutgoing(ctx, l, "bus.Call", "queue", queue, method, req, true)
}

// NewEvent is NewCall for an event published on stream; events carry no
// deadline of their own.
func NewEvent(ctx context.Context, l Limits, stream, eventType string, body any) (*Outgoing, error) {
	return newOutgoing(ctx, l, "bus.Publish", "stream", stream, eventType, body, false)
}

func newOutgoing(ctx context.Context, l Limits, what, kind, name, typ string, body any, withDeadline bool) (*Outgoing, error) {
	op := what + " " + name + "/" + typ
	if err := CheckName(kind, name); err != nil {
		return nil, esign.E(op, err)
	}
	ctx, cancel, deadline := Deadline(ctx, l.DefaultTimeout)
	env, err := NewEnvelope(ctx, typ, body)
	if err != nil {
		cancel()
		return nil, esign.E(op, err)
	}
	if withDeadline {
		env.Deadline = &deadline
	}
	msg, err := env.Marshal(l.MaxMessageSize)
	if err != nil {
		cancel()
		return nil, esign.E(op, err)
	}
	return &Outgoing{Op: op, Env: env, Ctx: ctx, Cancel: cancel, Deadline: deadline, Msg: msg}, nil
}
