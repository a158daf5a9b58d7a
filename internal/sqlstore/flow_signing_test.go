package sqlstore

import (
	"bytes"
	"testing"
	"time"

	"esign/internal/esign"
)

// TestSigningFlowStatements: the signing flow's combined statements store
// and read what the one-row methods do, in the same order, on both
// engines.
func TestSigningFlowStatements(t *testing.T) {
	engines(t, func(t *testing.T, db *DB) {
		ctx := testCtx(t)
		c := mkCustomer(t, &db.store)
		d1, d2 := mkDocument(t, &db.store, c.ID), mkDocument(t, &db.store, c.ID)
		o := mkOffer(t, &db.store, c.ID, d2.ID, d1.ID)
		app := &esign.App{CustomerID: c.ID, SessionTokenHash: digest("s"), Status: esign.AppAssociated}
		must(t, db.CreateApp(ctx, app))

		oo, oc, err := db.GetOfferCustomer(ctx, o.ID)
		must(t, err)
		if oo.ID != o.ID || oc.ID != c.ID || oc.Phone != c.Phone {
			t.Fatalf("GetOfferCustomer = %+v, %+v", oo, oc)
		}
		_, _, err = db.GetOfferCustomer(ctx, esign.NewID())
		wantKind(t, err, esign.NotFound)

		g := &esign.Signature{OfferID: o.ID, CustomerID: c.ID, AppID: app.ID, PublicKey: "-----BEGIN PUBLIC KEY-----", Username: "anna"}
		kinds := []string{"m1_raw", "m1_signed", "m1_offer_hashes"}
		var ds []*esign.SignatureData
		for i, k := range kinds {
			ds = append(ds, &esign.SignatureData{Kind: k, Data: []byte{byte(i), 0, 0xff}, SHA256: digest(k)})
		}
		ts1 := &esign.TimestampToken{Purpose: esign.TimestampTS1, HashAlgorithm: "sha256", MessageImprint: []byte{1},
			Token: []byte{0x30, 1}, GenTime: time.Now(), SerialNumber: "1", TSAName: "CN=TSA"}
		g.ID = esign.NewID() // the code names it
		code := &esign.VerificationToken{CustomerID: c.ID, AppID: app.ID, SignatureID: g.ID, Purpose: esign.TokenTwoFactor,
			TokenHash: digest("code"), ExpiresAt: time.Now().Add(5 * time.Minute)}
		must(t, db.InTx(ctx, func(tx *Tx) error {
			return tx.CreateSignatureEvidence(ctx, g, ds, []*esign.TimestampToken{ts1}, code)
		}))
		if g.Status != esign.SignatureM1Received || g.M1At.IsZero() || ts1.SignatureID != g.ID {
			t.Fatalf("created = %+v", g)
		}
		gc, err := db.GetVerificationToken(ctx, code.ID)
		must(t, err)
		if gc.SignatureID != g.ID || gc.TokenHash != code.TokenHash || gc.CreatedAt.IsZero() {
			t.Fatalf("code = %+v", gc)
		}
		gg, err := db.GetSignature(ctx, g.ID)
		must(t, err)
		same(t, "GetSignature", gg, g)
		list, err := db.ListSignatureData(ctx, g.ID, esign.Page{})
		must(t, err)
		same(t, "ListSignatureData", list, ds) // in the order given

		sc, err := db.GetSignatureContext(ctx, g.ID)
		must(t, err)
		same(t, "GetSignatureContext.Signature", sc.Signature, g)
		if sc.Offer.ID != o.ID || sc.Offer.Version != oo.Version || sc.Customer.ID != c.ID {
			t.Fatalf("GetSignatureContext = %+v", sc)
		}
		_, err = db.GetSignatureContext(ctx, esign.NewID())
		wantKind(t, err, esign.NotFound)

		ev, err := db.GetSignatureEvidence(ctx, g.ID, o.ID)
		must(t, err)
		for _, d := range ds {
			if !bytes.Equal(ev.Data[d.Kind], d.Data) {
				t.Errorf("evidence %s = %x, want %x", d.Kind, ev.Data[d.Kind], d.Data)
			}
		}
		docs, err := db.ListDocuments(ctx, esign.DocumentFilter{OfferID: o.ID})
		must(t, err)
		if !bytes.Equal(ev.TS1, ts1.Token) || len(ev.DocumentHashes) != 2 || ev.DocumentHashes[0] != docs[0].SHA256 ||
			ev.DocumentHashes[1] != docs[1].SHA256 || docs[0].ID != d2.ID {
			t.Fatalf("GetSignatureEvidence = %+v, documents %v, %v", ev, docs[0].SHA256, docs[1].SHA256)
		}

		// A kind twice: nothing of the statement is stored.
		err = db.InTx(ctx, func(tx *Tx) error {
			return tx.CreateVerdictEvidence(ctx, &esign.SignatureValidation{SignatureID: g.ID, Valid: true, Report: "[]"},
				[]*esign.SignatureData{{SignatureID: g.ID, Kind: "m1_raw", Data: []byte{1}, SHA256: digest("x")}}, nil)
		})
		wantKind(t, err, esign.Conflict)
		_, err = db.GetSignatureValidation(ctx, g.ID)
		wantKind(t, err, esign.NotFound)

		v := &esign.SignatureValidation{SignatureID: g.ID, Valid: true, Report: "[]", TS1At: time.Now()}
		ts2 := &esign.TimestampToken{SignatureID: g.ID, Purpose: esign.TimestampTS2, HashAlgorithm: "sha256", MessageImprint: []byte{2},
			Token: []byte{0x30, 2}, GenTime: time.Now(), SerialNumber: "2", TSAName: "CN=TSA"}
		ts3 := &esign.TimestampToken{SignatureID: g.ID, Purpose: esign.TimestampTS3, HashAlgorithm: "sha256", MessageImprint: []byte{3},
			Token: []byte{0x30, 3}, GenTime: time.Now().Add(time.Second), SerialNumber: "3", TSAName: "CN=TSA"}
		m2 := []*esign.SignatureData{{SignatureID: g.ID, Kind: "m2_request", Data: []byte("{}"), SHA256: digest("m2")}}
		act := &esign.Activity{CustomerID: c.ID, OfferID: o.ID, Kind: "signature.m2", Detail: `{"signature_id":"` + g.ID + `"}`}
		must(t, db.CreateVerdictEvidence(ctx, v, m2, []*esign.TimestampToken{ts2, ts3}, act))
		acts, err := db.ListActivities(ctx, esign.ActivityFilter{CustomerID: c.ID, Kind: "signature.m2"})
		must(t, err)
		if len(acts) != 1 || acts[0].ID != act.ID || acts[0].OfferID != o.ID {
			t.Fatalf("activities = %+v", acts)
		}
		gv, err := db.GetSignatureValidation(ctx, g.ID)
		must(t, err)
		if gv.ID != v.ID || !gv.Valid {
			t.Fatalf("validation = %+v", gv)
		}
		toks, err := db.ListTimestampTokens(ctx, esign.TimestampTokenFilter{SignatureID: g.ID})
		must(t, err)
		if len(toks) != 3 || toks[1].ID != ts2.ID || toks[2].ID != ts3.ID {
			t.Fatalf("tokens = %+v", toks)
		}
		must(t, db.CreateSignatureDataRows(ctx))
		must(t, db.CreateTimestampTokens(ctx))
	})
}
