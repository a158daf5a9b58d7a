package adminui

import (
	"net/http"

	"esign/internal/esign"
	"esign/internal/notify"
	"esign/internal/notify/inbox"
	"esign/internal/operators"
)

type inboxData struct {
	Channel  string
	Channels []notify.Channel
	Messages []inbox.Message
}

// inbox shows what the embedded deployment "sent": SMS codes, e-mails and
// pushes, newest first.
func (u *UI) inbox(w http.ResponseWriter, r *http.Request, p *operators.Principal) error {
	if !u.svc.HasInbox() {
		return esign.E("adminui.inbox", esign.NotFound, "this deployment sends real messages; there is no development inbox")
	}
	ch := r.URL.Query().Get("channel")
	switch notify.Channel(ch) {
	case "", notify.SMS, notify.Email, notify.Push:
	default:
		return esign.WithCode("adminui.inbox", esign.Invalid, "channel", "unknown channel")
	}
	msgs, err := u.svc.Inbox(r.Context(), inbox.Filter{Channel: notify.Channel(ch), Limit: 200})
	if err != nil {
		return err
	}
	return u.page(w, r, p, "inbox.html", "inbox.title", "inbox", inboxData{Channel: ch,
		Channels: []notify.Channel{notify.SMS, notify.Email, notify.Push}, Messages: msgs})
}
