package operators_test

import (
	"context"
	"testing"

	"esign/internal/esign"
	"esign/internal/operators/operatorstest"
)

// TestAccountChangesEndSessions: disabling an operator and resetting its
// second factor end its sessions in whichever store holds them (the
// database or Redis), as `esign user reset-2fa` does.
func TestAccountChangesEndSessions(t *testing.T) {
	stores(t, func(t *testing.T, e *operatorstest.Env) {
		ctx := context.Background()
		_, apw := e.User(t, "root", esign.RoleAdmin)
		admin, err := e.Ops.Authenticate(ctx, e.SignIn(t, "root", apw).Token)
		if err != nil {
			t.Fatal(err)
		}
		u, pw := e.User(t, "emma", esign.RoleOperator)
		s := e.SignIn(t, "emma", pw)
		if err := e.Ops.SetUserStatus(ctx, admin, u.ID, esign.UserDisabled, meta); err != nil {
			t.Fatal(err)
		}
		if err := e.Ops.SetUserStatus(ctx, admin, u.ID, esign.UserActive, meta); err != nil {
			t.Fatal(err)
		}
		if _, err := e.Ops.Authenticate(ctx, s.Token); !esign.IsKind(err, esign.Unauthorized) {
			t.Fatalf("a session survived disabling the account: %v", err)
		}

		st, err := e.Ops.SignIn(ctx, "emma", pw, meta)
		if err != nil {
			t.Fatal(err)
		}
		done, err := e.Ops.VerifySecondFactor(ctx, st.Token, operatorstest.Code(t, s.Secret, e.Clock.Now().Add(30e9)), meta)
		if err != nil {
			t.Fatal(err)
		}
		if err := e.Ops.ResetUserSecondFactor(ctx, admin, u.ID, meta); err != nil {
			t.Fatal(err)
		}
		if _, err := e.Ops.Authenticate(ctx, done.Token); !esign.IsKind(err, esign.Unauthorized) {
			t.Fatalf("a session survived the second factor's reset: %v", err)
		}
		if _, err := e.Ops.Authenticate(ctx, admin.User.ID); err == nil {
			t.Fatal("authenticated with a user id")
		}
		if err := e.Ops.ResetUserSecondFactor(ctx, admin, esign.NewID(), meta); !esign.IsKind(err, esign.NotFound) {
			t.Fatalf("unknown operator: %v", err)
		}
	})
}
