package signing

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"hash"
	"io"
	"log/slog"
	"os"
	"slices"
	"sync"
	"time"

	"esign/customize"
	"esign/internal/esign"
	"esign/internal/jobs"
	"esign/internal/notify"
	"esign/internal/pades"
	"esign/internal/sqlstore"
)

// Documents is the encrypted document store.
type Documents interface {
	Put(ctx context.Context, key string, r io.Reader) (int64, error)
	Open(ctx context.Context, key string) (io.ReadCloser, error)
	Delete(ctx context.Context, key string) error
}

// Queue enqueues notifications in the caller's transaction.
type Queue interface {
	Enqueue(ctx context.Context, tx *sql.Tx, n jobs.Notification) (int64, error)
}

// Publisher publishes operator events.
type Publisher interface {
	Publish(ctx context.Context, stream, eventType string, body any) error
}

// Sealing is Phase 5: how the bank seals the signed documents.
type Sealing struct {
	// Seal is the template of the bank's PAdES signature: Level (the
	// seal.level aimed at), CMS (seal.Client over the bus: pdfservice),
	// Revocation and ExtraCerts for B-LT, TSA for B-LTA's document
	// time-stamp. Prepare is filled in per document. When a certificate
	// has no revocation data, a B-LT or B-LTA seal is made at B-T (the
	// best level then reachable), logged, and the contract records the
	// level reached.
	Seal   pades.SignOptions
	Log    *slog.Logger // default: discard
	Docs   Documents
	Queue  Queue
	Events Publisher // optional
	// Stream is the event stream of contract events.
	Stream string
	// Changes, optional, hears of the signed offer and the new contract
	// inside the transaction that stores them (events out to the bank).
	Changes Changes
	// Jobs, when set, seals in the background: an accepted M2 enqueues
	// the seal in its own transaction and answers "verified"; the job
	// (jobs.QueueSeal) calls Service.SealSignature, retrying while the
	// TSA or pdfservice is unavailable. Nil: M2 seals before it answers.
	Jobs SealJobs
	// Line, optional, is the bank's visible line on the seal of a
	// contract (branding.seal_line with its placeholders filled: the
	// bank, the public verify page); nil: none. Latin-1, as the seal's
	// font.
	Line func(contractID string) string
	// Logo, optional, is a baseline JPEG drawn at the left of the seal
	// (branding.logo when it is a PNG).
	Logo []byte
	// Hooks, optional, are the bank's signature_verified hook (PDF
	// metadata added to the seal) and contract_sealed hook
	// (*hooks.Runner; docs/customization.md).
	Hooks SealHooks
}

// SealHooks runs the bank's hooks around the seal.
type SealHooks interface {
	// SignatureVerified returns the metadata to add to every sealed
	// document; an error (a failed hook under fail closed) fails the seal,
	// which its job retries.
	SignatureVerified(ctx context.Context, p customize.SignatureVerified) (map[string]string, error)
	ContractSealed(ctx context.Context, p customize.ContractSealed)
}

// BankMetadataName is the embedded file that holds the signature_verified
// hook's metadata in a sealed document.
const BankMetadataName = "bank-metadata.json"

// SealJobs enqueues the sealing of a verified signature in the caller's
// transaction.
type SealJobs interface {
	EnqueueSeal(ctx context.Context, tx *sql.Tx, signatureID string) (int64, error)
}

// Changes is told of state changes inside their transaction.
type Changes interface {
	OfferChanged(ctx context.Context, tx *sqlstore.Tx, o *esign.Offer) error
	ContractChanged(ctx context.Context, tx *sqlstore.Tx, c *esign.Contract) error
}

// MaxDocumentSize bounds an offer document read for sealing.
const MaxDocumentSize = 64 << 20

// EvidenceVersion is the version of the evidence bundles sealed now:
// version 2 added M1Hashes.
const EvidenceVersion = 2

// Evidence is the evidence bundle embedded in each sealed document
// (evidence.json); docs/evidence.md describes every field.
type Evidence struct {
	Version               int               `json:"version"`
	SignatureID           string            `json:"signatureId"`
	OfferID               string            `json:"offerId"`
	CustomerID            string            `json:"customerId"`
	UserName              string            `json:"userName"`
	PublicKey             string            `json:"publicKey"` // PEM
	Algorithm             string            `json:"algorithm"`
	M1Raw                 []byte            `json:"m1Raw"`
	M1SignedData          []byte            `json:"m1SignedData"`
	M1Hashes              []byte            `json:"m1Hashes,omitempty"` // the encoded offer hashes of M1 (version 2 on)
	M2                    json.RawMessage   `json:"m2"`
	CustomerSignature     []byte            `json:"customerSignature"` // the encoded array
	CustomerSignatureHash string            `json:"customerSignatureHash"`
	SignedTS3             []byte            `json:"signedTs3"`
	Timestamps            map[string][]byte `json:"timestamps"` // ts1, ts2, ts3: DER tokens
	Documents             []EvidenceDoc     `json:"documents"`
}

// EvidenceDoc names one signed offer document.
type EvidenceDoc struct {
	Name   string `json:"name"`
	SHA256 string `json:"sha256"`
}

// complete runs Phase 5 for a verified signature: the evidence bundle,
// the sealed documents (stored encrypted), the contract, the offer signed,
// the customer's push in the same transaction, then the operator event.
// It returns the contract id. Errors: Unavailable (the TSA or pdfservice
// failed; the signature stays verified and a retried M2 completes it),
// Conflict (completed concurrently).
func (s *Service) complete(ctx context.Context, in *sqlstore.SealInput) (string, error) {
	const op = "signing.complete"
	z := s.cfg.Sealing
	g, o, ev, docs, toks := in.Signature, in.Offer, in.Data, in.Documents, in.Tokens
	bundle := Evidence{Version: EvidenceVersion, SignatureID: g.ID, OfferID: o.ID, CustomerID: g.CustomerID, UserName: g.Username,
		PublicKey: g.PublicKey, M1Raw: ev[dataM1Raw], M1SignedData: ev[dataM1Signed], M1Hashes: ev[dataM1Hashes], M2: ev[dataM2Request],
		CustomerSignature: ev[dataM2Signature], CustomerSignatureHash: g.CustomerSignatureHash,
		SignedTS3: ev[dataM2SignedTS3], Timestamps: map[string][]byte{}}
	var m2 M2
	if json.Unmarshal(ev[dataM2Request], &m2) == nil {
		bundle.Algorithm = m2.Algorithm
	}
	for _, t := range toks {
		bundle.Timestamps[string(t.Purpose)] = t.Token
	}
	for _, d := range docs {
		bundle.Documents = append(bundle.Documents, EvidenceDoc{Name: d.Name, SHA256: d.SHA256})
	}
	bundleJSON, err := json.MarshalIndent(&bundle, "", "  ")
	if err != nil {
		return "", esign.E(op, err)
	}
	now := s.cfg.Now().UTC()
	contract := &esign.Contract{ID: esign.NewID(), CustomerID: g.CustomerID, OfferID: o.ID, ExternalRef: o.ExternalRef,
		Title: o.Title, Status: esign.ContractActive, SignedAt: now}
	var hookDocs []customize.Document
	for _, d := range docs {
		hookDocs = append(hookDocs, customize.Document{Name: d.Name, Size: d.Size, SHA256: d.SHA256})
	}
	var metadata map[string]string // the bank's, added in the seal's own update (never to the signed bytes)
	if z.Hooks != nil {
		if metadata, err = z.Hooks.SignatureVerified(ctx, customize.SignatureVerified{SignatureID: g.ID, OfferID: o.ID,
			ContractID: contract.ID, CustomerID: g.CustomerID, ExternalRef: o.ExternalRef, Title: o.Title, Username: g.Username,
			CustomerSignatureHash: g.CustomerSignatureHash, OfferData: o.HookData, Documents: hookDocs}); err != nil {
			return "", esign.E(op, err)
		}
	}
	var stored []string // what this attempt stored, removed again if it fails
	defer func() {
		if stored != nil {
			s.discard(ctx, contract.ID, stored)
		}
	}()
	sealed, levels, err := s.sealDocuments(ctx, docs, contract, g, bundleJSON, metadata, now)
	for _, nd := range sealed {
		if nd != nil {
			stored = append(stored, nd.StorageKey)
		}
	}
	if err != nil {
		return "", esign.E(op, err)
	}
	for _, level := range levels {
		contract.SealLevel = string(lowerLevel(pades.Level(contract.SealLevel), level))
	}
	evKey := "evidence/" + contract.ID + ".json"
	if _, err := z.Docs.Put(ctx, evKey, bytes.NewReader(bundleJSON)); err != nil {
		return "", esign.E(op, err)
	}
	stored = append(stored, evKey)
	err = s.db.InTx(ctx, func(tx *sqlstore.Tx) error {
		// o is the offer as read before the seal: its version guards the
		// change as a re-read inside the transaction would.
		signed, err := tx.MoveOffer(ctx, o, esign.OfferSigned, "")
		if err != nil {
			return err
		}
		if err := tx.CreateContract(ctx, contract); err != nil {
			return err
		}
		if z.Changes != nil {
			if err := z.Changes.OfferChanged(ctx, tx, signed); err != nil {
				return err
			}
			if err := z.Changes.ContractChanged(ctx, tx, contract); err != nil {
				return err
			}
		}
		if err := tx.CreateDocuments(ctx, sealed); err != nil {
			return err
		}
		if err := tx.CreateAttachment(ctx, &esign.Attachment{ContractID: contract.ID, Name: "evidence.json",
			ContentType: "application/json", Size: int64(len(bundleJSON)), SHA256: hex.EncodeToString(sha(bundleJSON)),
			StorageKey: evKey}); err != nil {
			return err
		}
		done := esign.SignatureCompleted
		if _, err := tx.UpdateSignature(ctx, g.ID, esign.SignatureUpdate{Status: &done, CompletedAt: &now}); err != nil {
			return err
		}
		if g.AppID != "" && in.FcmToken != "" {
			c := in.Customer
			if _, err := z.Queue.Enqueue(ctx, tx.SQLTx(), jobs.Notification{Kind: notify.ContractReady, Channel: notify.Push,
				Lang: notify.ParseLang(c.Locale), To: in.FcmToken, Params: notify.Params{CustomerName: c.Name, OfferTitle: o.Title},
				Data: map[string]string{"event": "contract_ready", "contractId": contract.ID},
				Key:  "contract-ready-" + contract.ID}); err != nil {
				return err
			}
		}
		return nil
	})
	if errors.Is(err, sqlstore.ErrCommitUncertain) {
		// The contract may be committed with these files: keep them. If
		// it was not, the retried seal stores new ones and these stay
		// unreferenced (docs/reliability.md).
		stored = nil
	}
	if err != nil {
		return "", esign.E(op, err)
	}
	stored = nil // committed: the files are the contract's
	if z.Hooks != nil {
		z.Hooks.ContractSealed(ctx, customize.ContractSealed{ContractID: contract.ID, OfferID: o.ID, CustomerID: g.CustomerID,
			ExternalRef: o.ExternalRef, Title: o.Title, SealLevel: contract.SealLevel, OfferData: o.HookData, Documents: hookDocs})
	}
	if z.Events != nil {
		// The contract is committed; a lost event is visible in the
		// operator UI's contract list and does not undo the signing.
		_ = z.Events.Publish(ctx, z.Stream, "contract.signed", map[string]string{"contractId": contract.ID,
			"offerId": o.ID, "customerId": g.CustomerID, "signatureId": g.ID})
	}
	return contract.ID, nil
}

// discard removes the files a failed seal attempt stored (disk full, the
// TSA or pdfservice down, the transaction failed), unless the contract
// exists after all (a commit whose answer was lost): a retry stores new
// ones under a new contract id.
func (s *Service) discard(ctx context.Context, contractID string, keys []string) {
	ctx = context.WithoutCancel(ctx)
	if _, err := s.db.GetContract(ctx, contractID); !esign.IsKind(err, esign.NotFound) {
		return
	}
	for _, k := range keys {
		_ = s.cfg.Sealing.Docs.Delete(ctx, k)
	}
}

// lowerLevel is the lower of two PAdES levels; an empty a is none yet.
func lowerLevel(a, b pades.Level) pades.Level {
	order := []pades.Level{pades.LevelBB, pades.LevelBT, pades.LevelBLT, pades.LevelBLTA}
	if a == "" || slices.Index(order, b) < slices.Index(order, a) {
		return b
	}
	return a
}

// BatchSigner is a pades.CMSSigner that also signs several digests in one
// call (seal.Client: one RPC to pdfservice for all of a contract's
// documents instead of one each).
type BatchSigner interface {
	pades.CMSSigner
	SignDigests(ctx context.Context, digests [][]byte) ([][]byte, error)
}

// sealDocuments seals the offer documents into contract documents, in
// their order, with the PAdES level each reached. With a BatchSigner and
// more than one document they are sealed side by side and their digests
// signed in one call (digestBatch). On an error the documents stored so
// far are returned with it, so that the caller can remove them.
func (s *Service) sealDocuments(ctx context.Context, docs []*esign.Document, contract *esign.Contract, g *esign.Signature,
	bundle []byte, metadata map[string]string, now time.Time) ([]*esign.Document, []pades.Level, error) {
	sealed := make([]*esign.Document, len(docs))
	levels := make([]pades.Level, len(docs))
	bs, ok := s.cfg.Sealing.Seal.CMS.(BatchSigner)
	if !ok || len(docs) < 2 {
		for i, d := range docs {
			nd, level, err := s.sealDocument(ctx, d, contract, g, bundle, metadata, now, nil)
			if err != nil {
				return sealed, nil, err
			}
			sealed[i], levels[i] = nd, level
		}
		return sealed, levels, nil
	}
	b := &digestBatch{cms: bs, open: len(docs)}
	errs := make([]error, len(docs))
	var wg sync.WaitGroup
	for i, d := range docs {
		wg.Go(func() {
			one := &batchMember{b: b}
			defer one.leave(ctx)
			sealed[i], levels[i], errs[i] = s.sealDocument(ctx, d, contract, g, bundle, metadata, now, one)
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil { // the first document's error, as when sealed one by one
			return sealed, nil, err
		}
	}
	return sealed, levels, nil
}

// digestBatch collects the first digest of each document of one contract
// and signs them in one BatchSigner call once every document has asked or
// left (failed before it asked).
type digestBatch struct {
	cms   BatchSigner
	mu    sync.Mutex
	open  int // documents that have neither asked nor left
	calls []*digestCall
}

type digestCall struct {
	digest, der []byte
	err         error
	done        chan struct{}
}

// batchMember is one document's pades.CMSSigner of a digestBatch.
type batchMember struct {
	b     *digestBatch
	asked bool
}

// SignDigest waits for the batch with the document's first digest; a
// second one (the seal made again at B-T) is signed on its own.
func (m *batchMember) SignDigest(ctx context.Context, digest []byte) ([]byte, error) {
	if m.asked {
		return m.b.cms.SignDigest(ctx, digest)
	}
	m.asked = true
	c := &digestCall{digest: digest, done: make(chan struct{})}
	m.b.arrive(ctx, c)
	select {
	case <-c.done:
		return c.der, c.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// leave takes a document that never asked out of the batch, so that the
// others do not wait for it.
func (m *batchMember) leave(ctx context.Context) {
	if !m.asked {
		m.asked = true
		m.b.arrive(ctx, nil)
	}
}

// arrive adds c (nil: a document leaving) and, when it was the last one
// awaited, signs the batch.
func (b *digestBatch) arrive(ctx context.Context, c *digestCall) {
	b.mu.Lock()
	if c != nil {
		b.calls = append(b.calls, c)
	}
	b.open--
	var calls []*digestCall
	if b.open == 0 {
		calls = b.calls
	}
	b.mu.Unlock()
	if len(calls) == 0 {
		return
	}
	digests := make([][]byte, len(calls))
	for i, c := range calls {
		digests[i] = c.digest
	}
	ders, err := b.cms.SignDigests(ctx, digests)
	if err == nil && len(ders) != len(calls) {
		err = esign.Errorf("signing.digestBatch", esign.Unavailable, "%d signatures for %d digests", len(ders), len(calls))
	}
	for i, c := range calls {
		if c.err = err; err == nil {
			c.der = ders[i]
		}
		close(c.done)
	}
}

// sealDocument seals one offer document into a contract document and
// returns it with the PAdES level reached. cms, when not nil, replaces the
// seal's CMS signer.
func (s *Service) sealDocument(ctx context.Context, d *esign.Document, contract *esign.Contract, g *esign.Signature,
	bundle []byte, metadata map[string]string, now time.Time, cms pades.CMSSigner) (*esign.Document, pades.Level, error) {
	z := s.cfg.Sealing
	r, err := z.Docs.Open(ctx, d.StorageKey)
	if err != nil {
		return nil, "", err
	}
	in, err := io.ReadAll(io.LimitReader(r, MaxDocumentSize+1))
	r.Close()
	if err != nil {
		return nil, "", err
	}
	if len(in) > MaxDocumentSize {
		return nil, "", esign.E("signing.sealDocument", esign.Invalid, "the offer document is too large")
	}
	out, err := os.CreateTemp("", "esign-seal-*.pdf")
	if err != nil {
		return nil, "", err
	}
	defer os.Remove(out.Name())
	defer out.Close()
	opt := z.Seal
	if cms != nil {
		opt.CMS = cms
	}
	lines := []string{
		"Signed by " + g.Username + " (M1/M2, " + now.Format(time.RFC3339) + ")",
		"Customer signature hash (SHA-256): " + g.CustomerSignatureHash}
	if z.Line != nil {
		if l := z.Line(contract.ID); l != "" {
			lines = append([]string{l}, lines...)
		}
	}
	opt.Prepare = pades.PrepareOptions{Time: now, Reason: "Signed by the customer; sealed by the bank",
		Appearance: &pades.Appearance{Rect: [4]float64{36, 36, 576, 72}, FontSize: 7, Lines: lines, JPEG: z.Logo},
		Attachments: []pades.Attachment{{Name: "evidence.json", Description: "Customer signature evidence",
			MIMEType: "application/json", Data: bundle}}}
	log := z.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if len(metadata) > 0 {
		// The bank's metadata: new entries of the information dictionary
		// and the same as an embedded JSON file, both in the seal's update.
		md, err := json.MarshalIndent(metadata, "", "  ")
		if err != nil {
			return nil, "", err
		}
		opt.Prepare.Attachments = append(opt.Prepare.Attachments, pades.Attachment{Name: BankMetadataName,
			Description: "Added by the bank's signature_verified hook", MIMEType: "application/json", Data: md})
		opt.Prepare.Info = metadata
	}
	err = pades.Sign(ctx, bytes.NewReader(in), int64(len(in)), out, opt)
	if errors.Is(err, pades.ErrInfoExists) {
		// The document has an entry of that name: changing it would change
		// what the customer saw. Kept in bank-metadata.json only.
		log.Warn("the signature_verified hook's metadata names an information entry the document has: not added there",
			"contract", contract.ID, "document", d.Name, "reason", err.Error())
		opt.Prepare.Info = nil
		if err = out.Truncate(0); err == nil {
			if _, err = out.Seek(0, io.SeekStart); err == nil {
				err = pades.Sign(ctx, bytes.NewReader(in), int64(len(in)), out, opt)
			}
		}
	}
	if errors.Is(err, pades.ErrNoRevocation) && (opt.Level == pades.LevelBLT || opt.Level == pades.LevelBLTA) {
		// B-LT/B-LTA when the chain allows: without revocation data the
		// seal is made at B-T (the signature time-stamp still dates it),
		// said in the log with the certificate that lacks it.
		log.Warn("seal made at B-T instead of "+string(opt.Level)+": no revocation data for a certificate (configure seal.crl_files or seal.ocsp_files)",
			"contract", contract.ID, "document", d.Name, "reason", err.Error())
		if err = out.Truncate(0); err == nil {
			if _, err = out.Seek(0, io.SeekStart); err == nil {
				opt.Level = pades.LevelBT
				err = pades.Sign(ctx, bytes.NewReader(in), int64(len(in)), out, opt)
			}
		}
	}
	if err != nil {
		return nil, "", err
	}
	if _, err := out.Seek(0, io.SeekStart); err != nil {
		return nil, "", err
	}
	h := newHashReader(out)
	key := "contracts/" + contract.ID + "/" + esign.NewID() + ".pdf"
	n, err := z.Docs.Put(ctx, key, h)
	if err != nil {
		return nil, "", err
	}
	level := opt.Level
	if level == "" {
		level = pades.LevelBB
	}
	return &esign.Document{CustomerID: g.CustomerID, ContractID: contract.ID, Kind: esign.DocumentContract, Name: d.Name,
		ContentType: "application/pdf", Size: n, SHA256: h.sum(), StorageKey: key, Encrypted: true}, level, nil
}

// hashReader hashes what is read through it.
type hashReader struct {
	r io.Reader
	h hash.Hash
}

func newHashReader(r io.Reader) *hashReader { return &hashReader{r: r, h: sha256.New()} }

func (h *hashReader) Read(b []byte) (int, error) {
	n, err := h.r.Read(b)
	h.h.Write(b[:n])
	return n, err
}

func (h *hashReader) sum() string { return hex.EncodeToString(h.h.Sum(nil)) }

// SealSignature runs Phase 5 for a verified signature (the seal job of
// Sealing.Jobs). A completed signature is left as it is. Errors: Invalid
// (unknown signature, not verified, or no sealing configured),
// Unavailable (the TSA or pdfservice failed: retry).
func (s *Service) SealSignature(ctx context.Context, signatureID string) error {
	const op = "signing.SealSignature"
	if s.cfg.Sealing == nil {
		return esign.E(op, esign.Invalid, "sealing is not configured")
	}
	in, err := s.db.GetSealInput(ctx, signatureID)
	if esign.IsKind(err, esign.NotFound) {
		return esign.E(op, esign.Invalid, "no such signature")
	}
	if err != nil {
		return esign.E(op, err)
	}
	switch g := in.Signature; g.Status {
	case esign.SignatureCompleted:
		return nil
	case esign.SignatureVerified:
	default:
		return esign.Errorf(op, esign.Invalid, "the signature is %s, not verified", g.Status)
	}
	if _, err := s.complete(ctx, in); err != nil {
		if esign.IsKind(err, esign.Conflict) {
			// Completed concurrently (a retried job racing the first).
			if g, gerr := s.db.GetSignature(ctx, signatureID); gerr == nil && g.Status == esign.SignatureCompleted {
				return nil
			}
		}
		return esign.E(op, err)
	}
	return nil
}

// finish runs Phase 5 when it is configured to run in the request and
// fills the result.
func (s *Service) finish(ctx context.Context, g *esign.Signature, r *M2Result) (*M2Result, error) {
	switch {
	case g.Status == esign.SignatureCompleted:
		cs, err := s.db.ListContracts(ctx, esign.ContractFilter{OfferID: g.OfferID, Page: esign.Page{Limit: 1}})
		if err != nil {
			return nil, err
		}
		if len(cs) > 0 {
			r.ContractID = cs[0].ID
		}
	case g.Status == esign.SignatureVerified && s.cfg.Sealing != nil && s.cfg.Sealing.Jobs == nil:
		in, err := s.db.GetSealInput(ctx, g.ID)
		if err != nil {
			return nil, err
		}
		id, err := s.complete(ctx, in)
		if err != nil {
			return nil, err
		}
		r.ContractID, r.Status = id, esign.SignatureCompleted
	}
	return r, nil
}
