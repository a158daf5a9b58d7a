package rpc_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"testing"

	"esign/internal/bus"
	"esign/internal/customers"
	"esign/internal/customers/customerstest"
	"esign/internal/esign"
	"esign/internal/pdf/pdftest"
	"esign/internal/rpc"
)

// TestDocumentRanges reads 5 MB and 20 MB PDFs through document.get in
// ranges of the default cap (each reply under the bus's 4 MiB message
// limit) over the in-process bus and RabbitMQ, checks the bytes against the
// stored SHA-256, that only the first range records the download, the
// range edge cases, and that another customer gets nothing.
func TestDocumentRanges(t *testing.T) {
	if testing.Short() {
		t.Skip("moves 25 MB through the bus (-short)")
	}
	ts := newTSA(t)
	transports(t, func(t *testing.T, server, client bus.Bus) {
		e := customerstest.New(t, customerstest.OpenDB(t, "sqlite"), nil, customers.Config{}, ts)
		q := uniqueQueues(t)
		if err := rpc.NewServer(e.Svc, rpc.ServerOptions{}).Serve(t.Context(), server, q); err != nil {
			t.Fatal(err)
		}
		cl := rpc.NewClient(client, q)
		a, b := onboard(t, e, cl, "Alice"), onboard(t, e, cl, "Bob")
		for _, tc := range []struct {
			name string
			size int
		}{{"5MB", 5 << 20}, {"20MB", 20 << 20}} {
			t.Run(tc.name, func(t *testing.T) {
				ctx := t.Context()
				data := pdftest.MinimalPadded(3, tc.size)
				doc := e.Document(t, a.c.ID, tc.name+".pdf", data)
				e.Offer(t, a.c.ID, "Offer "+tc.name, doc.ID)

				_, err := cl.GetDocument(ctx, a.session, doc.ID)
				wantErr(t, err, esign.Invalid, "document_too_large")

				before := downloads(t, e, a.c.ID)
				var got []byte
				h := sha256.New()
				for off := int64(0); ; {
					d, err := cl.GetDocumentRange(ctx, a.session, doc.ID, off, 1<<30, off > 0)
					if err != nil {
						t.Fatalf("range at %d: %v", off, err)
					}
					if d.Offset != off || d.Size != int64(len(data)) || d.SHA256 != doc.SHA256 || len(d.Content) > rpc.MaxInlineDocument {
						t.Fatalf("range at %d: offset %d, size %d, sha %s, %d bytes", off, d.Offset, d.Size, d.SHA256, len(d.Content))
					}
					if len(d.Content) == 0 {
						break
					}
					h.Write(d.Content)
					got = append(got, d.Content...)
					off += int64(len(d.Content))
				}
				if !bytes.Equal(got, data) || hex.EncodeToString(h.Sum(nil)) != doc.SHA256 {
					t.Fatalf("got %d bytes (sha %x), want %d (%s)", len(got), h.Sum(nil), len(data), doc.SHA256)
				}
				if n := downloads(t, e, a.c.ID) - before; n != 1 {
					t.Fatalf("%d document.downloaded activities for one read in ranges, want 1", n)
				}

				// Edge cases: a range in the middle, past the end, the last byte.
				mid := int64(len(data) / 2)
				d, err := cl.GetDocumentRange(ctx, a.session, doc.ID, mid, 100, true)
				if err != nil || !bytes.Equal(d.Content, data[mid:mid+100]) {
					t.Fatalf("middle: %v", err)
				}
				d, err = cl.GetDocumentRange(ctx, a.session, doc.ID, int64(len(data))+10, 100, true)
				if err != nil || len(d.Content) != 0 || d.Size != int64(len(data)) {
					t.Fatalf("past the end: %+v, %v", d, err)
				}
				d, err = cl.GetDocumentRange(ctx, a.session, doc.ID, int64(len(data))-1, 100, true)
				if err != nil || !bytes.Equal(d.Content, data[len(data)-1:]) {
					t.Fatalf("last byte: %v", err)
				}
				if n := downloads(t, e, a.c.ID) - before; n != 1 {
					t.Fatalf("continued ranges recorded downloads: %d", n)
				}

				for _, bad := range []rpc.DocumentRequest{
					{ID: doc.ID, Offset: -1, Length: 10},
					{ID: doc.ID, Length: -1},
					{ID: doc.ID, Offset: 10},
					{ID: doc.ID, Continued: true},
				} {
					bad.Caller = a.session
					err := client.Call(ctx, q.Document, rpc.MethodGetDocument, bad, nil)
					wantErr(t, err, esign.Invalid, "invalid_range")
				}
				for _, continued := range []bool{false, true} {
					_, err = cl.GetDocumentRange(ctx, b.session, doc.ID, 0, 100, continued)
					wantErr(t, err, esign.NotFound, "")
				}
			})
		}
	})
}

// downloads counts the customer's document.downloaded activities.
func downloads(t *testing.T, e *customerstest.Env, customerID string) int {
	t.Helper()
	as, err := e.DB.ListActivities(context.Background(), esign.ActivityFilter{CustomerID: customerID, Kind: "document.downloaded"})
	if err != nil {
		t.Fatal(err)
	}
	return len(as)
}
