// Package inproc is the in-process implementation of bus.Bus, used by
// `esign all` and by tests. It keeps the semantics of the RabbitMQ
// transport: every message is encoded to a JSON envelope and decoded again
// (so encoding bugs show up), calls honour deadlines, errors keep their kind,
// queues are bounded, failing events are retried a bounded number of times
// and then dead-lettered.
package inproc

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"esign/internal/bus"
	"esign/internal/esign"
)

// DefaultQueueCapacity bounds every queue and subscription buffer.
const DefaultQueueCapacity = 1024

// Options configure a Bus. The zero value is usable.
type Options struct {
	Limits        bus.Limits
	QueueCapacity int          // messages buffered per queue or group; default DefaultQueueCapacity
	Logger        *slog.Logger // default slog.Default()
}

// Bus is the in-process bus. Create it with New; it is safe for concurrent
// use.
type Bus struct {
	limits bus.Limits
	cap    int
	log    *slog.Logger
	ctx    context.Context // done when the bus is closed
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu      sync.Mutex
	queues  map[string]chan *call
	streams map[string]*stream
	dead    map[string][]*bus.Event // by stream "\x00" group
}

var (
	_ bus.Bus          = (*Bus)(nil)
	_ bus.DeadLetterer = (*Bus)(nil)
)

type call struct {
	msg   []byte
	reply chan []byte // buffered, capacity 1
}

type stream struct {
	groups  map[string]chan []byte
	private map[chan []byte]struct{}
}

// New returns an empty bus.
func New(opts Options) *Bus {
	if opts.QueueCapacity <= 0 {
		opts.QueueCapacity = DefaultQueueCapacity
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &Bus{
		limits:  opts.Limits.WithDefaults(),
		cap:     opts.QueueCapacity,
		log:     opts.Logger,
		ctx:     ctx,
		cancel:  cancel,
		queues:  map[string]chan *call{},
		streams: map[string]*stream{},
		dead:    map[string][]*bus.Event{},
	}
}

// Close stops every server and subscriber and waits for running handlers.
// Later calls fail with Unavailable.
func (b *Bus) Close() error {
	b.cancel()
	b.wg.Wait()
	return nil
}

func (b *Bus) closedErr(op string) error {
	return bus.Unavailable(op, "the bus is closed", nil)
}

// Call implements bus.Bus.
func (b *Bus) Call(ctx context.Context, queue, method string, req, resp any) error {
	oc, err := bus.NewCall(ctx, b.limits, queue, method, req)
	if err != nil {
		return err
	}
	defer oc.Cancel()
	op, ctx, msg := oc.Op, oc.Ctx, oc.Msg
	b.mu.Lock()
	q := b.queues[queue]
	b.mu.Unlock()
	if b.ctx.Err() != nil {
		return b.closedErr(op)
	}
	if q == nil {
		return bus.Unavailable(op, "no server for this queue", nil)
	}
	c := &call{msg: msg, reply: make(chan []byte, 1)}
	select {
	case q <- c:
	case <-ctx.Done():
		return bus.CallError(op, ctx.Err())
	case <-b.ctx.Done():
		return b.closedErr(op)
	}
	select {
	case r := <-c.reply:
		renv, err := bus.ParseEnvelope(r, b.limits.MaxMessageSize)
		if err != nil {
			return esign.E(op, esign.Internal, "the reply cannot be decoded", err)
		}
		return bus.DecodeReply(op, renv, resp)
	case <-ctx.Done():
		return bus.CallError(op, ctx.Err())
	case <-b.ctx.Done():
		return b.closedErr(op)
	}
}

// Serve implements bus.Bus.
func (b *Bus) Serve(ctx context.Context, queue string, h bus.Handler) error {
	if err := bus.CheckName("queue", queue); err != nil {
		return esign.E("bus.Serve", err)
	}
	if b.ctx.Err() != nil {
		return b.closedErr("bus.Serve " + queue)
	}
	b.mu.Lock()
	q := b.queues[queue]
	if q == nil {
		q = make(chan *call, b.cap)
		b.queues[queue] = q
	}
	b.mu.Unlock()
	ctx, cancel := context.WithCancel(ctx)
	stop := context.AfterFunc(b.ctx, cancel)
	var wg sync.WaitGroup
	for range b.limits.Prefetch {
		wg.Go(func() {
			for {
				select {
				case <-ctx.Done():
					return
				case c := <-q:
					b.serveOne(ctx, queue, h, c)
				}
			}
		})
	}
	b.wg.Go(func() {
		wg.Wait()
		stop()
		cancel()
	})
	return nil
}

func (b *Bus) serveOne(ctx context.Context, queue string, h bus.Handler, c *call) {
	env, err := bus.ParseEnvelope(c.msg, b.limits.MaxMessageSize)
	if err != nil {
		b.log.Warn("bus: rejected malformed request", "queue", queue, "err", err)
		return
	}
	req := bus.RequestFromEnvelope(queue, env, false)
	if !req.Deadline.IsZero() && time.Now().After(req.Deadline) {
		return // the caller has given up
	}
	// A server that stops lets the running requests finish within their deadlines.
	hctx, cancel := bus.HandlerContext(context.WithoutCancel(ctx), env.CorrelationID, req.Deadline)
	res, herr := bus.SafeHandle(hctx, h, req)
	cancel()
	if herr != nil && esign.ErrorKind(herr) == esign.Internal {
		b.log.Error("bus: handler failed", "queue", queue, "method", req.Method, "cid", req.CorrelationID, "err", herr)
	}
	reply, err := bus.EncodeReply(env, res, herr, b.limits.MaxMessageSize)
	if err != nil {
		b.log.Error("bus: reply replaced by an error", "queue", queue, "method", req.Method, "cid", req.CorrelationID, "err", err)
	}
	c.reply <- reply
}

// Publish implements bus.Bus.
func (b *Bus) Publish(ctx context.Context, streamName, eventType string, body any) error {
	oc, err := bus.NewEvent(ctx, b.limits, streamName, eventType, body)
	if err != nil {
		return err
	}
	defer oc.Cancel()
	op, ctx, msg := oc.Op, oc.Ctx, oc.Msg
	if b.ctx.Err() != nil {
		return b.closedErr(op)
	}
	b.mu.Lock()
	s := b.stream(streamName)
	targets := make([]chan []byte, 0, len(s.groups)+len(s.private))
	for _, g := range s.groups {
		targets = append(targets, g)
	}
	for g := range s.private {
		targets = append(targets, g)
	}
	b.mu.Unlock()
	for _, g := range targets {
		select {
		case g <- msg:
		case <-ctx.Done():
			return bus.CallError(op, ctx.Err())
		case <-b.ctx.Done():
			return b.closedErr(op)
		}
	}
	return nil
}

func (b *Bus) stream(name string) *stream {
	s := b.streams[name]
	if s == nil {
		s = &stream{groups: map[string]chan []byte{}, private: map[chan []byte]struct{}{}}
		b.streams[name] = s
	}
	return s
}

// Subscribe implements bus.Bus.
func (b *Bus) Subscribe(ctx context.Context, streamName, group string, h bus.EventHandler) error {
	if err := bus.CheckName("stream", streamName); err != nil {
		return esign.E("bus.Subscribe", err)
	}
	if group != "" {
		if err := bus.CheckName("group", group); err != nil {
			return esign.E("bus.Subscribe", err)
		}
	}
	if b.ctx.Err() != nil {
		return b.closedErr("bus.Subscribe " + streamName)
	}
	b.mu.Lock()
	s := b.stream(streamName)
	var g chan []byte
	if group == "" {
		g = make(chan []byte, b.cap)
		s.private[g] = struct{}{}
	} else if g = s.groups[group]; g == nil {
		g = make(chan []byte, b.cap)
		s.groups[group] = g
	}
	b.mu.Unlock()
	ctx, cancel := context.WithCancel(ctx)
	stop := context.AfterFunc(b.ctx, cancel)
	var wg sync.WaitGroup
	for range b.limits.Prefetch {
		wg.Go(func() {
			for {
				select {
				case <-ctx.Done():
					return
				case msg := <-g:
					b.handleEvent(ctx, streamName, group, g, h, msg)
				}
			}
		})
	}
	b.wg.Go(func() {
		wg.Wait()
		stop()
		cancel()
		if group == "" {
			b.mu.Lock()
			delete(s.private, g)
			b.mu.Unlock()
		}
	})
	return nil
}

func (b *Bus) handleEvent(ctx context.Context, streamName, group string, g chan []byte, h bus.EventHandler, msg []byte) {
	env, err := bus.ParseEnvelope(msg, b.limits.MaxMessageSize)
	if err != nil {
		b.log.Warn("bus: rejected malformed event", "stream", streamName, "group", group, "err", err)
		return
	}
	for attempt := 1; ; attempt++ {
		ev := bus.EventFromEnvelope(streamName, env, attempt)
		hctx, cancel := bus.HandlerContext(ctx, env.CorrelationID, time.Now().Add(b.limits.DefaultTimeout))
		err := bus.SafeHandleEvent(hctx, h, ev)
		cancel()
		if err == nil {
			return
		}
		if ctx.Err() != nil {
			b.requeue(streamName, group, g, ev.ID, msg) // stopping: not the event's fault
			return
		}
		if !bus.Retryable(err) || attempt >= b.limits.MaxDeliveries {
			b.log.Error("bus: event dead-lettered", "stream", streamName, "group", group, "type", ev.Type,
				"id", ev.ID, "attempt", attempt, "err", err)
			b.mu.Lock()
			k := streamName + "\x00" + group
			b.dead[k] = append(b.dead[k], ev)
			b.mu.Unlock()
			return
		}
		b.log.Warn("bus: event handler failed, will retry", "stream", streamName, "group", group, "id", ev.ID, "attempt", attempt, "err", err)
		t := time.NewTimer(b.limits.Backoff(attempt))
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			b.requeue(streamName, group, g, ev.ID, msg)
			return
		}
	}
}

// requeue gives an event back to its group for a later member when a
// subscriber stops in the middle of it.
func (b *Bus) requeue(streamName, group string, g chan []byte, id string, msg []byte) {
	select {
	case g <- msg:
	default:
		b.log.Error("bus: event dropped at shutdown: queue full", "stream", streamName, "group", group, "id", id)
	}
}

// TakeDeadLetters implements bus.DeadLetterer.
func (b *Bus) TakeDeadLetters(ctx context.Context, streamName, group string, max int) ([]*bus.Event, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	k := streamName + "\x00" + group
	d := b.dead[k]
	n := min(max, len(d))
	out := append([]*bus.Event(nil), d[:n]...)
	b.dead[k] = d[n:]
	return out, nil
}
