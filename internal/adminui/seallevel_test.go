package adminui_test

import (
	"context"
	"strings"
	"testing"

	"esign/internal/esign"
	"esign/internal/pades/padestest"
)

// TestContractSealLevel: the contract page and the contract list show the
// PAdES level the bank's seal reached; a contract without one shows a dash.
func TestContractSealLevel(t *testing.T) {
	e := newEnv(t)
	c := e.signIn(t, "verifier", esign.RoleAdmin).english()
	cust := e.Customer(t, "Kiss Anna")
	doc := e.Document(t, cust.ID, "szerzodes.pdf", padestest.SelfSigned(t, "Other Bank Signer"))
	k := &esign.Contract{CustomerID: cust.ID, Title: "Sealed at B-LTA", Status: esign.ContractActive, SignedAt: e.Clock.Now(), SealLevel: "B-LTA"}
	if err := e.DB.CreateContract(context.Background(), k); err != nil {
		t.Fatal(err)
	}
	if _, err := e.DB.UpdateDocument(context.Background(), doc.ID, esign.DocumentUpdate{ContractID: &k.ID}); err != nil {
		t.Fatal(err)
	}
	old := e.Contract(t, cust.ID, "Sealed before levels were recorded")
	resp, body := c.do("GET", "/contracts/"+k.ID, nil)
	if resp.StatusCode != 200 || !strings.Contains(body, "Bank seal level</dt><dd>PAdES B-LTA") || !strings.Contains(body, "validates offline") {
		t.Errorf("contract page: %d\n%s", resp.StatusCode, body)
	}
	if _, body := c.do("GET", "/contracts/"+old.ID, nil); !strings.Contains(body, "Bank seal level</dt><dd>—</dd>") {
		t.Errorf("contract without a level:\n%s", body)
	}
	if _, body := c.do("GET", "/contracts", nil); !strings.Contains(body, ">PAdES B-LTA</small>") {
		t.Errorf("contract list:\n%s", body)
	}
	if _, err := e.DB.GetContract(context.Background(), k.ID); err != nil {
		t.Fatal(err)
	}
	bad := &esign.Contract{CustomerID: cust.ID, Title: "x", Status: esign.ContractActive, SignedAt: e.Clock.Now(), SealLevel: "B-X"}
	if err := e.DB.CreateContract(context.Background(), bad); !esign.IsKind(err, esign.Invalid) {
		t.Errorf("unknown level stored: %v", err)
	}
}

// TestContractArchiveRenewal: a B-LTA contract's page says when its
// archive was renewed and until when its newest document time-stamp can
// be verified, in English and Hungarian.
func TestContractArchiveRenewal(t *testing.T) {
	e := newEnv(t)
	c := e.signIn(t, "verifier", esign.RoleAdmin).english()
	cust := e.Customer(t, "Kiss Anna")
	k := &esign.Contract{CustomerID: cust.ID, Title: "Renewed", Status: esign.ContractActive, SignedAt: e.Clock.Now(), SealLevel: "B-LTA"}
	if err := e.DB.CreateContract(context.Background(), k); err != nil {
		t.Fatal(err)
	}
	if _, body := c.do("GET", "/contracts/"+k.ID, nil); !strings.Contains(body, "Archive renewed</dt><dd>not yet") {
		t.Errorf("contract never renewed:\n%s", body)
	}
	at, until := e.Clock.Now(), e.Clock.Now().AddDate(5, 0, 0)
	if _, err := e.DB.UpdateContract(context.Background(), k.ID, esign.ContractUpdate{ArchiveRenewedAt: &at, ArchiveExpiresAt: &until}); err != nil {
		t.Fatal(err)
	}
	_, body := c.do("GET", "/contracts/"+k.ID, nil)
	if !strings.Contains(body, "Archive renewed</dt><dd>"+at.Format("2006")) || !strings.Contains(body, "verifiable until "+until.Format("2006")) {
		t.Errorf("renewed contract:\n%s", body)
	}
}
