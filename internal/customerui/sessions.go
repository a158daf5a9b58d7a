package customerui

import (
	"net/http"
	"strings"

	"esign/internal/rpc"
	"esign/internal/webui"
)

// The customer's signed-in browsers (docs/customer-ui.md, "Duplicate
// logins"): under mobile.web_sessions=allow a sign-in that finds others
// shows them, and each can be ended; under end_older the sign-in already
// ended them.

type sessionView struct {
	rpc.WebSession
	Device string // the browser and system, from the User-Agent, for display only
}

type sessionsData struct {
	Sessions []sessionView
	Next     string
	Others   bool
}

// describeUA names the browser and system of a User-Agent for the list of
// sessions (shown to the customer only; nothing is decided by it).
func describeUA(ua string) string {
	pick := func(pairs ...string) string {
		for i := 0; i+1 < len(pairs); i += 2 {
			if strings.Contains(ua, pairs[i]) {
				return pairs[i+1]
			}
		}
		return ""
	}
	browser := pick("Edg/", "Edge", "OPR/", "Opera", "Firefox/", "Firefox", "SamsungBrowser/", "Samsung Internet",
		"HeadlessChrome/", "Chrome", "Chrome/", "Chrome", "CriOS/", "Chrome", "Safari/", "Safari")
	system := pick("Android", "Android", "iPhone", "iOS", "iPad", "iPadOS", "Windows", "Windows", "Mac OS X", "macOS",
		"CrOS", "ChromeOS", "Linux", "Linux")
	switch {
	case browser != "" && system != "":
		return browser + " · " + system
	case browser != "":
		return browser
	}
	return system
}

// sessionsPage lists the customer's live web sessions, each other one
// with a button that ends it.
func (u *UI) sessionsPage(w http.ResponseWriter, r *http.Request, c rpc.Caller) error {
	me, err := u.api.Me(r.Context(), c)
	if err != nil {
		return err
	}
	ws, err := u.api.WebSessions(r.Context(), c)
	if err != nil {
		return err
	}
	d := sessionsData{Next: nextPath(r)}
	for _, s := range ws {
		d.Sessions = append(d.Sessions, sessionView{WebSession: s, Device: describeUA(s.UserAgent)})
		d.Others = d.Others || !s.Current
	}
	return u.ui.Render(w, r, http.StatusOK, "sessions.html", webui.Page{Title: "sessions.title", Data: d, Principal: me})
}

// endSession ends another of the customer's web sessions and comes back to
// the list.
func (u *UI) endSession(w http.ResponseWriter, r *http.Request, c rpc.Caller) error {
	if err := u.api.EndWebSession(r.Context(), c, r.PathValue("id")); err != nil {
		return err
	}
	u.ui.Redirect(w, r, "/sessions?next="+urlQuery(nextPath(r)), &webui.Flash{Kind: webui.FlashSuccess, Key: "sessions.ended"})
	return nil
}

// othersAfterSignin reports whether the customer, just signed in with in,
// has other live web sessions (only when mobile.web_sessions=allow kept
// them). A failure to ask is no reason to refuse the sign-in.
func (u *UI) othersAfterSignin(r *http.Request, c rpc.Caller, in *rpc.LoggedIn) bool {
	c.Token = in.SessionToken
	ws, err := u.api.WebSessions(r.Context(), c)
	if err != nil {
		u.log.WarnContext(r.Context(), "listing the web sessions after a sign-in failed", "err", err)
		return false
	}
	return len(ws) > 1
}
