package sqlstore

import (
	"context"
	"database/sql"
	"slices"
	"strconv"
	"strings"
	"time"

	"esign/internal/esign"
)

// The signing flow's statements (docs/performance.md, "The signing
// flow"): M1 and M2 write their evidence in one statement per table and
// read what they need in one statement each, instead of a row or a read
// per piece.

// insertion is one multi-row INSERT without RETURNING: its statement and
// arguments.
type insertion struct {
	query string
	args  []any
}

// rowsInsertion prepares the INSERT of vs, each validated and given its id
// and creation time (key returns pointers to them) as createRow does. The
// ids of one batch are handed out in ascending order, so that the
// "created_at, id" order of the lists keeps the order of vs (the rows
// share their creation time). Unlike createRow nothing is read back: the
// caller's values are what is stored. No rows: a zero insertion.
func rowsInsertion[T any](s *store, op string, t *table[T], vs []*T, key func(*T) (*string, *time.Time)) (insertion, error) {
	if len(vs) == 0 {
		return insertion{}, nil
	}
	ids := make([]string, len(vs))
	for i := range ids {
		ids[i] = esign.NewID()
	}
	slices.Sort(ids)
	now := esign.Timestamp(s.now())
	ph := "(" + strings.TrimSuffix(strings.Repeat("?, ", len(t.cols)), ", ") + ")"
	var q strings.Builder
	q.WriteString("INSERT INTO " + t.name + " (" + strings.Join(t.cols, ", ") + ") VALUES ")
	args := make([]any, 0, len(vs)*len(t.cols))
	for i, v := range vs {
		if val, ok := any(v).(interface{ Validate() error }); ok {
			if err := val.Validate(); err != nil {
				return insertion{}, esign.E(op, err)
			}
		}
		if id, created := key(v); *id == "" {
			*id, *created = ids[i], now
		} else if !esign.ValidID(*id) {
			return insertion{}, esign.E(op, esign.Invalid, "the id is not a valid UUID")
		} else if created.IsZero() {
			*created = now
		}
		if i > 0 {
			q.WriteString(", ")
		}
		q.WriteString(ph)
		args = append(args, t.fields(v)...)
	}
	return insertion{q.String(), args}, nil
}

// insertAll runs the insertions in order. On PostgreSQL they are one
// statement (data-modifying WITH parts): its foreign keys are checked at
// the end of the statement, so a row may refer to one an earlier part
// inserts. SQLite has no INSERT inside WITH: one statement each, in the
// caller's transaction.
func (s *store) insertAll(ctx context.Context, op string, ins ...insertion) error {
	ins = slices.DeleteFunc(ins, func(in insertion) bool { return in.query == "" })
	if len(ins) == 0 {
		return nil
	}
	if s.d.name() != "postgres" || len(ins) == 1 {
		return s.withTx(ctx, func(s *store) error {
			for _, in := range ins {
				if _, err := s.exec(ctx, in.query, in.args...); err != nil {
					return s.wrap(op, err)
				}
			}
			return nil
		})
	}
	var q strings.Builder
	var args []any
	for i, in := range ins[:len(ins)-1] {
		if i == 0 {
			q.WriteString("WITH ")
		} else {
			q.WriteString(", ")
		}
		q.WriteString("w" + strconv.Itoa(i) + " AS (" + in.query + ")")
		args = append(args, in.args...)
	}
	last := ins[len(ins)-1]
	q.WriteString(" " + last.query)
	_, err := s.exec(ctx, q.String(), append(args, last.args...)...)
	return s.wrap(op, err)
}

func dataKey(d *esign.SignatureData) (*string, *time.Time)             { return &d.ID, &d.CreatedAt }
func tokenKey(t *esign.TimestampToken) (*string, *time.Time)           { return &t.ID, &t.CreatedAt }
func validationKey(v *esign.SignatureValidation) (*string, *time.Time) { return &v.ID, &v.CreatedAt }

// CreateSignatureDataRows stores pieces of signing evidence in one
// statement (CreateSignatureData for several). Errors: Invalid
// (validation, unknown signature), Conflict (a kind exists for the
// signature).
func (s *store) CreateSignatureDataRows(ctx context.Context, ds ...*esign.SignatureData) error {
	const op = "sqlstore.CreateSignatureDataRows"
	in, err := rowsInsertion(s, op, signatureData, ds, dataKey)
	if err != nil {
		return err
	}
	return s.insertAll(ctx, op, in)
}

// CreateTimestampTokens stores time-stamp tokens in one statement
// (CreateTimestampToken for several). Errors: Invalid (validation, unknown
// signature or contract).
func (s *store) CreateTimestampTokens(ctx context.Context, ts ...*esign.TimestampToken) error {
	const op = "sqlstore.CreateTimestampTokens"
	in, err := rowsInsertion(s, op, timestampTokens, ts, tokenKey)
	if err != nil {
		return err
	}
	return s.insertAll(ctx, op, in)
}

// CreateSignatureEvidence stores a new signature (as CreateSignature) with
// its evidence, time-stamp tokens and verification tokens (its first
// signing code, as CreateVerificationToken): M1's writes, one statement on
// PostgreSQL. Errors: Invalid (validation, unknown offer, customer or
// app), Conflict (a kind twice).
func (s *store) CreateSignatureEvidence(ctx context.Context, g *esign.Signature, ds []*esign.SignatureData, ts []*esign.TimestampToken,
	vts ...*esign.VerificationToken) error {
	const op = "sqlstore.CreateSignatureEvidence"
	if err := s.newSignature(op, g); err != nil {
		return err
	}
	for _, d := range ds {
		d.SignatureID = g.ID
	}
	for _, t := range ts {
		t.SignatureID = g.ID
	}
	sig, err := rowsInsertion(s, op, signatures, []*esign.Signature{g},
		func(g *esign.Signature) (*string, *time.Time) { return &g.ID, &g.CreatedAt })
	if err != nil {
		return err
	}
	codes, err := rowsInsertion(s, op, verificationTokens, vts,
		func(t *esign.VerificationToken) (*string, *time.Time) { return &t.ID, &t.CreatedAt })
	if err != nil {
		return err
	}
	return s.insertEvidence(ctx, op, sig, ds, ts, codes)
}

// CreateVerdictEvidence stores the verdict on a signature (as
// CreateSignatureValidation) with the evidence and time-stamp tokens of
// its M2 and activities (as CreateActivity): M2's writes, one statement on
// PostgreSQL. Errors: Invalid (validation, unknown signature), Conflict
// (the signature has a verdict, a kind twice).
func (s *store) CreateVerdictEvidence(ctx context.Context, v *esign.SignatureValidation, ds []*esign.SignatureData, ts []*esign.TimestampToken,
	as ...*esign.Activity) error {
	const op = "sqlstore.CreateVerdictEvidence"
	val, err := rowsInsertion(s, op, signatureValidations, []*esign.SignatureValidation{v}, validationKey)
	if err != nil {
		return err
	}
	acts, err := rowsInsertion(s, op, activities, as, func(a *esign.Activity) (*string, *time.Time) { return &a.ID, &a.CreatedAt })
	if err != nil {
		return err
	}
	return s.insertEvidence(ctx, op, val, ds, ts, acts)
}

// insertEvidence runs first, then inserts the evidence ds and the tokens
// ts, then more: one statement on PostgreSQL (insertAll).
func (s *store) insertEvidence(ctx context.Context, op string, first insertion, ds []*esign.SignatureData, ts []*esign.TimestampToken,
	more ...insertion) error {
	data, err := rowsInsertion(s, op, signatureData, ds, dataKey)
	if err != nil {
		return err
	}
	toks, err := rowsInsertion(s, op, timestampTokens, ts, tokenKey)
	if err != nil {
		return err
	}
	return s.insertAll(ctx, op, append([]insertion{first, data, toks}, more...)...)
}

// SignatureContext is a signature with its offer and its customer, as
// one M2 reads them.
type SignatureContext struct {
	Signature *esign.Signature
	Offer     *esign.Offer
	Customer  *esign.Customer
}

// GetSignatureContext returns the signature with the id, its offer and its
// customer, in one statement. Errors: NotFound.
func (s *store) GetSignatureContext(ctx context.Context, id string) (*SignatureContext, error) {
	const op = "sqlstore.GetSignatureContext"
	if !esign.ValidID(id) {
		return nil, signatures.notFound(op)
	}
	sc := &SignatureContext{Signature: new(esign.Signature), Offer: new(esign.Offer), Customer: new(esign.Customer)}
	dest := append(append(signatures.fields(sc.Signature), offers.fields(sc.Offer)...), customers.fields(sc.Customer)...)
	err := s.queryRow(ctx, "SELECT "+signatures.qualified("g")+", "+offers.qualified("o")+", "+customers.qualified("c")+
		" FROM signature g JOIN offer o ON o.id = g.offer_id JOIN customer c ON c.id = g.customer_id WHERE g.id = ?", id).
		Scan(dest...)
	if err == sql.ErrNoRows {
		return nil, signatures.notFound(op)
	}
	if err != nil {
		return nil, s.wrap(op, err)
	}
	return sc, nil
}

// SignatureEvidence is what the Phase-4 checks of an M2 read besides the
// message: the signature's evidence by kind, its first TS1 token and the
// SHA-256 (hex) of the offer's documents in their order.
type SignatureEvidence struct {
	Data           map[string][]byte
	TS1            []byte // DER; nil: none
	DocumentHashes []string
}

// GetSignatureEvidence reads the evidence of a signature, its TS1 token
// and the hashes of the offer's (not deleted) documents in one statement:
// what ListSignatureData, ListTimestampTokens (purpose ts1) and
// ListDocuments (by offer) return for them.
func (s *store) GetSignatureEvidence(ctx context.Context, signatureID, offerID string) (*SignatureEvidence, error) {
	const op = "sqlstore.GetSignatureEvidence"
	ev := &SignatureEvidence{Data: map[string][]byte{}}
	if !esign.ValidID(signatureID) || !esign.ValidID(offerID) {
		return ev, nil
	}
	// One result of three parts, told apart by the first column; the
	// last orders the documents by their position in the offer.
	rows, err := s.query(ctx, `SELECT 0 AS part, kind, data, '' AS sha, 0 AS pos FROM signature_data WHERE signature_id = ?
		UNION ALL SELECT 1, purpose, token, '', 0 FROM (SELECT purpose, token FROM timestamp_token
			WHERE signature_id = ? AND purpose = ? ORDER BY gen_time, id LIMIT 1) t1
		UNION ALL SELECT 2, '', NULL, d.sha256, od.position FROM document d JOIN offer_document od ON od.document_id = d.id
			WHERE od.offer_id = ? AND d.deleted_at IS NULL
		ORDER BY 1, 5`, signatureID, signatureID, esign.TimestampTS1, offerID)
	if err != nil {
		return nil, s.wrap(op, err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			part, pos int64
			kind, sha string
			data      []byte
		)
		if err := rows.Scan(&part, &kind, &data, &sha, &pos); err != nil {
			return nil, s.wrap(op, err)
		}
		switch part {
		case 0:
			ev.Data[kind] = data
		case 1:
			ev.TS1 = data
		default:
			ev.DocumentHashes = append(ev.DocumentHashes, sha)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, s.wrap(op, err)
	}
	return ev, nil
}

// GetOfferCustomer returns the offer with the id and its customer, in one
// statement (M1). Errors: NotFound.
func (s *store) GetOfferCustomer(ctx context.Context, id string) (*esign.Offer, *esign.Customer, error) {
	const op = "sqlstore.GetOfferCustomer"
	if !esign.ValidID(id) {
		return nil, nil, offers.notFound(op)
	}
	o, c := new(esign.Offer), new(esign.Customer)
	err := s.queryRow(ctx, "SELECT "+offers.qualified("o")+", "+customers.qualified("c")+
		" FROM offer o JOIN customer c ON c.id = o.customer_id WHERE o.id = ?", id).
		Scan(append(offers.fields(o), customers.fields(c)...)...)
	if err == sql.ErrNoRows {
		return nil, nil, offers.notFound(op)
	}
	if err != nil {
		return nil, nil, s.wrap(op, err)
	}
	return o, c, nil
}
