package webhookapi

import (
	"context"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"esign/internal/esign"
	"esign/internal/httpkit"
	"esign/internal/notify"
	"esign/internal/notify/inbox"
)

// DevInboxPath is the path of the development inbox's read-only API.
const DevInboxPath = "/dev/inbox"

// Limits of GET /dev/inbox: messages per answer by default and at most.
const (
	DevInboxDefaultLimit = 20
	DevInboxMaxLimit     = 100
)

// InboxReader lists the development inbox, newest first (the SQL store's
// inbox and inbox.MemoryStore).
type InboxReader interface {
	ListInboxMessages(ctx context.Context, f inbox.Filter) ([]inbox.Message, error)
}

var _ InboxReader = (*inbox.MemoryStore)(nil)

// DevInbox configures GET /dev/inbox.
type DevInbox struct {
	User     string
	Password string
	Store    InboxReader
}

// InboxMessage is one message of the development inbox as GET /dev/inbox
// answers it.
type InboxMessage struct {
	ID        string            `json:"id"`
	Channel   string            `json:"channel"`
	To        string            `json:"to"`
	Subject   string            `json:"subject,omitempty"`
	Text      string            `json:"text"`
	Data      map[string]string `json:"data,omitempty"`
	Key       string            `json:"key,omitempty"`
	CreatedAt time.Time         `json:"created_at"`
}

// InboxList is the answer of GET /dev/inbox: messages newest first.
type InboxList struct {
	Messages []InboxMessage `json:"messages"`
}

// devInbox answers GET /dev/inbox?channel=sms&to=+36…&limit=N.
func devInbox(log *slog.Logger, store InboxReader) http.Handler {
	return httpkit.Handle(log, func(w http.ResponseWriter, r *http.Request) error {
		q := r.URL.Query()
		f := inbox.Filter{Channel: notify.Channel(q.Get("channel")), To: q.Get("to"), Limit: DevInboxDefaultLimit}
		switch f.Channel {
		case "", notify.SMS, notify.Email, notify.Push:
		default:
			return bad("channel", "channel must be sms, email or push")
		}
		if s := q.Get("limit"); s != "" {
			n, err := strconv.Atoi(s)
			if err != nil || n < 1 || n > DevInboxMaxLimit {
				return bad("limit", "limit must be a number from 1 to "+strconv.Itoa(DevInboxMaxLimit))
			}
			f.Limit = n
		}
		msgs, err := store.ListInboxMessages(r.Context(), f)
		if err != nil {
			return esign.E("webhookapi.devInbox", err)
		}
		out := InboxList{Messages: make([]InboxMessage, 0, len(msgs))}
		for _, m := range msgs {
			out.Messages = append(out.Messages, InboxMessage{ID: m.ID, Channel: string(m.Channel), To: m.To, Subject: m.Subject,
				Text: m.Text, Data: m.Data, Key: m.Key, CreatedAt: m.CreatedAt})
		}
		// One-time codes: never from a cache.
		w.Header().Set("Cache-Control", "no-store")
		httpkit.WriteJSON(w, http.StatusOK, out)
		return nil
	})
}
