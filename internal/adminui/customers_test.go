package adminui_test

import (
	"context"
	"crypto/rand"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"esign/internal/customers"
	"esign/internal/esign"
	"esign/internal/notify"
)

// TestCustomerPage: an operator bootstraps a customer, sends the device
// association code (the customer's app links with it and signs in), sees
// the app, device, session and activity on the customer's page, blocks
// the customer (the session ends) and unblocks them; every action is
// audited.
func TestCustomerPage(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	c := e.signIn(t, "operator1", esign.RoleOperator)

	ref := "CUST-" + rand.Text()[:8]
	resp, body := c.do("POST", "/customers", url.Values{"ref": {ref}, "name": {"Fekete Zoltán"}, "phone": {"+36301112233"}, "locale": {"hu-HU"}})
	if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), "/customers/") {
		t.Fatalf("bootstrap: %d %s\n%s", resp.StatusCode, resp.Header.Get("Location"), body)
	}
	id := strings.TrimPrefix(resp.Header.Get("Location"), "/customers/")
	cust, err := e.DB.GetCustomer(ctx, id)
	if err != nil || cust.ExternalRef != ref || cust.Status != esign.CustomerPending {
		t.Fatalf("bootstrapped customer %+v %v", cust, err)
	}
	resp, body = c.do("POST", "/customers", url.Values{"ref": {"X-2"}, "name": {"No Contact"}})
	if resp.StatusCode != http.StatusBadRequest && resp.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("bootstrap without phone or e-mail: %d\n%s", resp.StatusCode, body)
	}

	resp, _ = c.do("POST", "/customers/"+id+"/association-code", url.Values{})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("association code: %d", resp.StatusCode)
	}
	n := e.Queue.Last(t, notify.DeviceAssociationCode)
	if n.To != cust.Phone {
		t.Fatalf("code sent to %q", n.To)
	}
	reg, err := e.Svc.RegisterApp(ctx, customers.Registration{DeviceID: "350000000000001", OS: "android", Model: "Pixel 9",
		Manufacturer: "Google", FCMToken: "fcm-" + rand.Text()}, customers.Meta{})
	if err != nil {
		t.Fatal(err)
	}
	app, err := e.Svc.AuthenticateDevice(ctx, reg.DeviceToken)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.Svc.Associate(ctx, app, cust.Phone, n.Params.Code, customers.Meta{IP: "192.0.2.7", UserAgent: "esign-app/1.0"}); err != nil {
		t.Fatal(err)
	}
	if app, err = e.DB.GetApp(ctx, app.ID); err != nil {
		t.Fatal(err)
	}
	const pw = "Correct-horse-42"
	if err := e.Svc.CreateCredentials(ctx, app, "zoltan", pw, customers.Meta{}); err != nil {
		t.Fatal(err)
	}
	in, err := e.Svc.Login(ctx, app, "zoltan", pw, customers.Meta{IP: "192.0.2.7", UserAgent: "esign-app/1.0"})
	if err != nil {
		t.Fatal(err)
	}

	resp, body = c.do("GET", "/customers/"+id, nil)
	if resp.StatusCode != 200 {
		t.Fatalf("customer page: %d\n%s", resp.StatusCode, body)
	}
	for _, want := range []string{"Fekete Zoltán", ref, "36301112233", "Google Pixel 9", "192.0.2.7", "esign-app/1.0", `action="/customers/` + id + `/block"`} {
		if !strings.Contains(body, want) {
			t.Errorf("customer page lacks %q", want)
		}
	}
	if strings.Count(body[strings.Index(body, `id="sessions"`):], "<tr>") < 2 { // header + the session
		t.Errorf("customer page shows no session")
	}

	resp, _ = c.do("POST", "/customers/"+id+"/block", url.Values{})
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/customers/"+id {
		t.Fatalf("block: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	if _, err := e.Svc.AuthenticateSession(ctx, in.SessionToken); !esign.IsKind(err, esign.Unauthorized) {
		t.Fatalf("the session outlived the block: %v", err)
	}
	_, body = c.do("GET", "/customers/"+id, nil)
	if !strings.Contains(body, `action="/customers/`+id+`/unblock"`) || strings.Contains(body, `action="/customers/`+id+`/association-code"`) {
		t.Errorf("blocked customer's page:\n%s", body)
	}
	resp, _ = c.do("POST", "/customers/"+id+"/block", url.Values{})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("second block: %d", resp.StatusCode)
	}
	resp, _ = c.do("POST", "/customers/"+id+"/unblock", url.Values{})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("unblock: %d", resp.StatusCode)
	}
	if got, _ := e.DB.GetCustomer(ctx, id); got.Status != esign.CustomerPending {
		t.Fatalf("status after unblock %q", got.Status)
	}
	for action, n := range map[string]int{"customer.bootstrap": 2, "customer.association_code": 1, "customer.block": 2, "customer.unblock": 1} {
		f := esign.AuditLogFilter{Action: action}
		if action != "customer.bootstrap" {
			f.ObjectID = id
		}
		logs, err := e.Ops.ListAudit(ctx, f)
		if err != nil || len(logs) != n {
			t.Errorf("audit %s: %d entries, want %d (%v)", action, len(logs), n, err)
		}
	}
	resp, _ = c.do("GET", "/customers/"+esign.NewID(), nil)
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("unknown customer: %d", resp.StatusCode)
	}
}
