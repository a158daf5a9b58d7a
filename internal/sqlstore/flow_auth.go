package sqlstore

import (
	"context"
	"database/sql"
	"strings"
	"time"

	"esign/internal/esign"
)

// The reads of the app's requests in the signing flow, each one statement
// that carries the access check in its WHERE clause instead of a read and a
// second query to check it (docs/performance.md, "Per-request reads").

// GetCustomerDocument returns the document if it is the customer's, its
// bytes still exist, and it belongs to a contract of theirs that is not
// revoked or to an offer of theirs that is not vetoed and is in one of
// states. Errors: NotFound (for any other document too).
func (s *store) GetCustomerDocument(ctx context.Context, id, customerID string, states []esign.OfferState) (*esign.Document, error) {
	const op = "sqlstore.GetCustomerDocument"
	if !esign.ValidID(id) || !esign.ValidID(customerID) {
		return nil, documents.notFound(op)
	}
	args := []any{id, customerID, customerID, esign.ContractRevoked}
	offerCheck := "1 = 0"
	if len(states) > 0 {
		offerCheck = `EXISTS (SELECT 1 FROM offer_document od JOIN offer o ON o.id = od.offer_id
			WHERE od.document_id = d.id AND o.customer_id = d.customer_id AND NOT o.vetoed AND o.state IN (?` +
			strings.Repeat(", ?", len(states)-1) + "))"
		for _, st := range states {
			args = append(args, st)
		}
	}
	q := "SELECT " + documents.qualified("d") + ` FROM document d
		WHERE d.id = ? AND d.customer_id = ? AND d.deleted_at IS NULL AND (
			EXISTS (SELECT 1 FROM contract k WHERE k.id = d.contract_id AND k.customer_id = ? AND k.status <> ?)
			OR ` + offerCheck + ")"
	d := new(esign.Document)
	err := s.queryRow(ctx, q, args...).Scan(documents.fields(d)...)
	if err == sql.ErrNoRows {
		return nil, documents.notFound(op)
	}
	if err != nil {
		return nil, s.wrap(op, err)
	}
	return d, nil
}

// GetOfferWithDocuments returns the offer and its documents not deleted, in
// their position order: one statement when the offer has such documents,
// a second (the offer alone) when it has none. Errors: NotFound.
func (s *store) GetOfferWithDocuments(ctx context.Context, id string) (*esign.Offer, []*esign.Document, error) {
	const op = "sqlstore.GetOfferWithDocuments"
	if !esign.ValidID(id) {
		return nil, nil, offers.notFound(op)
	}
	return withDocuments(ctx, s, op, offers, id, "SELECT "+offers.qualified("o")+", "+documents.qualified("d")+` FROM offer o
		JOIN offer_document od ON od.offer_id = o.id
		JOIN document d ON d.id = od.document_id AND d.deleted_at IS NULL
		WHERE o.id = ? ORDER BY od.position LIMIT ?`)
}

// GetContractWithDocuments returns the contract and its documents not
// deleted, oldest first: one statement when it has such documents, a
// second (the contract alone) when it has none. Errors: NotFound.
func (s *store) GetContractWithDocuments(ctx context.Context, id string) (*esign.Contract, []*esign.Document, error) {
	const op = "sqlstore.GetContractWithDocuments"
	if !esign.ValidID(id) {
		return nil, nil, contracts.notFound(op)
	}
	return withDocuments(ctx, s, op, contracts, id, "SELECT "+contracts.qualified("k")+", "+documents.qualified("d")+` FROM contract k
		JOIN document d ON d.contract_id = k.id AND d.deleted_at IS NULL
		WHERE k.id = ? ORDER BY d.created_at, d.id LIMIT ?`)
}

// withDocuments reads a row of t joined with its documents (query, whose
// arguments are the row's id and a limit: the first defaultLimit documents,
// as ListDocuments gives them), the row repeated on each; the row alone by
// id when the join has none.
func withDocuments[T any](ctx context.Context, s *store, op string, t *table[T], id, query string) (*T, []*esign.Document, error) {
	rows, err := s.query(ctx, query, id, defaultLimit)
	if err != nil {
		return nil, nil, s.wrap(op, err)
	}
	defer rows.Close()
	var row *T
	var docs []*esign.Document
	for rows.Next() {
		x, d := new(T), new(esign.Document)
		if err := rows.Scan(append(t.fields(x), documents.fields(d)...)...); err != nil {
			return nil, nil, s.wrap(op, err)
		}
		if row == nil {
			row = x
		}
		docs = append(docs, d)
	}
	if err := rows.Err(); err != nil {
		return nil, nil, s.wrap(op, err)
	}
	if row != nil {
		return row, docs, nil
	}
	if row, err = getByID(ctx, s, op, t, id); err != nil {
		return nil, nil, err
	}
	return row, nil, nil
}

// AcknowledgeContract marks the customer's contract acknowledged at at, in
// one conditional UPDATE, and returns it; a contract that is revoked,
// already acknowledged or not the customer's is not changed. Errors:
// NotFound (nothing changed: the caller tells the cases apart).
func (s *store) AcknowledgeContract(ctx context.Context, id, customerID string, at time.Time) (*esign.Contract, error) {
	const op = "sqlstore.AcknowledgeContract"
	if !esign.ValidID(id) || !esign.ValidID(customerID) {
		return nil, contracts.notFound(op)
	}
	c := new(esign.Contract)
	err := s.queryRow(ctx, `UPDATE contract SET status = ?, acknowledged_at = ?, updated_at = ?
		WHERE id = ? AND customer_id = ? AND status NOT IN (?, ?)`+contracts.ret,
		esign.ContractAcknowledged, esign.Timestamp(at), esign.Timestamp(s.now()), id, customerID, esign.ContractRevoked, esign.ContractAcknowledged).
		Scan(contracts.fields(c)...)
	if err == sql.ErrNoRows {
		return nil, contracts.notFound(op)
	}
	if err != nil {
		return nil, s.wrap(op, err)
	}
	return c, nil
}

// GetSignatureWithContract returns the signature and, once it is
// completed, the id of its offer's contract (empty before, or when there is
// none), in one statement: what the app's status poll answers. Errors:
// NotFound.
func (s *store) GetSignatureWithContract(ctx context.Context, id string) (*esign.Signature, string, error) {
	const op = "sqlstore.GetSignatureWithContract"
	if !esign.ValidID(id) {
		return nil, "", signatures.notFound(op)
	}
	g := new(esign.Signature)
	var contractID string
	err := s.queryRow(ctx, "SELECT "+signatures.qualified("g")+`, k.id FROM signature g
		LEFT JOIN contract k ON k.offer_id = g.offer_id AND g.status = ?
		WHERE g.id = ?`, esign.SignatureCompleted, id).
		Scan(append(signatures.fields(g), nstr(&contractID))...)
	if err == sql.ErrNoRows {
		return nil, "", signatures.notFound(op)
	}
	if err != nil {
		return nil, "", s.wrap(op, err)
	}
	return g, contractID, nil
}
