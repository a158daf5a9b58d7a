package inbox_test

import (
	"testing"

	"esign/internal/notify/inbox"
	"esign/internal/notify/inbox/inboxtest"
)

func TestMemoryStore(t *testing.T) {
	inboxtest.Run(t, func(t *testing.T) inbox.Store { return inbox.NewMemoryStore() })
}
