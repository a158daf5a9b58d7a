package customerui

import (
	"context"
	"encoding/json"
	"net/http"

	"esign/internal/esign"
	"esign/internal/live"
	"esign/internal/signing"
)

// Live is the seal progress of the waiting page (docs/customer-ui.md#wait),
// streamed as server-sent events by the customer realtime listener
// (:10184, MountLive) to the page on the customer listener (:10183).
type Live struct {
	// Hub holds the waiting pages; the process publishes into it the
	// signature and contract events oss sends over the bus, as
	// StatusEvent builds them.
	Hub *live.Hub
	// URL returns the realtime listener's base URL as the browser that
	// sent r reaches it; it is also the pages' CSP connect-src origin.
	URL func(r *http.Request) string
	// AllowOrigin reports whether a page of origin may read the stream:
	// exactly the customer UI's origin.
	AllowOrigin func(origin string, r *http.Request) bool
}

// LiveStatus is what the waiting page receives (JSON): the signature's
// state, and the contract once sealed.
type LiveStatus struct {
	Status     esign.SignatureStatus `json:"status"` // verified (sealing), completed (sealed), rejected
	ContractID string                `json:"contractId,omitempty"`
	Code       string                `json:"code,omitempty"` // the failed check when rejected
}

// StatusEvent returns the hub event of a signature's new state: id is the
// feed's sequence id, offerID and customerID route it to the pages of
// that offer.
func StatusEvent(id, offerID, customerID string, st LiveStatus) *live.Event {
	data, _ := json.Marshal(st)
	return &live.Event{ID: id, Data: data, OfferID: offerID, CustomerID: customerID}
}

// MountLive adds the customer realtime listener's route to mux: GET
// /signatures/{id}/events streams the progress of the customer's
// signature (401 without a session, 404 when the signature is not the
// customer's, 403 for another origin). On every (re)connection the stream
// starts with the signature's state asked of oss, so a page that missed
// events while away resumes from the truth.
func (u *UI) MountLive(mux *http.ServeMux) {
	mux.HandleFunc("/signatures/{id}/events", u.liveEvents)
}

func (u *UI) liveEvents(w http.ResponseWriter, r *http.Request) {
	l := u.cfg.Live
	if l == nil {
		http.NotFound(w, r)
		return
	}
	if !live.Accept(w, r, l.AllowOrigin) {
		return
	}
	c := u.caller(r)
	if c.Token == "" {
		http.Error(w, http.StatusText(http.StatusUnauthorized), http.StatusUnauthorized)
		return
	}
	id := r.PathValue("id")
	st, err := u.api.SignatureCheck(r.Context(), c, id)
	if err != nil {
		status := http.StatusServiceUnavailable
		switch esign.ErrorKind(err) {
		case esign.Unauthorized:
			status = http.StatusUnauthorized
		case esign.NotFound, esign.Invalid, esign.Forbidden:
			status = http.StatusNotFound
		}
		http.Error(w, http.StatusText(status), status)
		return
	}
	offerID := st.OfferID
	err = l.Hub.Serve(w, r, live.Stream{
		Filter: func(ev *live.Event) bool { return ev.OfferID == offerID },
		CatchUp: func(ctx context.Context, _ string) ([]*live.Event, error) {
			st, err := u.api.SignatureCheck(ctx, c, id)
			if err != nil {
				return nil, err
			}
			// No id: the browser keeps the last one it had.
			return []*live.Event{StatusEvent("", st.OfferID, "", statusOf(st))}, nil
		},
		Check: func(ctx context.Context) error {
			_, err := u.api.Me(ctx, c)
			return err
		},
	})
	if err != nil {
		u.log.Warn("live stream refused", "err", err)
	}
}

func statusOf(st *signing.Status) LiveStatus {
	return LiveStatus{Status: st.Status, ContractID: st.ContractID, Code: st.Code}
}
