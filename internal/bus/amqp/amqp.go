// Package amqp is the RabbitMQ implementation of bus.Bus on
// github.com/rabbitmq/amqp091-go.
//
// Topology: every RPC queue is a durable classic queue of the same name,
// declared by its servers; requests are transient messages with a per-message
// TTL equal to the call's remaining time, published with the mandatory flag
// (so a call to a queue that does not exist fails at once) and answered via
// direct reply-to. Every event stream is a durable topic exchange (routing key
// = event type); a named group is a durable quorum queue "<stream>.<group>"
// with a dead-letter queue "<stream>.<group>.dlq"; the empty group is an
// exclusive, auto-deleted queue of this connection. Events are persistent and
// Publish waits for the broker's publisher confirm. With Options.Namespace
// set, every queue and exchange name on the broker is prefixed with it (see
// bus.Qualify), so that deployments sharing a broker stay apart; handlers
// still see the names they served and subscribed to.
//
// One supervisor goroutine owns the connection; when it drops, calls and
// publishes fail at once with Unavailable, and the supervisor reconnects with
// exponential backoff, after which every server and subscriber declares its
// topology and consumes again.
package amqp

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"esign/internal/bus"
	"esign/internal/esign"
)

// Options configure a Bus.
type Options struct {
	URL             string // amqp://user:pass@host:5672/vhost
	Name            string // connection name shown by the broker (rabbitmqctl list_connections client_properties)
	Namespace       string // prefix of every queue and exchange name (bus.Qualify); empty: the names as given
	Limits          bus.Limits
	CallChannels    int           // channels used by Call, each with a direct reply-to consumer; default 4
	PublishChannels int           // confirm-mode channels used by Publish; default 2
	ServeChannels   int           // consumer channels per Serve, each with its own prefetch; default 2
	ReconnectMin    time.Duration // first pause before reconnecting; default 100 ms
	ReconnectMax    time.Duration // longest pause; default 5 s
	DialTimeout     time.Duration // TCP + AMQP handshake; default 5 s
	Heartbeat       time.Duration // default 10 s
	Logger          *slog.Logger  // default slog.Default()
}

// Bus is the RabbitMQ bus. Create it with Dial; it is safe for concurrent
// use.
type Bus struct {
	opts      Options
	limits    bus.Limits
	log       *slog.Logger
	ctx       context.Context // done when the bus is closed
	cancel    context.CancelFunc
	wg        sync.WaitGroup // the supervisor
	consumers sync.WaitGroup // servers and subscribers
	rr        atomic.Uint64

	mu      sync.Mutex
	sess    *session      // nil while disconnected
	changed chan struct{} // closed and replaced whenever sess changes

	declMu   sync.Mutex
	declared map[string]bool // queue and exchange names this bus declared; true for exchanges
}

var (
	_ bus.Bus          = (*Bus)(nil)
	_ bus.DeadLetterer = (*Bus)(nil)
)

type session struct {
	conn      *amqp.Connection
	done      chan struct{} // closed when the connection is gone
	calls     []*callChan
	pubs      []*amqp.Channel
	exchanges sync.Map    // exchanges declared on this connection
	blocked   atomic.Bool // the broker blocks publishers (resource alarm)
}

type callResult struct {
	body []byte
	err  error
}

type callChan struct {
	ch      *amqp.Channel
	out     chan request // to the sender goroutine
	mu      sync.Mutex
	pending map[string]chan callResult
	dead    bool
}

type request struct {
	queue string
	pub   amqp.Publishing
}

// sendQueue bounds the requests waiting for a call channel's sender.
const sendQueue = 256

const (
	replyTo = "amq.rabbitmq.reply-to"
	// deliveryLimit is the x-delivery-limit of group queues: how often the
	// broker redelivers an event whose consumer vanished without a verdict
	// before it dead-letters it.
	deliveryLimit = 20
)

// Dial connects to the broker and starts the supervisor that keeps the
// connection up until Close. It fails with Unavailable when the first
// connection cannot be made, with Invalid for a bad Namespace.
func Dial(ctx context.Context, opts Options) (*Bus, error) {
	if err := bus.CheckNamespace(opts.Namespace); err != nil {
		return nil, esign.E("amqp.Dial", err)
	}
	if opts.CallChannels <= 0 {
		opts.CallChannels = 4
	}
	if opts.PublishChannels <= 0 {
		opts.PublishChannels = 2
	}
	if opts.ServeChannels <= 0 {
		opts.ServeChannels = 2
	}
	if opts.ReconnectMin <= 0 {
		opts.ReconnectMin = 100 * time.Millisecond
	}
	if opts.ReconnectMax <= 0 {
		opts.ReconnectMax = 5 * time.Second
	}
	if opts.DialTimeout <= 0 {
		opts.DialTimeout = 5 * time.Second
	}
	if opts.Heartbeat <= 0 {
		opts.Heartbeat = 10 * time.Second
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Name == "" {
		opts.Name = "esign"
	}
	bctx, cancel := context.WithCancel(context.Background())
	b := &Bus{
		opts:     opts,
		limits:   opts.Limits.WithDefaults(),
		log:      opts.Logger,
		ctx:      bctx,
		cancel:   cancel,
		changed:  make(chan struct{}),
		declared: map[string]bool{},
	}
	s, err := b.connect(ctx)
	if err != nil {
		cancel()
		return nil, bus.Unavailable("amqp.Dial", "cannot connect to the message broker", err)
	}
	b.setSession(s)
	b.wg.Go(func() { b.supervise(s) })
	return b, nil
}

// Close stops every server and subscriber, waits for their running handlers
// and closes the connection.
func (b *Bus) Close() error {
	b.cancel()
	b.consumers.Wait()
	b.wg.Wait()
	return nil
}

func (b *Bus) connect(ctx context.Context) (*session, error) {
	props := amqp.NewConnectionProperties()
	props.SetClientConnectionName(b.opts.Name)
	cfg := amqp.Config{
		Heartbeat:  b.opts.Heartbeat,
		Properties: props,
		Dial:       amqp.DefaultDial(b.opts.DialTimeout),
	}
	type dialed struct {
		c   *amqp.Connection
		err error
	}
	res := make(chan dialed, 1)
	go func() {
		c, err := amqp.DialConfig(b.opts.URL, cfg)
		res <- dialed{c, err}
	}()
	var conn *amqp.Connection
	select {
	case d := <-res:
		if d.err != nil {
			return nil, d.err
		}
		conn = d.c
	case <-ctx.Done():
		go func() {
			if d := <-res; d.c != nil {
				d.c.Close()
			}
		}()
		return nil, ctx.Err()
	}
	s := &session{conn: conn, done: make(chan struct{})}
	closed := conn.NotifyClose(make(chan *amqp.Error, 1))
	go func() {
		<-closed
		close(s.done)
	}()
	blocked := conn.NotifyBlocked(make(chan amqp.Blocking, 4))
	go func() {
		for bl := range blocked {
			s.blocked.Store(bl.Active)
			if bl.Active {
				b.log.Warn("bus: the message broker blocks publishing", "name", b.opts.Name, "reason", bl.Reason)
			}
		}
	}()
	if err := b.openChannels(s); err != nil {
		conn.Close()
		return nil, err
	}
	return s, nil
}

func (b *Bus) openChannels(s *session) error {
	for range b.opts.CallChannels {
		ch, err := s.conn.Channel()
		if err != nil {
			return err
		}
		deliveries, err := ch.Consume(replyTo, "", true, false, false, false, nil)
		if err != nil {
			return err
		}
		returns := ch.NotifyReturn(make(chan amqp.Return, 64))
		cc := &callChan{ch: ch, out: make(chan request, sendQueue), pending: map[string]chan callResult{}}
		s.calls = append(s.calls, cc)
		go b.dispatchReplies(s, cc, deliveries, returns)
		go cc.send(s)
	}
	for range b.opts.PublishChannels {
		ch, err := s.conn.Channel()
		if err != nil {
			return err
		}
		if err := ch.Confirm(false); err != nil {
			return err
		}
		s.pubs = append(s.pubs, ch)
		go func() {
			// A publishing channel that dies on a live connection (a
			// broker-side channel error) takes the connection down with
			// it, so that the supervisor rebuilds everything.
			<-ch.NotifyClose(make(chan *amqp.Error, 1))
			s.conn.Close()
		}()
	}
	return nil
}

// dispatchReplies hands replies and returned (unroutable) requests to the
// waiting calls; when the channel ends it fails every pending call.
func (b *Bus) dispatchReplies(s *session, cc *callChan, deliveries <-chan amqp.Delivery, returns chan amqp.Return) {
	for deliveries != nil || returns != nil {
		select {
		case d, ok := <-deliveries:
			if !ok {
				deliveries = nil
				continue
			}
			if w := cc.take(d.CorrelationId); w != nil {
				w <- callResult{body: d.Body}
			}
		case r, ok := <-returns:
			if !ok {
				returns = nil
				continue
			}
			if w := cc.take(r.CorrelationId); w != nil {
				w <- callResult{err: bus.Unavailable("amqp.Call "+r.RoutingKey, "no server for this queue", errors.New(r.ReplyText))}
			}
		}
	}
	cc.mu.Lock()
	cc.dead = true
	for id, w := range cc.pending {
		w <- callResult{err: bus.Unavailable("amqp.Call", "the connection to the message broker was lost", nil)}
		delete(cc.pending, id)
	}
	cc.mu.Unlock()
	s.conn.Close()
}

// send writes the requests of cc.out until the session ends; a request that
// cannot be written fails its call at once.
func (cc *callChan) send(s *session) {
	for {
		select {
		case r := <-cc.out:
			if err := cc.ch.Publish("", r.queue, true, false, r.pub); err != nil {
				if w := cc.take(r.pub.CorrelationId); w != nil {
					w <- callResult{err: bus.Unavailable("amqp.Call "+r.queue, "cannot send the request to the message broker", err)}
				}
			}
		case <-s.done:
			return
		}
	}
}

func (cc *callChan) take(id string) chan callResult {
	cc.mu.Lock()
	defer cc.mu.Unlock()
	w := cc.pending[id]
	delete(cc.pending, id)
	return w
}

func (b *Bus) setSession(s *session) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.sess = s
	close(b.changed)
	b.changed = make(chan struct{})
}

// current returns the live session, or nil while disconnected.
func (b *Bus) current() *session {
	b.mu.Lock()
	s := b.sess
	b.mu.Unlock()
	if s == nil {
		return nil
	}
	select {
	case <-s.done:
		return nil
	default:
		return s
	}
}

// waitSession returns the live session, waiting for a reconnect if needed; nil
// when ctx is done first.
func (b *Bus) waitSession(ctx context.Context) *session {
	for {
		b.mu.Lock()
		s, changed := b.sess, b.changed
		b.mu.Unlock()
		if s != nil {
			select {
			case <-s.done:
			default:
				return s
			}
		}
		select {
		case <-ctx.Done():
			return nil
		case <-changed:
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func (b *Bus) supervise(s *session) {
	for {
		select {
		case <-s.done:
		case <-b.ctx.Done():
			b.consumers.Wait() // let running handlers ack and reply first
			s.conn.Close()
			b.setSession(nil)
			return
		}
		b.setSession(nil)
		b.log.Warn("bus: connection to the message broker lost; reconnecting", "name", b.opts.Name)
		pause := b.opts.ReconnectMin
		for {
			var err error
			if s, err = b.connect(b.ctx); err == nil {
				break
			}
			if b.ctx.Err() != nil {
				return
			}
			b.log.Warn("bus: reconnect failed", "name", b.opts.Name, "retry_in", pause, "err", err)
			t := time.NewTimer(pause/2 + rand.N(pause/2+1))
			select {
			case <-t.C:
			case <-b.ctx.Done():
				t.Stop()
				return
			}
			pause = min(2*pause, b.opts.ReconnectMax)
		}
		b.setSession(s)
		b.log.Info("bus: reconnected to the message broker", "name", b.opts.Name)
	}
}

// broker returns the name of a queue or stream on the broker.
func (b *Bus) broker(name string) string { return bus.Qualify(b.opts.Namespace, name) }

func (b *Bus) remember(name string, exchange bool) {
	b.declMu.Lock()
	b.declared[name] = exchange
	b.declMu.Unlock()
}

func notConnected(op string) error {
	return bus.Unavailable(op, "not connected to the message broker", nil)
}

// Call implements bus.Bus.
func (b *Bus) Call(ctx context.Context, queue, method string, req, resp any) error {
	oc, err := bus.NewCall(ctx, b.limits, queue, method, req)
	if err != nil {
		return err
	}
	defer oc.Cancel()
	op, ctx, deadline, msg := oc.Op, oc.Ctx, oc.Deadline, oc.Msg
	ttl := time.Until(deadline).Milliseconds()
	if ttl <= 0 {
		return bus.CallError(op, context.DeadlineExceeded)
	}
	if b.ctx.Err() != nil {
		return bus.Unavailable(op, "the bus is closed", nil)
	}
	s := b.current()
	if s == nil {
		return notConnected(op)
	}
	if s.blocked.Load() {
		return bus.Unavailable(op, "the message broker blocks publishing (resource alarm)", nil)
	}
	cc := s.calls[b.rr.Add(1)%uint64(len(s.calls))]
	wait := make(chan callResult, 1)
	cc.mu.Lock()
	if cc.dead {
		cc.mu.Unlock()
		return notConnected(op)
	}
	cc.pending[oc.Env.ID] = wait
	cc.mu.Unlock()
	defer cc.take(oc.Env.ID)
	// The sender goroutine writes the request: a socket write can block
	// while the broker applies flow control or shuts down, and the call must
	// still end by its deadline.
	select {
	case cc.out <- request{queue: b.broker(queue), pub: amqp.Publishing{
		ContentType:   "application/json",
		DeliveryMode:  amqp.Transient,
		CorrelationId: oc.Env.ID,
		ReplyTo:       replyTo,
		Expiration:    strconv.FormatInt(ttl, 10),
		Type:          method,
		Body:          msg,
	}}:
	default:
		return bus.Unavailable(op, "the message broker is not taking requests fast enough", nil)
	}
	select {
	case r := <-wait:
		if r.err != nil {
			return esign.E(op, r.err)
		}
		renv, err := bus.ParseEnvelope(r.body, b.limits.MaxMessageSize)
		if err != nil {
			return esign.E(op, esign.Internal, "the reply cannot be decoded", err)
		}
		return bus.DecodeReply(op, renv, resp)
	case <-ctx.Done():
		return bus.CallError(op, ctx.Err())
	case <-s.done:
		return bus.Unavailable(op, "the connection to the message broker was lost", nil)
	}
}

// Publish implements bus.Bus.
func (b *Bus) Publish(ctx context.Context, stream, eventType string, body any) error {
	oc, err := bus.NewEvent(ctx, b.limits, stream, eventType, body)
	if err != nil {
		return err
	}
	defer oc.Cancel()
	op, ctx, env, msg := oc.Op, oc.Ctx, oc.Env, oc.Msg
	if b.ctx.Err() != nil {
		return bus.Unavailable(op, "the bus is closed", nil)
	}
	s := b.current()
	if s == nil {
		return notConnected(op)
	}
	if s.blocked.Load() {
		return bus.Unavailable(op, "the message broker blocks publishing (resource alarm)", nil)
	}
	exchange := b.broker(stream)
	if err := b.declareExchange(s, exchange); err != nil {
		return esign.E(op, err)
	}
	pc := s.pubs[b.rr.Add(1)%uint64(len(s.pubs))]
	type published struct {
		dc  *amqp.DeferredConfirmation
		err error
	}
	// A socket write can block (flow control, broker shutting down): write
	// in a goroutine so that Publish still ends by ctx's deadline. An event
	// given up on that way may still arrive: publishers retry, subscribers
	// are idempotent.
	res := make(chan published, 1)
	go func() {
		dc, err := pc.PublishWithDeferredConfirm(exchange, eventType, false, false, amqp.Publishing{
			ContentType:   "application/json",
			DeliveryMode:  amqp.Persistent,
			MessageId:     env.ID,
			CorrelationId: env.CorrelationID,
			Type:          eventType,
			Timestamp:     env.Time,
			Body:          msg,
		})
		res <- published{dc, err}
	}()
	var dc *amqp.DeferredConfirmation
	select {
	case r := <-res:
		if r.err != nil {
			return bus.Unavailable(op, "cannot send the event to the message broker", r.err)
		}
		dc = r.dc
	case <-ctx.Done():
		return bus.CallError(op, ctx.Err())
	case <-s.done:
		return bus.Unavailable(op, "the connection to the message broker was lost", nil)
	}
	select {
	case <-dc.Done():
		if !dc.Acked() {
			return bus.Unavailable(op, "the message broker did not confirm the event", nil)
		}
		return nil
	case <-ctx.Done():
		return bus.CallError(op, ctx.Err())
	case <-s.done:
		return bus.Unavailable(op, "the connection to the message broker was lost before the confirm", nil)
	}
}

// declareExchange declares a stream's exchange (its name on the broker) once
// per connection, on a channel of its own so that a failed declaration cannot
// break the others.
func (b *Bus) declareExchange(s *session, stream string) error {
	if _, ok := s.exchanges.Load(stream); ok {
		return nil
	}
	ch, err := s.conn.Channel()
	if err != nil {
		return bus.Unavailable("amqp.declareExchange", "cannot open a channel", err)
	}
	defer ch.Close()
	if err := ch.ExchangeDeclare(stream, amqp.ExchangeTopic, true, false, false, false, nil); err != nil {
		return esign.E("amqp.declareExchange", esign.Internal, "cannot declare the stream "+stream, err)
	}
	b.remember(stream, true)
	s.exchanges.Store(stream, true)
	return nil
}

// consumer is what Serve and Subscribe hand to consumeLoop.
type consumer struct {
	what   string                                                           // for logs
	setup  func(s *session, ch *amqp.Channel) (<-chan amqp.Delivery, error) // declares and consumes
	handle func(ctx context.Context, ch *amqp.Channel, d amqp.Delivery)
}

// start runs c until ctx is done, reconsuming after every reconnect. It
// returns the error of the first setup when connected now, or nil when
// disconnected (the consumer then starts after the reconnect).
func (b *Bus) start(ctx context.Context, c consumer) error {
	if b.ctx.Err() != nil {
		return bus.Unavailable(c.what, "the bus is closed", nil)
	}
	ctx, cancel := context.WithCancel(ctx)
	stop := context.AfterFunc(b.ctx, cancel)
	ready := make(chan error, 1)
	b.consumers.Go(func() {
		defer stop()
		defer cancel()
		b.consumeLoop(ctx, c, ready)
	})
	return <-ready
}

func (b *Bus) consumeLoop(ctx context.Context, c consumer, ready chan<- error) {
	first := true
	report := func(err error) {
		if first {
			ready <- err
			first = false
		}
	}
	pause := b.opts.ReconnectMin
	for {
		s := b.current()
		if s == nil {
			report(nil)
			if s = b.waitSession(ctx); s == nil {
				return
			}
		}
		ch, err := s.conn.Channel()
		var deliveries <-chan amqp.Delivery
		if err == nil {
			if err = ch.Qos(b.limits.Prefetch, 0, false); err == nil {
				deliveries, err = c.setup(s, ch)
			}
		}
		if err != nil {
			if ch != nil {
				ch.Close()
			}
			var aerr *amqp.Error
			if first && errors.As(err, &aerr) && aerr.Server {
				// The broker refused the declaration (say, a queue with other
				// arguments): a configuration error the caller must see.
				report(esign.E(c.what, esign.Internal, "the broker refused the consumer", err))
				return
			}
			b.log.Warn("bus: cannot start consumer; retrying", "consumer", c.what, "err", err)
			t := time.NewTimer(pause)
			select {
			case <-t.C:
			case <-ctx.Done():
				t.Stop()
				report(nil)
				return
			}
			pause = min(2*pause, b.opts.ReconnectMax)
			continue
		}
		report(nil)
		pause = b.opts.ReconnectMin
		b.runDeliveries(ctx, c, ch, deliveries)
		if ctx.Err() != nil {
			return
		}
		if b.current() == s {
			// The broker cancelled the consumer (its queue was deleted) on a
			// live connection: declare and consume again, after a pause.
			b.log.Warn("bus: consumer cancelled by the broker; restarting", "consumer", c.what)
			t := time.NewTimer(b.opts.ReconnectMin)
			select {
			case <-t.C:
			case <-ctx.Done():
				t.Stop()
				return
			}
		}
	}
}

// runDeliveries handles deliveries, at most Prefetch at once, until the
// channel ends or ctx is done; then it waits for the running handlers.
func (b *Bus) runDeliveries(ctx context.Context, c consumer, ch *amqp.Channel, deliveries <-chan amqp.Delivery) {
	var wg sync.WaitGroup
	defer ch.Close()
	defer wg.Wait()
	for {
		select {
		case d, ok := <-deliveries:
			if !ok {
				return
			}
			wg.Go(func() { c.handle(ctx, ch, d) })
		case <-ctx.Done():
			return
		}
	}
}

// Serve implements bus.Bus.
//
// Each server consumes on ServeChannels channels: the broker runs a channel
// as one process, so several let it use more than one core.
func (b *Bus) Serve(ctx context.Context, queue string, h bus.Handler) error {
	if err := bus.CheckName("queue", queue); err != nil {
		return esign.E("bus.Serve", err)
	}
	for range b.opts.ServeChannels {
		if err := b.serve(ctx, queue, h); err != nil {
			return err
		}
	}
	return nil
}

func (b *Bus) serve(ctx context.Context, queue string, h bus.Handler) error {
	name := b.broker(queue)
	return b.start(ctx, consumer{
		what: "bus.Serve " + name,
		setup: func(s *session, ch *amqp.Channel) (<-chan amqp.Delivery, error) {
			if _, err := ch.QueueDeclare(name, true, false, false, false, nil); err != nil {
				return nil, err
			}
			b.remember(name, false)
			return ch.Consume(name, "", false, false, false, false, nil)
		},
		handle: func(ctx context.Context, ch *amqp.Channel, d amqp.Delivery) {
			b.handleRequest(ctx, ch, queue, h, d)
		},
	})
}

func (b *Bus) handleRequest(ctx context.Context, ch *amqp.Channel, queue string, h bus.Handler, d amqp.Delivery) {
	env, err := bus.ParseEnvelope(d.Body, b.limits.MaxMessageSize)
	if err != nil {
		b.log.Warn("bus: rejected malformed request", "queue", queue, "bytes", len(d.Body), "err", err)
		if d.ReplyTo != "" && d.CorrelationId != "" {
			b.reply(ch, d, &bus.Envelope{CorrelationID: d.CorrelationId, Type: d.Type}, nil, err)
		}
		_ = d.Nack(false, false)
		return
	}
	req := bus.RequestFromEnvelope(queue, env, d.Redelivered)
	if !req.Deadline.IsZero() && time.Now().After(req.Deadline) {
		_ = d.Ack(false) // the caller has given up
		return
	}
	// A server that stops lets the running requests finish within their deadlines.
	hctx, cancel := bus.HandlerContext(context.WithoutCancel(ctx), env.CorrelationID, req.Deadline)
	res, herr := bus.SafeHandle(hctx, h, req)
	cancel()
	if herr != nil && esign.ErrorKind(herr) == esign.Internal {
		b.log.Error("bus: handler failed", "queue", queue, "method", req.Method, "cid", req.CorrelationID, "err", herr)
	}
	if d.ReplyTo != "" {
		b.reply(ch, d, env, res, herr)
	}
	_ = d.Ack(false)
}

func (b *Bus) reply(ch *amqp.Channel, d amqp.Delivery, req *bus.Envelope, res any, herr error) {
	body, err := bus.EncodeReply(req, res, herr, b.limits.MaxMessageSize)
	if err != nil {
		b.log.Error("bus: reply replaced by an error", "queue", d.RoutingKey, "method", d.Type, "err", err)
	}
	err = ch.Publish("", d.ReplyTo, false, false, amqp.Publishing{
		ContentType:   "application/json",
		CorrelationId: d.CorrelationId,
		Body:          body,
	})
	if err != nil {
		b.log.Warn("bus: reply not sent", "queue", d.RoutingKey, "err", err)
	}
}

// GroupQueue returns the name of a named group's queue, for stream's name on
// the broker (with the namespace); its dead-letter queue has ".dlq" appended.
func GroupQueue(stream, group string) string { return stream + "." + group }

// Subscribe implements bus.Bus.
func (b *Bus) Subscribe(ctx context.Context, stream, group string, h bus.EventHandler) error {
	if err := checkStreamGroup(stream, group); err != nil {
		return esign.E("bus.Subscribe", err)
	}
	exchange := b.broker(stream)
	return b.start(ctx, consumer{
		what: "bus.Subscribe " + exchange + "/" + group,
		setup: func(s *session, ch *amqp.Channel) (<-chan amqp.Delivery, error) {
			if err := ch.ExchangeDeclare(exchange, amqp.ExchangeTopic, true, false, false, false, nil); err != nil {
				return nil, err
			}
			b.remember(exchange, true)
			var q string
			if group == "" {
				dq, err := ch.QueueDeclare("", false, true, true, false, nil)
				if err != nil {
					return nil, err
				}
				q = dq.Name
			} else {
				q = GroupQueue(exchange, group)
				dlq := q + ".dlq"
				if _, err := ch.QueueDeclare(dlq, true, false, false, false, amqp.Table{"x-queue-type": "quorum"}); err != nil {
					return nil, err
				}
				b.remember(dlq, false)
				args := amqp.Table{
					"x-queue-type": "quorum",
					// A backstop for deliveries that never reach a verdict
					// (a consumer that crashes on the message). Fixed, so
					// that changing MaxDeliveries needs no new queue.
					"x-delivery-limit":          int64(deliveryLimit),
					"x-dead-letter-exchange":    "",
					"x-dead-letter-routing-key": dlq,
					"x-dead-letter-strategy":    "at-least-once",
					"x-overflow":                "reject-publish",
				}
				if _, err := ch.QueueDeclare(q, true, false, false, false, args); err != nil {
					return nil, err
				}
				b.remember(q, false)
			}
			if err := ch.QueueBind(q, "#", exchange, false, nil); err != nil {
				return nil, err
			}
			return ch.Consume(q, "", false, false, false, false, nil)
		},
		handle: func(ctx context.Context, ch *amqp.Channel, d amqp.Delivery) {
			b.handleEvent(ctx, stream, group, h, d)
		},
	})
}

func (b *Bus) handleEvent(ctx context.Context, stream, group string, h bus.EventHandler, d amqp.Delivery) {
	env, err := bus.ParseEnvelope(d.Body, b.limits.MaxMessageSize)
	if err != nil {
		b.log.Warn("bus: rejected malformed event", "stream", stream, "group", group, "bytes", len(d.Body), "err", err)
		_ = d.Nack(false, false) // to the dead-letter queue
		return
	}
	// Quorum queues count earlier deliveries that ended without a verdict.
	base := 0
	if n, ok := d.Headers["x-delivery-count"].(int64); ok && n > 0 {
		base = int(n)
	}
	for attempt := base + 1; ; attempt++ {
		ev := bus.EventFromEnvelope(stream, env, attempt)
		hctx, cancel := bus.HandlerContext(ctx, env.CorrelationID, time.Now().Add(b.limits.DefaultTimeout))
		err := bus.SafeHandleEvent(hctx, h, ev)
		cancel()
		if err == nil {
			_ = d.Ack(false)
			return
		}
		if ctx.Err() != nil {
			_ = d.Nack(false, true) // stopping: not the event's fault
			return
		}
		if !bus.Retryable(err) || attempt >= b.limits.MaxDeliveries {
			b.log.Error("bus: event dead-lettered", "stream", stream, "group", group, "type", ev.Type,
				"id", ev.ID, "attempt", attempt, "err", err)
			_ = d.Nack(false, false)
			return
		}
		b.log.Warn("bus: event handler failed, will retry", "stream", stream, "group", group, "id", ev.ID, "attempt", attempt, "err", err)
		t := time.NewTimer(b.limits.Backoff(attempt))
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			_ = d.Nack(false, true) // back to the queue for another member
			return
		}
	}
}

// TakeDeadLetters implements bus.DeadLetterer for named groups.
func (b *Bus) TakeDeadLetters(ctx context.Context, stream, group string, max int) ([]*bus.Event, error) {
	const op = "amqp.TakeDeadLetters"
	s := b.current()
	if s == nil {
		return nil, notConnected(op)
	}
	ch, err := s.conn.Channel()
	if err != nil {
		return nil, bus.Unavailable(op, "cannot open a channel", err)
	}
	defer ch.Close()
	var out []*bus.Event
	for len(out) < max && ctx.Err() == nil {
		d, ok, err := ch.Get(GroupQueue(b.broker(stream), group)+".dlq", false)
		if err != nil {
			return out, esign.E(op, esign.NotFound, "no dead-letter queue for this group", err)
		}
		if !ok {
			break
		}
		ev := &bus.Event{Stream: stream, ID: d.MessageId, Type: d.Type}
		if env, err := bus.ParseEnvelope(d.Body, b.limits.MaxMessageSize); err == nil {
			ev = bus.EventFromEnvelope(stream, env, 0)
		}
		out = append(out, ev)
		if err := d.Ack(false); err != nil {
			return out, bus.Unavailable(op, "cannot acknowledge", err)
		}
	}
	return out, nil
}

// Declared returns the names of the queues and exchanges this bus declared
// (true for exchanges), for tooling and test clean-up.
func (b *Bus) Declared() map[string]bool {
	b.declMu.Lock()
	defer b.declMu.Unlock()
	m := make(map[string]bool, len(b.declared))
	for k, v := range b.declared {
		m[k] = v
	}
	return m
}

// DeleteTopology deletes the named queues and exchanges (true for
// exchanges), as returned by Declared, on a connection of its own. It is for
// tests and benchmarks that declare throw-away topology.
func DeleteTopology(ctx context.Context, url string, names map[string]bool) error {
	if len(names) == 0 {
		return nil
	}
	conn, err := amqp.DialConfig(url, amqp.Config{Dial: amqp.DefaultDial(5 * time.Second)})
	if err != nil {
		return bus.Unavailable("amqp.DeleteTopology", "cannot connect to the message broker", err)
	}
	defer conn.Close()
	var errs []error
	for name, exchange := range names {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		ch, err := conn.Channel()
		if err != nil {
			return errors.Join(append(errs, err)...)
		}
		if exchange {
			err = ch.ExchangeDelete(name, false, false)
		} else {
			_, err = ch.QueueDelete(name, false, false, false)
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("delete %s: %w", name, err))
		}
		ch.Close()
	}
	return errors.Join(errs...)
}

func checkStreamGroup(stream, group string) error {
	if err := bus.CheckName("stream", stream); err != nil {
		return err
	}
	if group != "" {
		return bus.CheckName("group", group)
	}
	return nil
}
