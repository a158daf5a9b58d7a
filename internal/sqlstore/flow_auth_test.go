package sqlstore

import (
	"testing"
	"time"

	"esign/internal/esign"
)

var visibleStates = []esign.OfferState{esign.OfferNotified, esign.OfferOpened, esign.OfferSigning,
	esign.OfferSigned, esign.OfferRefused, esign.OfferRevoked, esign.OfferExpired}

// TestGetCustomerDocument: the one-statement read answers what the read
// and the checks it replaces (GetDocument, the contract's, DocumentInOffers)
// answer, for every way a document can be reachable or not.
func TestGetCustomerDocument(t *testing.T) {
	engines(t, func(t *testing.T, db *DB) {
		ctx := testCtx(t)
		c, other := mkCustomer(t, &db.store), mkCustomer(t, &db.store)
		visible := func(docs ...string) *esign.Offer {
			o := mkOffer(t, &db.store, c.ID, docs...)
			o, err := db.UpdateOfferState(ctx, o.ID, o.Version, esign.OfferNotified, "")
			must(t, err)
			return o
		}
		inVisible := mkDocument(t, &db.store, c.ID)
		visible(inVisible.ID)
		inCreated := mkDocument(t, &db.store, c.ID)
		mkOffer(t, &db.store, c.ID, inCreated.ID)
		inVetoed := mkDocument(t, &db.store, c.ID)
		vo := &esign.Offer{CustomerID: c.ID, Title: "Vetoed", ExpiresAt: time.Now().Add(time.Hour), Vetoed: true}
		must(t, db.CreateOffer(ctx, vo, inVetoed.ID))
		_, err := db.UpdateOfferState(ctx, vo.ID, vo.Version, esign.OfferNotified, "")
		must(t, err)
		deleted := mkDocument(t, &db.store, c.ID)
		visible(deleted.ID)
		_, err = db.UpdateDocument(ctx, deleted.ID, esign.DocumentUpdate{DeletedAt: ptr(time.Now())})
		must(t, err)
		loose := mkDocument(t, &db.store, c.ID)
		othersDoc := mkDocument(t, &db.store, other.ID)
		oo := mkOffer(t, &db.store, other.ID, othersDoc.ID)
		_, err = db.UpdateOfferState(ctx, oo.ID, oo.Version, esign.OfferNotified, "")
		must(t, err)
		contract := func(status esign.ContractStatus) *esign.Document {
			k := &esign.Contract{CustomerID: c.ID, Title: "Contract", SignedAt: time.Now()}
			must(t, db.CreateContract(ctx, k))
			if status != esign.ContractActive {
				_, err := db.UpdateContract(ctx, k.ID, esign.ContractUpdate{Status: &status})
				must(t, err)
			}
			d := mkDocument(t, &db.store, c.ID)
			d, err := db.UpdateDocument(ctx, d.ID, esign.DocumentUpdate{ContractID: &k.ID})
			must(t, err)
			return d
		}
		inContract, inRevoked := contract(esign.ContractActive), contract(esign.ContractRevoked)

		// before is the two-step check GetCustomerDocument replaces.
		before := func(id, customerID string, states []esign.OfferState) bool {
			d, err := db.GetDocument(ctx, id)
			if err != nil || d.CustomerID != customerID || !d.DeletedAt.IsZero() {
				return false
			}
			if d.ContractID != "" {
				if k, err := db.GetContract(ctx, d.ContractID); err == nil && k.CustomerID == customerID && k.Status != esign.ContractRevoked {
					return true
				}
			}
			ok, err := db.DocumentInOffers(ctx, id, customerID, states)
			must(t, err)
			return ok
		}
		tests := []struct {
			name     string
			id, cust string
			states   []esign.OfferState
			want     bool
		}{
			{"visible_offer", inVisible.ID, c.ID, visibleStates, true},
			{"visible_offer_no_states", inVisible.ID, c.ID, nil, false},
			{"created_offer", inCreated.ID, c.ID, visibleStates, false},
			{"vetoed_offer", inVetoed.ID, c.ID, visibleStates, false},
			{"deleted", deleted.ID, c.ID, visibleStates, false},
			{"in_no_offer", loose.ID, c.ID, visibleStates, false},
			{"someone_elses", othersDoc.ID, c.ID, visibleStates, false},
			{"someone_elses_as_them", othersDoc.ID, other.ID, visibleStates, true},
			{"mine_as_someone_else", inVisible.ID, other.ID, visibleStates, false},
			{"contract", inContract.ID, c.ID, visibleStates, true},
			{"contract_no_states", inContract.ID, c.ID, nil, true},
			{"revoked_contract", inRevoked.ID, c.ID, visibleStates, false},
			{"unknown", esign.NewID(), c.ID, visibleStates, false},
			{"malformed", "nope", c.ID, visibleStates, false},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				if b := before(tt.id, tt.cust, tt.states); b != tt.want {
					t.Fatalf("the two-step check says %v, the test %v", b, tt.want)
				}
				d, err := db.GetCustomerDocument(ctx, tt.id, tt.cust, tt.states)
				if !tt.want {
					wantKind(t, err, esign.NotFound)
					return
				}
				must(t, err)
				want, err := db.GetDocument(ctx, tt.id)
				must(t, err)
				same(t, "GetCustomerDocument", d, want)
			})
		}
	})
}

func TestGetOfferWithDocuments(t *testing.T) {
	engines(t, func(t *testing.T, db *DB) {
		ctx := testCtx(t)
		c := mkCustomer(t, &db.store)
		a, b, gone := mkDocument(t, &db.store, c.ID), mkDocument(t, &db.store, c.ID), mkDocument(t, &db.store, c.ID)
		o := mkOffer(t, &db.store, c.ID, b.ID, gone.ID, a.ID)
		_, err := db.UpdateDocument(ctx, gone.ID, esign.DocumentUpdate{DeletedAt: ptr(time.Now())})
		must(t, err)
		got, docs, err := db.GetOfferWithDocuments(ctx, o.ID)
		must(t, err)
		wantO, err := db.GetOffer(ctx, o.ID)
		must(t, err)
		wantDocs, err := db.ListDocuments(ctx, esign.DocumentFilter{OfferID: o.ID})
		must(t, err)
		same(t, "offer", got, wantO)
		same(t, "documents", docs, wantDocs)
		same(t, "document order", ids(docs), []string{b.ID, a.ID})

		empty := mkOffer(t, &db.store, c.ID)
		got, docs, err = db.GetOfferWithDocuments(ctx, empty.ID)
		must(t, err)
		if got.ID != empty.ID || len(docs) != 0 {
			t.Fatalf("offer without documents: %v, %v", got, docs)
		}
		for _, id := range []string{esign.NewID(), "nope"} {
			_, _, err = db.GetOfferWithDocuments(ctx, id)
			wantKind(t, err, esign.NotFound)
		}
	})
}

func TestGetContractWithDocuments(t *testing.T) {
	engines(t, func(t *testing.T, db *DB) {
		ctx := testCtx(t)
		c := mkCustomer(t, &db.store)
		k := &esign.Contract{CustomerID: c.ID, Title: "Contract", SignedAt: time.Now()}
		must(t, db.CreateContract(ctx, k))
		got, docs, err := db.GetContractWithDocuments(ctx, k.ID)
		must(t, err)
		same(t, "contract without documents", got, k)
		if len(docs) != 0 {
			t.Fatalf("documents of a contract without any: %v", docs)
		}
		for range 3 {
			d := mkDocument(t, &db.store, c.ID)
			_, err := db.UpdateDocument(ctx, d.ID, esign.DocumentUpdate{ContractID: &k.ID})
			must(t, err)
		}
		wantDocs, err := db.ListDocuments(ctx, esign.DocumentFilter{ContractID: k.ID})
		must(t, err)
		_, err = db.UpdateDocument(ctx, wantDocs[1].ID, esign.DocumentUpdate{DeletedAt: ptr(time.Now())})
		must(t, err)
		wantDocs, err = db.ListDocuments(ctx, esign.DocumentFilter{ContractID: k.ID})
		must(t, err)
		got, docs, err = db.GetContractWithDocuments(ctx, k.ID)
		must(t, err)
		same(t, "contract", got, k)
		same(t, "documents", docs, wantDocs)
		for _, id := range []string{esign.NewID(), "nope"} {
			_, _, err = db.GetContractWithDocuments(ctx, id)
			wantKind(t, err, esign.NotFound)
		}
	})
}

func TestAcknowledgeContract(t *testing.T) {
	engines(t, func(t *testing.T, db *DB) {
		ctx := testCtx(t)
		c, other := mkCustomer(t, &db.store), mkCustomer(t, &db.store)
		k := &esign.Contract{CustomerID: c.ID, Title: "Contract", SignedAt: time.Now()}
		must(t, db.CreateContract(ctx, k))
		_, err := db.AcknowledgeContract(ctx, k.ID, other.ID, time.Now())
		wantKind(t, err, esign.NotFound)
		at := time.Now().Add(-time.Minute)
		got, err := db.AcknowledgeContract(ctx, k.ID, c.ID, at)
		must(t, err)
		if got.Status != esign.ContractAcknowledged || !got.AcknowledgedAt.Equal(esign.Timestamp(at)) {
			t.Fatalf("acknowledged: %+v", got)
		}
		stored, err := db.GetContract(ctx, k.ID)
		must(t, err)
		same(t, "stored", stored, got)
		_, err = db.AcknowledgeContract(ctx, k.ID, c.ID, time.Now()) // already: nothing changes
		wantKind(t, err, esign.NotFound)
		if again, _ := db.GetContract(ctx, k.ID); !again.AcknowledgedAt.Equal(got.AcknowledgedAt) {
			t.Fatalf("the second acknowledgement moved the time: %v", again.AcknowledgedAt)
		}

		revoked := &esign.Contract{CustomerID: c.ID, Title: "Revoked", SignedAt: time.Now()}
		must(t, db.CreateContract(ctx, revoked))
		_, err = db.UpdateContract(ctx, revoked.ID, esign.ContractUpdate{Status: ptr(esign.ContractRevoked)})
		must(t, err)
		_, err = db.AcknowledgeContract(ctx, revoked.ID, c.ID, time.Now())
		wantKind(t, err, esign.NotFound)
		_, err = db.AcknowledgeContract(ctx, "nope", c.ID, time.Now())
		wantKind(t, err, esign.NotFound)
	})
}

func TestGetSignatureWithContract(t *testing.T) {
	engines(t, func(t *testing.T, db *DB) {
		ctx := testCtx(t)
		c := mkCustomer(t, &db.store)
		app := &esign.App{CustomerID: c.ID, SessionTokenHash: digest("s"), Status: esign.AppAssociated}
		must(t, db.CreateApp(ctx, app))
		sig := func() (*esign.Signature, *esign.Offer) {
			o := mkOffer(t, &db.store, c.ID)
			g := &esign.Signature{OfferID: o.ID, CustomerID: c.ID, AppID: app.ID, PublicKey: "-----BEGIN PUBLIC KEY-----", Username: "anna"}
			must(t, db.CreateSignature(ctx, g))
			return g, o
		}
		check := func(name, id, wantContract string) {
			t.Helper()
			g, k, err := db.GetSignatureWithContract(ctx, id)
			must(t, err)
			want, err := db.GetSignature(ctx, id)
			must(t, err)
			same(t, name+": signature", g, want)
			if k != wantContract {
				t.Fatalf("%s: contract %q, want %q", name, k, wantContract)
			}
		}
		g, o := sig()
		check("m1", g.ID, "")
		k := &esign.Contract{CustomerID: c.ID, OfferID: o.ID, Title: "Contract", SignedAt: time.Now()}
		must(t, db.CreateContract(ctx, k))
		check("contract_before_completion", g.ID, "") // as the status poll: only a completed signature names it
		_, err := db.UpdateSignature(ctx, g.ID, esign.SignatureUpdate{Status: ptr(esign.SignatureCompleted)})
		must(t, err)
		check("completed", g.ID, k.ID)
		lone, _ := sig()
		_, err = db.UpdateSignature(ctx, lone.ID, esign.SignatureUpdate{Status: ptr(esign.SignatureCompleted)})
		must(t, err)
		check("completed_without_contract", lone.ID, "")
		for _, id := range []string{esign.NewID(), "nope"} {
			_, _, err := db.GetSignatureWithContract(ctx, id)
			wantKind(t, err, esign.NotFound)
		}
	})
}
