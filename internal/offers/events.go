package offers

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	neturl "net/url"
	"strconv"
	"time"

	"esign/internal/esign"
	"esign/internal/sqlstore"
)

// Event types sent to the bank's callback URLs: "offer." or "contract."
// followed by the new state (offer.signed, offer.refused, offer.revoked,
// offer.expired, contract.acknowledged, …).
const (
	EventOfferSigned          = "offer.signed"
	EventOfferRefused         = "offer.refused"
	EventOfferRevoked         = "offer.revoked"
	EventOfferExpired         = "offer.expired"
	EventContractAcknowledged = "contract.acknowledged"
)

// EventQueue schedules a delivery inside the caller's transaction
// (jobs.Queue implements it).
type EventQueue interface {
	EnqueueEvent(ctx context.Context, tx *sql.Tx, eventID, url string) (int64, error)
}

// Emitter records events and schedules their delivery to every callback
// URL, inside the transaction that made the change: an event exists if and
// only if the change committed. A nil *Emitter emits nothing.
type Emitter struct {
	queue EventQueue
	urls  []string
	now   func() time.Time
	feed  Feed // the operators' live feed; nil: none
}

// Feed records an entry of the operators' live feed in the transaction of
// the change (*LiveFeed).
type Feed interface {
	Record(ctx context.Context, tx *sqlstore.Tx, e *sqlstore.LiveEvent) error
}

// WithFeed makes the emitter record the operators' live feed too: every
// offer and contract change it hears of (and what Live is given) becomes a
// live_event row. It returns e.
func (e *Emitter) WithFeed(f Feed) *Emitter {
	e.feed = f
	return e
}

// Live records a feed entry that is no event for the bank (an offer
// uploaded, a signature verified or rejected). A nil emitter or one
// without a feed records nothing.
func (e *Emitter) Live(ctx context.Context, tx *sqlstore.Tx, ev *sqlstore.LiveEvent) error {
	if e == nil || e.feed == nil {
		return nil
	}
	return e.feed.Record(ctx, tx, ev)
}

// NewEmitter returns an emitter to the URLs (none: events are not
// recorded).
func NewEmitter(q EventQueue, urls []string, now func() time.Time) *Emitter {
	if now == nil {
		now = time.Now
	}
	return &Emitter{queue: q, urls: urls, now: now}
}

// Event is the JSON body a receiver gets. ID is unique per event and the
// same in every retry: receivers keep the ids they processed.
type Event struct {
	ID        string    `json:"id"`
	Type      string    `json:"type"`
	CreatedAt time.Time `json:"created_at"`
	Data      EventData `json:"data"`
}

// EventData says what the event is about.
type EventData struct {
	OfferID     string `json:"offer_id,omitempty"`
	ContractID  string `json:"contract_id,omitempty"`
	CustomerID  string `json:"customer_id"`
	CustomerRef string `json:"customer_ref,omitempty"`
	ExternalRef string `json:"external_ref,omitempty"`
	State       string `json:"state"`
	Reason      string `json:"reason,omitempty"`
	// SealLevel is a contract's PAdES level (esign.Contract.SealLevel).
	SealLevel string `json:"seal_level,omitempty"`
	// ArchiveRenewedAt is when a B-LTA contract's archive was last renewed
	// (esign.Contract.ArchiveRenewedAt; docs/pades.md, "Archive renewal").
	ArchiveRenewedAt *time.Time `json:"archive_renewed_at,omitempty"`
}

// Emit records an event of the type and schedules its deliveries in tx.
func (e *Emitter) Emit(ctx context.Context, tx *sqlstore.Tx, typ string, data EventData) (string, error) {
	const op = "offers.Emit"
	if e == nil || len(e.urls) == 0 {
		return "", nil
	}
	if data.CustomerRef == "" && data.CustomerID != "" {
		if c, err := tx.GetCustomer(ctx, data.CustomerID); err == nil {
			data.CustomerRef = c.ExternalRef
		}
	}
	ev := Event{ID: esign.NewID(), Type: typ, CreatedAt: esign.Timestamp(e.now()), Data: data}
	body, err := json.Marshal(ev)
	if err != nil {
		return "", esign.E(op, esign.Internal, "encode event", err)
	}
	subject := data.OfferID
	if data.ContractID != "" {
		subject = data.ContractID
	}
	if err := tx.CreateWebhookEvent(ctx, &sqlstore.WebhookEvent{ID: ev.ID, Type: typ, SubjectID: subject, Payload: body,
		CreatedAt: ev.CreatedAt}, e.urls); err != nil {
		return "", esign.E(op, err)
	}
	for _, u := range e.urls {
		if _, err := e.queue.EnqueueEvent(ctx, tx.SQLTx(), ev.ID, u); err != nil {
			return "", esign.E(op, esign.Internal, "schedule the event delivery", err)
		}
	}
	return ev.ID, nil
}

// OfferChanged emits "offer.<state>" for the offer's new state (the hook
// the customer service and the signing code call in their transaction).
func (e *Emitter) OfferChanged(ctx context.Context, tx *sqlstore.Tx, o *esign.Offer) error {
	switch o.State {
	case esign.OfferRefused, esign.OfferRevoked, esign.OfferExpired:
		// (signed shows as contract.sealed)
		if err := e.Live(ctx, tx, &sqlstore.LiveEvent{Type: "offer." + string(o.State), OfferID: o.ID,
			CustomerID: o.CustomerID, Title: o.Title, Detail: o.StateReason}); err != nil {
			return err
		}
	}
	_, err := e.Emit(ctx, tx, "offer."+string(o.State), EventData{OfferID: o.ID, CustomerID: o.CustomerID,
		ExternalRef: o.ExternalRef, State: string(o.State), Reason: o.StateReason})
	return err
}

// ContractChanged emits "contract.<status>" for the contract's new status.
func (e *Emitter) ContractChanged(ctx context.Context, tx *sqlstore.Tx, c *esign.Contract) error {
	if c.Status == esign.ContractActive {
		if err := e.Live(ctx, tx, &sqlstore.LiveEvent{Type: LiveContractSealed, OfferID: c.OfferID,
			CustomerID: c.CustomerID, ContractID: c.ID, Title: c.Title}); err != nil {
			return err
		}
	}
	_, err := e.Emit(ctx, tx, "contract."+string(c.Status), EventData{ContractID: c.ID, OfferID: c.OfferID,
		CustomerID: c.CustomerID, ExternalRef: c.ExternalRef, State: string(c.Status), SealLevel: c.SealLevel,
		ArchiveRenewedAt: optTime(c.ArchiveRenewedAt)})
	return err
}

// optTime is t, or nil for the zero time (omitted from the JSON).
func optTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

// Deliverer posts stored events to a callback URL (the job queue's
// jobs.EventDeliverer). The request carries X-Esign-Event-Id,
// X-Esign-Timestamp (Unix seconds) and X-Esign-Signature:
// "v1=" + hex(HMAC-SHA256(secret, timestamp + "." + body)).
type Deliverer struct {
	DB          *sqlstore.DB
	Secret      []byte
	Client      *http.Client // default: 10 s timeout, no redirects
	MaxAttempts int          // the attempt that fails for good; match the queue's
	Now         func() time.Time
}

// Sign returns the X-Esign-Signature value of body sent at ts.
func Sign(secret []byte, ts int64, body []byte) string {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(strconv.FormatInt(ts, 10)))
	m.Write([]byte("."))
	m.Write(body)
	return "v1=" + hex.EncodeToString(m.Sum(nil))
}

// DeliverEvent posts the event once; a 2xx answer delivers it. A delivery
// already recorded as delivered is not sent again.
func (d *Deliverer) DeliverEvent(ctx context.Context, eventID, url string, attempt int) error {
	const op = "offers.DeliverEvent"
	ev, del, err := d.DB.GetWebhookEvent(ctx, eventID, url)
	if esign.IsKind(err, esign.NotFound) {
		return esign.E(op, esign.Invalid, "the event or its delivery no longer exists", err)
	}
	if err != nil {
		return err
	}
	if del.Status == sqlstore.DeliveryDelivered {
		return nil
	}
	now := time.Now
	if d.Now != nil {
		now = d.Now
	}
	client := d.Client
	if client == nil {
		client = &http.Client{Timeout: 10 * time.Second,
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	}
	ts := now().Unix()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(ev.Payload))
	if err != nil {
		return esign.E(op, esign.Invalid, "the callback URL is not valid", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "esign-webhook/1")
	req.Header.Set("X-Esign-Event-Id", ev.ID)
	req.Header.Set("X-Esign-Event-Type", ev.Type)
	req.Header.Set("X-Esign-Timestamp", strconv.FormatInt(ts, 10))
	req.Header.Set("X-Esign-Signature", Sign(d.Secret, ts, ev.Payload))
	status, sendErr := 0, error(nil)
	res, err := client.Do(req)
	if err != nil {
		// Not the *url.Error's text: the URL may carry credentials.
		var ue *neturl.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		sendErr = err
	} else {
		io.Copy(io.Discard, io.LimitReader(res.Body, 64<<10))
		res.Body.Close()
		status = res.StatusCode
		if status < 200 || status > 299 {
			sendErr = fmt.Errorf("the receiver answered %d", status)
		}
	}
	final := d.MaxAttempts > 0 && attempt >= d.MaxAttempts
	msg := ""
	if sendErr != nil {
		msg = sendErr.Error()
	}
	if err := d.DB.RecordEventAttempt(context.WithoutCancel(ctx), eventID, url, sendErr == nil, status, msg, final); err != nil && !esign.IsKind(err, esign.NotFound) {
		return err
	}
	if sendErr != nil {
		return esign.E(op, esign.Unavailable, "deliver event "+eventID, sendErr)
	}
	return nil
}
