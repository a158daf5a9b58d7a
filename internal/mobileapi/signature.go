package mobileapi

import (
	"context"
	"net/http"
	"time"

	"esign/internal/customers"
	"esign/internal/esign"
	"esign/internal/live"
	"esign/internal/signing"
)

// MaxSignatureBody bounds the body of /api/signature/m2 (it carries the
// photo, base64-encoded).
const MaxSignatureBody = 8 << 20

// Signer runs the signing protocol (package signing).
type Signer interface {
	M1(ctx context.Context, p *customers.Principal, m *signing.M1) (*signing.M1Result, error)
	M2(ctx context.Context, p *customers.Principal, m *signing.M2, meta customers.Meta) (*signing.M2Result, error)
	Check(ctx context.Context, p *customers.Principal, signatureID string) (*signing.Status, error)
}

var _ Signer = (*signing.Service)(nil)

// Option configures the API.
type Option func(*api)

// WithSigning serves /api/signature/m1 and /api/signature/m2 with s;
// without it they answer 503. With a *signing.OneShot an M1 without ts1
// and an M2 without ts3 are the combined forms (docs/protocol.md, "One
// request instead of two"), and the answer carries the token the server
// obtained.
func WithSigning(s Signer) Option { return func(a *api) { a.sign = s } }

// MaxStatusWait bounds the wait parameter of GET /api/signature/{id}/status.
const MaxStatusWait = 30 * time.Second

// WithStatusWait lets GET /api/signature/{id}/status?wait=… wait for the
// end of a signature being sealed: ends receives an event (with the
// customer's id) whenever a signature of a customer is completed or
// rejected, on whichever replica (cli: the live feed's bus events). Without
// it the wait parameter is accepted and the answer comes at once.
func WithStatusWait(ends *live.Hub) Option { return func(a *api) { a.ends = ends } }

// parseWait reads the status endpoint's wait parameter: a duration
// ("5s", "1500ms") from 0 to MaxStatusWait; empty is 0. Errors: Invalid
// (invalid_wait).
func parseWait(q string) (time.Duration, error) {
	if q == "" {
		return 0, nil
	}
	d, err := time.ParseDuration(q)
	if err != nil || d < 0 || d > MaxStatusWait {
		return 0, esign.WithCode("mobileapi.status", esign.Invalid, "invalid_wait", "wait must be a duration from 0s to 30s")
	}
	return d, nil
}

// sealing reports whether a signature in status st may still end without
// the app doing anything: an M2 is being handled or the seal runs.
func sealing(st esign.SignatureStatus) bool {
	return st == esign.SignatureM2Received || st == esign.SignatureVerified
}

func (a *api) signer(p *customers.Principal) (Signer, error) {
	const op = "mobileapi.signature"
	if a.sign == nil {
		return nil, esign.WithCode(op, esign.Unavailable, "signing_disabled", "signing is not available")
	}
	if !p.Approved() {
		return nil, esign.WithCode(op, esign.Forbidden, "not_approved", "the registration is not approved yet")
	}
	return a.sign, nil
}

func (a *api) m1(w http.ResponseWriter, r *http.Request, c *call) error {
	s, err := a.signer(c.p)
	if err != nil {
		return err
	}
	var req signing.M1
	if err := decode(w, r, &req); err != nil {
		return err
	}
	if err := required("offerId", req.OfferID, "algorithm", req.Algorithm); err != nil {
		return err
	}
	stamped := len(req.TS1) == 0 // the combined form: the server obtains TS1
	res, err := s.M1(r.Context(), c.p, &req)
	if err != nil {
		return err
	}
	if stamped && len(req.TS1) != 0 {
		// The device needs the token's time and accuracy before it asks
		// for TS2 (TS1 < TS2), and may keep it as its own evidence.
		return ok(w, struct {
			*signing.M1Result
			TS1 []byte `json:"ts1"`
		}{res, req.TS1})
	}
	return ok(w, res)
}

func (a *api) m2(w http.ResponseWriter, r *http.Request, c *call) error {
	s, err := a.signer(c.p)
	if err != nil {
		return err
	}
	var req signing.M2
	if err := jsonContentType(r); err != nil {
		return err
	}
	if err := decodeJSON(http.MaxBytesReader(w, r.Body, MaxSignatureBody), &req); err != nil {
		return err
	}
	if err := required("signatureId", req.SignatureID, "offerId", req.OfferID, "userName", req.UserName,
		"password", req.Password, "smsToken", req.SMSToken); err != nil {
		return err
	}
	stamped := len(req.TS3) == 0 // the combined form: the server obtains TS3
	res, err := s.M2(r.Context(), c.p, &req, c.meta)
	if err != nil {
		return err
	}
	if stamped && len(req.TS3) != 0 {
		return ok(w, struct {
			*signing.M2Result
			TS3 []byte `json:"ts3"`
		}{res, req.TS3})
	}
	return ok(w, res)
}

// signature (GET /api/signature/{id}/status) answers the state of one of the customer's signatures: after
// an M2 that answered "verified", the app polls it (or waits for the
// contract_ready push) until it is "completed" with its contract. With
// ?wait=5s a signature being sealed is answered once it is completed or
// rejected, or when the wait is over: one request instead of a poll every
// 100 ms, and the database is read again only when the signature's end is
// announced, not on a timer.
func (a *api) signature(w http.ResponseWriter, r *http.Request, c *call) error {
	s, err := a.signer(c.p)
	if err != nil {
		return err
	}
	wait, err := parseWait(r.URL.Query().Get("wait"))
	if err != nil {
		return err
	}
	var sub *live.Client
	if wait > 0 && a.ends != nil {
		// Subscribed before the first read, so that an end announced
		// between the two is not missed. A hub that is full or closed
		// answers at once, as without a wait.
		cid := c.p.Customer.ID
		if sub, err = a.ends.Subscribe(func(e *live.Event) bool { return e.CustomerID == cid }); err == nil {
			defer sub.Close()
		}
	}
	ctx := r.Context()
	st, err := s.Check(ctx, c.p, r.PathValue("id"))
	if err != nil {
		return err
	}
	if sub == nil || !sealing(st.Status) {
		return ok(w, st)
	}
	t := time.NewTimer(wait)
	defer t.Stop()
	// A slow re-read besides the announcements, should one be lost (a bus
	// outage): a seal takes well under a second, so it costs nothing then.
	slow := time.NewTicker(statusRecheck)
	defer slow.Stop()
	for sealing(st.Status) {
		select {
		case <-sub.Events(): // an end of one of the customer's signatures
		case <-slow.C:
		case <-sub.Done(): // dropped as too slow, or the process stops
			return ok(w, st)
		case <-t.C:
			return ok(w, st)
		case <-ctx.Done():
			return ctx.Err()
		}
		if st, err = s.Check(ctx, c.p, st.SignatureID); err != nil {
			return err
		}
	}
	return ok(w, st)
}

// statusRecheck is how often a waiting status request reads the signature
// again without an announcement.
const statusRecheck = 2 * time.Second
