// Package bus is the message bus used between the esign processes: RPC
// (Call a queue, Serve a queue with a Handler) and events (Publish to a
// stream, Subscribe to it as a group). Messages travel as versioned JSON
// envelopes with a correlation id and a deadline; handler errors travel as
// typed errors so that the caller gets back an *esign.Error of the same Kind.
//
// Two transports implement Bus: bus/inproc (one process, used by `esign all`
// and tests) and bus/amqp (RabbitMQ). bus/bustest holds the conformance suite
// that both pass.
package bus

import (
	"context"
	"encoding/json"
	"time"
)

// Bus is the contract both transports implement.
//
// Call sends req (marshalled to JSON) to method on the RPC queue and decodes
// the reply into resp (which may be nil). Every call has a deadline: ctx's, or
// DefaultTimeout when ctx has none. Errors returned are *esign.Error values:
// the handler's kind (Invalid, NotFound, Forbidden, Conflict, …) when the
// handler failed, Unavailable when no server can be reached (no broker
// connection, no such queue), Timeout when the deadline passed first.
//
// Serve registers h as a server of queue and returns once it is registered;
// it keeps serving until ctx is done or the bus is closed, across reconnects.
// Several servers of one queue compete for its requests.
//
// Publish sends an event of the given type to stream and returns once the
// transport has taken responsibility for it (on RabbitMQ: after the broker's
// publisher confirm), or fails by ctx's deadline (DefaultTimeout when ctx has
// none). Each subscribing group receives each event at least once; a publish
// that failed may still have been delivered, so publishers retry and
// subscribers are idempotent.
//
// Subscribe registers h for the events of stream as a member of group:
// members of one group share the events; each group gets all of them. A
// named group is durable (its events wait while no member runs). The empty
// group is a private, non-durable subscription of this process only (for
// broadcasts such as configuration pushes). An event whose handler fails with
// a retryable kind (Internal, Unavailable, Timeout, TooMany) is delivered
// again, at most MaxDeliveries times in all; then, or at once for any other
// kind, it goes to the group's dead-letter queue.
type Bus interface {
	Call(ctx context.Context, queue, method string, req, resp any) error
	Serve(ctx context.Context, queue string, h Handler) error
	Publish(ctx context.Context, stream, eventType string, body any) error
	Subscribe(ctx context.Context, stream, group string, h EventHandler) error
	Close() error
}

// DeadLetterer is implemented by transports that can hand out the events
// that ended in a group's dead-letter queue. TakeDeadLetters removes and
// returns up to max of them.
type DeadLetterer interface {
	TakeDeadLetters(ctx context.Context, stream, group string, max int) ([]*Event, error)
}

// Request is an RPC request as a Handler sees it.
type Request struct {
	Queue         string
	Method        string
	ID            string // unique per message
	CorrelationID string // the request id of the whole chain of calls
	Deadline      time.Time
	Redelivered   bool         // the transport may have delivered it before (server crash)
	Trace         TraceContext // the caller's trace context, when it traces
	Body          json.RawMessage
}

// Decode unmarshals the request body into v. A malformed body is an Invalid
// error.
func (r *Request) Decode(v any) error { return decodeBody("bus.Request.Decode", r.Body, v) }

// Handler answers an RPC request. The result is marshalled to JSON
// (json.RawMessage is sent as is, nil as null). The returned error's Kind,
// Code and Msg travel back to the caller; its other text stays in the server.
type Handler func(ctx context.Context, req *Request) (any, error)

// Event is an event as an EventHandler sees it.
type Event struct {
	Stream        string
	Type          string
	ID            string
	CorrelationID string
	Time          time.Time
	Attempt       int          // 1 on the first delivery
	Trace         TraceContext // the publisher's trace context, when it traces
	Body          json.RawMessage
}

// Decode unmarshals the event body into v. A malformed body is an Invalid
// error.
func (e *Event) Decode(v any) error { return decodeBody("bus.Event.Decode", e.Body, v) }

// EventHandler processes one event. Returning nil acknowledges it. Its ctx
// ends after DefaultTimeout, or when the subscriber stops (the event is then
// delivered again later).
type EventHandler func(ctx context.Context, ev *Event) error

// Defaults shared by the transports.
const (
	DefaultTimeout        = 30 * time.Second
	DefaultMaxMessageSize = 4 << 20
	DefaultMaxDeliveries  = 5
	DefaultPrefetch       = 64
)

// Limits are the knobs both transports share. The zero value means the
// defaults above.
type Limits struct {
	DefaultTimeout time.Duration // deadline of a Call whose ctx has none
	MaxMessageSize int           // bytes of an encoded envelope, checked at publish and consume
	MaxDeliveries  int           // deliveries of an event before it is dead-lettered
	Prefetch       int           // messages a server or subscriber works on at once
	RetryBackoff   time.Duration // first pause before an event is delivered again (doubles, max 5 s)
}

// WithDefaults returns l with zero fields replaced by the defaults.
func (l Limits) WithDefaults() Limits {
	if l.DefaultTimeout <= 0 {
		l.DefaultTimeout = DefaultTimeout
	}
	if l.MaxMessageSize <= 0 {
		l.MaxMessageSize = DefaultMaxMessageSize
	}
	if l.MaxDeliveries <= 0 {
		l.MaxDeliveries = DefaultMaxDeliveries
	}
	if l.Prefetch <= 0 {
		l.Prefetch = DefaultPrefetch
	}
	if l.RetryBackoff <= 0 {
		l.RetryBackoff = 100 * time.Millisecond
	}
	return l
}

// Backoff returns the pause before delivery attempt+1 of an event.
func (l Limits) Backoff(attempt int) time.Duration {
	d := l.RetryBackoff
	for i := 1; i < attempt && d < 5*time.Second; i++ {
		d *= 2
	}
	return min(d, 5*time.Second)
}
