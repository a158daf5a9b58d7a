package offers

import (
	"context"
	"log/slog"
	"time"

	"esign/internal/sqlstore"
)

// Types of the operators' live feed (sqlstore.LiveEvent.Type) besides
// "offer.<state>" for refused, revoked and expired.
const (
	LiveOfferUploaded     = "offer.uploaded"
	LiveSignatureVerified = "signature.verified"
	LiveSignatureRejected = "signature.rejected"
	LiveContractSealed    = "contract.sealed"
	LiveOfferRefused      = "offer.refused"
	LiveOfferExpired      = "offer.expired"
	LiveOfferRevoked      = "offer.revoked"
	LiveBusEventType      = "live.event" // the bus event that carries a sqlstore.LiveEvent
	livePublishTimeout    = 5 * time.Second
)

// Publisher publishes bus events (bus.Bus).
type Publisher interface {
	Publish(ctx context.Context, stream, eventType string, body any) error
}

// LiveFeed is the operators' live feed: Record stores the entry in the
// caller's transaction (its seq is the id browsers resume from) and, once
// that transaction committed, publishes it on the bus (event type
// LiveBusEventType on Stream), where every oss replica's realtime listener
// and every css replica hear it. A publish that fails is logged: the row
// stays, so an operator's page catches up on its next reconnect.
type LiveFeed struct {
	Pub    Publisher
	Stream string
	Log    *slog.Logger
}

// Record implements Feed.
func (f *LiveFeed) Record(ctx context.Context, tx *sqlstore.Tx, e *sqlstore.LiveEvent) error {
	if err := tx.CreateLiveEvent(ctx, e); err != nil {
		return err
	}
	ev := *e
	tx.AfterCommit(func() {
		pctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), livePublishTimeout)
		defer cancel()
		if err := f.Pub.Publish(pctx, f.Stream, LiveBusEventType, &ev); err != nil && f.Log != nil {
			f.Log.WarnContext(ctx, "live feed: publish", "type", ev.Type, "seq", ev.Seq, "error", err)
		}
	})
	return nil
}
