package offers_test

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"esign/internal/customers/customerstest"
	"esign/internal/esign"
	"esign/internal/offers"
	"esign/internal/sqlstore"
)

// pub records what is published.
type pub struct {
	mu   sync.Mutex
	got  []string
	fail error
}

func (p *pub) Publish(_ context.Context, stream, typ string, body any) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	e := body.(*sqlstore.LiveEvent)
	p.got = append(p.got, stream+" "+typ+" "+e.Type)
	return p.fail
}

// TestLiveFeed: the emitter records the operators' feed in the change's
// transaction — refused, revoked and expired offers, sealed contracts, and
// what Live is given — and the feed publishes each entry only once its
// transaction committed.
func TestLiveFeed(t *testing.T) {
	tests := []struct {
		name     string
		change   func(ctx context.Context, em *offers.Emitter, tx *sqlstore.Tx) error
		rollback bool
		want     []string // entry types recorded (and published)
	}{
		{"refused", func(ctx context.Context, em *offers.Emitter, tx *sqlstore.Tx) error {
			return em.OfferChanged(ctx, tx, &esign.Offer{ID: esign.NewID(), State: esign.OfferRefused, StateReason: "too dear"})
		}, false, []string{"offer.refused"}},
		{"revoked", func(ctx context.Context, em *offers.Emitter, tx *sqlstore.Tx) error {
			return em.OfferChanged(ctx, tx, &esign.Offer{ID: esign.NewID(), State: esign.OfferRevoked})
		}, false, []string{"offer.revoked"}},
		{"expired", func(ctx context.Context, em *offers.Emitter, tx *sqlstore.Tx) error {
			return em.OfferChanged(ctx, tx, &esign.Offer{ID: esign.NewID(), State: esign.OfferExpired})
		}, false, []string{"offer.expired"}},
		{"signed-shows-as-the-seal", func(ctx context.Context, em *offers.Emitter, tx *sqlstore.Tx) error {
			id := esign.NewID()
			if err := em.OfferChanged(ctx, tx, &esign.Offer{ID: id, State: esign.OfferSigned}); err != nil {
				return err
			}
			return em.ContractChanged(ctx, tx, &esign.Contract{ID: esign.NewID(), OfferID: id, Status: esign.ContractActive})
		}, false, []string{"contract.sealed"}},
		{"acknowledged-not-in-the-feed", func(ctx context.Context, em *offers.Emitter, tx *sqlstore.Tx) error {
			return em.ContractChanged(ctx, tx, &esign.Contract{ID: esign.NewID(), Status: esign.ContractAcknowledged})
		}, false, nil},
		{"opened-not-in-the-feed", func(ctx context.Context, em *offers.Emitter, tx *sqlstore.Tx) error {
			return em.OfferChanged(ctx, tx, &esign.Offer{ID: esign.NewID(), State: esign.OfferOpened})
		}, false, nil},
		{"live", func(ctx context.Context, em *offers.Emitter, tx *sqlstore.Tx) error {
			return em.Live(ctx, tx, &sqlstore.LiveEvent{Type: offers.LiveSignatureVerified, OfferID: esign.NewID()})
		}, false, []string{"signature.verified"}},
		{"rolled-back-neither-stored-nor-published", func(ctx context.Context, em *offers.Emitter, tx *sqlstore.Tx) error {
			return em.Live(ctx, tx, &sqlstore.LiveEvent{Type: offers.LiveOfferUploaded})
		}, true, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := t.Context()
			db := customerstest.OpenDB(t, "sqlite")
			p := &pub{}
			em := offers.NewEmitter(nil, nil, nil).WithFeed(&offers.LiveFeed{Pub: p, Stream: "s"})
			boom := errors.New("boom")
			err := db.InTx(ctx, func(tx *sqlstore.Tx) error {
				if err := tt.change(ctx, em, tx); err != nil {
					return err
				}
				if len(p.got) != 0 {
					t.Error("published inside the transaction")
				}
				if tt.rollback {
					return boom
				}
				return nil
			})
			if err != nil && !errors.Is(err, boom) {
				t.Fatal(err)
			}
			es, err := db.ListLiveEvents(ctx, 0, time.Time{}, 0)
			if err != nil {
				t.Fatal(err)
			}
			var stored, published []string
			for _, e := range es {
				stored = append(stored, e.Type)
				published = append(published, "s "+offers.LiveBusEventType+" "+e.Type)
			}
			if !slices.Equal(stored, tt.want) {
				t.Errorf("stored %v, want %v", stored, tt.want)
			}
			if !slices.Equal(p.got, published) {
				t.Errorf("published %v, want %v", p.got, published)
			}
		})
	}
}

// TestNoFeed: an emitter without a feed (or none at all) records nothing.
func TestNoFeed(t *testing.T) {
	db := customerstest.OpenDB(t, "sqlite")
	err := db.InTx(t.Context(), func(tx *sqlstore.Tx) error {
		var none *offers.Emitter
		if err := none.Live(t.Context(), tx, &sqlstore.LiveEvent{Type: "x"}); err != nil {
			return err
		}
		return offers.NewEmitter(nil, nil, nil).OfferChanged(t.Context(), tx, &esign.Offer{State: esign.OfferRefused})
	})
	es, _ := db.ListLiveEvents(t.Context(), 0, time.Time{}, 0)
	if err != nil || len(es) != 0 {
		t.Fatalf("%v, %d entries", err, len(es))
	}
}
