package esign

import "testing"

func TestOfferStateCanTransition(t *testing.T) {
	// The full table: every pair not listed is refused.
	allowed := map[[2]OfferState]bool{
		{OfferCreated, OfferNotified}: true,
		{OfferCreated, OfferRevoked}:  true,
		{OfferCreated, OfferExpired}:  true,
		{OfferNotified, OfferOpened}:  true,
		{OfferNotified, OfferRefused}: true,
		{OfferNotified, OfferRevoked}: true,
		{OfferNotified, OfferExpired}: true,
		{OfferOpened, OfferSigning}:   true,
		{OfferOpened, OfferRefused}:   true,
		{OfferOpened, OfferRevoked}:   true,
		{OfferOpened, OfferExpired}:   true,
		{OfferSigning, OfferSigned}:   true,
		{OfferSigning, OfferOpened}:   true,
		{OfferSigning, OfferRefused}:  true,
		{OfferSigning, OfferRevoked}:  true,
		{OfferSigning, OfferExpired}:  true,
	}
	states := append(append([]OfferState{}, OfferStates...), "", "bogus")
	for _, from := range states {
		for _, to := range states {
			t.Run(string(from)+"-"+string(to), func(t *testing.T) {
				want := allowed[[2]OfferState{from, to}]
				if got := from.CanTransition(to); got != want {
					t.Fatalf("CanTransition = %v, want %v", got, want)
				}
				err := from.CheckTransition("test", to)
				if (err == nil) != want {
					t.Fatalf("CheckTransition = %v", err)
				}
				if err != nil && (ErrorKind(err) != Invalid || ErrorCode(err) != "offer_state") {
					t.Fatalf("CheckTransition error = %v", err)
				}
			})
		}
	}
}

func TestOfferStateFinal(t *testing.T) {
	final := map[OfferState]bool{OfferSigned: true, OfferRefused: true, OfferRevoked: true, OfferExpired: true}
	for _, s := range OfferStates {
		if s.Final() != final[s] {
			t.Errorf("%s.Final() = %v", s, s.Final())
		}
	}
	if OfferState("bogus").Valid() || OfferState("bogus").Final() {
		t.Error("an unknown state is valid or final")
	}
}
