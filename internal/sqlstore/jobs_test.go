package sqlstore

import (
	"context"
	"database/sql"
	"log/slog"
	"testing"
	"time"

	"esign/internal/esign"
	"esign/internal/jobs"
	"esign/internal/notify"
)

func TestJobStoreDeliveries(t *testing.T) {
	engines(t, func(t *testing.T, db *DB) {
		ctx := testCtx(t)
		js := db.JobStore()
		at := esign.Timestamp(time.Now())
		for _, ch := range []notify.Channel{notify.SMS, notify.Email, notify.Push} {
			t.Run(string(ch), func(t *testing.T) {
				key := "offer-notice:" + esign.NewID()
				_, ok, err := js.FindDelivery(ctx, ch, key)
				must(t, err)
				if ok {
					t.Fatal("found a delivery before recording it")
				}
				d := jobs.Delivery{Key: key, JobID: 11, Attempt: 1, Kind: "offer_created", Channel: ch, Recipient: "+3620*****67",
					Subject: "New offer", Text: "You have a new offer", Status: jobs.StatusSending, Provider: "inbox", At: at}
				switch ch {
				case notify.SMS:
					d.Subject = ""
				case notify.Push:
					d.Recipient, d.Text = "abcd…wxyz", ""
				default:
					d.Text = ""
				}
				must(t, js.RecordDelivery(ctx, d))
				d.Attempt, d.Status, d.ProviderID = 2, jobs.StatusSent, "msg-1"
				must(t, js.RecordDelivery(ctx, d))
				got, ok, err := js.FindDelivery(ctx, ch, key)
				must(t, err)
				if !ok {
					t.Fatal("delivery not found")
				}
				got.At = at // the store keeps its own update time
				same(t, "FindDelivery", got, d)
			})
		}
		l, err := db.ListSmsLogs(ctx, esign.MessageLogFilter{})
		must(t, err)
		if len(l) != 1 || l[0].SentAt.IsZero() {
			t.Fatalf("SMS log = %+v, want one sent entry", l)
		}
		pl, err := db.ListPushLogs(ctx, esign.MessageLogFilter{Status: esign.DeliverySent})
		must(t, err)
		if len(pl) != 1 || pl[0].SentAt.IsZero() || pl[0].Title != "New offer" || pl[0].Recipient != "abcd…wxyz" {
			t.Fatalf("push log = %+v, want one sent entry", pl)
		}
	})
}

func TestJobStoreRuns(t *testing.T) {
	engines(t, func(t *testing.T, db *DB) {
		ctx := testCtx(t)
		js := db.JobStore()
		slot := time.Date(2026, 11, 30, 8, 0, 0, 0, time.UTC)
		r := jobs.Run{Name: jobs.OfferTimeout, Trigger: "schedule", Slot: slot, Node: "oss-1", StartedAt: time.Now(), Status: "running"}
		id, err := js.BeginRun(ctx, r)
		must(t, err)
		must(t, js.LogRun(ctx, id, slog.LevelInfo, "expiring", time.Now()))
		must(t, js.LogRun(ctx, id, slog.LevelError+4, "boom", time.Now()))
		r.ID, r.Status, r.Result, r.EndedAt = id, "succeeded", "expired 3 offers", time.Now()
		must(t, js.EndRun(ctx, r))
		p, err := db.GetBackgroundProcess(ctx, id)
		must(t, err)
		if p.Kind != jobs.OfferTimeout || !p.Slot.Equal(slot) || p.Status != esign.ProcessSucceeded || p.Progress != 100 ||
			p.Result != "expired 3 offers" || p.FinishedAt.IsZero() || p.Node != "oss-1" {
			t.Fatalf("process = %+v", p)
		}
		logs, err := db.ListBackgroundProcessLogs(ctx, id, esign.Page{})
		must(t, err)
		if len(logs) != 2 || logs[0].Level != "info" || logs[1].Level != "error" {
			t.Fatalf("logs = %+v", logs)
		}
		wantKind(t, js.LogRun(ctx, esign.NewID(), slog.LevelInfo, "x", time.Now()), esign.Invalid)

		// The newest scheduled run; manual runs and other jobs do not count.
		_, err = js.BeginRun(ctx, jobs.Run{Name: jobs.OfferTimeout, Trigger: "manual", Node: "cli", StartedAt: time.Now(), Status: "running"})
		must(t, err)
		_, err = js.BeginRun(ctx, jobs.Run{Name: jobs.DeleteDocuments, Trigger: "schedule", Slot: slot.Add(time.Hour), StartedAt: time.Now(), Status: "running"})
		must(t, err)
		last, ok, err := js.LastScheduledRun(ctx, jobs.OfferTimeout)
		must(t, err)
		if !ok || last.ID != id || !last.Slot.Equal(slot) || last.Status != "succeeded" || last.Node != "oss-1" {
			t.Errorf("last scheduled run = %+v, %v", last, ok)
		}
		if _, ok, err := js.LastScheduledRun(ctx, jobs.DeleteExpiredURL); err != nil || ok {
			t.Errorf("a job that never ran: %v, %v", ok, err)
		}
	})
}

func TestJobStoreExpireDueOffers(t *testing.T) {
	engines(t, func(t *testing.T, db *DB) {
		ctx := testCtx(t)
		c := &esign.Customer{ExternalRef: esign.NewID(), Name: "Kovács Anna", Phone: "+36201234567", Email: "anna@example.com", Locale: "hu-HU"}
		must(t, db.CreateCustomer(ctx, c))
		app := &esign.App{CustomerID: c.ID, SessionTokenHash: digest("app"), Status: esign.AppAssociated}
		must(t, db.CreateApp(ctx, app))
		must(t, db.CreateFcmInfo(ctx, &esign.FcmInfo{AppID: app.ID, Token: "fcm-1"}))
		o := &esign.Offer{CustomerID: c.ID, Title: "Loan", ExpiresAt: time.Now().Add(-time.Minute)}
		must(t, db.CreateOffer(ctx, o))

		var got []jobs.ExpiredOffer
		n, err := db.JobStore().ExpireDueOffers(ctx, time.Now(), func(ctx context.Context, tx *sql.Tx, offers []jobs.ExpiredOffer) error {
			if tx == nil {
				t.Error("no transaction")
			}
			got = append(got, offers...)
			return nil
		})
		must(t, err)
		want := []jobs.ExpiredOffer{{OfferID: o.ID, Title: "Loan", CustomerName: c.Name, Lang: notify.Hungarian, ExpiresAt: o.ExpiresAt,
			Recipients: []jobs.Recipient{{Channel: notify.SMS, To: c.Phone}, {Channel: notify.Email, To: c.Email}, {Channel: notify.Push, To: "fcm-1"}}}}
		if n != 1 {
			t.Fatalf("expired %d offers, want 1", n)
		}
		same(t, "expired offers", got, want)
	})
}
