package sqlstore

import (
	"context"
	"strings"
	"time"

	"esign/internal/esign"
)

var offers = newTable("offer", "offer",
	[]string{"id", "customer_id", "external_ref", "title", "description", "state", "state_reason",
		"state_changed_at", "expires_at", "version", "created_by", "created_at", "updated_at", "hook_data", "vetoed"},
	func(o *esign.Offer) []any {
		return []any{&o.ID, &o.CustomerID, nstr(&o.ExternalRef), &o.Title, &o.Description, &o.State, &o.StateReason,
			tm(&o.StateChangedAt), tm(&o.ExpiresAt), &o.Version, nstr(&o.CreatedBy), tm(&o.CreatedAt), tm(&o.UpdatedAt), &o.HookData, &o.Vetoed}
	})

// CreateOffer stores a new offer in state created with version 1 and links
// the documents, in the given order, in the same transaction. On success o
// holds the stored row. Errors: Invalid (validation, unknown customer or
// document, a document of another customer), Conflict (external reference
// exists for the customer).
func (s *store) CreateOffer(ctx context.Context, o *esign.Offer, documentIDs ...string) error {
	return s.createOffer(ctx, "sqlstore.CreateOffer", o, esign.OfferCreated, "", documentIDs)
}

// createOffer is CreateOffer of an offer stored as if created and moved to
// state to (with reason) at once, in one INSERT.
func (s *store) createOffer(ctx context.Context, op string, o *esign.Offer, to esign.OfferState, reason string, documentIDs []string) error {
	o.State, o.StateReason = esign.OfferCreated, ""
	o.Version = 1
	if to != esign.OfferCreated {
		if err := o.State.CheckTransition(op, to); err != nil {
			return err
		}
		// what UpdateOfferState would make of the created offer
		o.State, o.StateReason = to, reason
		o.Version = 2
	}
	if err := o.Validate(); err != nil {
		return esign.E(op, err)
	}
	if err := s.stamp(op, &o.ID, &o.CreatedAt, &o.UpdatedAt); err != nil {
		return err
	}
	o.StateChangedAt = o.CreatedAt
	if len(documentIDs) == 0 {
		return insertRow(ctx, s, op, offers, o)
	}
	return s.withTx(ctx, func(s *store) error {
		if err := insertRow(ctx, s, op, offers, o); err != nil {
			return err
		}
		return s.linkNewOfferDocuments(ctx, op, o.ID, o.CustomerID, documentIDs)
	})
}

// AddOfferDocument links a document to an offer after its other documents.
// Errors: NotFound (offer), Invalid (unknown document or one of another
// customer), Conflict (already linked, or linked concurrently with another
// document: retry).
func (s *store) AddOfferDocument(ctx context.Context, offerID, documentID string) error {
	const op = "sqlstore.AddOfferDocument"
	return s.withTx(ctx, func(s *store) error {
		o, err := getByID(ctx, s, op, offers, offerID)
		if err != nil {
			return err
		}
		return s.linkOfferDocument(ctx, op, o.ID, o.CustomerID, documentID)
	})
}

func (s *store) linkOfferDocument(ctx context.Context, op, offerID, customerID, documentID string) error {
	if !esign.ValidID(documentID) {
		return esign.E(op, esign.Invalid, "the document id is not valid")
	}
	// The document must belong to the offer's customer; the position is the
	// next free one.
	res, err := s.exec(ctx, `INSERT INTO offer_document (offer_id, document_id, position)
		SELECT ?, d.id, (SELECT COALESCE(MAX(position) + 1, 0) FROM offer_document WHERE offer_id = ?)
		FROM document d WHERE d.id = ? AND d.customer_id = ?`, offerID, offerID, documentID, customerID)
	if err != nil {
		return s.wrap(op, err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return s.wrap(op, err)
	} else if n == 0 {
		return esign.E(op, esign.Invalid, "the document does not exist or belongs to another customer")
	}
	return nil
}

// RemoveOfferDocument unlinks a document from an offer. Errors: NotFound.
func (s *store) RemoveOfferDocument(ctx context.Context, offerID, documentID string) error {
	const op = "sqlstore.RemoveOfferDocument"
	if !esign.ValidID(offerID) || !esign.ValidID(documentID) {
		return esign.E(op, esign.NotFound, "the document is not linked to the offer")
	}
	n, err := s.deleteRows(ctx, op, "offer_document", "offer_id = ? AND document_id = ?", offerID, documentID)
	if err != nil {
		return err
	}
	if n == 0 {
		return esign.E(op, esign.NotFound, "the document is not linked to the offer")
	}
	return nil
}

// GetOffer returns the offer with the id. Errors: NotFound.
func (s *store) GetOffer(ctx context.Context, id string) (*esign.Offer, error) {
	return getByID(ctx, s, "sqlstore.GetOffer", offers, id)
}

// ListOffers lists the offers matching f, newest first.
func (s *store) ListOffers(ctx context.Context, f esign.OfferFilter) ([]*esign.Offer, error) {
	var w where
	eq(&w, "id", f.ID)
	eq(&w, "customer_id", f.CustomerID)
	eq(&w, "external_ref", f.ExternalRef)
	in(&w, "state", f.States)
	before(&w, "expires_at", f.ExpiresBefore)
	atOrAfter(&w, "created_at", f.CreatedSince)
	before(&w, "created_at", f.CreatedBefore)
	if f.HideVetoed {
		w.add("NOT vetoed")
	}
	if !f.After.IsZero() {
		// A row value, so that both engines seek the (created_at, id)
		// indexes instead of scanning.
		w.add("(created_at, id) < (?, ?)", f.After.CreatedAt, f.After.ID)
	}
	return listRows(ctx, s, "sqlstore.ListOffers", offers, &w, "created_at DESC, id DESC", f.Page)
}

// UpdateOffer applies upd to the offer if it is still at version and returns
// the stored offer with the version incremented. Errors: NotFound, Conflict
// (the offer changed since version was read), Invalid (the offer is final).
func (s *store) UpdateOffer(ctx context.Context, id string, version int64, upd esign.OfferUpdate) (*esign.Offer, error) {
	const op = "sqlstore.UpdateOffer"
	var u setter
	setIf(&u, "title", upd.Title)
	setIf(&u, "description", upd.Description)
	setIf(&u, "expires_at", upd.ExpiresAt)
	if len(u.cols) == 0 {
		return getByID(ctx, s, op, offers, id)
	}
	var out *esign.Offer
	err := s.withTx(ctx, func(s *store) error {
		cur, err := getByID(ctx, s, op, offers, id)
		if err != nil {
			return err
		}
		if cur.State.Final() {
			return esign.WithCode(op, esign.Invalid, "offer_state", "an offer in state "+string(cur.State)+" cannot be changed")
		}
		out, err = s.updateOfferVersion(ctx, op, id, version, &u)
		return err
	})
	return out, err
}

// UpdateOfferState moves the offer to state to if it is still at version,
// records reason and the time of the change, and returns the stored offer
// with the version incremented. Errors: NotFound, Invalid with code
// "offer_state" (the transition table does not allow it), Conflict (the
// offer changed since version was read: re-read and decide again).
func (s *store) UpdateOfferState(ctx context.Context, id string, version int64, to esign.OfferState, reason string) (*esign.Offer, error) {
	const op = "sqlstore.UpdateOfferState"
	cur, err := getByID(ctx, s, op, offers, id)
	if err != nil {
		return nil, err
	}
	return s.updateOfferState(ctx, op, cur, version, to, reason)
}

// updateOfferState is UpdateOfferState of the offer as read (cur).
func (s *store) updateOfferState(ctx context.Context, op string, cur *esign.Offer, version int64, to esign.OfferState, reason string) (*esign.Offer, error) {
	if cur.Version != version {
		return nil, esign.E(op, esign.Conflict, "the offer was changed by someone else")
	}
	return s.moveOffer(ctx, op, cur, to, reason)
}

// updateOfferVersion runs an update guarded by the version.
func (s *store) updateOfferVersion(ctx context.Context, op, id string, version int64, u *setter) (*esign.Offer, error) {
	u.set("version", version+1)
	u.extra = " AND version = ?" + u.extra
	u.extraArgs = append([]any{version}, u.extraArgs...)
	o, err := updateRow(ctx, s, op, offers, id, u)
	if esign.IsKind(err, esign.NotFound) {
		// The row exists (it was read above) unless deleted meanwhile:
		// either way the caller's view is stale.
		return nil, esign.E(op, esign.Conflict, "the offer was changed by someone else")
	}
	return o, err
}

// DeleteOffer deletes an offer and its document links (not the documents).
// Errors: NotFound, Invalid (it has signatures or a contract).
func (s *store) DeleteOffer(ctx context.Context, id string) error {
	return deleteByID(ctx, s, "sqlstore.DeleteOffer", offers, id)
}

var documents = newTable("document", "document",
	[]string{"id", "customer_id", "contract_id", "kind", "name", "content_type", "size", "sha256",
		"storage_key", "encrypted", "read_at", "retain_until", "deleted_at", "created_at", "updated_at"},
	func(d *esign.Document) []any {
		return []any{&d.ID, &d.CustomerID, nstr(&d.ContractID), &d.Kind, &d.Name, &d.ContentType, &d.Size, &d.SHA256,
			&d.StorageKey, &d.Encrypted, tm(&d.ReadAt), tm(&d.RetainUntil), tm(&d.DeletedAt), tm(&d.CreatedAt), tm(&d.UpdatedAt)}
	})

// CreateDocument stores the metadata of a new document. Errors: Invalid
// (validation, unknown customer or contract), Conflict (storage key used).
func (s *store) CreateDocument(ctx context.Context, d *esign.Document) error {
	const op = "sqlstore.CreateDocument"
	return createRow(ctx, s, op, documents, d, &d.ID, &d.CreatedAt, &d.UpdatedAt)
}

// GetDocument returns the document with the id. Errors: NotFound.
func (s *store) GetDocument(ctx context.Context, id string) (*esign.Document, error) {
	return getByID(ctx, s, "sqlstore.GetDocument", documents, id)
}

// ListDocuments lists documents: an offer's in their position order,
// otherwise oldest first.
func (s *store) ListDocuments(ctx context.Context, f esign.DocumentFilter) ([]*esign.Document, error) {
	var w where
	eq(&w, "d.id", f.ID)
	eq(&w, "d.customer_id", f.CustomerID)
	eq(&w, "d.contract_id", f.ContractID)
	eq(&w, "d.kind", f.Kind)
	eq(&w, "d.sha256", f.SHA256)
	if !f.RetainedBefore.IsZero() {
		w.add("d.retain_until < ?", f.RetainedBefore)
	}
	if !f.IncludeDeleted {
		w.add("d.deleted_at IS NULL")
	}
	head := "SELECT " + documents.qualified("d") + " FROM document d"
	order := "d.created_at, d.id"
	if f.OfferID != "" {
		head += " JOIN offer_document od ON od.document_id = d.id"
		w.add("od.offer_id = ?", f.OfferID)
		order = "od.position"
	}
	q, args := w.build(head, order, f.Page)
	return scanRows(ctx, s, "sqlstore.ListDocuments", documents, q, args...)
}

// ListDocumentsToDelete lists the documents whose bytes the retention job
// deletes, oldest first: documents of no contract created before
// unsignedBefore whose offers (if any) all ended unsigned (refused, revoked,
// expired); documents of contracts signed before signedBefore (zero: none);
// and documents whose RetainUntil is before now. Documents already deleted
// are not listed. The caller deletes the bytes and then sets DeletedAt.
func (s *store) ListDocumentsToDelete(ctx context.Context, now, unsignedBefore, signedBefore time.Time, p esign.Page) ([]*esign.Document, error) {
	var w where
	w.add("d.deleted_at IS NULL")
	var or []string
	var args []any
	if !unsignedBefore.IsZero() {
		or = append(or, `(d.contract_id IS NULL AND d.created_at < ? AND NOT EXISTS (
			SELECT 1 FROM offer_document od JOIN offer o ON o.id = od.offer_id
			WHERE od.document_id = d.id AND o.state NOT IN (?, ?, ?)))`)
		args = append(args, unsignedBefore, esign.OfferRefused, esign.OfferRevoked, esign.OfferExpired)
	}
	if !signedBefore.IsZero() {
		or = append(or, "d.contract_id IN (SELECT c.id FROM contract c WHERE c.signed_at < ?)")
		args = append(args, signedBefore)
	}
	if !now.IsZero() {
		or = append(or, "d.retain_until < ?")
		args = append(args, now)
	}
	if len(or) == 0 {
		return nil, nil
	}
	w.add("("+strings.Join(or, " OR ")+")", args...)
	q, qargs := w.build("SELECT "+documents.qualified("d")+" FROM document d", "d.created_at, d.id", p)
	return scanRows(ctx, s, "sqlstore.ListDocumentsToDelete", documents, q, qargs...)
}

// UpdateDocument applies upd and returns the stored document. Errors:
// NotFound, Invalid (unknown contract).
func (s *store) UpdateDocument(ctx context.Context, id string, upd esign.DocumentUpdate) (*esign.Document, error) {
	var u setter
	setNullIf(&u, "contract_id", upd.ContractID)
	setIf(&u, "read_at", upd.ReadAt)
	setIf(&u, "retain_until", upd.RetainUntil)
	setIf(&u, "deleted_at", upd.DeletedAt)
	return updateRow(ctx, s, "sqlstore.UpdateDocument", documents, id, &u)
}

// SwapDocumentFile points the document id at a new stored version of its
// bytes, only while it still names oldKey and its bytes are not deleted
// (compare and swap: a concurrent renewal or the retention job wins).
// Errors: Conflict (the document changed or is gone), Invalid.
func (s *store) SwapDocumentFile(ctx context.Context, id, oldKey string, f esign.DocumentFile) (*esign.Document, error) {
	const op = "sqlstore.SwapDocumentFile"
	var u setter
	u.set("storage_key", f.StorageKey)
	u.set("size", f.Size)
	u.set("sha256", f.SHA256)
	u.extra = " AND storage_key = ? AND deleted_at IS NULL"
	u.extraArgs = []any{oldKey}
	d, err := updateRow(ctx, s, op, documents, id, &u)
	if esign.IsKind(err, esign.NotFound) {
		return nil, esign.E(op, esign.Conflict, "the document was changed by someone else")
	}
	return d, err
}

// DeleteDocument deletes the metadata of a document. Errors: NotFound,
// Invalid (still linked to an offer).
func (s *store) DeleteDocument(ctx context.Context, id string) error {
	return deleteByID(ctx, s, "sqlstore.DeleteDocument", documents, id)
}

var contracts = newTable("contract", "contract",
	[]string{"id", "customer_id", "offer_id", "external_ref", "title", "status", "signed_at", "seal_level",
		"acknowledged_at", "retain_until", "created_at", "updated_at", "archive_renewed_at", "archive_expires_at"},
	func(c *esign.Contract) []any {
		return []any{&c.ID, &c.CustomerID, nstr(&c.OfferID), nstr(&c.ExternalRef), &c.Title, &c.Status, tm(&c.SignedAt), &c.SealLevel,
			tm(&c.AcknowledgedAt), tm(&c.RetainUntil), tm(&c.CreatedAt), tm(&c.UpdatedAt), tm(&c.ArchiveRenewedAt), tm(&c.ArchiveExpiresAt)}
	})

// CreateContract stores a new contract; an empty Status becomes active.
// Errors: Invalid (validation, unknown customer or offer), Conflict (the
// offer has a contract, or the external reference exists for the customer).
func (s *store) CreateContract(ctx context.Context, c *esign.Contract) error {
	const op = "sqlstore.CreateContract"
	if c.Status == "" {
		c.Status = esign.ContractActive
	}
	return createRow(ctx, s, op, contracts, c, &c.ID, &c.CreatedAt, &c.UpdatedAt)
}

// GetContract returns the contract with the id. Errors: NotFound.
func (s *store) GetContract(ctx context.Context, id string) (*esign.Contract, error) {
	return getByID(ctx, s, "sqlstore.GetContract", contracts, id)
}

// ListContracts lists contracts newest first.
func (s *store) ListContracts(ctx context.Context, f esign.ContractFilter) ([]*esign.Contract, error) {
	var w where
	eq(&w, "id", f.ID)
	eq(&w, "customer_id", f.CustomerID)
	eq(&w, "offer_id", f.OfferID)
	eq(&w, "external_ref", f.ExternalRef)
	eq(&w, "status", f.Status)
	eq(&w, "seal_level", f.SealLevel)
	if !f.ArchiveDueBy.IsZero() {
		w.add(`(archive_expires_at IS NULL OR archive_expires_at < ?) AND EXISTS (
			SELECT 1 FROM document d WHERE d.contract_id = contract.id AND d.deleted_at IS NULL)`, f.ArchiveDueBy)
	}
	if !f.After.IsZero() {
		w.add("(created_at, id) < (?, ?)", f.After.CreatedAt, f.After.ID)
	}
	return listRows(ctx, s, "sqlstore.ListContracts", contracts, &w, "created_at DESC, id DESC", f.Page)
}

// UpdateContract applies upd. Errors: NotFound, Invalid.
func (s *store) UpdateContract(ctx context.Context, id string, upd esign.ContractUpdate) (*esign.Contract, error) {
	var u setter
	setIf(&u, "title", upd.Title)
	setIf(&u, "status", upd.Status)
	setIf(&u, "acknowledged_at", upd.AcknowledgedAt)
	setIf(&u, "retain_until", upd.RetainUntil)
	setIf(&u, "archive_renewed_at", upd.ArchiveRenewedAt)
	setIf(&u, "archive_expires_at", upd.ArchiveExpiresAt)
	return updateRow(ctx, s, "sqlstore.UpdateContract", contracts, id, &u)
}

// DeleteContract deletes a contract. Errors: NotFound, Invalid (it still
// has documents, attachments or timestamps).
func (s *store) DeleteContract(ctx context.Context, id string) error {
	return deleteByID(ctx, s, "sqlstore.DeleteContract", contracts, id)
}

var attachments = newTable("attachment", "attachment",
	[]string{"id", "offer_id", "contract_id", "name", "content_type", "size", "sha256", "storage_key", "created_at"},
	func(a *esign.Attachment) []any {
		return []any{&a.ID, nstr(&a.OfferID), nstr(&a.ContractID), &a.Name, &a.ContentType, &a.Size, &a.SHA256,
			&a.StorageKey, tm(&a.CreatedAt)}
	})

// CreateAttachment stores a new attachment. Errors: Invalid (validation,
// unknown offer or contract), Conflict (storage key used).
func (s *store) CreateAttachment(ctx context.Context, a *esign.Attachment) error {
	const op = "sqlstore.CreateAttachment"
	return createRow(ctx, s, op, attachments, a, &a.ID, &a.CreatedAt, nil)
}

// GetAttachment returns the attachment with the id. Errors: NotFound.
func (s *store) GetAttachment(ctx context.Context, id string) (*esign.Attachment, error) {
	return getByID(ctx, s, "sqlstore.GetAttachment", attachments, id)
}

// ListAttachments lists attachments oldest first.
func (s *store) ListAttachments(ctx context.Context, f esign.AttachmentFilter) ([]*esign.Attachment, error) {
	var w where
	eq(&w, "offer_id", f.OfferID)
	eq(&w, "contract_id", f.ContractID)
	return listRows(ctx, s, "sqlstore.ListAttachments", attachments, &w, "created_at, id", f.Page)
}

// DeleteAttachment deletes an attachment. Errors: NotFound.
func (s *store) DeleteAttachment(ctx context.Context, id string) error {
	return deleteByID(ctx, s, "sqlstore.DeleteAttachment", attachments, id)
}

// ExpireOffers moves every open offer whose expiry is before now to
// expired (the offer timeout job), in batches of up to 100, each batch in a
// transaction of its own. Inside each batch's transaction it calls each
// (when not nil) with the offers that batch expired, so that what each
// enqueues through tx.SQLTx() (the notifications) commits together with the
// change; an error from each rolls the batch back and is returned. Every
// offer changes with its version check, so a concurrent change (another
// replica, the customer signing) wins and that offer is left alone. It
// returns how many offers expired.
func (db *DB) ExpireOffers(ctx context.Context, now time.Time, each func(tx *Tx, expired []*esign.Offer) error) (int, error) {
	const op = "sqlstore.ExpireOffers"
	const batchSize = 100
	var open []esign.OfferState
	for _, st := range esign.OfferStates {
		if st.CanTransition(esign.OfferExpired) {
			open = append(open, st)
		}
	}
	total := 0
	for {
		var listed, changed int
		err := db.InTx(ctx, func(tx *Tx) error {
			due, err := tx.ListOffers(ctx, esign.OfferFilter{States: open, ExpiresBefore: now, Page: esign.Page{Limit: batchSize}})
			if err != nil {
				return err
			}
			listed = len(due)
			var expired []*esign.Offer
			for _, o := range due {
				reason := "expired at " + o.ExpiresAt.Format(time.RFC3339)
				x, err := tx.UpdateOfferState(ctx, o.ID, o.Version, esign.OfferExpired, reason)
				switch {
				case err == nil:
					expired = append(expired, x)
				case esign.IsKind(err, esign.Conflict):
					// changed concurrently: no longer ours to expire
				default:
					return err
				}
			}
			changed = len(expired)
			if each != nil && changed > 0 {
				return each(tx, expired)
			}
			return nil
		})
		if err != nil {
			return total, esign.E(op, err)
		}
		total += changed
		if listed < batchSize || changed == 0 {
			return total, nil
		}
	}
}
