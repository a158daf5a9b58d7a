package sqlstore

import (
	"testing"
	"time"

	"esign/internal/esign"
)

// TestSealInput: GetSealInput reads in two statements what the reads it
// replaces (GetSignature, GetOffer, GetCustomer, GetAppFcmInfo,
// ListSignatureData, ListTimestampTokens, ListDocuments) return.
func TestSealInput(t *testing.T) {
	engines(t, func(t *testing.T, db *DB) {
		ctx := testCtx(t)
		c := mkCustomer(t, &db.store)
		d1, d2, gone := mkDocument(t, &db.store, c.ID), mkDocument(t, &db.store, c.ID), mkDocument(t, &db.store, c.ID)
		o := mkOffer(t, &db.store, c.ID, d2.ID, gone.ID, d1.ID)
		_, err := db.UpdateDocument(ctx, gone.ID, esign.DocumentUpdate{DeletedAt: ptr(time.Now())})
		must(t, err)
		app := &esign.App{CustomerID: c.ID, SessionTokenHash: digest("s"), Status: esign.AppAssociated}
		must(t, db.CreateApp(ctx, app))
		g := &esign.Signature{OfferID: o.ID, CustomerID: c.ID, AppID: app.ID, PublicKey: "-----BEGIN PUBLIC KEY-----", Username: "anna"}
		must(t, db.CreateSignature(ctx, g))

		in, err := db.GetSealInput(ctx, g.ID)
		must(t, err)
		if in.FcmToken != "" || len(in.Data) != 0 || len(in.Tokens) != 0 {
			t.Fatalf("a bare signature: token %q, data %v, tokens %v", in.FcmToken, in.Data, in.Tokens)
		}
		must(t, db.CreateFcmInfo(ctx, &esign.FcmInfo{AppID: app.ID, Token: "fcm-token"}))
		for _, k := range []string{"m1_raw", "m2_request"} {
			must(t, db.CreateSignatureData(ctx, &esign.SignatureData{SignatureID: g.ID, Kind: k, Data: []byte(k + "\x00\xff"), SHA256: digest(k)}))
		}
		var toks []*esign.TimestampToken
		for i, p := range []esign.TimestampPurpose{esign.TimestampTS2, esign.TimestampTS1} {
			ts := &esign.TimestampToken{SignatureID: g.ID, Purpose: p, HashAlgorithm: "sha256", MessageImprint: []byte{1},
				Token: []byte{0x30, byte(i)}, GenTime: time.Now().Add(time.Duration(i) * time.Second).Truncate(time.Millisecond),
				SerialNumber: "1", TSAName: "CN=TSA"}
			must(t, db.CreateTimestampToken(ctx, ts))
			toks = append(toks, ts)
		}

		in, err = db.GetSealInput(ctx, g.ID)
		must(t, err)
		gg, err := db.GetSignature(ctx, g.ID)
		must(t, err)
		same(t, "signature", in.Signature, gg)
		oo, err := db.GetOffer(ctx, o.ID)
		must(t, err)
		same(t, "offer", in.Offer, oo)
		cc, err := db.GetCustomer(ctx, c.ID)
		must(t, err)
		same(t, "customer", in.Customer, cc)
		if in.FcmToken != "fcm-token" {
			t.Errorf("token %q", in.FcmToken)
		}
		same(t, "data", in.Data, map[string][]byte{"m1_raw": []byte("m1_raw\x00\xff"), "m2_request": []byte("m2_request\x00\xff")})
		if len(in.Tokens) != 2 {
			t.Fatalf("tokens %+v", in.Tokens)
		}
		for i, want := range toks {
			got := in.Tokens[i]
			if got.ID != want.ID || got.Purpose != want.Purpose || string(got.Token) != string(want.Token) || !got.GenTime.Equal(want.GenTime) {
				t.Errorf("token %d = %+v, want %+v", i, got, want)
			}
		}
		docs, err := db.ListDocuments(ctx, esign.DocumentFilter{OfferID: o.ID})
		must(t, err)
		if len(in.Documents) != len(docs) || len(docs) != 2 {
			t.Fatalf("documents %d, want %d", len(in.Documents), len(docs))
		}
		for i, d := range docs {
			got := in.Documents[i]
			if got.ID != d.ID || got.Name != d.Name || got.Size != d.Size || got.SHA256 != d.SHA256 || got.StorageKey != d.StorageKey ||
				got.ContentType != d.ContentType || got.Encrypted != d.Encrypted || got.CustomerID != d.CustomerID {
				t.Errorf("document %d = %+v, want %+v", i, got, d)
			}
		}

		_, err = db.GetSealInput(ctx, esign.NewID())
		wantKind(t, err, esign.NotFound)
	})
}

// TestMoveOfferAndCreateDocuments: the seal's writes keep the guards of
// UpdateOfferState and CreateDocument.
func TestMoveOfferAndCreateDocuments(t *testing.T) {
	engines(t, func(t *testing.T, db *DB) {
		ctx := testCtx(t)
		c := mkCustomer(t, &db.store)
		o := mkOffer(t, &db.store, c.ID)
		_, err := db.MoveOffer(ctx, o, esign.OfferSigned, "")
		wantKind(t, err, esign.Invalid) // created → signed is no transition
		viewed, err := db.MoveOffer(ctx, o, esign.OfferNotified, "")
		must(t, err)
		if viewed.Version != o.Version+1 || viewed.State != esign.OfferNotified {
			t.Fatalf("moved = %+v", viewed)
		}
		_, err = db.MoveOffer(ctx, o, esign.OfferNotified, "") // o is stale now
		wantKind(t, err, esign.Conflict)

		k := &esign.Contract{CustomerID: c.ID, OfferID: o.ID, Title: "t", SignedAt: time.Now()}
		must(t, db.CreateContract(ctx, k))
		var ds []*esign.Document
		for i := range 3 {
			id := esign.NewID()
			ds = append(ds, &esign.Document{CustomerID: c.ID, ContractID: k.ID, Kind: esign.DocumentContract, Name: string(rune('a' + i)),
				ContentType: "application/pdf", Size: int64(i), SHA256: digest(id), StorageKey: "contracts/" + id, Encrypted: true})
		}
		must(t, db.InTx(ctx, func(tx *Tx) error { return tx.CreateDocuments(ctx, ds) }))
		for _, d := range ds {
			got, err := db.GetDocument(ctx, d.ID)
			must(t, err)
			same(t, "document "+d.Name, got, d)
		}
		dup := *ds[0]
		dup.ID = ""
		wantKind(t, db.CreateDocuments(ctx, []*esign.Document{&dup}), esign.Conflict) // storage key used
		wantKind(t, db.CreateDocuments(ctx, []*esign.Document{{CustomerID: c.ID}}), esign.Invalid)
		must(t, db.CreateDocuments(ctx, nil))
	})
}
