package sqlstore

import (
	"reflect"
	"testing"
	"time"

	"esign/internal/esign"
	"esign/internal/jobs"
	"esign/internal/notify"
)

func TestCreateDocumentsAndLinks(t *testing.T) {
	engines(t, func(t *testing.T, db *DB) {
		ctx := testCtx(t)
		c := mkCustomer(t, &db.store)
		var docs []*esign.Document
		for i := range 3 {
			id := esign.NewID()
			docs = append(docs, &esign.Document{CustomerID: c.ID, Kind: esign.DocumentOffer, Name: string(rune('a'+i)) + ".pdf",
				ContentType: "application/pdf", Size: int64(100 + i), SHA256: digest(id), StorageKey: "docs/" + id, Encrypted: true})
		}
		must(t, db.InTx(ctx, func(tx *Tx) error { return tx.CreateDocuments(ctx, docs) }))
		for _, d := range docs {
			got, err := db.GetDocument(ctx, d.ID)
			must(t, err)
			if !reflect.DeepEqual(got, d) {
				t.Fatalf("GetDocument = %+v, want %+v", got, d)
			}
		}
		o := &esign.Offer{CustomerID: c.ID, Title: "Loan", ExpiresAt: time.Now().Add(time.Hour)}
		must(t, db.CreateOffer(ctx, o, docs[2].ID, docs[0].ID, docs[1].ID))
		list, err := db.ListDocuments(ctx, esign.DocumentFilter{OfferID: o.ID})
		must(t, err)
		if len(list) != 3 || list[0].ID != docs[2].ID || list[1].ID != docs[0].ID || list[2].ID != docs[1].ID {
			t.Fatalf("offer documents = %v, want c, a, b", list)
		}
		d4 := mkDocument(t, &db.store, c.ID)
		must(t, db.AddOfferDocument(ctx, o.ID, d4.ID)) // after the batch: position 3
		if list, _ = db.ListDocuments(ctx, esign.DocumentFilter{OfferID: o.ID}); len(list) != 4 || list[3].ID != d4.ID {
			t.Fatalf("offer documents = %v, want d4 last", list)
		}
		// a document twice, or one of another customer
		wantKind(t, db.CreateOffer(ctx, &esign.Offer{CustomerID: c.ID, Title: "x", ExpiresAt: time.Now().Add(time.Hour)}, d4.ID, d4.ID), esign.Conflict)
		other := mkDocument(t, &db.store, mkCustomer(t, &db.store).ID)
		wantKind(t, db.CreateOffer(ctx, &esign.Offer{CustomerID: c.ID, Title: "x", ExpiresAt: time.Now().Add(time.Hour)}, d4.ID, other.ID), esign.Invalid)

		// the state change of an offer held as stored
		n, err := db.UpdateOfferStateFrom(ctx, o, esign.OfferNotified, "")
		must(t, err)
		if n.State != esign.OfferNotified || n.Version != 2 {
			t.Fatalf("UpdateOfferStateFrom = %+v", n)
		}
		_, err = db.UpdateOfferStateFrom(ctx, o, esign.OfferNotified, "") // o is stale now
		wantKind(t, err, esign.Conflict)
	})
}

func TestJobStoreStartDelivery(t *testing.T) {
	engines(t, func(t *testing.T, db *DB) {
		ctx := testCtx(t)
		js := db.JobStore()
		at := esign.Timestamp(time.Now())
		for _, ch := range []notify.Channel{notify.SMS, notify.Email, notify.Push} {
			t.Run(string(ch), func(t *testing.T) {
				key := "start:" + esign.NewID()
				d := jobs.Delivery{Key: key, JobID: 7, Attempt: 1, Kind: notify.TwoFactorCode, Channel: ch, Recipient: "+3620*****67",
					Subject: "s", Text: "code ******", Status: jobs.StatusSending, At: at}
				if _, found, err := js.StartDelivery(ctx, d); err != nil || found {
					t.Fatalf("first StartDelivery: found %v, %v", found, err)
				}
				got, ok, err := js.FindDelivery(ctx, ch, key)
				must(t, err)
				if !ok || got.Status != jobs.StatusSending || got.JobID != 7 {
					t.Fatalf("after StartDelivery: %+v %v", got, ok)
				}
				// a retry after a failed attempt
				must(t, js.RecordDelivery(ctx, jobs.Delivery{Key: key, JobID: 7, Attempt: 1, Kind: d.Kind, Channel: ch, Recipient: d.Recipient,
					Status: jobs.StatusRetrying, Error: "timeout", At: at}))
				d.Attempt = 2
				prev, found, err := js.StartDelivery(ctx, d)
				must(t, err)
				if !found || prev.Status == jobs.StatusSent {
					t.Fatalf("retry StartDelivery = %+v, %v", prev, found)
				}
				if got, _, _ = js.FindDelivery(ctx, ch, key); got.Status != jobs.StatusSending || got.Attempt != 2 {
					t.Fatalf("after the retry's StartDelivery: %+v", got)
				}
				// sent: left as it is and returned
				must(t, js.RecordDelivery(ctx, jobs.Delivery{Key: key, JobID: 7, Attempt: 2, Kind: d.Kind, Channel: ch, Recipient: d.Recipient,
					Status: jobs.StatusSent, Provider: "inbox", ProviderID: "m-1", At: at}))
				d.Attempt = 3
				prev, found, err = js.StartDelivery(ctx, d)
				must(t, err)
				if !found || prev.Status != jobs.StatusSent || prev.ProviderID != "m-1" {
					t.Fatalf("StartDelivery after sent = %+v, %v", prev, found)
				}
				if got, _, _ = js.FindDelivery(ctx, ch, key); got.Status != jobs.StatusSent || got.Attempt != 2 {
					t.Fatalf("a sent entry was changed: %+v", got)
				}
				// forgetting removes only a sending entry
				must(t, js.ForgetDelivery(ctx, ch, key))
				if _, ok, _ := js.FindDelivery(ctx, ch, key); !ok {
					t.Fatal("ForgetDelivery removed a sent entry")
				}
				key2 := key + "-2"
				d.Key = key2
				_, _, err = js.StartDelivery(ctx, d)
				must(t, err)
				must(t, js.ForgetDelivery(ctx, ch, key2))
				if _, ok, _ := js.FindDelivery(ctx, ch, key2); ok {
					t.Fatal("ForgetDelivery kept the sending entry")
				}
			})
		}
	})
}

func TestCreateOfferAs(t *testing.T) {
	engines(t, func(t *testing.T, db *DB) {
		ctx := testCtx(t)
		c := mkCustomer(t, &db.store)
		d := mkDocument(t, &db.store, c.ID)
		o := &esign.Offer{CustomerID: c.ID, Title: "Loan", ExpiresAt: time.Now().Add(time.Hour)}
		must(t, db.CreateOfferAs(ctx, o, esign.OfferNotified, "", d.ID))
		if o.State != esign.OfferNotified || o.Version != 2 || o.StateChangedAt != o.CreatedAt {
			t.Fatalf("CreateOfferAs = %+v", o)
		}
		got, err := db.GetOffer(ctx, o.ID)
		must(t, err)
		if !reflect.DeepEqual(got, o) {
			t.Fatalf("GetOffer = %+v, want %+v", got, o)
		}
		// the next change sees it as UpdateOfferState left it
		_, err = db.UpdateOfferState(ctx, o.ID, 2, esign.OfferOpened, "")
		must(t, err)
		r := &esign.Offer{CustomerID: c.ID, Title: "Loan", ExpiresAt: time.Now().Add(time.Hour)}
		must(t, db.CreateOfferAs(ctx, r, esign.OfferRevoked, "vetoed"))
		if r.State != esign.OfferRevoked || r.StateReason != "vetoed" || r.Version != 2 {
			t.Fatalf("CreateOfferAs revoked = %+v", r)
		}
		_, err = db.UpdateOfferState(ctx, r.ID, 2, esign.OfferNotified, "")
		wantKind(t, err, esign.Invalid)
		wantKind(t, db.CreateOfferAs(ctx, &esign.Offer{CustomerID: c.ID, Title: "x", ExpiresAt: time.Now().Add(time.Hour)}, esign.OfferSigned, ""), esign.Invalid)
	})
}
