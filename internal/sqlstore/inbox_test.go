package sqlstore

import (
	"testing"

	"esign/internal/notify/inbox"
	"esign/internal/notify/inbox/inboxtest"
)

func TestInboxStore(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) {
		inboxtest.Run(t, func(t *testing.T) inbox.Store { return openSQLite(t).Inbox() })
	})
	t.Run("postgres", func(t *testing.T) {
		inboxtest.Run(t, func(t *testing.T) inbox.Store { return openPostgres(t).Inbox() })
	})
}
