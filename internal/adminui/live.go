package adminui

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"time"

	"esign/internal/esign"
	"esign/internal/live"
	"esign/internal/operators"
)

// Live is the operators' live feed (docs/admin-ui.md#live-updates): the
// dashboard's feed and the offer page's changes, streamed as server-sent
// events by the realtime listener (:10180, MountLive) to pages of the
// admin listener (:10181).
type Live struct {
	// Hub holds the connected pages; the process publishes into it what
	// the bus brings (every replica hears every event).
	Hub *live.Hub
	// Feed reads the durable feed (the live_event rows).
	Feed LiveFeed
	// URL returns the realtime listener's base URL as the browser that
	// sent r reaches it (e.g. http://127.0.0.1:10180); it is also the
	// CSP connect-src origin of the pages.
	URL func(r *http.Request) string
	// AllowOrigin reports whether a page of origin may read the stream:
	// exactly the admin UI's origin.
	AllowOrigin func(origin string, r *http.Request) bool
}

// LiveFeed reads the feed's entries.
type LiveFeed interface {
	// After returns up to max entries with a seq above after, oldest
	// first; Latest the newest seq (0: none).
	After(ctx context.Context, after int64, max int) ([]LiveEntry, error)
	Latest(ctx context.Context) (int64, error)
}

// LiveEntry is one entry of the feed, as the pages receive it (JSON).
type LiveEntry struct {
	Seq         int64     `json:"seq"`
	Type        string    `json:"type"`
	OfferID     string    `json:"offerId,omitempty"`
	CustomerID  string    `json:"customerId,omitempty"`
	ContractID  string    `json:"contractId,omitempty"`
	SignatureID string    `json:"signatureId,omitempty"`
	Title       string    `json:"title,omitempty"`
	Detail      string    `json:"detail,omitempty"`
	CreatedAt   time.Time `json:"createdAt"`
}

// Event returns the entry as a hub event.
func (e *LiveEntry) Event() *live.Event {
	data, _ := json.Marshal(e)
	return &live.Event{ID: live.SeqID(e.Seq), Data: data, OfferID: e.OfferID, CustomerID: e.CustomerID}
}

// livePerm is what an operator needs to receive the feed: every entry is
// about an offer.
const livePerm = esign.PermOfferRead

// liveTypes are the feed's entry types, each with a message key
// "live.<type>".
var liveTypes = []string{"offer.uploaded", "signature.verified", "signature.rejected", "contract.sealed",
	"offer.refused", "offer.expired", "offer.revoked"}

// liveView is what a page needs to open the stream.
type liveView struct {
	URL     string // the stream, with after= and offer=
	Offer   string // the offer page's offer; "": the dashboard
	Recent  []LiveEntry
	Types   []string
	Enabled bool
}

// liveFor prepares the stream of a page: the entries since after (newest
// first, up to recent) and the URL that resumes from the newest one.
func (u *UI) liveFor(r *http.Request, offerID string, recent int) (liveView, error) {
	v := liveView{Types: liveTypes, Offer: offerID}
	l := u.live
	if l == nil {
		return v, nil
	}
	last, err := l.Feed.Latest(r.Context())
	if err != nil {
		return v, err
	}
	if recent > 0 {
		es, err := l.Feed.After(r.Context(), max(0, last-int64(recent)*4), recent*4)
		if err != nil {
			return v, err
		}
		for i := len(es) - 1; i >= 0 && len(v.Recent) < recent; i-- {
			if offerID == "" || es[i].OfferID == offerID {
				v.Recent = append(v.Recent, es[i])
			}
		}
	}
	v.Enabled = true
	v.URL = l.URL(r) + "/events?after=" + strconv.FormatInt(last, 10)
	if offerID != "" {
		v.URL += "&offer=" + offerID
	}
	return v, nil
}

// MountLive adds the realtime listener's route to mux: GET /events streams the feed
// to a signed-in operator with offer.read (401 without a session, 403 and
// an audit entry without the permission, 403 for another origin).
// ?offer=ID narrows it to one offer; ?after=SEQ (or the Last-Event-ID
// header of a reconnect, which wins) says where the page left off.
func (u *UI) MountLive(mux *http.ServeMux) {
	mux.HandleFunc("/events", u.liveEvents)
}

func (u *UI) liveEvents(w http.ResponseWriter, r *http.Request) {
	l := u.live
	if l == nil {
		http.NotFound(w, r)
		return
	}
	if !live.Accept(w, r, l.AllowOrigin) {
		return
	}
	// Recheck: a stream is no activity of the operator; the session's
	// idle expiry ends it like any other.
	token := u.ui.Session(r, sessionCookie)
	p, err := u.svc.Recheck(r.Context(), token)
	if err != nil {
		status := http.StatusServiceUnavailable
		if esign.IsKind(err, esign.Unauthorized) {
			status = http.StatusUnauthorized
		}
		http.Error(w, http.StatusText(status), status)
		return
	}
	if !p.Can(livePerm) {
		detail, _ := json.Marshal(map[string]string{"method": r.Method, "path": r.URL.Path, "permission": livePerm})
		if err := u.svc.Audit(r.Context(), p.User.ID, operators.Entry{Action: "access.denied", ObjectType: "route",
			ObjectID: "GET /events (realtime)", Detail: string(detail)}, meta(r)); err != nil {
			u.log.Error("audit entry not written", "action", "access.denied", "user", p.User.ID, "err", err)
		}
		http.Error(w, "your role does not allow this", http.StatusForbidden)
		return
	}
	q := r.URL.Query()
	offerID := q.Get("offer")
	if offerID != "" && !esign.ValidID(offerID) {
		http.Error(w, "bad offer id", http.StatusBadRequest)
		return
	}
	after := int64(-1) // no cursor: the page shows what it rendered
	if n, ok := live.ParseSeqID(q.Get("after")); ok {
		after = n
	}
	filter := func(ev *live.Event) bool { return offerID == "" || ev.OfferID == offerID }
	err = l.Hub.Serve(w, r, live.Stream{
		Filter: filter,
		CatchUp: func(ctx context.Context, lastID string) ([]*live.Event, error) {
			from := after
			if n, ok := live.ParseSeqID(lastID); ok {
				from = n
			}
			if from < 0 {
				return nil, nil
			}
			es, err := l.Feed.After(ctx, from, 0)
			if err != nil {
				return nil, err
			}
			var out []*live.Event
			for i := range es {
				if ev := es[i].Event(); filter(ev) {
					out = append(out, ev)
				}
			}
			return out, nil
		},
		Check: func(ctx context.Context) error {
			p, err := u.svc.Recheck(ctx, token)
			if err != nil {
				return err
			}
			if !p.Can(livePerm) {
				return errors.New("permission withdrawn")
			}
			return nil
		},
	})
	if err != nil {
		u.log.Warn("live stream refused", "err", err)
	}
}
