package esign

// OfferState is the life-cycle state of an offer.
//
//	created → notified → opened → signing → signed
//	   any non-final state → refused | revoked | expired (see CanTransition)
//
// signed, refused, revoked and expired are final.
type OfferState string

// The offer states.
const (
	OfferCreated  OfferState = "created"  // uploaded, customer not yet notified
	OfferNotified OfferState = "notified" // SMS / e-mail / push sent
	OfferOpened   OfferState = "opened"   // the customer has opened it
	OfferSigning  OfferState = "signing"  // M1 received, waiting for M2 and 2FA
	OfferSigned   OfferState = "signed"   // signed by the customer and sealed by the bank
	OfferRefused  OfferState = "refused"  // refused by the customer
	OfferRevoked  OfferState = "revoked"  // withdrawn by the bank
	OfferExpired  OfferState = "expired"  // expires_at passed before signing
)

// OfferStates lists every state in life-cycle order.
var OfferStates = []OfferState{
	OfferCreated, OfferNotified, OfferOpened, OfferSigning,
	OfferSigned, OfferRefused, OfferRevoked, OfferExpired,
}

// offerTransitions is the allowed-transition table. A state missing from the
// table is final.
//
//	from      to
//	created   notified, revoked, expired
//	notified  opened, revoked, expired, refused
//	opened    signing, refused, revoked, expired
//	signing   signed, opened (signature rejected or abandoned), refused, revoked, expired
var offerTransitions = map[OfferState][]OfferState{
	OfferCreated:  {OfferNotified, OfferRevoked, OfferExpired},
	OfferNotified: {OfferOpened, OfferRefused, OfferRevoked, OfferExpired},
	OfferOpened:   {OfferSigning, OfferRefused, OfferRevoked, OfferExpired},
	OfferSigning:  {OfferSigned, OfferOpened, OfferRefused, OfferRevoked, OfferExpired},
}

// Valid reports whether s is a known state.
func (s OfferState) Valid() bool {
	for _, v := range OfferStates {
		if s == v {
			return true
		}
	}
	return false
}

// Final reports whether no transition leaves s.
func (s OfferState) Final() bool { return s.Valid() && len(offerTransitions[s]) == 0 }

// CanTransition reports whether an offer in state s may move to state to.
// Staying in the same state is not a transition and is refused.
func (s OfferState) CanTransition(to OfferState) bool {
	for _, t := range offerTransitions[s] {
		if t == to {
			return true
		}
	}
	return false
}

// CheckTransition returns nil when s may move to to, and otherwise an
// Invalid error with the code "offer_state" that names both states.
func (s OfferState) CheckTransition(op string, to OfferState) error {
	if s.CanTransition(to) {
		return nil
	}
	return &Error{Op: op, Kind: Invalid, Code: "offer_state",
		Msg: "an offer in state " + string(s) + " cannot become " + string(to)}
}
