// Package inboxtest is the conformance suite every inbox.Store must pass
// (the in-memory store here, the SQL store in sqlstore).
package inboxtest

import (
	"context"
	"testing"

	"esign/internal/notify"
	"esign/internal/notify/inbox"
)

// Run runs the suite on stores made by newStore; each call must return an
// empty store.
func Run(t *testing.T, newStore func(t *testing.T) inbox.Store) {
	ctx := context.Background()
	t.Run("save_list", func(t *testing.T) {
		s := inbox.New(newStore(t), nil)
		if _, err := s.SendSMS(ctx, notify.SMSMessage{To: "+36301234567", Text: "kód: 123456", Key: "k1"}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.SendEmail(ctx, notify.EmailMessage{To: "a@example.com", Subject: "S", Text: "T", HTML: "<p>H</p>", Key: "k2"}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.SendPush(ctx, notify.PushMessage{Token: "tok", Title: "P", Body: "B", Data: map[string]string{"offerId": "1"}, Key: "k3"}); err != nil {
			t.Fatal(err)
		}
		all, err := s.List(ctx, inbox.Filter{})
		if err != nil {
			t.Fatal(err)
		}
		if len(all) != 3 || all[0].Channel != notify.Push || all[2].Channel != notify.SMS {
			t.Fatalf("list = %+v", all)
		}
		if all[0].Data["offerId"] != "1" || all[1].HTML != "<p>H</p>" || all[2].Text != "kód: 123456" || all[2].CreatedAt.IsZero() {
			t.Errorf("fields lost: %+v", all)
		}
		sms, err := s.List(ctx, inbox.Filter{Channel: notify.SMS, To: "+36301234567"})
		if err != nil || len(sms) != 1 {
			t.Fatalf("filter: %v %+v", err, sms)
		}
		one, err := s.List(ctx, inbox.Filter{Limit: 1})
		if err != nil || len(one) != 1 || one[0].Channel != notify.Push {
			t.Fatalf("limit: %v %+v", err, one)
		}
	})
	t.Run("same_key_once", func(t *testing.T) {
		s := inbox.New(newStore(t), nil)
		r1, err := s.SendSMS(ctx, notify.SMSMessage{To: "+36301234567", Text: "x", Key: "dup"})
		if err != nil {
			t.Fatal(err)
		}
		r2, err := s.SendSMS(ctx, notify.SMSMessage{To: "+36301234567", Text: "x", Key: "dup"})
		if err != nil {
			t.Fatal(err)
		}
		if r1.ID != r2.ID {
			t.Errorf("ids differ: %q %q", r1.ID, r2.ID)
		}
		if _, err := s.SendSMS(ctx, notify.SMSMessage{To: "+36301234567", Text: "y"}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.SendSMS(ctx, notify.SMSMessage{To: "+36301234567", Text: "y"}); err != nil {
			t.Fatal(err)
		}
		all, err := s.List(ctx, inbox.Filter{})
		if err != nil || len(all) != 3 {
			t.Errorf("want 3 messages (one keyed, two unkeyed), got %d (%v)", len(all), err)
		}
	})
}
