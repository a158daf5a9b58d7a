package adminui_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"esign/internal/adminui"
	"esign/internal/esign"
)

// matrix is the access control list as docs/admin-ui.md states it: for
// every route, whether admin, operator and auditor may use it. A route
// missing here, or a route without a permission, fails TestACL.
var matrix = map[string]struct{ admin, operator, auditor bool }{
	"GET /static/":                               {true, true, true},
	"GET /branding.css":                          {true, true, true},
	"GET /branding/logo":                         {true, true, true},
	"POST /language":                             {true, true, true},
	"GET /signin":                                {true, true, true},
	"POST /signin":                               {true, true, true},
	"GET /signin/second-factor":                  {true, true, true},
	"POST /signin/second-factor":                 {true, true, true},
	"POST /signin/enrol":                         {true, true, true},
	"POST /signin/cancel":                        {true, true, true},
	"POST /signout":                              {true, true, true},
	"POST /signout/everywhere":                   {true, true, true},
	"GET /{$}":                                   {true, true, true},
	"GET /offers":                                {true, true, true},
	"GET /offers/new":                            {true, true, false},
	"POST /offers/new":                           {true, true, false},
	"POST /offers/bulk":                          {true, true, false},
	"GET /offers/{id}":                           {true, true, true},
	"POST /offers/{id}/revoke":                   {true, true, false},
	"POST /offers/{id}/resend":                   {true, true, false},
	"GET /offers/{id}/documents/{doc}":           {true, true, true},
	"GET /contracts":                             {true, true, true},
	"GET /contracts/{id}":                        {true, true, true},
	"GET /contracts/{id}/documents/{doc}":        {true, true, true},
	"GET /contracts/{id}/documents/{doc}/verify": {true, true, false},
	"GET /verify":                                {true, true, false},
	"POST /verify":                               {true, true, false},
	"GET /customers":                             {true, true, true},
	"POST /customers":                            {true, true, false},
	"GET /customers/{id}":                        {true, true, true},
	"POST /customers/{id}/block":                 {true, true, false},
	"POST /customers/{id}/unblock":               {true, true, false},
	"POST /customers/{id}/association-code":      {true, true, false},
	"POST /customers/{id}/approve":               {true, true, false},
	"GET /inbox":                                 {true, true, false},

	"GET /certs":                           {true, false, false},
	"POST /certs":                          {true, false, false},
	"POST /certs/{id}/activate":            {true, false, false},
	"GET /users":                           {true, false, false},
	"POST /users":                          {true, false, false},
	"POST /users/{id}/roles":               {true, false, false},
	"POST /users/{id}/disable":             {true, false, false},
	"POST /users/{id}/enable":              {true, false, false},
	"POST /users/{id}/reset-second-factor": {true, false, false},
	"GET /settings":                        {true, false, false},
	"POST /settings":                       {true, false, false},
	"GET /audit":                           {true, false, true},
	"GET /logs/messages":                   {true, false, true},
	"GET /logs/client-errors":              {true, false, true},
	"GET /jobs":                            {true, true, true},
	"POST /jobs/{id}/retry":                {true, true, false},
	"POST /jobs/{id}/cancel":               {true, true, false},
	"GET /events":                          {true, true, true},
	"POST /events/{id}/retry":              {true, true, false},
}

func TestACL(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	routes := map[string]string{}
	for _, r := range e.ui.Routes() {
		routes[r.Pattern] = r.Permission
		if r.Permission == "" {
			t.Errorf("route %s declares no permission", r.Pattern)
		}
		if _, ok := matrix[r.Pattern]; !ok {
			t.Errorf("route %s (permission %q) is not in the matrix of this test and docs/admin-ui.md", r.Pattern, r.Permission)
		}
		// A state change by an operator's permission is audited by the
		// route table; the sign-in and sign-out routes audit in the
		// operators service.
		if strings.HasPrefix(r.Pattern, "POST ") && r.Permission != adminui.Public && r.Permission != adminui.SignedIn && r.Audit == "" {
			t.Errorf("state-changing route %s has no audit action", r.Pattern)
		}
	}
	for pattern := range matrix {
		if _, ok := routes[pattern]; !ok {
			t.Errorf("the matrix lists %s, which is no route", pattern)
		}
	}
	cust := e.Customer(t, "Nagy Péter")
	doc := e.Document(t, cust.ID, "offer.pdf", []byte("%PDF-1.7"))
	offer := e.Offer(t, cust.ID, "Mortgage", doc.ID)
	sealed := e.Document(t, cust.ID, "sealed.pdf", []byte("%PDF-1.7"))
	contract := e.Contract(t, cust.ID, "Mortgage", sealed.ID)

	for _, role := range []string{esign.RoleAdmin, esign.RoleOperator, esign.RoleAuditor} {
		t.Run(role, func(t *testing.T) {
			for pattern, perm := range routes {
				want := matrix[pattern]
				allowed := map[string]bool{esign.RoleAdmin: want.admin, esign.RoleOperator: want.operator, esign.RoleAuditor: want.auditor}[role]
				t.Run(strings.NewReplacer(" ", "_", "/", "_", "{", "", "}", "", "$", "root").Replace(pattern), func(t *testing.T) {
					c := e.signIn(t, role+"-"+esign.NewID()[30:], role)
					pending := e.Customer(t, "Pending "+role)
					method, path, _ := strings.Cut(pattern, " ")
					path = strings.NewReplacer("{$}", "").Replace(path)
					switch {
					case strings.HasPrefix(path, "/customers/"):
						path = strings.Replace(path, "{id}", pending.ID, 1)
					case strings.HasPrefix(path, "/contracts/"):
						path = strings.NewReplacer("{id}", contract.ID, "{doc}", sealed.ID).Replace(path)
					}
					path = strings.Replace(path, "{doc}", doc.ID, 1)
					path = strings.Replace(path, "{id}", offer.ID, 1)
					if path == "/static/" {
						path = "/static/webui.css"
					}
					var form url.Values
					if method == http.MethodPost {
						form = url.Values{}
					}
					resp, body := c.do(method, path, form)
					refused := resp.StatusCode == http.StatusForbidden
					if refused == allowed {
						t.Fatalf("%s %s as %s (permission %s): status %d, want allowed=%v\n%s", method, path, role, perm, resp.StatusCode, allowed, body)
					}
					if resp.StatusCode >= 500 {
						t.Fatalf("%s %s: status %d", method, path, resp.StatusCode)
					}
					if refused {
						logs, err := e.Ops.ListAudit(ctx, esign.AuditLogFilter{Action: "access.denied", ObjectID: pattern})
						if err != nil {
							t.Fatal(err)
						}
						if len(logs) == 0 {
							t.Errorf("refusal of %s not in the audit log", pattern)
						}
					}
				})
			}
		})
	}
}

// TestSignedOut: every route but the public ones needs a session; a GET is
// sent to the sign-in page with the way back, a POST refused.
func TestSignedOut(t *testing.T) {
	e := newEnv(t)
	c := e.client(t)
	for _, r := range e.ui.Routes() {
		pattern := r.Pattern
		if r.Permission == adminui.Public {
			continue
		}
		method, path, _ := strings.Cut(pattern, " ")
		path = strings.NewReplacer("{$}", "", "{id}", esign.NewID(), "{doc}", esign.NewID()).Replace(path)
		var form url.Values
		if method == http.MethodPost {
			form = url.Values{}
		}
		resp, _ := c.do(method, path, form)
		switch method {
		case http.MethodGet:
			if loc := resp.Header.Get("Location"); resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(loc, "/signin?next=") {
				t.Errorf("GET %s signed out: %d %q", path, resp.StatusCode, loc)
			}
		default:
			if resp.StatusCode != http.StatusUnauthorized {
				t.Errorf("%s %s signed out: %d", method, path, resp.StatusCode)
			}
		}
	}
}
