// Package archive keeps the evidence of sealed contracts verifiable for
// as long as they are kept: the ArchiveRenewal cron job (jobs) calls
// Renewer.RenewArchives, which finds the B-LTA contracts whose newest
// document time-stamp's TSA certificate nears its expiry (or whose
// algorithms became weak) and appends to each of their documents, as a new
// stored version, the validation data of that time-stamp and a new
// document time-stamp (pades.Renew; docs/pades.md, "Archive renewal").
package archive

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"time"

	"esign/internal/esign"
	"esign/internal/jobs"
	"esign/internal/pades"
	"esign/internal/sqlstore"
)

// DefaultMargin is how long before the newest document time-stamp's
// certificates expire a contract is renewed (archive.renewal_margin).
const DefaultMargin = 365 * 24 * time.Hour

// MaxDocumentSize bounds a contract document read for renewal.
const MaxDocumentSize = 256 << 20

// DB is what the renewal needs of the store (*sqlstore.DB).
type DB interface {
	ListContracts(ctx context.Context, f esign.ContractFilter) ([]*esign.Contract, error)
	ListDocuments(ctx context.Context, f esign.DocumentFilter) ([]*esign.Document, error)
	UpdateContract(ctx context.Context, id string, upd esign.ContractUpdate) (*esign.Contract, error)
	InTx(ctx context.Context, fn func(tx *sqlstore.Tx) error) error
}

// Documents is the encrypted document store (*docstore.Store).
type Documents interface {
	Put(ctx context.Context, key string, r io.Reader) (int64, error)
	Open(ctx context.Context, key string) (io.ReadCloser, error)
	Touch(ctx context.Context, key string) error
	Delete(ctx context.Context, key string) error
}

// Config configures a Renewer.
type Config struct {
	DB   DB
	Docs Documents
	// Renew is the TSA of the new document time-stamps, the revocation
	// sources and extra certificates (seal.*, tsa.url).
	Renew pades.RenewOptions
	// Margin: a contract is renewed when its newest document time-stamp's
	// certificates expire within it; default DefaultMargin.
	Margin time.Duration
	Now    func() time.Time // default time.Now
	Log    *slog.Logger     // default: discard
}

// Renewer renews the archives of sealed contracts.
type Renewer struct{ cfg Config }

var _ jobs.ArchiveRenewer = (*Renewer)(nil)

// New returns a Renewer. Errors: Invalid (no store, document store or TSA).
func New(cfg Config) (*Renewer, error) {
	if cfg.DB == nil || cfg.Docs == nil || cfg.Renew.TSA == nil {
		return nil, esign.E("archive.New", esign.Invalid, "archive renewal needs the store, the document store and a TSA")
	}
	if cfg.Margin <= 0 {
		cfg.Margin = DefaultMargin
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	return &Renewer{cfg: cfg}, nil
}

// ErrTSANotLonger is returned when the TSA's own certificate expires
// within the margin (or is weak): a renewal would not extend anything, so
// the run stops instead of renewing every contract every day.
var ErrTSANotLonger = errors.New("archive: the new document time-stamp would be due for renewal itself")

// RenewArchives implements jobs.ArchiveRenewer: it lists the B-LTA
// contracts whose archive expiry is unknown or within the margin, reads
// the expiry of those not known yet from their documents (and records
// it), and renews those that are due, each in a transaction of its own.
// A contract that fails is counted and logged and the others continue; the
// TSA failing, or issuing time-stamps that would be due themselves
// (ErrTSANotLonger), stops the run. The error joins the failures.
func (r *Renewer) RenewArchives(ctx context.Context, logf func(level slog.Level, format string, args ...any)) (jobs.RenewalResult, error) {
	var res jobs.RenewalResult
	now := r.cfg.Now()
	due := now.Add(r.cfg.Margin)
	var after esign.Cursor
	var errs []error
	for {
		cs, err := r.cfg.DB.ListContracts(ctx, esign.ContractFilter{SealLevel: string(pades.LevelBLTA), ArchiveDueBy: due,
			After: after, Page: esign.Page{Limit: 50}})
		if err != nil {
			return res, errors.Join(append(errs, fmt.Errorf("list contracts: %w", err))...)
		}
		for _, c := range cs {
			if err := ctx.Err(); err != nil {
				return res, errors.Join(append(errs, err)...)
			}
			res.Checked++
			renewed, err := r.renewContract(ctx, c, now)
			switch {
			case err == nil && renewed:
				res.Renewed++
				logf(slog.LevelInfo, "contract %s: archive renewed", c.ID)
			case err == nil:
			case esign.IsKind(err, esign.Conflict):
				// a concurrent run (or the retention job) changed a
				// document first: its outcome stands
				logf(slog.LevelInfo, "contract %s: changed concurrently, skipped", c.ID)
			case errors.Is(err, ErrTSANotLonger) || esign.IsKind(err, esign.Unavailable):
				res.Failed++
				logf(slog.LevelError, "contract %s: %v (run stopped)", c.ID, err)
				return res, errors.Join(append(errs, fmt.Errorf("contract %s: %w", c.ID, err))...)
			default:
				res.Failed++
				logf(slog.LevelError, "contract %s: %v", c.ID, err)
				errs = append(errs, fmt.Errorf("contract %s: %w", c.ID, err))
			}
		}
		if len(cs) < 50 {
			return res, errors.Join(errs...)
		}
		after = esign.Cursor{CreatedAt: cs[len(cs)-1].CreatedAt, ID: cs[len(cs)-1].ID}
	}
}

// version is a document read by a run: its row, its archive state before
// and after, and (when it was due) where its new version was stored.
type version struct {
	doc    *esign.Document
	file   esign.DocumentFile
	status pades.ArchiveState
	before pades.ArchiveState
}

// renewContract renews the due documents of c and records it; renewed
// false: nothing was due (the expiry read from the documents is recorded
// when it was not known).
func (r *Renewer) renewContract(ctx context.Context, c *esign.Contract, now time.Time) (renewed bool, err error) {
	docs, err := r.cfg.DB.ListDocuments(ctx, esign.DocumentFilter{ContractID: c.ID, Kind: esign.DocumentContract, Page: esign.Page{Limit: 1000}})
	if err != nil {
		return false, err
	}
	var (
		expires time.Time // of the contract after this run: the earliest of its documents
		vs      []*version
		stored  []string // new files, removed again unless committed
	)
	earliest := func(t time.Time) {
		if expires.IsZero() || t.Before(expires) {
			expires = t
		}
	}
	defer func() {
		for _, k := range stored {
			_ = r.cfg.Docs.Delete(context.WithoutCancel(ctx), k) // if this fails too, the orphan sweep removes it
		}
	}()
	for _, d := range docs {
		v, err := r.renewDocument(ctx, c, d, now)
		if err != nil {
			return false, fmt.Errorf("document %s (%s): %w", d.ID, d.Name, err)
		}
		if v == nil {
			continue
		}
		if v.file.StorageKey == "" {
			earliest(v.status.Expires)
			continue
		}
		stored = append(stored, v.file.StorageKey)
		earliest(v.status.Expires)
		vs = append(vs, v)
	}
	if expires.IsZero() {
		return false, errors.New("no document of the contract has a document time-stamp")
	}
	if len(vs) == 0 {
		if !c.ArchiveExpiresAt.Equal(expires) {
			_, err := r.cfg.DB.UpdateContract(ctx, c.ID, esign.ContractUpdate{ArchiveExpiresAt: &expires})
			return false, err
		}
		return false, nil
	}
	// The files being replaced are touched first: if this process dies
	// after the commit and before it removes them, the orphan sweep of
	// DeleteDocuments finds them (docs/jobs.md). While the commit has not
	// happened they are still referenced, and the sweep leaves them alone.
	for _, v := range vs {
		if err := r.cfg.Docs.Touch(ctx, v.doc.StorageKey); err != nil {
			return false, r.changed(ctx, v.doc, err)
		}
	}
	detail := renewalDetail{ExpiresBefore: c.ArchiveExpiresAt, ExpiresAfter: expires}
	for _, v := range vs {
		detail.Documents = append(detail.Documents, renewedDoc{ID: v.doc.ID, Name: v.doc.Name,
			Old: docFile{Key: v.doc.StorageKey, Size: v.doc.Size, SHA256: v.doc.SHA256},
			New: docFile{Key: v.file.StorageKey, Size: v.file.Size, SHA256: v.file.SHA256},
			TSA: v.status.TSA, TimestampTime: v.status.Time, PreviousTSA: v.before.TSA, PreviousExpires: v.before.Expires, Reason: reason(v.before, now, r.cfg.Margin)})
	}
	dj, err := json.Marshal(detail)
	if err != nil {
		return false, err
	}
	err = r.cfg.DB.InTx(ctx, func(tx *sqlstore.Tx) error {
		for _, v := range vs {
			if _, err := tx.SwapDocumentFile(ctx, v.doc.ID, v.doc.StorageKey, v.file); err != nil {
				return err
			}
		}
		if _, err := tx.UpdateContract(ctx, c.ID, esign.ContractUpdate{ArchiveRenewedAt: &now, ArchiveExpiresAt: &expires}); err != nil {
			return err
		}
		return tx.CreateAuditLog(ctx, &esign.AuditLog{ActorType: "system", Action: "contract.archive_renew",
			ObjectType: "contract", ObjectID: c.ID, Detail: string(dj)})
	})
	if errors.Is(err, sqlstore.ErrCommitUncertain) {
		// Either version may be the committed one: keep both; the sweep
		// removes the one no row names (both are recent files).
		stored = nil
	}
	if err != nil {
		return false, err
	}
	stored = nil
	for _, v := range vs {
		if err := r.cfg.Docs.Delete(ctx, v.doc.StorageKey); err != nil {
			r.cfg.Log.Warn("archive renewal: the replaced version stays until the orphan sweep", "contract", c.ID, "key", v.doc.StorageKey, "err", err)
		}
	}
	return true, nil
}

// renewDocument reads d; when its newest document time-stamp is due it
// renews it into a new stored version (file.StorageKey set). nil: d has no
// document time-stamp.
func (r *Renewer) renewDocument(ctx context.Context, c *esign.Contract, d *esign.Document, now time.Time) (*version, error) {
	tmp, err := os.CreateTemp("", "esign-renew-*.pdf")
	if err != nil {
		return nil, err
	}
	defer os.Remove(tmp.Name())
	defer tmp.Close()
	rc, err := r.cfg.Docs.Open(ctx, d.StorageKey)
	if err != nil {
		return nil, r.changed(ctx, d, err)
	}
	n, err := io.Copy(tmp, io.LimitReader(rc, MaxDocumentSize+1))
	rc.Close()
	if err != nil {
		return nil, err
	}
	if n > MaxDocumentSize {
		return nil, esign.E("archive.renewDocument", esign.Invalid, "the document is too large to renew")
	}
	before, err := pades.ArchiveStatus(tmp, n)
	if err != nil {
		return nil, err
	}
	if before.Timestamps == 0 {
		return nil, nil
	}
	v := &version{doc: d, before: before, status: before}
	if !before.Due(now, r.cfg.Margin) {
		return v, nil
	}
	size, err := pades.Renew(ctx, tmp, n, r.cfg.Renew)
	if err != nil {
		return nil, err
	}
	if v.status, err = pades.ArchiveStatus(tmp, size); err != nil {
		return nil, err
	}
	if v.status.Due(now, r.cfg.Margin) {
		return nil, fmt.Errorf("%w: the TSA %s's certificates expire on %s, within archive.renewal_margin (%s)%s",
			ErrTSANotLonger, v.status.TSA, v.status.Expires.UTC().Format(time.DateOnly), r.cfg.Margin, weakNote(v.status.Weak))
	}
	h := sha256.New()
	key := "contracts/" + c.ID + "/" + esign.NewID() + ".pdf"
	stored, err := r.cfg.Docs.Put(ctx, key, io.TeeReader(io.NewSectionReader(tmp, 0, size), h))
	if err != nil {
		return nil, err
	}
	v.file = esign.DocumentFile{StorageKey: key, Size: stored, SHA256: hex.EncodeToString(h.Sum(nil))}
	return v, nil
}

// changed turns err, a file of d not found, into a Conflict when the row
// no longer names it (a concurrent renewal replaced it, the retention job
// deleted it); otherwise err stands.
func (r *Renewer) changed(ctx context.Context, d *esign.Document, err error) error {
	if !esign.IsKind(err, esign.NotFound) {
		return err
	}
	now, lerr := r.cfg.DB.ListDocuments(ctx, esign.DocumentFilter{ID: d.ID, Page: esign.Page{Limit: 1}})
	if lerr == nil && (len(now) == 0 || now[0].StorageKey != d.StorageKey) {
		return esign.E("archive.renew", esign.Conflict, "the document was changed by someone else", err)
	}
	return err
}

func weakNote(w string) string {
	if w == "" {
		return ""
	}
	return " and its algorithms are weak: " + w
}

// reason says why a document was due.
func reason(s pades.ArchiveState, now time.Time, margin time.Duration) string {
	if s.Weak != "" {
		return "weak algorithm: " + s.Weak
	}
	if !now.Before(s.Expires) {
		return "the TSA certificate expired on " + s.Expires.UTC().Format(time.RFC3339)
	}
	return fmt.Sprintf("the TSA certificate expires on %s, within %s", s.Expires.UTC().Format(time.RFC3339), margin)
}

// renewalDetail is the audit log entry's detail of a renewal: which
// version each document had and has (the old one is the new one's prefix
// of the old size: incremental updates).
type renewalDetail struct {
	Documents     []renewedDoc `json:"documents"`
	ExpiresBefore time.Time    `json:"expiresBefore,omitzero"`
	ExpiresAfter  time.Time    `json:"expiresAfter"`
}

type renewedDoc struct {
	ID              string    `json:"id"`
	Name            string    `json:"name"`
	Old             docFile   `json:"old"`
	New             docFile   `json:"new"`
	Reason          string    `json:"reason"`
	PreviousTSA     string    `json:"previousTsa"`
	PreviousExpires time.Time `json:"previousExpires"`
	TSA             string    `json:"tsa"`
	TimestampTime   time.Time `json:"timestampTime"`
}

type docFile struct {
	Key    string `json:"key"`
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"`
}
