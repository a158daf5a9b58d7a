package webhookapi

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"testing"

	"esign/internal/customers"
	"esign/internal/esign"
	"esign/internal/pades/padestest"
	"esign/internal/pdf/pdftest"
)

func TestContractUpload(t *testing.T) {
	e := newEnv(t, "sqlite")
	ctx := t.Context()
	c := e.Customer(t, "Varga Zsolt")
	e.Approve(t, c)
	signed := padestest.SelfSigned(t, "Other Bank Signer")
	tampered := bytes.Clone(signed)
	i := bytes.Index(tampered, []byte("Page 1 of"))
	tampered[i] = 'R'
	body := func(pdf []byte, ref string) map[string]any {
		return map[string]any{"customer_ref": c.ExternalRef, "external_ref": ref, "title": "Számlaszerződés",
			"document": map[string]string{"name": "contract.pdf", "content_base64": base64.StdEncoding.EncodeToString(pdf)}}
	}
	tests := []struct {
		name   string
		body   map[string]any
		status int
		code   string
	}{
		{"unsigned", body(pdftest.Minimal(1), "X1"), 400, "not_signed"},
		{"tampered", body(tampered, "X2"), 400, "invalid_signature"},
		{"not_pdf", body([]byte("not a pdf, just some text here"), "X3"), 400, "invalid_pdf"},
		{"no_title", func() map[string]any { b := body(signed, "X4"); b["title"] = ""; return b }(), 400, "title"},
		{"unknown_customer", func() map[string]any { b := body(signed, "X5"); b["customer_ref"] = "nobody"; return b }(), 404, "customer_not_found"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := e.json(t, "/contract/upload", tt.body, nil)
			if r.status != tt.status || r.code() != tt.code {
				t.Fatalf("got %d %s, want %d %s", r.status, r.body, tt.status, tt.code)
			}
		})
	}
	if docs, _ := e.DB.ListDocuments(ctx, esign.DocumentFilter{CustomerID: c.ID}); len(docs) != 0 {
		t.Fatalf("%d documents stored by refused uploads", len(docs))
	}

	r := e.json(t, "/contract/upload", body(signed, "K-1"), nil)
	if r.status != http.StatusCreated {
		t.Fatalf("upload: %d %s", r.status, r.body)
	}
	var got ContractJSON
	if err := json.Unmarshal(r.body, &got); err != nil {
		t.Fatal(err)
	}
	if got.Status != string(esign.ContractActive) || got.Report == nil || !got.Report.Signed || len(got.Report.Signatures) != 1 ||
		!got.Report.Signatures[0].Integrity.OK || got.Report.Signatures[0].Chain.OK {
		t.Fatalf("contract %+v report %+v", got, got.Report)
	}
	// the level its signature reached is stored and answered
	if k, err := e.DB.GetContract(ctx, got.ID); err != nil || got.SealLevel != "B-B" || k.SealLevel != "B-B" {
		t.Fatalf("seal level %q, stored %+v %v", got.SealLevel, k, err)
	}
	if r := e.json(t, "/contract/upload", body(signed, "K-1"), nil); r.status != http.StatusConflict {
		t.Fatalf("same reference twice: %d %s", r.status, r.body)
	}
	// The customer sees it, with the PDF and the kept report.
	p := &customers.Principal{Customer: c}
	p.Customer.Status = esign.CustomerActive
	list, err := e.Svc.ListContracts(ctx, p, esign.Page{})
	if err != nil || len(list) != 1 || list[0].ID != got.ID {
		t.Fatalf("customer's contracts %v %v", list, err)
	}
	docs, err := e.DB.ListDocuments(ctx, esign.DocumentFilter{ContractID: got.ID})
	if err != nil || len(docs) != 2 {
		t.Fatalf("contract documents %v %v", docs, err)
	}
	kinds := map[esign.DocumentKind]bool{}
	for _, d := range docs {
		kinds[d.Kind] = true
	}
	if !kinds[esign.DocumentContract] || !kinds[esign.DocumentEvidence] {
		t.Fatalf("document kinds %v", kinds)
	}
}
