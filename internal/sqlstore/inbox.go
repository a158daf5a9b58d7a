package sqlstore

import (
	"context"

	"esign/internal/esign"
	"esign/internal/notify"
	"esign/internal/notify/inbox"
)

// InboxStore is the development notification inbox (inbox.Store) on the
// dev_inbox_message table.
type InboxStore struct{ db *DB }

var _ inbox.Store = (*InboxStore)(nil)

// Inbox returns the inbox store of the database.
func (db *DB) Inbox() *InboxStore { return &InboxStore{db: db} }

// SaveInboxMessage stores m and returns its id; a message with a Key stored
// before returns the earlier id. Errors: Invalid.
func (s *InboxStore) SaveInboxMessage(ctx context.Context, m inbox.Message) (string, error) {
	row := &esign.DevInboxMessage{Channel: esign.Channel(m.Channel), Recipient: m.To, Subject: m.Subject,
		Body: m.Text, HTML: m.HTML, Data: m.Data, Key: m.Key}
	if err := s.db.CreateDevInboxMessage(ctx, row); err != nil {
		return "", err
	}
	return row.ID, nil
}

// ListInboxMessages lists messages newest first.
func (s *InboxStore) ListInboxMessages(ctx context.Context, f inbox.Filter) ([]inbox.Message, error) {
	rows, err := s.db.ListDevInboxMessages(ctx, esign.DevInboxFilter{Channel: esign.Channel(f.Channel),
		Recipient: f.To, Page: esign.Page{Limit: f.Limit}})
	if err != nil {
		return nil, err
	}
	out := make([]inbox.Message, len(rows))
	for i, r := range rows {
		out[i] = inbox.Message{ID: r.ID, Channel: notify.Channel(r.Channel), To: r.Recipient, Subject: r.Subject,
			Text: r.Body, HTML: r.HTML, Data: r.Data, Key: r.Key, CreatedAt: r.CreatedAt}
	}
	return out, nil
}
