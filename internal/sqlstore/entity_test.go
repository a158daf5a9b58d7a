package sqlstore

import (
	"reflect"
	"testing"
	"time"

	"esign/internal/esign"
)

// same fails the test unless got and want are deeply equal.
func same(tb testing.TB, what string, got, want any) {
	tb.Helper()
	if !reflect.DeepEqual(got, want) {
		tb.Fatalf("%s:\n got  %+v\n want %+v", what, got, want)
	}
}

func ptr[T any](v T) *T { return &v }

func ids(docs []*esign.Document) []string {
	out := []string{}
	for _, d := range docs {
		out = append(out, d.ID)
	}
	return out
}

func TestCustomerCRUD(t *testing.T) {
	engines(t, func(t *testing.T, db *DB) {
		ctx := testCtx(t)
		u := mkUser(t, &db.store)
		c := &esign.Customer{ExternalRef: "BANK-42", Name: "Kovács Anna", Email: "anna@example.com", Phone: "+36201234567"}
		must(t, db.CreateCustomer(ctx, c))
		if c.Status != esign.CustomerPending || c.CreatedAt.IsZero() || !c.CreatedAt.Equal(c.UpdatedAt) {
			t.Fatalf("created = %+v", c)
		}
		got, err := db.GetCustomer(ctx, c.ID)
		must(t, err)
		same(t, "GetCustomer", got, c)

		approved := time.Now()
		upd, err := db.UpdateCustomer(ctx, c.ID, esign.CustomerUpdate{
			Status: ptr(esign.CustomerActive), ApprovedAt: &approved, ApprovedBy: &u.ID, Username: ptr("anna")})
		must(t, err)
		if upd.Status != esign.CustomerActive || upd.ApprovedBy != u.ID || !upd.ApprovedAt.Equal(esign.Timestamp(approved)) || upd.Username != "anna" {
			t.Fatalf("updated = %+v", upd)
		}
		list, err := db.ListCustomers(ctx, esign.CustomerFilter{Status: esign.CustomerActive})
		must(t, err)
		same(t, "ListCustomers", list, []*esign.Customer{upd})
		list, err = db.ListCustomers(ctx, esign.CustomerFilter{Username: "anna"})
		must(t, err)
		same(t, "ListCustomers by username", list, []*esign.Customer{upd})
		// An empty username is stored as NULL, so many customers may have none.
		upd, err = db.UpdateCustomer(ctx, c.ID, esign.CustomerUpdate{Username: ptr("")})
		must(t, err)
		if upd.Username != "" {
			t.Fatalf("username = %q", upd.Username)
		}
		mkCustomer(t, &db.store)

		d := &esign.CustomerData{CustomerID: c.ID, Key: "segment", Value: "retail"}
		must(t, db.CreateCustomerData(ctx, d))
		wantKind(t, db.CreateCustomerData(ctx, &esign.CustomerData{CustomerID: c.ID, Key: "segment"}), esign.Conflict)
		d2, err := db.UpdateCustomerData(ctx, d.ID, "private")
		must(t, err)
		if d2.Value != "private" {
			t.Fatalf("value = %q", d2.Value)
		}
		dl, err := db.ListCustomerData(ctx, esign.CustomerDataFilter{CustomerID: c.ID})
		must(t, err)
		same(t, "ListCustomerData", dl, []*esign.CustomerData{d2})

		a := &esign.Activity{CustomerID: c.ID, Kind: "login", IP: "192.0.2.1"}
		must(t, db.CreateActivity(ctx, a))
		ga, err := db.GetActivity(ctx, a.ID)
		must(t, err)
		same(t, "GetActivity", ga, a)
		al, err := db.ListActivities(ctx, esign.ActivityFilter{CustomerID: c.ID, Kind: "login"})
		must(t, err)
		same(t, "ListActivities", al, []*esign.Activity{a})

		vt := &esign.VerificationToken{CustomerID: c.ID, Purpose: esign.TokenAssociation, TokenHash: digest("123456"),
			ExpiresAt: time.Now().Add(5 * time.Minute)}
		must(t, db.CreateVerificationToken(ctx, vt))
		usable, err := db.ListVerificationTokens(ctx, esign.VerificationTokenFilter{TokenHash: vt.TokenHash, UsableAt: time.Now()})
		must(t, err)
		same(t, "usable tokens", usable, []*esign.VerificationToken{vt})
		used, err := db.UpdateVerificationToken(ctx, vt.ID, esign.VerificationTokenUpdate{Attempts: ptr(1), UsedAt: ptr(time.Now())})
		must(t, err)
		if used.Attempts != 1 || used.UsedAt.IsZero() {
			t.Fatalf("used token = %+v", used)
		}
		usable, err = db.ListVerificationTokens(ctx, esign.VerificationTokenFilter{TokenHash: vt.TokenHash, UsableAt: time.Now()})
		must(t, err)
		if len(usable) != 0 {
			t.Fatalf("a used token is still usable")
		}
		must(t, db.DeleteVerificationToken(ctx, vt.ID))
		must(t, db.DeleteActivity(ctx, a.ID))
		must(t, db.DeleteCustomerData(ctx, d.ID))
		_, err = db.GetCustomerData(ctx, d.ID)
		wantKind(t, err, esign.NotFound)

		must(t, db.DeleteCustomer(ctx, c.ID))
		_, err = db.GetCustomer(ctx, c.ID)
		wantKind(t, err, esign.NotFound)
		_, err = db.UpdateCustomer(ctx, c.ID, esign.CustomerUpdate{Name: ptr("x")})
		wantKind(t, err, esign.NotFound)
	})
}

func TestDocumentsAndContracts(t *testing.T) {
	engines(t, func(t *testing.T, db *DB) {
		ctx := testCtx(t)
		c := mkCustomer(t, &db.store)
		d := mkDocument(t, &db.store, c.ID)
		got, err := db.GetDocument(ctx, d.ID)
		must(t, err)
		same(t, "GetDocument", got, d)
		dup := *d
		dup.ID = ""
		wantKind(t, db.CreateDocument(ctx, &dup), esign.Conflict) // storage key

		o := mkOffer(t, &db.store, c.ID, d.ID)
		k := &esign.Contract{CustomerID: c.ID, OfferID: o.ID, Title: "Loan contract", SignedAt: time.Now(), ExternalRef: "K-1"}
		must(t, db.CreateContract(ctx, k))
		gk, err := db.GetContract(ctx, k.ID)
		must(t, err)
		same(t, "GetContract", gk, k)
		wantKind(t, db.CreateContract(ctx, &esign.Contract{CustomerID: c.ID, OfferID: o.ID, Title: "again", SignedAt: time.Now()}), esign.Conflict)

		signed := mkDocument(t, &db.store, c.ID)
		past := time.Now().Add(-time.Hour)
		signed, err = db.UpdateDocument(ctx, signed.ID, esign.DocumentUpdate{ContractID: &k.ID, RetainUntil: &past})
		must(t, err)
		byContract, err := db.ListDocuments(ctx, esign.DocumentFilter{ContractID: k.ID})
		must(t, err)
		same(t, "documents of contract", byContract, []*esign.Document{signed})
		due, err := db.ListDocuments(ctx, esign.DocumentFilter{RetainedBefore: time.Now()})
		must(t, err)
		same(t, "documents past retention", due, []*esign.Document{signed})
		signed, err = db.UpdateDocument(ctx, signed.ID, esign.DocumentUpdate{DeletedAt: ptr(time.Now())})
		must(t, err)
		due, err = db.ListDocuments(ctx, esign.DocumentFilter{RetainedBefore: time.Now()})
		must(t, err)
		if len(due) != 0 {
			t.Fatalf("a deleted document is still due: %v", due)
		}
		all, err := db.ListDocuments(ctx, esign.DocumentFilter{CustomerID: c.ID, IncludeDeleted: true})
		must(t, err)
		if len(all) != 2 {
			t.Fatalf("%d documents with deleted, want 2", len(all))
		}

		ack, err := db.UpdateContract(ctx, k.ID, esign.ContractUpdate{Status: ptr(esign.ContractAcknowledged), AcknowledgedAt: ptr(time.Now())})
		must(t, err)
		kl, err := db.ListContracts(ctx, esign.ContractFilter{CustomerID: c.ID, Status: esign.ContractAcknowledged})
		must(t, err)
		same(t, "ListContracts", kl, []*esign.Contract{ack})

		at := &esign.Attachment{ContractID: k.ID, Name: "evidence.json", ContentType: "application/json", Size: 10,
			SHA256: digest("e"), StorageKey: "att/" + esign.NewID()}
		must(t, db.CreateAttachment(ctx, at))
		gat, err := db.GetAttachment(ctx, at.ID)
		must(t, err)
		same(t, "GetAttachment", gat, at)
		atl, err := db.ListAttachments(ctx, esign.AttachmentFilter{ContractID: k.ID})
		must(t, err)
		same(t, "ListAttachments", atl, []*esign.Attachment{at})
		wantKind(t, db.CreateAttachment(ctx, &esign.Attachment{Name: "x", ContentType: "x", SHA256: digest("x"), StorageKey: "k"}), esign.Invalid)
		loose := "contracts/" + esign.NewID() + "/" + esign.NewID() + ".pdf"
		unref, err := db.UnreferencedStorageKeys(ctx, []string{d.StorageKey, loose, at.StorageKey})
		must(t, err)
		same(t, "UnreferencedStorageKeys", unref, []string{loose})

		// Retention: signed is due by RetainUntil (but deleted already), the
		// contract's by signedBefore; d is linked to an open offer.
		later := time.Now().Add(time.Hour)
		orphan := mkDocument(t, &db.store, c.ID)
		due, err = db.ListDocumentsToDelete(ctx, time.Now(), later, time.Time{}, esign.Page{})
		must(t, err)
		same(t, "ListDocumentsToDelete unsigned", ids(due), []string{orphan.ID})
		kdoc := mkDocument(t, &db.store, c.ID)
		kdoc, err = db.UpdateDocument(ctx, kdoc.ID, esign.DocumentUpdate{ContractID: &k.ID})
		must(t, err)
		due, err = db.ListDocumentsToDelete(ctx, time.Time{}, time.Time{}, later, esign.Page{})
		must(t, err)
		same(t, "ListDocumentsToDelete signed", ids(due), []string{kdoc.ID})
		_, err = db.UpdateOfferState(ctx, o.ID, o.Version, esign.OfferRevoked, "")
		must(t, err)
		due, err = db.ListDocumentsToDelete(ctx, time.Time{}, later, time.Time{}, esign.Page{})
		must(t, err)
		same(t, "ListDocumentsToDelete after revoke", ids(due), []string{d.ID, orphan.ID})
		must(t, db.DeleteDocument(ctx, orphan.ID))
		must(t, db.DeleteDocument(ctx, kdoc.ID))

		wantKind(t, db.DeleteContract(ctx, k.ID), esign.Invalid) // still has documents
		must(t, db.DeleteAttachment(ctx, at.ID))
		must(t, db.DeleteDocument(ctx, signed.ID))
		must(t, db.DeleteContract(ctx, k.ID))
		wantKind(t, db.DeleteDocument(ctx, d.ID), esign.Invalid) // linked to the offer
		must(t, db.DeleteOffer(ctx, o.ID))
		must(t, db.DeleteDocument(ctx, d.ID))
		_, err = db.GetDocument(ctx, d.ID)
		wantKind(t, err, esign.NotFound)
	})
}

func TestSignatures(t *testing.T) {
	engines(t, func(t *testing.T, db *DB) {
		ctx := testCtx(t)
		c := mkCustomer(t, &db.store)
		o := mkOffer(t, &db.store, c.ID)
		app := &esign.App{CustomerID: c.ID, SessionTokenHash: digest("s"), Status: esign.AppAssociated}
		must(t, db.CreateApp(ctx, app))
		g := &esign.Signature{OfferID: o.ID, CustomerID: c.ID, AppID: app.ID, PublicKey: "-----BEGIN PUBLIC KEY-----", Username: "anna"}
		must(t, db.CreateSignature(ctx, g))
		if g.Status != esign.SignatureM1Received || g.M1At.IsZero() {
			t.Fatalf("created = %+v", g)
		}
		gg, err := db.GetSignature(ctx, g.ID)
		must(t, err)
		same(t, "GetSignature", gg, g)

		blob := []byte{0, 1, 2, 0xff}
		sd := &esign.SignatureData{SignatureID: g.ID, Kind: "m1_signed", Data: blob, SHA256: digest("b")}
		must(t, db.CreateSignatureData(ctx, sd))
		gsd, err := db.GetSignatureData(ctx, sd.ID)
		must(t, err)
		same(t, "GetSignatureData", gsd, sd)
		wantKind(t, db.CreateSignatureData(ctx, &esign.SignatureData{SignatureID: g.ID, Kind: "m1_signed", Data: blob, SHA256: digest("b")}), esign.Conflict)
		sdl, err := db.ListSignatureData(ctx, g.ID, esign.Page{})
		must(t, err)
		same(t, "ListSignatureData", sdl, []*esign.SignatureData{sd})

		ts := &esign.TimestampToken{SignatureID: g.ID, Purpose: esign.TimestampTS1, HashAlgorithm: "sha256",
			MessageImprint: []byte{1, 2, 3}, Token: []byte{0x30, 0x82}, GenTime: time.Now(), SerialNumber: "12345", TSAName: "CN=Test TSA"}
		must(t, db.CreateTimestampToken(ctx, ts))
		gts, err := db.GetTimestampToken(ctx, ts.ID)
		must(t, err)
		same(t, "GetTimestampToken", gts, ts)
		tsl, err := db.ListTimestampTokens(ctx, esign.TimestampTokenFilter{SignatureID: g.ID, Purpose: esign.TimestampTS1})
		must(t, err)
		same(t, "ListTimestampTokens", tsl, []*esign.TimestampToken{ts})

		v := &esign.SignatureValidation{SignatureID: g.ID, Valid: false, Code: "ts_order", Reason: "TS1 is after TS2",
			Report: `{"checks":[]}`, TS1At: time.Now(), TS2At: time.Now().Add(-time.Second)}
		must(t, db.CreateSignatureValidation(ctx, v))
		gv, err := db.GetSignatureValidation(ctx, g.ID)
		must(t, err)
		same(t, "GetSignatureValidation", gv, v)
		wantKind(t, db.CreateSignatureValidation(ctx, &esign.SignatureValidation{SignatureID: g.ID, Valid: false}), esign.Invalid)

		// The M2 claim: once, then not again until it is stale.
		now := time.Now()
		for i, want := range []bool{true, false} {
			ok, err := db.ClaimSignature(ctx, g.ID, now, now.Add(-time.Minute))
			must(t, err)
			if ok != want {
				t.Fatalf("claim %d = %v, want %v", i+1, ok, want)
			}
		}
		// Releasing hands back only one's own claim.
		must(t, db.ReleaseSignature(ctx, g.ID, now.Add(-time.Second), now))
		if gg, _ := db.GetSignature(ctx, g.ID); gg.Status != esign.SignatureM2Received {
			t.Fatalf("another claim's release changed the status to %s", gg.Status)
		}
		must(t, db.ReleaseSignature(ctx, g.ID, now, now))
		if gg, _ := db.GetSignature(ctx, g.ID); gg.Status != esign.SignatureM1Received {
			t.Fatalf("after the release: %s", gg.Status)
		}
		if ok, err := db.ClaimSignature(ctx, g.ID, now, now.Add(-time.Minute)); err != nil || !ok {
			t.Fatalf("claim after the release: %v, %v", ok, err)
		}
		if ok, err := db.ClaimSignature(ctx, g.ID, now.Add(2*time.Minute), now.Add(time.Minute)); err != nil || !ok {
			t.Fatalf("taking over a stale claim: %v, %v", ok, err)
		}
		if ok, _ := db.ClaimSignature(ctx, esign.NewID(), now, now); ok {
			t.Fatal("claimed an unknown signature")
		}
		rej, err := db.UpdateSignature(ctx, g.ID, esign.SignatureUpdate{Status: ptr(esign.SignatureRejected),
			RejectCode: ptr("ts_order"), RejectReason: ptr("TS1 is after TS2"), M2At: ptr(time.Now())})
		must(t, err)
		gl, err := db.ListSignatures(ctx, esign.SignatureFilter{OfferID: o.ID, Status: esign.SignatureRejected})
		must(t, err)
		same(t, "ListSignatures", gl, []*esign.Signature{rej})
		if ok, _ := db.ClaimSignature(ctx, g.ID, now.Add(time.Hour), now.Add(time.Hour)); ok {
			t.Fatal("claimed a rejected signature")
		}

		must(t, db.DeleteSignatureData(ctx, sd.ID))
		must(t, db.DeleteTimestampToken(ctx, ts.ID))
		must(t, db.DeleteSignatureValidation(ctx, v.ID))
		_, err = db.GetSignatureValidation(ctx, g.ID)
		wantKind(t, err, esign.NotFound)
		must(t, db.DeleteSignature(ctx, g.ID))
		_, err = db.GetSignature(ctx, g.ID)
		wantKind(t, err, esign.NotFound)
	})
}

func TestAppsDevices(t *testing.T) {
	engines(t, func(t *testing.T, db *DB) {
		ctx := testCtx(t)
		c := mkCustomer(t, &db.store)
		a := &esign.App{SessionTokenHash: digest("t1"), Platform: "android", AppVersion: "1.3.0"}
		must(t, db.CreateApp(ctx, a))
		ga, err := db.GetApp(ctx, a.ID)
		must(t, err)
		same(t, "GetApp", ga, a)
		wantKind(t, db.CreateApp(ctx, &esign.App{SessionTokenHash: digest("t1")}), esign.Conflict)
		assoc, err := db.UpdateApp(ctx, a.ID, esign.AppUpdate{CustomerID: &c.ID, Status: ptr(esign.AppAssociated), LastSeenAt: ptr(time.Now())})
		must(t, err)
		al, err := db.ListApps(ctx, esign.AppFilter{CustomerID: c.ID})
		must(t, err)
		same(t, "ListApps", al, []*esign.App{assoc})
		al, err = db.ListApps(ctx, esign.AppFilter{SessionTokenHash: digest("t1")})
		must(t, err)
		same(t, "ListApps by token", al, []*esign.App{assoc})
		_, _, err = db.GetAppWithCustomer(ctx, esign.NewID())
		wantKind(t, err, esign.NotFound)
		wa, wc, err := db.GetAppWithCustomer(ctx, a.ID)
		must(t, err)
		gc, err := db.GetCustomer(ctx, c.ID)
		must(t, err)
		same(t, "GetAppWithCustomer app", wa, assoc)
		same(t, "GetAppWithCustomer customer", wc, gc)

		d := &esign.Device{AppID: a.ID, IMEI: "356938035643809", OS: "android", OSVersion: "14", Model: "Pixel 8"}
		must(t, db.CreateDevice(ctx, d))
		gd, err := db.GetAppDevice(ctx, a.ID)
		must(t, err)
		same(t, "GetAppDevice", gd, d)
		wantKind(t, db.CreateDevice(ctx, &esign.Device{AppID: a.ID, OS: "ios"}), esign.Conflict)
		ud, err := db.UpdateDevice(ctx, d.ID, esign.DeviceUpdate{OSVersion: ptr("15")})
		must(t, err)
		if ud.OSVersion != "15" {
			t.Fatalf("os version = %q", ud.OSVersion)
		}

		f := &esign.FcmInfo{AppID: a.ID, Token: "fcm-token-1"}
		must(t, db.CreateFcmInfo(ctx, f))
		gf, err := db.GetAppFcmInfo(ctx, a.ID)
		must(t, err)
		same(t, "GetAppFcmInfo", gf, f)
		uf, err := db.UpdateFcmToken(ctx, f.ID, "fcm-token-2")
		must(t, err)
		if uf.Token != "fcm-token-2" {
			t.Fatalf("token = %q", uf.Token)
		}
		_, err = db.UpdateFcmToken(ctx, f.ID, "")
		wantKind(t, err, esign.Invalid)

		must(t, db.DeleteApp(ctx, a.ID)) // cascades
		_, err = db.GetAppDevice(ctx, a.ID)
		wantKind(t, err, esign.NotFound)
		_, err = db.GetAppFcmInfo(ctx, a.ID)
		wantKind(t, err, esign.NotFound)
		wantKind(t, db.DeleteDevice(ctx, d.ID), esign.NotFound)
		wantKind(t, db.DeleteFcmInfo(ctx, f.ID), esign.NotFound)
	})
}

func TestUsersRolesPermissions(t *testing.T) {
	engines(t, func(t *testing.T, db *DB) {
		ctx := testCtx(t)
		u := &esign.User{Username: "alice", Email: "alice@bank.example", Name: "Alice", PasswordHash: "$argon2id$x"}
		must(t, db.CreateUser(ctx, u))
		gu, err := db.GetUser(ctx, u.ID)
		must(t, err)
		same(t, "GetUser", gu, u)
		gu, err = db.GetUserByUsername(ctx, "alice")
		must(t, err)
		same(t, "GetUserByUsername", gu, u)
		wantKind(t, db.CreateUser(ctx, &esign.User{Username: "bob", Email: "alice@bank.example", PasswordHash: "h"}), esign.Conflict)
		must(t, db.CreateUser(ctx, &esign.User{Username: "carol", PasswordHash: "h"})) // no e-mail: NULL, not ""
		must(t, db.CreateUser(ctx, &esign.User{Username: "dave", PasswordHash: "h"}))

		perms, err := db.ListPermissions(ctx, esign.RoleAuditor)
		must(t, err)
		var names []string
		for _, p := range perms {
			names = append(names, p.Name)
		}
		same(t, "auditor permissions", names, []string{esign.PermAuditRead, esign.PermContractRead, esign.PermCustomerRead,
			esign.PermLogRead, esign.PermOfferRead, esign.PermProcessRead})
		all, err := db.ListPermissions(ctx, "")
		must(t, err)
		admin, err := db.ListPermissions(ctx, esign.RoleAdmin)
		must(t, err)
		if len(all) != 16 || len(admin) != len(all) {
			t.Fatalf("%d permissions, admin has %d; want 16 and all", len(all), len(admin))
		}

		must(t, db.AssignRole(ctx, u.ID, esign.RoleOperator))
		must(t, db.AssignRole(ctx, u.ID, esign.RoleAuditor))
		wantKind(t, db.AssignRole(ctx, u.ID, esign.RoleAuditor), esign.Conflict)
		wantKind(t, db.AssignRole(ctx, u.ID, "no-such-role"), esign.NotFound)
		wantKind(t, db.AssignRole(ctx, esign.NewID(), esign.RoleAdmin), esign.NotFound)
		got, err := db.UserPermissions(ctx, u.ID)
		must(t, err)
		same(t, "user permissions", got, []string{esign.PermAuditRead, esign.PermContractRead, esign.PermContractWrite,
			esign.PermCustomerApprove, esign.PermCustomerRead, esign.PermCustomerWrite, esign.PermInboxRead, esign.PermLogRead,
			esign.PermOfferRead, esign.PermOfferWrite, esign.PermProcessManage, esign.PermProcessRead, esign.PermSignatureVerify})
		ur, err := db.ListUserRoles(ctx, u.ID)
		must(t, err)
		if len(ur) != 2 || ur[0].Name != esign.RoleAuditor || ur[1].Name != esign.RoleOperator {
			t.Fatalf("user roles = %v", ur)
		}
		ops, err := db.ListUsers(ctx, esign.UserFilter{RoleName: esign.RoleOperator})
		must(t, err)
		same(t, "operators", ops, []*esign.User{u})

		r := &esign.Role{Name: "support", Description: "Help desk"}
		must(t, db.CreateRole(ctx, r))
		gr, err := db.GetRole(ctx, "support")
		must(t, err)
		same(t, "GetRole", gr, r)
		p := &esign.Permission{Name: "inbox.clear"}
		must(t, db.CreatePermission(ctx, p))
		must(t, db.GrantPermission(ctx, "support", "inbox.clear"))
		wantKind(t, db.GrantPermission(ctx, "support", "inbox.clear"), esign.Conflict)
		wantKind(t, db.GrantPermission(ctx, "support", "nope"), esign.NotFound)
		must(t, db.AssignRole(ctx, u.ID, "support"))
		wantKind(t, db.DeleteRole(ctx, "support"), esign.Invalid) // still assigned
		must(t, db.UnassignRole(ctx, u.ID, "support"))
		wantKind(t, db.UnassignRole(ctx, u.ID, "support"), esign.NotFound)
		must(t, db.RevokePermission(ctx, "support", "inbox.clear"))
		wantKind(t, db.RevokePermission(ctx, "support", "inbox.clear"), esign.NotFound)
		must(t, db.DeleteRole(ctx, "support"))
		wantKind(t, db.DeleteRole(ctx, "support"), esign.NotFound)

		dis, err := db.UpdateUser(ctx, u.ID, esign.UserUpdate{Status: ptr(esign.UserDisabled), LastLoginAt: ptr(time.Now())})
		must(t, err)
		if dis.Status != esign.UserDisabled || dis.LastLoginAt.IsZero() {
			t.Fatalf("updated user = %+v", dis)
		}
		must(t, db.DeleteUser(ctx, u.ID))
		_, err = db.GetUser(ctx, u.ID)
		wantKind(t, err, esign.NotFound)
	})
}

func TestSessions(t *testing.T) {
	engines(t, func(t *testing.T, db *DB) {
		ctx := testCtx(t)
		u := mkUser(t, &db.store)
		now := time.Now()
		live := &esign.Session{TokenHash: digest("live"), SubjectType: esign.SessionUser, SubjectID: u.ID, ExpiresAt: now.Add(time.Hour)}
		old := &esign.Session{TokenHash: digest("old"), SubjectType: esign.SessionUser, SubjectID: u.ID, ExpiresAt: now.Add(-time.Minute)}
		must(t, db.CreateSession(ctx, live))
		must(t, db.CreateSession(ctx, old))
		wantKind(t, db.CreateSession(ctx, &esign.Session{TokenHash: digest("live"), SubjectType: esign.SessionApp, SubjectID: u.ID, ExpiresAt: now}), esign.Conflict)
		got, err := db.GetSessionByTokenHash(ctx, digest("live"), now)
		must(t, err)
		same(t, "GetSessionByTokenHash", got, live)
		_, err = db.GetSessionByTokenHash(ctx, digest("old"), now)
		wantKind(t, err, esign.NotFound)
		ext, err := db.UpdateSession(ctx, live.ID, esign.SessionUpdate{ExpiresAt: ptr(now.Add(2 * time.Hour)), LastSeenAt: &now})
		must(t, err)
		if !ext.ExpiresAt.Equal(esign.Timestamp(now.Add(2 * time.Hour))) {
			t.Fatalf("expiry = %v", ext.ExpiresAt)
		}
		list, err := db.ListSessions(ctx, esign.SessionFilter{SubjectType: esign.SessionUser, SubjectID: u.ID})
		must(t, err)
		if len(list) != 2 {
			t.Fatalf("%d sessions, want 2", len(list))
		}
		n, err := db.DeleteExpiredSessions(ctx, now)
		must(t, err)
		if n != 1 {
			t.Fatalf("deleted %d expired sessions, want 1", n)
		}
		must(t, db.DeleteSession(ctx, live.ID))
		wantKind(t, db.DeleteSession(ctx, live.ID), esign.NotFound)
	})
}

func TestAuditSettingsCerts(t *testing.T) {
	engines(t, func(t *testing.T, db *DB) {
		ctx := testCtx(t)
		u := mkUser(t, &db.store)
		t0 := time.Now()
		a := &esign.AuditLog{ActorType: "user", ActorID: u.ID, Action: "offer.revoke", ObjectType: "offer", ObjectID: esign.NewID(), RequestID: "req-1"}
		must(t, db.CreateAuditLog(ctx, a))
		ga, err := db.GetAuditLog(ctx, a.ID)
		must(t, err)
		same(t, "GetAuditLog", ga, a)
		al, err := db.ListAuditLogs(ctx, esign.AuditLogFilter{ObjectType: "offer", ObjectID: a.ObjectID, Since: t0.Add(-time.Second), Until: time.Now().Add(time.Second)})
		must(t, err)
		same(t, "ListAuditLogs", al, []*esign.AuditLog{a})
		al, err = db.ListAuditLogs(ctx, esign.AuditLogFilter{Until: t0.Add(-time.Hour)})
		must(t, err)
		if len(al) != 0 {
			t.Fatalf("Until filter returned %v", al)
		}

		s1, err := db.PutSetting(ctx, "webhook.offer_upload.enabled", "true", u.ID)
		must(t, err)
		s2, err := db.PutSetting(ctx, "webhook.offer_upload.enabled", "false", "")
		must(t, err)
		if s2.ID != s1.ID || s2.Value != "false" || s2.UpdatedBy != "" || !s2.CreatedAt.Equal(s1.CreatedAt) {
			t.Fatalf("PutSetting twice: %+v then %+v", s1, s2)
		}
		_, err = db.PutSetting(ctx, "branding.color", "#003366", "")
		must(t, err)
		gs, err := db.GetSetting(ctx, "webhook.offer_upload.enabled")
		must(t, err)
		same(t, "GetSetting", gs, s2)
		sl, err := db.ListSettings(ctx, esign.SettingFilter{KeyPrefix: "webhook."})
		must(t, err)
		same(t, "ListSettings", sl, []*esign.Setting{s2})
		must(t, db.DeleteSetting(ctx, "branding.color"))
		wantKind(t, db.DeleteSetting(ctx, "branding.color"), esign.NotFound)

		mkCert := func(name string) *esign.Cert {
			c := &esign.Cert{Name: name, Subject: "CN=" + name, Issuer: "CN=Bank CA", SerialNumber: "01",
				FingerprintSHA256: digest(name), NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
				ChainPEM: "-----BEGIN CERTIFICATE-----", PKCS12Enc: []byte{1, 2}, PasswordEnc: []byte{3, 4}, CreatedBy: u.ID}
			must(t, db.CreateCert(ctx, c))
			return c
		}
		c1, c2 := mkCert("seal-2026"), mkCert("seal-2027")
		gc, err := db.GetCert(ctx, c1.ID)
		must(t, err)
		same(t, "GetCert", gc, c1)
		_, err = db.GetActiveCert(ctx)
		wantKind(t, err, esign.NotFound)
		_, err = db.ActivateCert(ctx, c1.ID)
		must(t, err)
		act, err := db.ActivateCert(ctx, c2.ID)
		must(t, err)
		gact, err := db.GetActiveCert(ctx)
		must(t, err)
		same(t, "GetActiveCert", gact, act)
		inactive, err := db.ListCerts(ctx, esign.CertFilter{Active: ptr(false)})
		must(t, err)
		if len(inactive) != 1 || inactive[0].ID != c1.ID {
			t.Fatalf("inactive certs = %v", inactive)
		}
		// The database itself refuses a second active certificate.
		_, err = db.exec(ctx, "UPDATE cert SET active = ? WHERE id = ?", true, c1.ID)
		wantKind(t, db.wrap("test", err), esign.Conflict)
		renamed, err := db.UpdateCert(ctx, c1.ID, esign.CertUpdate{Name: ptr("old seal")})
		must(t, err)
		if renamed.Name != "old seal" {
			t.Fatalf("name = %q", renamed.Name)
		}
		wantKind(t, db.CreateCert(ctx, &esign.Cert{}), esign.Invalid)
		must(t, db.DeleteCert(ctx, c1.ID))
		_, err = db.GetCert(ctx, c1.ID)
		wantKind(t, err, esign.NotFound)
	})
}

func TestLogsInboxProcessesShortener(t *testing.T) {
	engines(t, func(t *testing.T, db *DB) {
		ctx := testCtx(t)
		c := mkCustomer(t, &db.store)

		e := &esign.EmailLog{CustomerID: c.ID, Recipient: "anna@example.com", Subject: "Your offer", Template: "offer"}
		must(t, db.CreateEmailLog(ctx, e))
		ge, err := db.GetEmailLog(ctx, e.ID)
		must(t, err)
		same(t, "GetEmailLog", ge, e)
		sent, err := db.UpdateEmailLog(ctx, e.ID, esign.DeliveryUpdate{Status: ptr(esign.DeliverySent), ProviderID: ptr("m-1"), SentAt: ptr(time.Now())})
		must(t, err)
		el, err := db.ListEmailLogs(ctx, esign.MessageLogFilter{CustomerID: c.ID, Status: esign.DeliverySent})
		must(t, err)
		same(t, "ListEmailLogs", el, []*esign.EmailLog{sent})

		s := &esign.SmsLog{CustomerID: c.ID, Recipient: "+36201234567", Body: "Your code: ******", Template: "otp",
			Delivery: esign.Delivery{DeliveryKey: "otp:" + c.ID, JobID: 7, Attempt: 1, Provider: "smsapi"}}
		must(t, db.CreateSmsLog(ctx, s))
		wantKind(t, db.CreateSmsLog(ctx, &esign.SmsLog{Recipient: "+36201234567", Delivery: esign.Delivery{DeliveryKey: "otp:" + c.ID}}), esign.Conflict)
		byKey, err := db.ListSmsLogs(ctx, esign.MessageLogFilter{DeliveryKey: "otp:" + c.ID})
		must(t, err)
		same(t, "ListSmsLogs by key", byKey, []*esign.SmsLog{s})
		gs, err := db.GetSmsLog(ctx, s.ID)
		must(t, err)
		same(t, "GetSmsLog", gs, s)
		failed, err := db.UpdateSmsLog(ctx, s.ID, esign.DeliveryUpdate{Status: ptr(esign.DeliveryFailed), Attempt: ptr(2),
			ErrorCode: ptr("rejected"), Error: ptr("provider said no")})
		must(t, err)
		if failed.Attempt != 2 || failed.ErrorCode != "rejected" || failed.JobID != 7 {
			t.Fatalf("updated SMS log = %+v", failed)
		}
		sl, err := db.ListSmsLogs(ctx, esign.MessageLogFilter{Recipient: "+36201234567"})
		must(t, err)
		same(t, "ListSmsLogs", sl, []*esign.SmsLog{failed})

		ce := &esign.ClientErrorLog{Source: "css", Message: "TypeError: x is undefined", URL: "https://esign.example/offer"}
		must(t, db.CreateClientErrorLog(ctx, ce))
		gce, err := db.GetClientErrorLog(ctx, ce.ID)
		must(t, err)
		same(t, "GetClientErrorLog", gce, ce)
		cel, err := db.ListClientErrorLogs(ctx, esign.ClientErrorLogFilter{Source: "css"})
		must(t, err)
		same(t, "ListClientErrorLogs", cel, []*esign.ClientErrorLog{ce})
		n, err := db.DeleteClientErrorLogs(ctx, time.Now().Add(time.Second))
		must(t, err)
		if n != 1 {
			t.Fatalf("deleted %d client errors, want 1", n)
		}

		m := &esign.DevInboxMessage{Channel: esign.ChannelSMS, Recipient: "+36201234567", Body: "Your code: 123456"}
		must(t, db.CreateDevInboxMessage(ctx, m))
		gm, err := db.GetDevInboxMessage(ctx, m.ID)
		must(t, err)
		same(t, "GetDevInboxMessage", gm, m)
		ml, err := db.ListDevInboxMessages(ctx, esign.DevInboxFilter{Channel: esign.ChannelSMS})
		must(t, err)
		same(t, "ListDevInboxMessages", ml, []*esign.DevInboxMessage{m})
		wantKind(t, db.CreateDevInboxMessage(ctx, &esign.DevInboxMessage{Channel: "fax", Recipient: "x"}), esign.Invalid)
		n, err = db.DeleteDevInboxMessages(ctx)
		must(t, err)
		if n != 1 {
			t.Fatalf("deleted %d inbox messages, want 1", n)
		}

		slot := time.Date(2026, 11, 30, 8, 0, 0, 0, time.UTC)
		p := &esign.BackgroundProcess{Kind: "cron.offer_timeout", Trigger: "schedule", Slot: slot, Node: "oss-1"}
		must(t, db.CreateBackgroundProcess(ctx, p))
		gp, err := db.GetBackgroundProcess(ctx, p.ID)
		must(t, err)
		same(t, "GetBackgroundProcess", gp, p)
		run, err := db.UpdateBackgroundProcess(ctx, p.ID, esign.BackgroundProcessUpdate{Status: ptr(esign.ProcessRunning), Progress: ptr(40),
			Result: ptr("expired 3 offers"), StartedAt: ptr(time.Now())})
		must(t, err)
		bySlot, err := db.ListBackgroundProcesses(ctx, esign.BackgroundProcessFilter{Kind: "cron.offer_timeout", Slot: slot})
		must(t, err)
		same(t, "ListBackgroundProcesses by slot", bySlot, []*esign.BackgroundProcess{run})
		pl, err := db.ListBackgroundProcesses(ctx, esign.BackgroundProcessFilter{Status: esign.ProcessRunning})
		must(t, err)
		same(t, "ListBackgroundProcesses", pl, []*esign.BackgroundProcess{run})
		l1 := &esign.BackgroundProcessLog{ProcessID: p.ID, Level: "info", Message: "started"}
		l2 := &esign.BackgroundProcessLog{ProcessID: p.ID, Level: "warn", Message: "slow"}
		must(t, db.CreateBackgroundProcessLog(ctx, l1))
		must(t, db.CreateBackgroundProcessLog(ctx, l2))
		ll, err := db.ListBackgroundProcessLogs(ctx, p.ID, esign.Page{})
		must(t, err)
		same(t, "ListBackgroundProcessLogs", ll, []*esign.BackgroundProcessLog{l1, l2})
		wantKind(t, db.CreateBackgroundProcessLog(ctx, &esign.BackgroundProcessLog{ProcessID: esign.NewID(), Level: "info", Message: "x"}), esign.Invalid)
		must(t, db.DeleteBackgroundProcess(ctx, p.ID))
		ll, err = db.ListBackgroundProcessLogs(ctx, p.ID, esign.Page{})
		must(t, err)
		if len(ll) != 0 {
			t.Fatal("process logs survived their process")
		}

		now := time.Now()
		live := &esign.Shortener{Code: "aB3dE", TargetURL: "https://esign.example/o/1", ExpiresAt: now.Add(time.Hour)}
		dead := &esign.Shortener{Code: "zZ9", TargetURL: "https://esign.example/o/2", ExpiresAt: now.Add(-time.Hour)}
		must(t, db.CreateShortener(ctx, live))
		must(t, db.CreateShortener(ctx, dead))
		wantKind(t, db.CreateShortener(ctx, &esign.Shortener{Code: "aB3dE", TargetURL: "x", ExpiresAt: now}), esign.Conflict)
		r, err := db.ResolveShortener(ctx, "aB3dE", now)
		must(t, err)
		if r.Hits != 1 || r.TargetURL != live.TargetURL {
			t.Fatalf("resolved = %+v", r)
		}
		_, err = db.ResolveShortener(ctx, "zZ9", now)
		wantKind(t, err, esign.NotFound)
		expired, err := db.ListShorteners(ctx, esign.ShortenerFilter{ExpiredBefore: now})
		must(t, err)
		same(t, "expired short URLs", expired, []*esign.Shortener{dead})
		n, err = db.DeleteExpiredShorteners(ctx, now)
		must(t, err)
		if n != 1 {
			t.Fatalf("deleted %d short URLs, want 1", n)
		}
		must(t, db.DeleteShortener(ctx, live.ID))
		wantKind(t, db.DeleteShortener(ctx, live.ID), esign.NotFound)
	})
}
