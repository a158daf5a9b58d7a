package sqlstore

import (
	"context"
	"time"

	"esign/internal/esign"
)

var signatures = newTable("signature", "signature",
	[]string{"id", "offer_id", "customer_id", "app_id", "status", "public_key", "username", "m1_at", "m2_at",
		"customer_signature_hash", "reject_code", "reject_reason", "completed_at", "created_at", "updated_at"},
	func(g *esign.Signature) []any {
		return []any{&g.ID, &g.OfferID, &g.CustomerID, nstr(&g.AppID), &g.Status, &g.PublicKey, &g.Username,
			tm(&g.M1At), tm(&g.M2At), &g.CustomerSignatureHash, &g.RejectCode, &g.RejectReason, tm(&g.CompletedAt),
			tm(&g.CreatedAt), tm(&g.UpdatedAt)}
	})

// CreateSignature stores a new signature (at M1); an empty Status becomes
// m1_received and a zero M1At the creation time. Errors: Invalid
// (validation, unknown offer, customer or app).
func (s *store) CreateSignature(ctx context.Context, g *esign.Signature) error {
	const op = "sqlstore.CreateSignature"
	if err := s.newSignature(op, g); err != nil {
		return err
	}
	return insertRow(ctx, s, op, signatures, g)
}

// newSignature gives a new signature its defaults (status m1_received, M1At
// the creation time), validates it and stamps it.
func (s *store) newSignature(op string, g *esign.Signature) error {
	if g.Status == "" {
		g.Status = esign.SignatureM1Received
	}
	if err := g.Validate(); err != nil {
		return esign.E(op, err)
	}
	if err := s.stamp(op, &g.ID, &g.CreatedAt, &g.UpdatedAt); err != nil {
		return err
	}
	if g.M1At.IsZero() {
		g.M1At = g.CreatedAt
	}
	return nil
}

// GetSignature returns the signature with the id. Errors: NotFound.
func (s *store) GetSignature(ctx context.Context, id string) (*esign.Signature, error) {
	return getByID(ctx, s, "sqlstore.GetSignature", signatures, id)
}

// ListSignatures lists signatures newest first.
func (s *store) ListSignatures(ctx context.Context, f esign.SignatureFilter) ([]*esign.Signature, error) {
	var w where
	eq(&w, "offer_id", f.OfferID)
	eq(&w, "customer_id", f.CustomerID)
	eq(&w, "status", f.Status)
	return listRows(ctx, s, "sqlstore.ListSignatures", signatures, &w, "created_at DESC, id DESC", f.Page)
}

// UpdateSignature applies upd. Errors: NotFound, Invalid.
func (s *store) UpdateSignature(ctx context.Context, id string, upd esign.SignatureUpdate) (*esign.Signature, error) {
	var u setter
	setIf(&u, "status", upd.Status)
	setIf(&u, "m2_at", upd.M2At)
	setIf(&u, "customer_signature_hash", upd.CustomerSignatureHash)
	setIf(&u, "reject_code", upd.RejectCode)
	setIf(&u, "reject_reason", upd.RejectReason)
	setIf(&u, "completed_at", upd.CompletedAt)
	return updateRow(ctx, s, "sqlstore.UpdateSignature", signatures, id, &u)
}

// ClaimSignature moves a signature waiting for M2 (m1_received) to
// m2_received, atomically: of M2 requests racing for it exactly one gets
// true. A claim older than staleBefore (its handler died before the
// verdict) may be taken over. The caller records the verdict with
// UpdateSignature.
func (s *store) ClaimSignature(ctx context.Context, id string, now, staleBefore time.Time) (bool, error) {
	const op = "sqlstore.ClaimSignature"
	if !esign.ValidID(id) {
		return false, nil
	}
	now, staleBefore = esign.Timestamp(now), esign.Timestamp(staleBefore)
	res, err := s.exec(ctx, `UPDATE signature SET status = ?, updated_at = ?
		WHERE id = ? AND (status = ? OR (status = ? AND updated_at < ?))`,
		esign.SignatureM2Received, now, id, esign.SignatureM1Received, esign.SignatureM2Received, staleBefore)
	if err != nil {
		return false, s.wrap(op, err)
	}
	n, err := res.RowsAffected()
	return n == 1, s.wrap(op, err)
}

// ReleaseSignature hands a claim back (m2_received → m1_received) when the
// M2 that made it at claimedAt ends without a verdict; a claim another M2
// took over since is left alone.
func (s *store) ReleaseSignature(ctx context.Context, id string, claimedAt, now time.Time) error {
	const op = "sqlstore.ReleaseSignature"
	_, err := s.exec(ctx, `UPDATE signature SET status = ?, updated_at = ? WHERE id = ? AND status = ? AND updated_at = ?`,
		esign.SignatureM1Received, esign.Timestamp(now), id, esign.SignatureM2Received, esign.Timestamp(claimedAt))
	return s.wrap(op, err)
}

// DeleteSignature deletes a signature with its data, validation, tokens and
// timestamps. Errors: NotFound.
func (s *store) DeleteSignature(ctx context.Context, id string) error {
	return deleteByID(ctx, s, "sqlstore.DeleteSignature", signatures, id)
}

var signatureData = newTable("signature_data", "signature data",
	[]string{"id", "signature_id", "kind", "data", "sha256", "created_at"},
	func(d *esign.SignatureData) []any {
		return []any{&d.ID, &d.SignatureID, &d.Kind, &d.Data, &d.SHA256, tm(&d.CreatedAt)}
	})

// CreateSignatureData stores one piece of signing evidence. Errors: Invalid
// (validation, unknown signature), Conflict (the kind exists for the
// signature).
func (s *store) CreateSignatureData(ctx context.Context, d *esign.SignatureData) error {
	const op = "sqlstore.CreateSignatureData"
	return createRow(ctx, s, op, signatureData, d, &d.ID, &d.CreatedAt, nil)
}

// GetSignatureData returns the evidence with the id. Errors: NotFound.
func (s *store) GetSignatureData(ctx context.Context, id string) (*esign.SignatureData, error) {
	return getByID(ctx, s, "sqlstore.GetSignatureData", signatureData, id)
}

// ListSignatureData lists a signature's evidence, oldest first.
func (s *store) ListSignatureData(ctx context.Context, signatureID string, p esign.Page) ([]*esign.SignatureData, error) {
	var w where
	w.add("signature_id = ?", signatureID)
	return listRows(ctx, s, "sqlstore.ListSignatureData", signatureData, &w, "created_at, id", p)
}

// DeleteSignatureData deletes one piece of evidence. Errors: NotFound.
func (s *store) DeleteSignatureData(ctx context.Context, id string) error {
	return deleteByID(ctx, s, "sqlstore.DeleteSignatureData", signatureData, id)
}

var signatureValidations = newTable("signature_validation", "signature validation",
	[]string{"id", "signature_id", "valid", "code", "reason", "report", "ts1_at", "ts2_at", "ts3_at", "created_at"},
	func(v *esign.SignatureValidation) []any {
		return []any{&v.ID, &v.SignatureID, &v.Valid, &v.Code, &v.Reason, &v.Report,
			tm(&v.TS1At), tm(&v.TS2At), tm(&v.TS3At), tm(&v.CreatedAt)}
	})

// CreateSignatureValidation stores the verdict on a signature. Errors:
// Invalid (validation, unknown signature), Conflict (the signature has a
// verdict already).
func (s *store) CreateSignatureValidation(ctx context.Context, v *esign.SignatureValidation) error {
	const op = "sqlstore.CreateSignatureValidation"
	return createRow(ctx, s, op, signatureValidations, v, &v.ID, &v.CreatedAt, nil)
}

// GetSignatureValidation returns the verdict on the signature with the
// given signature id. Errors: NotFound.
func (s *store) GetSignatureValidation(ctx context.Context, signatureID string) (*esign.SignatureValidation, error) {
	const op = "sqlstore.GetSignatureValidation"
	if !esign.ValidID(signatureID) {
		return nil, signatureValidations.notFound(op)
	}
	return getRow(ctx, s, op, signatureValidations, "signature_id = ?", signatureID)
}

// DeleteSignatureValidation deletes the verdict with the id. Errors: NotFound.
func (s *store) DeleteSignatureValidation(ctx context.Context, id string) error {
	return deleteByID(ctx, s, "sqlstore.DeleteSignatureValidation", signatureValidations, id)
}

var timestampTokens = newTable("timestamp_token", "timestamp token",
	[]string{"id", "signature_id", "contract_id", "purpose", "hash_algorithm", "message_imprint", "token",
		"gen_time", "serial_number", "tsa_name", "created_at"},
	func(t *esign.TimestampToken) []any {
		return []any{&t.ID, nstr(&t.SignatureID), nstr(&t.ContractID), &t.Purpose, &t.HashAlgorithm, &t.MessageImprint,
			&t.Token, tm(&t.GenTime), &t.SerialNumber, &t.TSAName, tm(&t.CreatedAt)}
	})

// CreateTimestampToken stores a time-stamp token. Errors: Invalid
// (validation, unknown signature or contract).
func (s *store) CreateTimestampToken(ctx context.Context, t *esign.TimestampToken) error {
	const op = "sqlstore.CreateTimestampToken"
	return createRow(ctx, s, op, timestampTokens, t, &t.ID, &t.CreatedAt, nil)
}

// GetTimestampToken returns the token with the id. Errors: NotFound.
func (s *store) GetTimestampToken(ctx context.Context, id string) (*esign.TimestampToken, error) {
	return getByID(ctx, s, "sqlstore.GetTimestampToken", timestampTokens, id)
}

// ListTimestampTokens lists tokens in generation order.
func (s *store) ListTimestampTokens(ctx context.Context, f esign.TimestampTokenFilter) ([]*esign.TimestampToken, error) {
	var w where
	eq(&w, "signature_id", f.SignatureID)
	eq(&w, "contract_id", f.ContractID)
	eq(&w, "purpose", f.Purpose)
	return listRows(ctx, s, "sqlstore.ListTimestampTokens", timestampTokens, &w, "gen_time, id", f.Page)
}

// DeleteTimestampToken deletes a token. Errors: NotFound.
func (s *store) DeleteTimestampToken(ctx context.Context, id string) error {
	return deleteByID(ctx, s, "sqlstore.DeleteTimestampToken", timestampTokens, id)
}
