package users_test

import (
	"strings"
	"testing"
	"time"

	"esign/internal/customers/customerstest"
	"esign/internal/esign"
	"esign/internal/password"
	"esign/internal/users"
)

func TestCheckPassword(t *testing.T) {
	tests := []struct {
		name string
		pw   string
		bad  string
	}{
		{"ok", "correct horse battery", ""},
		{"twelveRunes", "árvíztűrőtük", ""},
		{"short", "eleven char", "at least 12"},
		{"empty", "", "at least 12"},
		{"long", strings.Repeat("x", password.MaxPasswordLen+1), "at most"},
		{"notUTF8", "correct horse \xff", "not valid text"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := users.CheckPassword(tt.pw)
			if tt.bad == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if !esign.IsKind(err, esign.Invalid) || !strings.Contains(esign.ErrorMessage(err), tt.bad) {
				t.Errorf("err = %v, want Invalid %q", err, tt.bad)
			}
		})
	}
}

func TestSetPassword(t *testing.T) {
	customerstest.Engines(t, func(t *testing.T, driver string) {
		ctx := t.Context()
		db := customerstest.OpenDB(t, driver)
		u := &esign.User{Username: "anna", Status: esign.UserActive}
		if err := users.Create(ctx, db, u, "old password 123", esign.RoleOperator); err != nil {
			t.Fatal(err)
		}
		other := &esign.User{Username: "bela", Status: esign.UserActive}
		if err := users.Create(ctx, db, other, "another password", esign.RoleAuditor); err != nil {
			t.Fatal(err)
		}
		for i, owner := range []string{u.ID, u.ID, other.ID} {
			s := &esign.Session{TokenHash: strings.Repeat("ab", 16) + string(rune('a'+i)), SubjectType: esign.SessionUser, SubjectID: owner,
				ExpiresAt: time.Date(2099, 1, 1, 0, 0, 0, 0, time.UTC)}
			if err := db.CreateSession(ctx, s); err != nil {
				t.Fatal(err)
			}
		}

		if _, err := users.SetPassword(ctx, db, "anna", "short"); !esign.IsKind(err, esign.Invalid) {
			t.Errorf("short password: %v", err)
		}
		if _, err := users.SetPassword(ctx, db, "nobody", "a long new password"); !esign.IsKind(err, esign.NotFound) {
			t.Errorf("unknown operator: %v", err)
		}
		ended, err := users.SetPassword(ctx, db, "anna", "a long new password")
		if err != nil || ended != 2 {
			t.Fatalf("SetPassword = %d, %v; want 2 sessions ended", ended, err)
		}
		got, err := db.GetUser(ctx, u.ID)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := password.Verify("a long new password", got.PasswordHash); err != nil {
			t.Errorf("the new password does not verify: %v", err)
		}
		if _, err := password.Verify("old password 123", got.PasswordHash); err == nil {
			t.Error("the old password still verifies")
		}
		left, err := db.ListSessions(ctx, esign.SessionFilter{SubjectType: esign.SessionUser})
		if err != nil || len(left) != 1 || left[0].SubjectID != other.ID {
			t.Errorf("sessions left: %+v, %v; want only the other operator's", left, err)
		}
		audit, err := db.ListAuditLogs(ctx, esign.AuditLogFilter{Action: "user.password"})
		if err != nil || len(audit) != 1 || audit[0].ObjectID != u.ID {
			t.Errorf("audit log: %+v, %v", audit, err)
		}
	})
}

func TestCreate(t *testing.T) {
	db := customerstest.OpenDB(t, "sqlite")
	ctx := t.Context()
	tests := []struct {
		name, username, pw, role string
		wantErr                  bool
		kind                     esign.Kind
	}{
		{"ok", "csaba", "correct horse battery", esign.RoleAdmin, false, 0},
		{"duplicate", "csaba", "correct horse battery", esign.RoleAdmin, true, esign.Conflict},
		{"unknownRole", "dora", "correct horse battery", "root", true, esign.Invalid},
		{"shortPassword", "erik", "short", esign.RoleOperator, true, esign.Invalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := users.Create(ctx, db, &esign.User{Username: tt.username, Status: esign.UserActive}, tt.pw, tt.role)
			if (err != nil) != tt.wantErr || (tt.wantErr && esign.ErrorKind(err) != tt.kind) {
				t.Errorf("err = %v, want kind %q", err, tt.kind)
			}
		})
	}
}

// TestRolesAndStatus: roles are replaced as a set, with an audit entry
// naming the operator who changed them; nobody changes or disables
// themselves, and the last active admin keeps its role and account.
func TestRolesAndStatus(t *testing.T) {
	customerstest.Engines(t, func(t *testing.T, driver string) {
		ctx := t.Context()
		db := customerstest.OpenDB(t, driver)
		mk := func(name, role string) *esign.User {
			u := &esign.User{Username: name, Status: esign.UserActive}
			if err := users.Create(ctx, db, u, "a good password 1", role); err != nil {
				t.Fatal(err)
			}
			return u
		}
		root, second, op := mk("root", esign.RoleAdmin), mk("second", esign.RoleOperator), mk("op", esign.RoleOperator)
		by := users.Actor{UserID: root.ID, IP: "192.0.2.1"}

		for _, tt := range []struct {
			name string
			err  error
			code string
			kind esign.Kind
		}{
			{"noRole", users.SetRoles(ctx, db, op.ID, nil, by), "roles", esign.Invalid},
			{"unknownRole", users.SetRoles(ctx, db, op.ID, []string{"root"}, by), "roles", esign.Invalid},
			{"ownRoles", users.SetRoles(ctx, db, root.ID, []string{esign.RoleAuditor}, by), "self", esign.Invalid},
			{"disableSelf", users.SetStatus(ctx, db, root.ID, esign.UserDisabled, by), "self", esign.Invalid},
			{"lastAdminRoles", users.SetRoles(ctx, db, root.ID, []string{esign.RoleOperator}, users.Actor{UserID: second.ID}), "last_admin", esign.Invalid},
			{"lastAdminDisabled", users.SetStatus(ctx, db, root.ID, esign.UserDisabled, users.Actor{UserID: second.ID}), "last_admin", esign.Invalid},
			{"unknownUser", users.SetStatus(ctx, db, esign.NewID(), esign.UserDisabled, by), "", esign.NotFound},
			{"badStatus", users.SetStatus(ctx, db, op.ID, "gone", by), "status", esign.Invalid},
		} {
			if !esign.IsKind(tt.err, tt.kind) || esign.ErrorCode(tt.err) != tt.code {
				t.Errorf("%s: %v, want %v %q", tt.name, tt.err, tt.kind, tt.code)
			}
		}

		if err := users.SetRoles(ctx, db, op.ID, []string{esign.RoleAuditor, esign.RoleOperator, esign.RoleAuditor}, by); err != nil {
			t.Fatal(err)
		}
		rs, _ := db.ListUserRoles(ctx, op.ID)
		if len(rs) != 2 {
			t.Fatalf("roles = %v", rs)
		}
		logs, _ := db.ListAuditLogs(ctx, esign.AuditLogFilter{Action: "user.roles", ObjectID: op.ID})
		if len(logs) != 1 || logs[0].ActorID != root.ID || logs[0].IP != "192.0.2.1" || !strings.Contains(logs[0].Detail, `"to":["auditor","operator"]`) {
			t.Fatalf("audit = %+v", logs)
		}
		// With a second admin the first may lose the role.
		if err := users.SetRoles(ctx, db, second.ID, []string{esign.RoleAdmin}, by); err != nil {
			t.Fatal(err)
		}
		if err := users.SetStatus(ctx, db, root.ID, esign.UserDisabled, users.Actor{UserID: second.ID}); err != nil {
			t.Fatal(err)
		}
		if u, _ := db.GetUser(ctx, root.ID); u.Status != esign.UserDisabled {
			t.Fatalf("status = %s", u.Status)
		}
	})
}
