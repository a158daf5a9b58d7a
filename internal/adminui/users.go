package adminui

import (
	"net/http"
	"strings"

	"esign/internal/esign"
	"esign/internal/operators"
	"esign/internal/users"
	"esign/internal/webui"
)

type userListData struct {
	Users   []operators.UserRow
	Roles   []string
	Self    string       // the signed-in operator's id: no actions on it
	Created *createdUser // the account just created, with its password shown once
}

type createdUser struct {
	Username string
	Password string
}

func (u *UI) userList(w http.ResponseWriter, r *http.Request, p *operators.Principal) error {
	return u.userPage(w, r, p, nil)
}

func (u *UI) userPage(w http.ResponseWriter, r *http.Request, p *operators.Principal, created *createdUser) error {
	us, err := u.svc.Users(r.Context())
	if err != nil {
		return err
	}
	return u.ui.Render(w, r, http.StatusOK, "users.html", pageOf(p, "users.title", "users",
		userListData{Users: us, Roles: users.Roles, Self: p.User.ID, Created: created}))
}

// userCreate creates an operator with a random password, shown on this
// answer only (the page is not cached and not redirected to).
func (u *UI) userCreate(w http.ResponseWriter, r *http.Request, p *operators.Principal) error {
	username := strings.TrimSpace(r.PostFormValue("username"))
	role := r.PostFormValue("role")
	nu, pw, err := u.svc.CreateUser(r.Context(), username, strings.TrimSpace(r.PostFormValue("name")),
		strings.TrimSpace(r.PostFormValue("email")), role)
	if err != nil {
		return err
	}
	noteAudit(r, nu.ID, "username", nu.Username, "role", role)
	return u.userPage(w, r, p, &createdUser{Username: nu.Username, Password: pw})
}

func (u *UI) userRoles(w http.ResponseWriter, r *http.Request, p *operators.Principal) error {
	if err := r.ParseForm(); err != nil {
		return esign.E("adminui.userRoles", esign.Invalid, "the form cannot be read", err)
	}
	roles := r.PostForm["role"]
	if err := u.svc.SetUserRoles(r.Context(), p, r.PathValue("id"), roles, meta(r)); err != nil {
		return err
	}
	noteAudit(r, "", "roles", roles)
	u.ui.Redirect(w, r, "/users", &webui.Flash{Kind: webui.FlashSuccess, Key: "users.roles_changed"})
	return nil
}

func (u *UI) userStatus(status esign.UserStatus) handler {
	return func(w http.ResponseWriter, r *http.Request, p *operators.Principal) error {
		if err := u.svc.SetUserStatus(r.Context(), p, r.PathValue("id"), status, meta(r)); err != nil {
			return err
		}
		u.ui.Redirect(w, r, "/users", &webui.Flash{Kind: webui.FlashSuccess, Key: "users.status_changed." + string(status)})
		return nil
	}
}

func (u *UI) userResetSecondFactor(w http.ResponseWriter, r *http.Request, p *operators.Principal) error {
	if err := u.svc.ResetUserSecondFactor(r.Context(), p, r.PathValue("id"), meta(r)); err != nil {
		return err
	}
	u.ui.Redirect(w, r, "/users", &webui.Flash{Kind: webui.FlashSuccess, Key: "users.second_factor_reset"})
	return nil
}
