package signing

import (
	"bytes"
	"context"
	"crypto"
	"crypto/sha256"
	"crypto/subtle"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"slices"
	"time"

	"esign/internal/customers"
	"esign/internal/esign"
	"esign/internal/protocol"
	"esign/internal/sqlstore"
	"esign/internal/tsa"
)

// TwoFactor is the customer service's part that signing uses: it sends the
// signing code after M1, checks it (with the customer's credentials)
// during M2 and spends it in the transaction of M2's verdict.
type TwoFactor interface {
	SendTwoFactorCode(ctx context.Context, signatureID string) error
	// FirstTwoFactorCode is SendTwoFactorCode for the signature M1 is
	// creating, stored and enqueued in M1's transaction (an error: a
	// refusal, nothing written).
	FirstTwoFactorCode(ctx context.Context, g *esign.Signature, c *esign.Customer, docHashes []string) (*customers.FirstCode, error)
	CheckTwoFactor(ctx context.Context, p *customers.Principal, signatureID, username, pw, code string, m customers.Meta) (*customers.SecondFactor, error)
	// CheckSigningFactor is CheckTwoFactor with what M2 read already.
	CheckSigningFactor(ctx context.Context, p *customers.Principal, g *esign.Signature, c *esign.Customer, docHashes []string,
		username, pw, code string, m customers.Meta) (*customers.SecondFactor, error)
	SpendTwoFactor(ctx context.Context, tx *sqlstore.Tx, f *customers.SecondFactor) error
}

var _ TwoFactor = (*customers.Service)(nil)

// Config is the signing policy.
type Config struct {
	// Algorithms are the accepted signature algorithms; empty: all of
	// Algorithms.
	Algorithms []string
	// WebAlgorithms are the algorithms a key made in the customer web UI
	// may use (a session of the customer's web app record); each must be
	// in Algorithms. Empty: ECDSA P-256 only (mobile.web_signing_algorithms).
	WebAlgorithms []string
	// MaxSpan bounds TS3 − TS1 (default 10 minutes).
	MaxSpan time.Duration
	// TSARoots and TSAIntermediates are the trust for the time-stamp
	// tokens the device obtained.
	TSARoots         *x509.CertPool
	TSAIntermediates *x509.CertPool
	// Sealing, when set, runs Phase 5 after an accepted M2; nil: the
	// signature stays verified.
	Sealing *Sealing
	// Feed, optional, records the verdict of an M2 (signature.verified or
	// signature.rejected) in the operators' live feed, inside the
	// verdict's transaction (*offers.Emitter).
	Feed LiveFeed
	// Now is the clock of the times the service records (claims, M2,
	// the contract's signing); default time.Now. The time-stamps are the
	// TSA's.
	Now func() time.Time
}

// LiveFeed records an entry of the operators' live feed in the caller's
// transaction.
type LiveFeed interface {
	Live(ctx context.Context, tx *sqlstore.Tx, e *sqlstore.LiveEvent) error
}

// Service runs M1 and M2.
type Service struct {
	db  *sqlstore.DB
	tfa TwoFactor
	cfg Config
	// chains remembers the TSA chains that verified: every M1 and M2
	// carries tokens of the same TSA (tsa.ChainCache).
	chains *tsa.ChainCache
}

// New returns a service. Errors: Invalid (missing dependency, unknown
// algorithm).
func New(db *sqlstore.DB, tfa TwoFactor, cfg Config) (*Service, error) {
	const op = "signing.New"
	if db == nil || tfa == nil || cfg.TSARoots == nil {
		return nil, esign.E(op, esign.Invalid, "database, two-factor service and TSA roots are required")
	}
	if len(cfg.Algorithms) == 0 {
		cfg.Algorithms = Algorithms
	}
	for _, a := range cfg.Algorithms {
		if !slices.Contains(Algorithms, a) {
			return nil, esign.Errorf(op, esign.Invalid, "unknown signature algorithm %q", a)
		}
	}
	if len(cfg.WebAlgorithms) == 0 {
		cfg.WebAlgorithms = []string{ECDSAP256}
	}
	for _, a := range cfg.WebAlgorithms {
		if !slices.Contains(cfg.Algorithms, a) {
			return nil, esign.Errorf(op, esign.Invalid, "web signature algorithm %q is not an accepted algorithm", a)
		}
	}
	if z := cfg.Sealing; z != nil && (z.Seal.CMS == nil || z.Docs == nil || z.Queue == nil) {
		return nil, esign.E(op, esign.Invalid, "sealing needs a CMS signer, the document store and the queue")
	}
	if cfg.MaxSpan <= 0 {
		cfg.MaxSpan = 10 * time.Minute
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Service{db: db, tfa: tfa, cfg: cfg, chains: tsa.NewChainCache()}, nil
}

// The evidence kinds stored as SignatureData.
const (
	dataM1Raw       = "m1_raw"
	dataM1Signed    = "m1_signed"
	dataM1Hashes    = "m1_offer_hashes"
	dataM2Request   = "m2_request"
	dataM2Signature = "m2_customer_signature"
	dataM2SignedTS3 = "m2_signed_ts3"
)

// M1 is the key-registration message.
type M1 struct {
	OfferID    string `json:"offerId"`
	PublicKey  []byte `json:"publicKey"` // SubjectPublicKeyInfo DER
	Algorithm  string `json:"algorithm"`
	SignedData []byte `json:"signedData"` // SIGNATURE1 over M1Raw
	TS1        []byte `json:"ts1"`        // RFC 3161 token over TS1Data
}

// M1Result answers M1.
type M1Result struct {
	SignatureID string `json:"signatureId"`
}

func sha(b []byte) []byte { h := sha256.Sum256(b); return h[:] }

func (s *Service) allowed(alg string) bool { return slices.Contains(s.cfg.Algorithms, alg) }

// allowedFor reports whether the principal's key may use alg: a key made
// in the customer web UI only an algorithm of WebAlgorithms.
func (s *Service) allowedFor(p *customers.Principal, alg string) bool {
	if p.App != nil && p.App.Platform == customers.WebPlatform && !slices.Contains(s.cfg.WebAlgorithms, alg) {
		return false
	}
	return s.allowed(alg)
}

func (s *Service) verifyToken(der, data []byte) (*tsa.Token, error) {
	return tsa.VerifyToken(der, sha(data), crypto.SHA256, tsa.VerifyOptions{Roots: s.cfg.TSARoots,
		Intermediates: s.cfg.TSAIntermediates, Chains: s.chains})
}

// offerHashes returns the SHA-256 of each document of the offer, in
// order, as stored (hex) and decoded.
func offerHashes(ctx context.Context, tx interface {
	ListDocuments(context.Context, esign.DocumentFilter) ([]*esign.Document, error)
}, offerID string) ([]string, [][]byte, error) {
	docs, err := tx.ListDocuments(ctx, esign.DocumentFilter{OfferID: offerID, Page: esign.Page{Limit: maxOfferDocuments}})
	if err != nil {
		return nil, nil, err
	}
	hexes := make([]string, len(docs))
	for i, d := range docs {
		hexes[i] = d.SHA256
	}
	hs, err := decodeHashes(hexes)
	return hexes, hs, err
}

// maxOfferDocuments is how many documents of an offer the checks read.
const maxOfferDocuments = 1000

// decodeHashes decodes the hex SHA-256 of the documents, at most
// maxOfferDocuments of them.
func decodeHashes(hexes []string) ([][]byte, error) {
	out := make([][]byte, min(len(hexes), maxOfferDocuments))
	for i := range out {
		var err error
		if out[i], err = hex.DecodeString(hexes[i]); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func encodeHashes(hs [][]byte) ([]byte, error) {
	l := make(protocol.List, len(hs))
	for i, h := range hs {
		l[i] = protocol.Bytes(h)
	}
	return protocol.Encode(l)
}

func dataRow(sigID, kind string, b []byte) *esign.SignatureData {
	return &esign.SignatureData{SignatureID: sigID, Kind: kind, Data: b, SHA256: hex.EncodeToString(sha(b))}
}

func tokenRow(sigID string, p esign.TimestampPurpose, t *tsa.Token) *esign.TimestampToken {
	name := ""
	if t.Signer != nil {
		name = t.Signer.Subject.String()
	}
	return &esign.TimestampToken{SignatureID: sigID, Purpose: p, HashAlgorithm: "sha256",
		MessageImprint: t.Info.HashedMessage, Token: t.DER, GenTime: t.Info.GenTime,
		SerialNumber: t.Info.SerialNumber.String(), TSAName: name}
}

// M1 registers the device key for the customer's offer, which must be
// opened: it verifies SIGNATURE1 and TS1, stores the signature with its
// evidence, moves the offer to signing and sends the 2FA code. Sending the
// same M1 again resends the code. Another key's M1 supersedes an abandoned
// pending signature — its TS1 older than MaxSpan and no live M2 holding it
// (ClaimTimeout) — which is rejected with SupersededCode. A customer UI
// session must have read every document to the end first. Errors:
// NotFound (not the customer's offer), Invalid (algorithm_refused,
// algorithm, key_invalid, signature1, ts1_invalid, offer_state, username,
// not_read), Conflict (signature_pending: another signature is in
// progress; or the offer changed), TooMany (sms_limit).
func (s *Service) M1(ctx context.Context, p *customers.Principal, m *M1) (*M1Result, error) {
	const op = "signing.M1"
	if !s.allowedFor(p, m.Algorithm) {
		return nil, esign.WithCode(op, esign.Invalid, "algorithm_refused", "the signature algorithm is not accepted")
	}
	pub, err := ParsePublicKey(m.PublicKey, m.Algorithm)
	if err != nil {
		return nil, esign.E(op, err)
	}
	c := p.Customer
	if c.Username == "" {
		return nil, esign.WithCode(op, esign.Invalid, "username", "the customer has no user name yet")
	}
	// The offer with its customer, whose phone and language the code's
	// SMS uses.
	o, cust, err := s.db.GetOfferCustomer(ctx, m.OfferID)
	if esign.IsKind(err, esign.NotFound) || (err == nil && o.CustomerID != c.ID) {
		return nil, esign.E(op, esign.NotFound, "offer not found")
	}
	if err != nil {
		return nil, esign.E(op, err)
	}
	if err := s.checkReadToEnd(ctx, p, o.ID); err != nil {
		return nil, esign.E(op, err)
	}
	raw, err := M1Raw(m.PublicKey, c.Username, m.Algorithm, o.ID)
	if err != nil {
		return nil, esign.E(op, err)
	}
	if !Verify(pub, m.Algorithm, raw, m.SignedData) {
		return nil, esign.WithCode(op, esign.Invalid, "signature1", "SIGNATURE1 does not verify")
	}
	tsData, err := TS1Data(m.SignedData, raw)
	if err != nil {
		return nil, esign.E(op, err)
	}
	tok, err := s.verifyToken(m.TS1, tsData)
	if err != nil {
		return nil, &esign.Error{Op: op, Kind: esign.Invalid, Code: "ts1_invalid", Msg: "TS1 is not a valid time-stamp of the M1 data", Err: err}
	}
	pemKey := string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: m.PublicKey}))
	if o.State == esign.OfferSigning {
		// A repeated M1: the same signed data resends the code.
		g, err := s.pending(ctx, o.ID)
		if err != nil {
			return nil, esign.E(op, err)
		}
		if g == nil || g.CustomerID != c.ID || !s.sameData(ctx, g.ID, dataM1Signed, m.SignedData) {
			// Another key's signing: superseded once it can no longer
			// end in an acceptable M2 (its key lost with a private
			// window or another browser), refused while it still can.
			claimedAt, ok, err := s.claimAbandoned(ctx, g, c.ID)
			if err != nil {
				return nil, esign.E(op, err)
			}
			if !ok {
				return nil, esign.WithCode(op, esign.Conflict, "signature_pending", "another signature of the offer is in progress")
			}
			return s.register(ctx, op, p, o, cust, m, raw, pemKey, tok, &superseded{g: g, claimedAt: claimedAt})
		}
		if s.staleClaim(g) {
			// The M2 that claimed it died without a verdict: hand the
			// signature back, so it waits for its code and its M2 again.
			if err := s.db.ReleaseSignature(ctx, g.ID, g.UpdatedAt, s.cfg.Now()); err != nil {
				return nil, esign.E(op, err)
			}
		}
		if err := s.tfa.SendTwoFactorCode(ctx, g.ID); err != nil {
			return nil, esign.E(op, err)
		}
		return &M1Result{SignatureID: g.ID}, nil
	}
	if o.State != esign.OfferOpened {
		return nil, esign.WithCode(op, esign.Invalid, "offer_state", "the offer cannot be signed in state "+string(o.State))
	}
	return s.register(ctx, op, p, o, cust, m, raw, pemKey, tok, nil)
}

// superseded is an abandoned signature a new M1 replaces, claimed at
// claimedAt.
type superseded struct {
	g         *esign.Signature
	claimedAt time.Time
}

// SupersededCode is the reject code of a signature that a new M1 of the
// offer replaced after it was abandoned.
const SupersededCode = "superseded"

// claimAbandoned claims the offer's pending signature g for a new M1 when
// it was abandoned: its TS1 is older than MaxSpan — so no M2 can pass the
// ts_window check any more — and no live M2 holds it (M2's claim rules: a
// claim is taken over once older than ClaimTimeout). It reports whether g
// was claimed, and when.
func (s *Service) claimAbandoned(ctx context.Context, g *esign.Signature, customerID string) (time.Time, bool, error) {
	now := s.cfg.Now().UTC()
	if g == nil || g.CustomerID != customerID || now.Before(g.M1At.Add(s.cfg.MaxSpan)) {
		return time.Time{}, false, nil
	}
	ok, err := s.db.ClaimSignature(ctx, g.ID, now, now.Add(-ClaimTimeout))
	return now, ok, err
}

// register stores a new signature for M1 with its evidence, moves the
// offer to signing (rejecting the superseded signature old in the same
// transaction, when there is one) and sends the 2FA code to cust, in the
// same transaction: a code that cannot be sent (no_phone, sms_limit)
// leaves the signature stored and is answered after the commit, and the
// same M1 sent again resends it.
func (s *Service) register(ctx context.Context, op string, p *customers.Principal, o *esign.Offer, cust *esign.Customer, m *M1,
	raw []byte, pemKey string, tok *tsa.Token, old *superseded) (*M1Result, error) {
	c := p.Customer
	if old != nil {
		// Without the transaction below the claim goes back and the old
		// signature stays pending; after it this is a no-op (rejected).
		defer func() { _ = s.db.ReleaseSignature(context.WithoutCancel(ctx), old.g.ID, old.claimedAt, s.cfg.Now()) }()
	}
	g := &esign.Signature{OfferID: o.ID, CustomerID: c.ID, AppID: p.App.ID, Status: esign.SignatureM1Received,
		PublicKey: pemKey, Username: c.Username, M1At: tok.Info.GenTime}
	var refused error
	err := s.db.InTx(ctx, func(tx *sqlstore.Tx) error {
		version := o.Version
		if old != nil {
			st, code, reason := esign.SignatureRejected, SupersededCode, "a new M1 replaced the abandoned signature"
			if _, err := tx.UpdateSignature(ctx, old.g.ID, esign.SignatureUpdate{Status: &st, RejectCode: &code, RejectReason: &reason}); err != nil {
				return err
			}
			u, err := tx.UpdateOfferState(ctx, o.ID, version, esign.OfferOpened, "signature superseded")
			if err != nil {
				return err
			}
			version = u.Version
		}
		if _, err := tx.UpdateOfferState(ctx, o.ID, version, esign.OfferSigning, ""); err != nil {
			return err
		}
		hexes, hs, err := offerHashes(ctx, tx, o.ID)
		if err != nil {
			return err
		}
		hb, err := encodeHashes(hs)
		if err != nil {
			return err
		}
		// The code is bound to the signature: its id first.
		g.ID = esign.NewID()
		code, err := s.tfa.FirstTwoFactorCode(ctx, g, cust, hexes)
		var codes []*esign.VerificationToken
		if err != nil {
			refused = err // the signature is stored without a code; M1 answers the refusal
		} else {
			codes = append(codes, code.Token)
		}
		// The signature, its evidence, TS1 and the code in one statement.
		if err := tx.CreateSignatureEvidence(ctx, g,
			[]*esign.SignatureData{dataRow(g.ID, dataM1Raw, raw), dataRow(g.ID, dataM1Signed, m.SignedData), dataRow(g.ID, dataM1Hashes, hb)},
			[]*esign.TimestampToken{tokenRow(g.ID, esign.TimestampTS1, tok)}, codes...); err != nil {
			return err
		}
		if code == nil {
			return nil
		}
		return code.Enqueue(ctx, tx)
	})
	if err != nil {
		return nil, esign.E(op, err)
	}
	if refused != nil {
		return nil, esign.E(op, refused)
	}
	return &M1Result{SignatureID: g.ID}, nil
}

// checkReadToEnd refuses a signing from the customer UI (a session of the
// customer's web app record) until the customer read every document of
// the offer to the end in its viewer (customers.ActivityReadToEnd): the
// evidence of review. The mobile app, whose API has no such record
// (docs/mobile-api.md), is not held to it. Errors: Invalid (not_read).
func (s *Service) checkReadToEnd(ctx context.Context, p *customers.Principal, offerID string) error {
	if p.App == nil || p.App.Platform != customers.WebPlatform {
		return nil
	}
	docs, err := s.db.ListDocuments(ctx, esign.DocumentFilter{OfferID: offerID, Page: esign.Page{Limit: 1000}})
	if err != nil {
		return err
	}
	read, err := customers.ReadToEnd(ctx, s.db, p.Customer.ID, offerID)
	if err != nil {
		return err
	}
	for _, d := range docs {
		if _, ok := read[d.ID]; !ok {
			return esign.WithCode("signing.checkReadToEnd", esign.Invalid, "not_read",
				"every document of the offer must be read to the end before signing")
		}
	}
	return nil
}

// pending returns the offer's signature waiting for M2, or nil.
func (s *Service) pending(ctx context.Context, offerID string) (*esign.Signature, error) {
	for _, st := range []esign.SignatureStatus{esign.SignatureM1Received, esign.SignatureM2Received} {
		gs, err := s.db.ListSignatures(ctx, esign.SignatureFilter{OfferID: offerID, Status: st, Page: esign.Page{Limit: 1}})
		if err != nil {
			return nil, err
		}
		// An M2 claim without a verdict counts once it is stale: its
		// handler died, and a retried M2 takes it over.
		if len(gs) > 0 && (st == esign.SignatureM1Received || s.staleClaim(gs[0])) {
			return gs[0], nil
		}
	}
	return nil, nil
}

// staleClaim reports whether g is claimed by an M2 (m2_received, no
// verdict yet) whose handler has held it longer than ClaimTimeout.
func (s *Service) staleClaim(g *esign.Signature) bool {
	return g.Status == esign.SignatureM2Received && g.UpdatedAt.Before(s.cfg.Now().Add(-ClaimTimeout))
}

// evidence returns the signature's evidence by kind.
func (s *Service) evidence(ctx context.Context, sigID string) (map[string][]byte, error) {
	ds, err := s.db.ListSignatureData(ctx, sigID, esign.Page{Limit: 100})
	if err != nil {
		return nil, err
	}
	out := make(map[string][]byte, len(ds))
	for _, d := range ds {
		out[d.Kind] = d.Data
	}
	return out, nil
}

func (s *Service) sameData(ctx context.Context, sigID, kind string, b []byte) bool {
	ev, err := s.evidence(ctx, sigID)
	return err == nil && ev[kind] != nil && subtle.ConstantTimeCompare(sha(ev[kind]), sha(b)) == 1
}

// M2 is the signature message. Password is the customer's password: the
// second factor is checked together with the signature (the SMS code is
// SMSToken, which is also signed).
type M2 struct {
	Version               int      `json:"version"`
	SignatureID           string   `json:"signatureId"`
	OfferID               string   `json:"offerId"`
	Offers                [][]byte `json:"offers"` // SHA-256 of each offer document
	PublicKey             []byte   `json:"publicKey"`
	Algorithm             string   `json:"algorithm"`
	UserName              string   `json:"userName"`
	Password              string   `json:"password,omitempty"`
	SMSToken              string   `json:"smsToken"`
	DeviceInfo            string   `json:"deviceInfo"`
	Photo                 []byte   `json:"photo,omitempty"`
	CustomerSignatureHash []byte   `json:"customerSignatureHash"`
	SignedTS3             []byte   `json:"signedTs3"`
	TS2                   []byte   `json:"ts2"`
	TS3                   []byte   `json:"ts3"`
}

// M2Version is the protocol version M2 carries.
const M2Version = 1

// ClaimTimeout is how long an M2 being handled holds its signature: a
// claim older than this (its handler died) is taken over by a retried M2.
const ClaimTimeout = time.Minute

// M2Result answers an accepted M2.
type M2Result struct {
	SignatureID           string                `json:"signatureId"`
	Status                esign.SignatureStatus `json:"status"`
	CustomerSignatureHash string                `json:"customerSignatureHash"`
	ContractID            string                `json:"contractId,omitempty"`
}

// fields returns the customer-signature elements of the message.
func (m *M2) fields() *M2Fields {
	return &M2Fields{PublicKey: m.PublicKey, Algorithm: m.Algorithm, OfferID: m.OfferID, OfferHashes: m.Offers,
		UserName: m.UserName, SMSToken: m.SMSToken, DeviceInfo: m.DeviceInfo, Photo: m.Photo}
}

// requestBytes is the stored form of the message (without the password):
// a retried identical M2 has the same bytes.
func (m *M2) requestBytes() []byte {
	c := *m
	c.Password = ""
	b, _ := json.Marshal(&c)
	return b
}

// rejection is a failed Phase-4 check.
type rejection struct {
	code, reason string
}

// check is one line of the validation report.
type check struct {
	Name    string `json:"name"`
	OK      bool   `json:"ok"`
	Skipped bool   `json:"-"` // offline only: the data is not in the evidence
	Reason  string `json:"-"` // shown offline; the stored report keeps name and outcome

}

// M2 verifies the signature message of the customer's pending signature.
// Every Phase-4 check has its own code; the first failing one rejects the
// signature (recorded with a SignatureValidation, the offer returns to
// opened) and is returned as Invalid with that code: version, public_key,
// algorithm_refused, username, offer_hashes, offer_changed, signature1,
// ts1_invalid, ts2_invalid, ts3_invalid, signature_hash, signature2,
// ts_order, ts_window, sms_token (the SMS code is dead: entered wrongly
// too often, expired, used or replaced). A retried identical M2 returns
// the first answer again. Other errors, with nothing recorded and the
// signature still waiting for its M2: Invalid invalid_code (a mistyped SMS
// code with attempts left, esign.ErrorAttemptsLeft), NotFound,
// Unauthorized (wrong password), Conflict (another M2 for the offer is
// being handled, or a different M2 was already handled).
func (s *Service) M2(ctx context.Context, p *customers.Principal, m *M2, meta customers.Meta) (*M2Result, error) {
	const op = "signing.M2"
	if len(m.Photo) > MaxPhoto || len(m.DeviceInfo) > MaxDeviceInfo || len(m.Offers) > 1000 {
		return nil, esign.E(op, esign.Invalid, "the message is too large")
	}
	// The signature with its offer and customer in one read: the offer's
	// state and version, the customer's password and the user name the
	// checks below need.
	sc, err := s.db.GetSignatureContext(ctx, m.SignatureID)
	if esign.IsKind(err, esign.NotFound) || (err == nil && (sc.Signature.CustomerID != p.Customer.ID || sc.Signature.OfferID != m.OfferID)) {
		return nil, esign.E(op, esign.NotFound, "signature not found")
	}
	if err != nil {
		return nil, esign.E(op, err)
	}
	g, o := sc.Signature, sc.Offer
	req := m.requestBytes()
	// m2_received is a claim without a verdict: ClaimSignature below takes
	// it over once it is stale (its handler died) and refuses it while it
	// is fresh. Every other status has its verdict: replay it.
	if g.Status != esign.SignatureM1Received && g.Status != esign.SignatureM2Received {
		return s.replay(ctx, op, g, req)
	}
	if o.State != esign.OfferSigning {
		return nil, esign.WithCode(op, esign.Conflict, "offer_state", "the offer is not being signed")
	}
	// Claim the signature (m1_received → m2_received): of racing M2,
	// exactly one gets past this point. A claim a dead handler left is
	// taken over after ClaimTimeout.
	claimedAt := s.cfg.Now().UTC()
	claimed, err := s.db.ClaimSignature(ctx, g.ID, claimedAt, claimedAt.Add(-ClaimTimeout))
	if err != nil {
		return nil, esign.E(op, err)
	}
	if !claimed {
		return nil, esign.WithCode(op, esign.Conflict, "signature_state", "another M2 for the signature is being handled")
	}
	verdict := false
	defer func() {
		if !verdict { // no verdict (wrong password, a mistyped code, an outage): M2 may be sent again
			_ = s.db.ReleaseSignature(context.WithoutCancel(ctx), g.ID, claimedAt, s.cfg.Now())
		}
	}()
	var checks []check
	rej, ts, hash, docHashes := s.verifyM2(ctx, g, m, &checks)
	var factor *customers.SecondFactor
	if rej == nil {
		factor, err = s.tfa.CheckSigningFactor(ctx, p, g, sc.Customer, docHashes, m.UserName, m.Password, m.SMSToken, meta)
		left, limited := esign.ErrorAttemptsLeft(err)
		switch {
		case err == nil:
		case esign.ErrorCode(err) == "invalid_code" && limited && left > 0:
			// A mistyped code is no verdict: the customer corrects it
			// and sends a new M2 (the code is signed into it).
			return nil, esign.E(op, err)
		case esign.ErrorCode(err) == "invalid_code":
			rej = &rejection{"sms_token", esign.ErrorMessage(err)}
		default:
			return nil, esign.E(op, err)
		}
		checks = append(checks, check{Name: "sms_token", OK: rej == nil})
	}
	report, _ := json.Marshal(checks)
	now := s.cfg.Now().UTC()
	v := &esign.SignatureValidation{SignatureID: g.ID, Valid: rej == nil, Report: string(report)}
	for i, at := range []*time.Time{&v.TS1At, &v.TS2At, &v.TS3At} {
		if ts[i] != nil {
			*at = ts[i].Info.GenTime
		}
	}
	upd := esign.SignatureUpdate{M2At: &now}
	status := esign.SignatureVerified
	if rej != nil {
		status = esign.SignatureRejected
		v.Code, v.Reason = rej.code, rej.reason
		upd.RejectCode, upd.RejectReason = &rej.code, &rej.reason
	} else {
		h := hex.EncodeToString(hash)
		upd.CustomerSignatureHash = &h
	}
	upd.Status = &status
	var acts []*esign.Activity // written with the verdict's evidence
	if factor != nil {
		if a := factor.TakeActivity(); a != nil {
			acts = append(acts, a)
		}
	}
	err = s.db.InTx(ctx, func(tx *sqlstore.Tx) error {
		if factor != nil { // spent with the verdict, or not at all
			if err := s.tfa.SpendTwoFactor(ctx, tx, factor); err != nil {
				return err
			}
		}
		if rej != nil {
			if _, err := tx.UpdateOfferState(ctx, o.ID, o.Version, esign.OfferOpened, "signature rejected: "+rej.code); err != nil {
				return err
			}
		}
		if _, err := tx.UpdateSignature(ctx, g.ID, upd); err != nil {
			return err
		}
		if f := s.cfg.Feed; f != nil {
			e := &sqlstore.LiveEvent{Type: "signature.verified", OfferID: o.ID, CustomerID: g.CustomerID, SignatureID: g.ID,
				Title: o.Title}
			if rej != nil {
				e.Type, e.Detail = "signature.rejected", rej.code
			}
			if err := f.Live(ctx, tx, e); err != nil {
				return err
			}
		}
		rows := []*esign.SignatureData{dataRow(g.ID, dataM2Request, req)}
		if rej == nil {
			cs, err := protocol.Encode(customerSignature(m.fields(), m.TS2))
			if err != nil {
				return err
			}
			rows = append(rows, dataRow(g.ID, dataM2Signature, cs), dataRow(g.ID, dataM2SignedTS3, m.SignedTS3))
		}
		var toks []*esign.TimestampToken
		for i, t := range ts[1:] {
			if t != nil && rej == nil {
				toks = append(toks, tokenRow(g.ID, []esign.TimestampPurpose{esign.TimestampTS2, esign.TimestampTS3}[i], t))
			}
		}
		// The verdict with the M2 evidence, TS2, TS3 and the second
		// factor's activity: one statement.
		if err := tx.CreateVerdictEvidence(ctx, v, rows, toks, acts...); err != nil {
			return err
		}
		if z := s.cfg.Sealing; rej == nil && z != nil && z.Jobs != nil {
			if _, err := z.Jobs.EnqueueSeal(ctx, tx.SQLTx(), g.ID); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, esign.E(op, err)
	}
	verdict = true
	if rej != nil {
		return nil, esign.WithCode(op, esign.Invalid, rej.code, rej.reason)
	}
	g.Status, g.CustomerSignatureHash = status, hex.EncodeToString(hash)
	r, err := s.finish(ctx, g, &M2Result{SignatureID: g.ID, Status: status, CustomerSignatureHash: g.CustomerSignatureHash})
	if err != nil {
		return nil, esign.E(op, err)
	}
	return r, nil
}

// replay answers an M2 for a signature that is no longer waiting: the same
// message gets the first answer, another one a conflict.
func (s *Service) replay(ctx context.Context, op string, g *esign.Signature, req []byte) (*M2Result, error) {
	if !s.sameData(ctx, g.ID, dataM2Request, req) {
		return nil, esign.WithCode(op, esign.Conflict, "signature_state", "the signature was already handled")
	}
	if g.Status == esign.SignatureRejected {
		return nil, esign.WithCode(op, esign.Invalid, g.RejectCode, g.RejectReason)
	}
	r, err := s.finish(ctx, g, &M2Result{SignatureID: g.ID, Status: g.Status, CustomerSignatureHash: g.CustomerSignatureHash})
	if err != nil {
		return nil, esign.E(op, err)
	}
	return r, nil
}

// verifyM2 runs the Phase-4 checks in order and returns the first failure,
// the verified tokens (TS1, TS2, TS3), the customer signature hash and
// the hashes (hex, as stored) of the offer's documents the checks read.
func (s *Service) verifyM2(ctx context.Context, g *esign.Signature, m *M2, checks *[]check) (*rejection, [3]*tsa.Token, []byte, []string) {
	in := &phase4{publicKeyPEM: g.PublicKey, userName: g.Username, allowed: s.allowed, maxSpan: s.cfg.MaxSpan,
		tsa: tsa.VerifyOptions{Roots: s.cfg.TSARoots, Intermediates: s.cfg.TSAIntermediates, Chains: s.chains}}
	var docHashes []string
	if m.Version == M2Version {
		// Read only for a message of a known version: an unknown one is
		// refused before anything is read. The M1 evidence, TS1 and the
		// offer's documents come in one statement.
		ev, err := s.db.GetSignatureEvidence(ctx, g.ID, g.OfferID)
		if err != nil {
			in.offerHashesErr = err
		} else {
			in.m1Raw, in.m1Signed, in.m1Hashes = ev.Data[dataM1Raw], ev.Data[dataM1Signed], ev.Data[dataM1Hashes]
			in.ts1 = ev.TS1
			docHashes = ev.DocumentHashes
			in.offerHashes, in.offerHashesErr = decodeHashes(docHashes)
		}
	}
	rej, toks, hash := in.run(m, checks)
	return rej, toks, hash, docHashes
}

// phase4 is everything the Phase-4 checks read besides the M2 message:
// from the database when an M2 arrives (verifyM2), from a sealed
// contract's evidence bundle offline (VerifyEvidence). One implementation
// of the checks serves both.
type phase4 struct {
	publicKeyPEM   string // registered with M1
	userName       string // registered with M1
	m1Raw          []byte
	m1Signed       []byte
	m1Hashes       []byte   // the encoded offer hashes at M1; nil: not known (skips offer_changed when skipMissing)
	offerHashes    [][]byte // the SHA-256 of each offer document, in order
	offerHashesErr error    // the documents could not be read
	ts1            []byte   // DER
	allowed        func(alg string) bool
	maxSpan        time.Duration
	tsa            tsa.VerifyOptions
	// skipMissing: a check whose data is absent (m1Hashes of an old
	// evidence bundle) is reported as skipped instead of failing.
	skipMissing bool
}

// run runs the Phase-4 checks of m in their order, appending each outcome
// to checks; the first failing one ends the run and is returned.
func (in *phase4) run(m *M2, checks *[]check) (*rejection, [3]*tsa.Token, []byte) {
	var toks [3]*tsa.Token
	fail := func(code, reason string) (*rejection, [3]*tsa.Token, []byte) {
		*checks = append(*checks, check{Name: code, OK: false, Reason: reason})
		return &rejection{code, reason}, toks, nil
	}
	pass := func(code string) { *checks = append(*checks, check{Name: code, OK: true}) }
	verifyToken := func(der, data []byte) (*tsa.Token, error) {
		return tsa.VerifyToken(der, sha(data), crypto.SHA256, in.tsa)
	}
	if m.Version != M2Version {
		return fail("version", "unknown protocol version")
	}
	pass("version")
	if in.m1Raw == nil {
		return fail("evidence", "the M1 evidence is missing")
	}
	stored, _ := pem.Decode([]byte(in.publicKeyPEM))
	if stored == nil || !bytes.Equal(stored.Bytes, m.PublicKey) {
		return fail("public_key", "the public key is not the one registered with M1")
	}
	pass("public_key")
	raw, err := protocol.Decode(in.m1Raw)
	alg := ""
	if err == nil && len(raw) == 5 {
		if a, ok := raw[3].(protocol.String); ok {
			alg = string(a)
		}
	}
	if alg == "" || alg != m.Algorithm {
		return fail("algorithm", "the algorithm is not the one registered with M1")
	}
	if !in.allowed(alg) {
		return fail("algorithm_refused", "the signature algorithm is not accepted")
	}
	pass("algorithm")
	if m.UserName != in.userName {
		return fail("username", "the user name is not the one registered with M1")
	}
	pass("username")
	current := in.offerHashes
	if in.offerHashesErr != nil {
		return fail("offer_hashes", "the offer documents cannot be read")
	}
	if !slices.EqualFunc(current, m.Offers, bytes.Equal) {
		return fail("offer_hashes", "the document hashes do not match the offer")
	}
	pass("offer_hashes")
	if in.m1Hashes == nil && in.skipMissing {
		*checks = append(*checks, check{Name: "offer_changed", OK: true, Skipped: true,
			Reason: "the evidence does not hold the hashes of M1 (bundle version 1)"})
	} else if hb, err := encodeHashes(current); err != nil || !bytes.Equal(hb, in.m1Hashes) {
		return fail("offer_changed", "the offer documents changed after M1")
	} else {
		pass("offer_changed")
	}
	pub, err := ParsePublicKey(m.PublicKey, alg)
	if err != nil {
		return fail("public_key", "the registered public key is not usable")
	}
	if !Verify(pub, alg, in.m1Raw, in.m1Signed) {
		return fail("signature1", "SIGNATURE1 does not verify with the registered key")
	}
	pass("signature1")
	ts1Data, _ := TS1Data(in.m1Signed, in.m1Raw)
	if in.ts1 == nil {
		return fail("ts1_invalid", "TS1 is missing")
	}
	if toks[0], err = verifyToken(in.ts1, ts1Data); err != nil {
		return fail("ts1_invalid", "TS1 is not a valid time-stamp of the M1 data")
	}
	pass("ts1_invalid")
	f := m.fields()
	ts2Data, err := TS2Data(f)
	if err != nil {
		return fail("ts2_invalid", "the M2 data cannot be encoded")
	}
	if toks[1], err = verifyToken(m.TS2, ts2Data); err != nil {
		return fail("ts2_invalid", "TS2 is not a valid time-stamp of the M2 data")
	}
	pass("ts2_invalid")
	hash, err := CustomerSignatureHash(f, m.TS2)
	if err != nil || subtle.ConstantTimeCompare(hash, m.CustomerSignatureHash) != 1 {
		return fail("signature_hash", "the customer signature hash does not match the data")
	}
	pass("signature_hash")
	s2, _ := Signature2Data(f, m.TS2, hash)
	if !Verify(pub, alg, s2, m.SignedTS3) {
		return fail("signature2", "SIGNATURE2 does not verify with the registered key")
	}
	pass("signature2")
	ts3Data, _ := TS3Data(f, m.TS2, hash, m.SignedTS3)
	if toks[2], err = verifyToken(m.TS3, ts3Data); err != nil {
		return fail("ts3_invalid", "TS3 is not a valid time-stamp of the signature")
	}
	pass("ts3_invalid")
	// TS1 < TS2 < TS3 with each token's accuracy: the intervals
	// [genTime − accuracy, genTime + accuracy] must not overlap.
	for i := 0; i < 2; i++ {
		a, b := toks[i].Info, toks[i+1].Info
		if !a.GenTime.Add(a.Accuracy).Before(b.GenTime.Add(-b.Accuracy)) {
			return fail("ts_order", "the time-stamps are not in the order TS1 < TS2 < TS3")
		}
	}
	pass("ts_order")
	a, b := toks[0].Info, toks[2].Info
	if b.GenTime.Add(b.Accuracy).Sub(a.GenTime.Add(-a.Accuracy)) >= in.maxSpan {
		return fail("ts_window", "more than the allowed time passed between TS1 and TS3")
	}
	pass("ts_window")
	return nil, toks, hash
}

// Status is the state of a signature as its customer sees it.
type Status struct {
	SignatureID           string                `json:"signatureId"`
	OfferID               string                `json:"offerId"`
	Status                esign.SignatureStatus `json:"status"`
	Code                  string                `json:"code,omitempty"`   // the failed check when rejected
	Reason                string                `json:"reason,omitempty"` // its message
	CustomerSignatureHash string                `json:"customerSignatureHash,omitempty"`
	ContractID            string                `json:"contractId,omitempty"`
}

// Check returns the state of the customer's signature and, once
// verified, the verdict. Errors: NotFound (not the customer's).
func (s *Service) Check(ctx context.Context, p *customers.Principal, signatureID string) (*Status, error) {
	const op = "signing.Check"
	// One statement: the signature and, once completed, its contract.
	g, contractID, err := s.db.GetSignatureWithContract(ctx, signatureID)
	if esign.IsKind(err, esign.NotFound) || (err == nil && g.CustomerID != p.Customer.ID) {
		return nil, esign.E(op, esign.NotFound, "signature not found")
	}
	if err != nil {
		return nil, esign.E(op, err)
	}
	return &Status{SignatureID: g.ID, OfferID: g.OfferID, Status: g.Status, Code: g.RejectCode, Reason: g.RejectReason,
		CustomerSignatureHash: g.CustomerSignatureHash, ContractID: contractID}, nil
}
