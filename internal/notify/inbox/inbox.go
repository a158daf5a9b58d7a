// Package inbox is the development "provider" for SMS, e-mail and push: it
// stores every message instead of sending it, so that the admin UI, the tests
// and `esign demo` (through GET /dev/inbox of the webhook API) can read them
// (for example the 2FA code). It is the default of the embedded deployment.
package inbox

import (
	"context"
	"slices"
	"strconv"
	"sync"
	"time"

	"esign/internal/esign"
	"esign/internal/notify"
)

// Message is one stored message.
type Message struct {
	ID        string
	Channel   notify.Channel
	To        string // phone number, e-mail address or device token, unmasked: development data only
	Subject   string // e-mail subject or push title
	Text      string // SMS text, e-mail text body or push body
	HTML      string // e-mail HTML body
	Data      map[string]string
	Key       string // the notification's idempotency key
	CreatedAt time.Time
}

// Filter selects messages; zero fields match everything. Newest first.
type Filter struct {
	Channel notify.Channel
	To      string
	Limit   int // default 100
}

// Store keeps inbox messages. SaveInboxMessage with a non-empty Key that is
// already stored returns the stored message's id and stores nothing, so a
// retried notification appears once.
type Store interface {
	SaveInboxMessage(ctx context.Context, m Message) (id string, err error)
	ListInboxMessages(ctx context.Context, f Filter) ([]Message, error)
}

// Sender implements the SMS, e-mail and push senders on top of a Store.
type Sender struct {
	store Store
	now   func() time.Time
}

// New returns a Sender; now may be nil (time.Now).
func New(store Store, now func() time.Time) *Sender {
	if now == nil {
		now = time.Now
	}
	return &Sender{store: store, now: now}
}

func (s *Sender) save(ctx context.Context, m Message) (notify.Receipt, error) {
	m.CreatedAt = s.now().UTC()
	id, err := s.store.SaveInboxMessage(ctx, m)
	if err != nil {
		return notify.Receipt{}, esign.E("inbox.save", err)
	}
	return notify.Receipt{Provider: "inbox", ID: id}, nil
}

// SendSMS stores an SMS.
func (s *Sender) SendSMS(ctx context.Context, m notify.SMSMessage) (notify.Receipt, error) {
	return s.save(ctx, Message{Channel: notify.SMS, To: m.To, Text: m.Text, Key: m.Key})
}

// SendEmail stores an e-mail.
func (s *Sender) SendEmail(ctx context.Context, m notify.EmailMessage) (notify.Receipt, error) {
	return s.save(ctx, Message{Channel: notify.Email, To: m.To, Subject: m.Subject, Text: m.Text, HTML: m.HTML, Key: m.Key})
}

// SendPush stores a push notification.
func (s *Sender) SendPush(ctx context.Context, m notify.PushMessage) (notify.Receipt, error) {
	return s.save(ctx, Message{Channel: notify.Push, To: m.Token, Subject: m.Title, Text: m.Body, Data: m.Data, Key: m.Key})
}

// List returns stored messages, newest first.
func (s *Sender) List(ctx context.Context, f Filter) ([]Message, error) {
	return s.store.ListInboxMessages(ctx, f)
}

// MemoryStore is a Store in process memory, for tests and for running
// without a database. It is safe for concurrent use.
type MemoryStore struct {
	mu   sync.Mutex
	msgs []Message
	keys map[string]string
}

var _ Store = (*MemoryStore)(nil)

// NewMemoryStore returns an empty store.
func NewMemoryStore() *MemoryStore { return &MemoryStore{keys: map[string]string{}} }

// SaveInboxMessage implements Store.
func (m *MemoryStore) SaveInboxMessage(ctx context.Context, msg Message) (string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if msg.Key != "" {
		if id, ok := m.keys[msg.Key]; ok {
			return id, nil
		}
	}
	msg.ID = strconv.Itoa(len(m.msgs) + 1)
	msg.Data = cloneMap(msg.Data)
	m.msgs = append(m.msgs, msg)
	if msg.Key != "" {
		m.keys[msg.Key] = msg.ID
	}
	return msg.ID, nil
}

// ListInboxMessages implements Store.
func (m *MemoryStore) ListInboxMessages(ctx context.Context, f Filter) ([]Message, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	limit := f.Limit
	if limit <= 0 {
		limit = 100
	}
	var out []Message
	for _, msg := range slices.Backward(m.msgs) {
		if (f.Channel == "" || msg.Channel == f.Channel) && (f.To == "" || msg.To == f.To) {
			msg.Data = cloneMap(msg.Data)
			out = append(out, msg)
			if len(out) == limit {
				break
			}
		}
	}
	return out, nil
}

func cloneMap(m map[string]string) map[string]string {
	if m == nil {
		return nil
	}
	c := make(map[string]string, len(m))
	for k, v := range m {
		c[k] = v
	}
	return c
}
