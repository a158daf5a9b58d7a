// Package offers holds the operations the bank's systems perform on offers,
// contracts and customers (the webhook API, and later the admin UI):
// uploading an offer with its PDFs, revoking it, storing an already signed
// contract, verifying a signed PDF and onboarding a customer.
package offers

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"esign/customize"
	"esign/internal/docstore"
	"esign/internal/esign"
	"esign/internal/jobs"
	"esign/internal/notify"
	"esign/internal/pades"
	"esign/internal/pdf"
	"esign/internal/shortlink"
	"esign/internal/sqlstore"
)

// Queue enqueues a notification inside the caller's transaction.
type Queue interface {
	Enqueue(ctx context.Context, tx *sql.Tx, n jobs.Notification) (int64, error)
}

// Customers is the part of customers.Service the bank's systems drive.
type Customers interface {
	Approve(ctx context.Context, customerID, userID string) (*esign.Customer, error)
	SendAssociationCode(ctx context.Context, customerID string) error
}

// Deps are the service's collaborators.
type Deps struct {
	DB        *sqlstore.DB
	Docs      *docstore.Store
	Queue     Queue
	Customers Customers
	Verify    pades.VerifyOptions // trust anchors for /signature/verify and contract uploads
	Events    *Emitter            // events out to the bank's systems; nil: none
	Now       func() time.Time    // default time.Now
	// LinkLifetime bounds the life of the offer's short link (made at
	// the upload); 0: it expires with the offer (mobile.link_lifetime).
	LinkLifetime time.Duration
	// Hooks are the bank's offer_created hooks (*hooks.Runner); nil: none.
	Hooks OfferHooks
}

// OfferHooks runs the bank's hooks before an offer's notification
// (docs/customization.md, "Hooks").
type OfferHooks interface {
	OfferCreated(ctx context.Context, p customize.OfferCreated) customize.Answer
}

// VetoPrefix starts the state reason of an offer a hook vetoed.
const VetoPrefix = "vetoed by the bank's offer_created hook: "

// Service performs the operations. It is safe for concurrent use.
type Service struct{ d Deps }

// New returns the service.
func New(d Deps) (*Service, error) {
	if d.DB == nil || d.Docs == nil || d.Queue == nil || d.Customers == nil {
		return nil, esign.E("offers.New", esign.Invalid, "database, document store, queue and customer service are required")
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	return &Service{d: d}, nil
}

// File is one uploaded PDF: its bytes in memory (Data), or, for an upload
// received as a stream, already written to the document store (Content).
type File struct {
	Name    string
	Data    []byte
	Content Content // when set, Data is ignored
}

// Content is an uploaded file written to the document store but not yet
// committed under a key (docstore.Pending): readable at random offsets,
// so that a PDF is checked from disk, never held in memory.
type Content interface {
	io.ReaderAt
	Size() int64
	SHA256() string
	// Commit stores it under the document key; Discard removes it (after
	// Commit it does nothing).
	Commit(key string) error
	Discard()
}

var _ Content = (*docstore.Pending)(nil)

// reader returns the file's bytes for random access and their size.
func (f File) reader() (io.ReaderAt, int64) {
	if f.Content != nil {
		return f.Content, f.Content.Size()
	}
	return bytes.NewReader(f.Data), int64(len(f.Data))
}

// Spool starts a file of an upload received as a stream: write its bytes,
// Close it, and pass it as File.Content. The caller discards it when the
// upload is over (committed content stays).
func (s *Service) Spool(ctx context.Context) (*docstore.Pending, error) {
	return s.d.Docs.Create(ctx)
}

// Channel selects how the customer hears of a new offer: one channel, or
// every address the customer has ("" or "all").
type Channel string

// Upload is a new offer from the bank's systems.
type Upload struct {
	CustomerRef string // the customer's external reference (the bank's customer number)
	ExternalRef string // the bank's reference of the offer; optional, unique per customer
	Title       string
	Description string
	ExpiresAt   time.Time
	Channel     Channel // sms, email, push, all (default)
	Files       []File
}

// Limits on an upload.
const (
	MaxFiles    = 20
	maxNameLen  = 200
	contentType = "application/pdf"
)

func invalid(op, code, msg string) error { return esign.WithCode(op, esign.Invalid, code, msg) }

func (s *Service) customerByRef(ctx context.Context, op, ref string) (*esign.Customer, error) {
	if ref == "" {
		return nil, invalid(op, "customer_ref", "the customer reference is required")
	}
	cs, err := s.d.DB.ListCustomers(ctx, esign.CustomerFilter{ExternalRef: ref, Page: esign.Page{Limit: 1}})
	if err != nil {
		return nil, esign.E(op, err)
	}
	if len(cs) == 0 {
		return nil, esign.WithCode(op, esign.NotFound, "customer_not_found", "no customer with this reference")
	}
	return cs[0], nil
}

// checkPDF refuses what is not a readable PDF or is encrypted with a
// password.
func checkPDF(op, name string, f File) error {
	_, err := pdf.Open(f.reader())
	if err != nil {
		code := "invalid_pdf"
		if esign.ErrorCode(err) == pdf.CodeEncrypted {
			code = "encrypted_pdf"
		}
		return invalid(op, code, name+": "+esign.ErrorMessage(err))
	}
	return nil
}

// SafeName is the name a document is stored and offered for download
// under, made from the name the bank sent: the last path element (a client
// may send C:\offers\a.pdf), without control or format characters
// (CR/LF would split a header, bidirectional overrides hide the real
// extension), spaces collapsed and trimmed, at most 200 characters, ending
// in ".pdf". Errors: Invalid file_name when nothing is left of it.
func SafeName(op, name string) (string, error) {
	name = strings.ToValidUTF8(name, "")
	if i := strings.LastIndexAny(name, "/\\"); i >= 0 {
		name = name[i+1:]
	}
	name = strings.Map(func(r rune) rune {
		switch {
		case unicode.IsSpace(r):
			return ' '
		case unicode.Is(unicode.Cc, r) || unicode.Is(unicode.Cf, r):
			return -1
		}
		return r
	}, name)
	name = strings.Join(strings.Fields(name), " ")
	base := name
	if strings.HasSuffix(strings.ToLower(base), ".pdf") {
		base = base[:len(base)-4]
	}
	base = strings.Trim(base, ". ")
	if base == "" {
		return "", invalid(op, "file_name", "every file needs a name: "+strconv.Quote(name)+" has none left once made safe")
	}
	if r := []rune(base); len(r) > maxNameLen-4 {
		base = strings.TrimRight(string(r[:maxNameLen-4]), ". ")
	}
	return base + ".pdf", nil
}

// put stores the bytes encrypted and returns the document row to create.
func (s *Service) put(ctx context.Context, customerID string, kind esign.DocumentKind, f File) (*esign.Document, error) {
	key := "documents/" + esign.NewID()
	d := &esign.Document{CustomerID: customerID, Kind: kind, Name: f.Name, ContentType: contentType, StorageKey: key,
		Encrypted: true}
	if f.Content != nil {
		if err := f.Content.Commit(key); err != nil {
			return nil, err
		}
		d.Size, d.SHA256 = f.Content.Size(), f.Content.SHA256()
		return d, nil
	}
	if _, err := s.d.Docs.Put(ctx, key, bytes.NewReader(f.Data)); err != nil {
		return nil, err
	}
	sum := sha256.Sum256(f.Data)
	d.Size, d.SHA256 = int64(len(f.Data)), hex.EncodeToString(sum[:])
	return d, nil
}

// discard deletes stored bytes after the transaction failed.
func (s *Service) discard(docs []*esign.Document) {
	for _, d := range docs {
		_ = s.d.Docs.Delete(context.WithoutCancel(context.Background()), d.StorageKey)
	}
}

// UploadOffer validates every PDF, stores them encrypted and creates the
// documents and the offer in one transaction together with the "offer
// available" notifications; the offer is then in state notified (the
// notifications are committed with it and sent by the job queue). For a
// customer whose account awaits approval the notifications are held and
// the offer stays created until the approval (Held.Release). The bank's
// offer_created hook (Deps.Hooks) is asked before the transaction: its
// veto stores the offer revoked, with VetoPrefix and the hook's reason as
// its state reason, and announces nothing; its data is kept in HookData.
// Nothing is stored when a file is refused. Errors: Invalid (with a code:
// invalid_pdf, encrypted_pdf, pdf_polyglot, pdf_certified_no_changes,
// no_files, too_many_files, file_name, channel, expires_at,
// no_recipient), NotFound (customer_not_found),
// Conflict (the offer reference exists for the customer), Forbidden
// (customer_inactive).
func (s *Service) UploadOffer(ctx context.Context, u Upload) (*esign.Offer, []*esign.Document, error) {
	const op = "offers.UploadOffer"
	switch {
	case len(u.Files) == 0:
		return nil, nil, invalid(op, "no_files", "an offer needs at least one PDF")
	case len(u.Files) > MaxFiles:
		return nil, nil, invalid(op, "too_many_files", "an offer has at most 20 PDFs")
	case strings.TrimSpace(u.Title) == "":
		return nil, nil, invalid(op, "title", "the title is required")
	case u.ExpiresAt.IsZero() || !u.ExpiresAt.After(s.d.Now()):
		return nil, nil, invalid(op, "expires_at", "the expiry must be in the future")
	}
	u.Files = slices.Clone(u.Files)
	for i, f := range u.Files {
		name, err := SafeName(op, f.Name)
		if err != nil {
			return nil, nil, err
		}
		u.Files[i].Name = name
		if err := checkPDF(op, name, f); err != nil {
			return nil, nil, err
		}
		// what the contract seal would refuse (permissions, polyglots,
		// certified with no changes) is refused now, not after the
		// customer signed
		if err := pades.CheckSignable(f.reader()); err != nil {
			return nil, nil, invalid(op, esign.ErrorCode(err), name+": "+esign.ErrorMessage(err))
		}
	}
	if u.CustomerRef == "" {
		return nil, nil, invalid(op, "customer_ref", "the customer reference is required")
	}
	// The customer and the apps a push goes to, in one read: the
	// addresses of the notification are those of this moment, before the
	// files are stored and the hook asked.
	c, push, err := s.d.DB.CustomerByRefWithPushTargets(ctx, u.CustomerRef)
	if err != nil {
		return nil, nil, esign.E(op, err)
	}
	if c == nil {
		return nil, nil, esign.WithCode(op, esign.NotFound, "customer_not_found", "no customer with this reference")
	}
	if c.Status == esign.CustomerBlocked || c.Status == esign.CustomerDeleted {
		return nil, nil, esign.WithCode(op, esign.Forbidden, "customer_inactive", "the customer is blocked or deleted")
	}
	var docs []*esign.Document
	for _, f := range u.Files {
		d, err := s.put(ctx, c.ID, esign.DocumentOffer, f)
		if err != nil {
			s.discard(docs)
			return nil, nil, esign.E(op, err)
		}
		docs = append(docs, d)
	}
	o := &esign.Offer{ID: esign.NewID(), CustomerID: c.ID, ExternalRef: u.ExternalRef, Title: u.Title,
		Description: u.Description, ExpiresAt: u.ExpiresAt}
	// The bank's hook, before anything is committed or announced (never
	// inside the transaction): it may veto the offer or add data.
	var answer customize.Answer
	if s.d.Hooks != nil {
		p := customize.OfferCreated{OfferID: o.ID, CustomerID: c.ID, CustomerRef: c.ExternalRef, ExternalRef: u.ExternalRef,
			Title: u.Title, Description: u.Description, ExpiresAt: u.ExpiresAt, Channel: string(u.Channel)}
		for _, d := range docs {
			p.Documents = append(p.Documents, customize.Document{Name: d.Name, Size: d.Size, SHA256: d.SHA256})
		}
		answer = s.d.Hooks.OfferCreated(ctx, p)
		if len(answer.Data) > 0 {
			b, err := json.Marshal(answer.Data)
			if err != nil {
				s.discard(docs)
				return nil, nil, esign.E(op, esign.Internal, "encode the hook's data", err)
			}
			o.HookData = string(b)
		}
	}
	var offer *esign.Offer
	err = s.d.DB.InTx(ctx, func(tx *sqlstore.Tx) error {
		if err := tx.CreateDocuments(ctx, docs); err != nil {
			return err
		}
		ids := make([]string, len(docs))
		for i, d := range docs {
			ids[i] = d.ID
		}
		o := *o
		o.Vetoed = answer.Veto
		// The offer is inserted in the state it leaves the transaction in
		// (one INSERT instead of an INSERT and an UPDATE): revoked when
		// vetoed, notified when its notifications are enqueued, created
		// when they are held.
		if answer.Veto {
			// Stored, never announced: the operator and the bank's
			// systems see the offer revoked with the hook's reason.
			if err := tx.CreateOfferAs(ctx, &o, esign.OfferRevoked, vetoReason(answer.Reason), ids...); err != nil {
				return err
			}
			offer = &o
			if err := s.d.Events.Live(ctx, tx, &sqlstore.LiveEvent{Type: LiveOfferUploaded, OfferID: o.ID, CustomerID: c.ID,
				Title: o.Title}); err != nil {
				return err
			}
			return s.d.Events.OfferChanged(ctx, tx, &o)
		}
		if awaitsApproval(c) {
			if err := tx.CreateOffer(ctx, &o, ids...); err != nil {
				return err
			}
			// Checked now (no_recipient), sent on approval.
			if _, err := recipients(ctx, tx, c, u.Channel, &push); err != nil {
				return err
			}
			offer = &o
			if err := tx.HoldOfferNotification(ctx, o.ID, c.ID, string(u.Channel)); err != nil {
				return err
			}
		} else {
			if err := tx.CreateOfferAs(ctx, &o, esign.OfferNotified, "", ids...); err != nil {
				return err
			}
			offer = &o
			if _, err := enqueueAvailable(ctx, tx, s.d.Queue, c, &push, &o, u.Channel, shortlink.Expiry(o.ExpiresAt, s.d.Now(), s.d.LinkLifetime), ""); err != nil {
				return err
			}
		}
		return s.d.Events.Live(ctx, tx, &sqlstore.LiveEvent{Type: LiveOfferUploaded, OfferID: o.ID, CustomerID: c.ID,
			Title: o.Title})
	})
	if err != nil {
		s.discard(docs)
		return nil, nil, esign.E(op, err)
	}
	return offer, docs, nil
}

// vetoReason is the state reason of a vetoed offer, within the column's
// 1024 characters.
func vetoReason(reason string) string {
	r := []rune(VetoPrefix + reason)
	if len(r) > 1024 {
		r = r[:1024]
	}
	return string(r)
}

// awaitsApproval says whether the customer's offer notifications are
// held until approval: the customer made an account (in the app or from
// an offer's link) that the bank has not approved yet, so an offer would
// show them only "waiting for approval". A pending customer without an
// account is notified at once: the link is where they make the account
// (docs/customer-ui.md).
func awaitsApproval(c *esign.Customer) bool {
	return c.Status == esign.CustomerPending && c.Username != ""
}

// notifyOffer enqueues the "offer available" notifications of o on the
// channel with a short link, and moves the offer to notified.
func notifyOffer(ctx context.Context, tx *sqlstore.Tx, q Queue, c *esign.Customer, o *esign.Offer, ch Channel, linkExpires time.Time) (*esign.Offer, error) {
	if _, err := enqueueAvailable(ctx, tx, q, c, nil, o, ch, linkExpires, ""); err != nil {
		return nil, err
	}
	// o is as stored (created or read in tx): the update still applies
	// only at its version and state.
	return tx.UpdateOfferStateFrom(ctx, o, esign.OfferNotified, "")
}

// enqueueAvailable enqueues the "offer available" notification with a new
// short link to every address of the customer on the channel, in tx, and
// returns how many. keySuffix tells a resend's jobs from the first ones
// (the queue sends one job per key). push, when not nil, holds the
// customer's push targets read already (see recipients).
func enqueueAvailable(ctx context.Context, tx *sqlstore.Tx, q Queue, c *esign.Customer, push *[]sqlstore.PushTarget, o *esign.Offer, ch Channel, linkExpires time.Time, keySuffix string) (int, error) {
	rcpt, err := recipients(ctx, tx, c, ch, push)
	if err != nil {
		return 0, err
	}
	link, err := shortlink.Create(ctx, tx, o.ID, linkExpires)
	if err != nil {
		return 0, err
	}
	for _, r := range rcpt {
		if _, err := q.Enqueue(ctx, tx.SQLTx(), jobs.Notification{Kind: notify.OfferAvailable, Channel: r.Channel,
			Lang: notify.ParseLang(c.Locale), To: r.To, ToName: c.Name,
			Params: notify.Params{CustomerName: c.Name, OfferTitle: o.Title, ExpiresAt: o.ExpiresAt, URL: link},
			Data:   map[string]string{"offerId": o.ID},
			Key:    "offer-available-" + o.ID + "-" + string(r.Channel) + "-" + r.To + keySuffix}); err != nil {
			return 0, err
		}
	}
	return len(rcpt), nil
}

// Held sends the notifications of the offers held for a customer's
// approval (customers.Service.Approve calls it in its transaction).
type Held struct {
	Queue        Queue
	Now          func() time.Time // default time.Now
	LinkLifetime time.Duration    // of the short links sent (0: until the offer expires)
}

// Release enqueues the held "offer available" notifications of the
// customer c, now approved, on the channel the bank chose for each offer,
// and moves those offers to notified. Offers no longer waiting (revoked,
// expired, past their expiry) are skipped. A channel with no address left
// falls back to every address the customer has.
func (h *Held) Release(ctx context.Context, tx *sqlstore.Tx, c *esign.Customer) error {
	const op = "offers.Held.Release"
	now := time.Now
	if h.Now != nil {
		now = h.Now
	}
	held, err := tx.TakeHeldNotifications(ctx, c.ID)
	if err != nil {
		return esign.E(op, err)
	}
	for _, hn := range held {
		o, err := tx.GetOffer(ctx, hn.OfferID)
		if esign.IsKind(err, esign.NotFound) {
			continue
		}
		if err != nil {
			return esign.E(op, err)
		}
		if o.State != esign.OfferCreated || !o.ExpiresAt.After(now()) {
			continue
		}
		expires := shortlink.Expiry(o.ExpiresAt, now(), h.LinkLifetime)
		_, err = notifyOffer(ctx, tx, h.Queue, c, o, Channel(hn.Channel), expires)
		if esign.ErrorCode(err) == "no_recipient" {
			_, err = notifyOffer(ctx, tx, h.Queue, c, o, "all", expires)
		}
		if err != nil && esign.ErrorCode(err) != "no_recipient" {
			return esign.E(op, err)
		}
	}
	return nil
}

// ResendOffer sends the "offer available" notification of an offer that
// waits for the customer (created, notified or opened) again, with a new
// short link, to every address the customer has now, and returns how many
// notifications were queued. Errors: NotFound (offer_not_found), Invalid
// with code offer_state (the customer is signing or the offer is final)
// or no_recipient, Forbidden (customer_inactive).
func (s *Service) ResendOffer(ctx context.Context, offerID string) (int, error) {
	const op = "offers.ResendOffer"
	if !esign.ValidID(offerID) {
		return 0, esign.WithCode(op, esign.NotFound, "offer_not_found", "no such offer")
	}
	var n int
	err := s.d.DB.InTx(ctx, func(tx *sqlstore.Tx) error {
		o, err := tx.GetOffer(ctx, offerID)
		if esign.IsKind(err, esign.NotFound) {
			return esign.WithCode(op, esign.NotFound, "offer_not_found", "no such offer")
		}
		if err != nil {
			return err
		}
		switch o.State {
		case esign.OfferCreated, esign.OfferNotified, esign.OfferOpened:
		default:
			return invalid(op, "offer_state", "an offer in state "+string(o.State)+" is not waiting for the customer")
		}
		c, err := tx.GetCustomer(ctx, o.CustomerID)
		if err != nil {
			return err
		}
		if c.Status == esign.CustomerBlocked || c.Status == esign.CustomerDeleted {
			return esign.WithCode(op, esign.Forbidden, "customer_inactive", "the customer is blocked or deleted")
		}
		n, err = enqueueAvailable(ctx, tx, s.d.Queue, c, nil, o, "", shortlink.Expiry(o.ExpiresAt, s.d.Now(), s.d.LinkLifetime), "-resend-"+esign.NewID())
		return err
	})
	if err != nil {
		return 0, esign.E(op, err)
	}
	return n, nil
}

// recipients lists the customer's addresses on the channel. push, when not
// nil, holds the customer's push targets read with c (nil: read in tx).
func recipients(ctx context.Context, tx *sqlstore.Tx, c *esign.Customer, ch Channel, push *[]sqlstore.PushTarget) ([]jobs.Recipient, error) {
	const op = "offers.recipients"
	var out []jobs.Recipient
	want := func(n notify.Channel) bool { return ch == "" || ch == "all" || ch == Channel(n) }
	switch ch {
	case "", "all", Channel(notify.SMS), Channel(notify.Email), Channel(notify.Push):
	default:
		return nil, invalid(op, "channel", "the channel must be sms, email, push or all")
	}
	if want(notify.SMS) && c.Phone != "" {
		out = append(out, jobs.Recipient{Channel: notify.SMS, To: c.Phone})
	}
	if want(notify.Email) && c.Email != "" {
		out = append(out, jobs.Recipient{Channel: notify.Email, To: c.Email})
	}
	if want(notify.Push) {
		var targets []sqlstore.PushTarget
		if push != nil {
			targets = *push
		} else {
			var err error
			if targets, err = tx.CustomerPushTargets(ctx, c.ID); err != nil {
				return nil, err
			}
		}
		for _, t := range targets {
			out = append(out, jobs.Recipient{Channel: notify.Push, To: t.Token})
		}
	}
	if len(out) == 0 {
		return nil, invalid(op, "no_recipient", "the customer has no address on the chosen channel")
	}
	return out, nil
}

// RevokeOffer withdraws an open offer of the customer; the customer is
// notified. Errors: NotFound, Invalid with code offer_state (the offer is
// final), Conflict (changed concurrently: retry).
func (s *Service) RevokeOffer(ctx context.Context, customerRef, offerID, reason string) (*esign.Offer, error) {
	const op = "offers.RevokeOffer"
	c, err := s.customerByRef(ctx, op, customerRef)
	if err != nil {
		return nil, err
	}
	if len(reason) > 1024 {
		return nil, invalid(op, "reason", "the reason has at most 1024 characters")
	}
	var out *esign.Offer
	err = s.d.DB.InTx(ctx, func(tx *sqlstore.Tx) error {
		o, err := tx.GetOffer(ctx, offerID)
		if esign.IsKind(err, esign.NotFound) || (err == nil && o.CustomerID != c.ID) {
			return esign.WithCode(op, esign.NotFound, "offer_not_found", "no such offer of this customer")
		}
		if err != nil {
			return err
		}
		out, err = tx.UpdateOfferState(ctx, o.ID, o.Version, esign.OfferRevoked, reason)
		if err != nil {
			return err
		}
		if err := s.d.Events.OfferChanged(ctx, tx, out); err != nil {
			return err
		}
		if c.Phone == "" {
			return nil
		}
		_, err = s.d.Queue.Enqueue(ctx, tx.SQLTx(), jobs.Notification{Kind: notify.OfferRevoked, Channel: notify.SMS,
			Lang: notify.ParseLang(c.Locale), To: c.Phone, Params: notify.Params{CustomerName: c.Name, OfferTitle: o.Title, Reason: reason},
			Key: "offer-revoked-" + o.ID + "-sms"})
		return err
	})
	if err != nil {
		return nil, esign.E(op, err)
	}
	return out, nil
}

// Verify checks the PAdES signatures of a PDF and returns the report; f is
// only read. Errors: Invalid (not a PDF, encrypted).
func (s *Service) Verify(ctx context.Context, f File) (*pades.Report, error) {
	const op = "offers.Verify"
	if err := checkPDF(op, "the file", f); err != nil {
		return nil, err
	}
	ra, size := f.reader()
	rep, err := pades.Verify(ctx, ra, size, s.d.Verify)
	if err != nil {
		return nil, esign.E(op, err)
	}
	return rep, nil
}

// NewCustomer is a customer created by the bank's systems so that they can
// onboard in the app.
type NewCustomer struct {
	ExternalRef string
	Name        string
	Email       string
	Phone       string // E.164
	Locale      string // BCP 47; default hu-HU
}

// BootstrapCustomer creates the customer in state pending. Errors: Invalid,
// Conflict (the reference exists).
func (s *Service) BootstrapCustomer(ctx context.Context, n NewCustomer) (*esign.Customer, error) {
	const op = "offers.BootstrapCustomer"
	if n.Phone == "" && n.Email == "" {
		return nil, invalid(op, "contact", "a phone number or an e-mail address is required")
	}
	if n.Phone != "" && !validPhone(n.Phone) {
		return nil, invalid(op, "phone", "the phone number must be in E.164 form, e.g. +36301234567")
	}
	if n.Email != "" && (!strings.Contains(n.Email, "@") || strings.ContainsAny(n.Email, " \t\r\n")) {
		return nil, invalid(op, "email", "the e-mail address is not valid")
	}
	if n.Locale == "" {
		n.Locale = "hu-HU"
	}
	c := &esign.Customer{ExternalRef: n.ExternalRef, Name: n.Name, Email: n.Email, Phone: n.Phone, Locale: n.Locale}
	if err := s.d.DB.CreateCustomer(ctx, c); err != nil {
		return nil, esign.E(op, err)
	}
	return c, nil
}

func validPhone(p string) bool {
	if len(p) < 8 || len(p) > 16 || p[0] != '+' {
		return false
	}
	for _, r := range p[1:] {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

// SendAssociationToken sends the customer the SMS code that links their
// device. Errors: NotFound, Forbidden, TooMany (as customers.Service).
func (s *Service) SendAssociationToken(ctx context.Context, customerRef string) error {
	const op = "offers.SendAssociationToken"
	c, err := s.customerByRef(ctx, op, customerRef)
	if err != nil {
		return err
	}
	if err := s.d.Customers.SendAssociationCode(ctx, c.ID); err != nil {
		return esign.E(op, err)
	}
	return nil
}

// ApproveCustomer approves the customer's registration (as an operator
// would). Errors: NotFound, Invalid, Conflict (as customers.Service).
func (s *Service) ApproveCustomer(ctx context.Context, customerRef string) (*esign.Customer, error) {
	const op = "offers.ApproveCustomer"
	c, err := s.customerByRef(ctx, op, customerRef)
	if err != nil {
		return nil, err
	}
	c, err = s.d.Customers.Approve(ctx, c.ID, "")
	if err != nil {
		return nil, esign.E(op, err)
	}
	return c, nil
}

// ContractUpload is a contract the bank had signed elsewhere, to be stored
// and shown to the customer.
type ContractUpload struct {
	CustomerRef string
	ExternalRef string // optional, unique per customer
	Title       string
	File        File
}

// UploadContract verifies the signed PDF's PAdES signatures, stores the PDF
// and the verification report (a JSON evidence document of the contract)
// encrypted, and creates the active contract; the customer gets an SMS.
// A PDF without a signature or with a signature whose bytes do not match is
// refused; a signature whose certificate does not chain to esign's trust
// anchors is accepted and shows so in the report. Errors: Invalid (codes
// invalid_pdf, encrypted_pdf, not_signed, invalid_signature, title,
// file_name), NotFound (customer_not_found), Conflict (the reference exists).
func (s *Service) UploadContract(ctx context.Context, u ContractUpload) (*esign.Contract, *pades.Report, error) {
	const op = "offers.UploadContract"
	if strings.TrimSpace(u.Title) == "" {
		return nil, nil, invalid(op, "title", "the title is required")
	}
	name, err := SafeName(op, u.File.Name)
	if err != nil {
		return nil, nil, err
	}
	u.File.Name = name
	if err := checkPDF(op, u.File.Name, u.File); err != nil {
		return nil, nil, err
	}
	ra, size := u.File.reader()
	rep, err := pades.Verify(ctx, ra, size, s.d.Verify)
	if err != nil {
		return nil, nil, esign.E(op, err)
	}
	if !rep.Signed {
		return nil, nil, invalid(op, "not_signed", u.File.Name+" has no signature; upload it as an offer to have it signed")
	}
	signedAt := time.Time{}
	for _, sig := range rep.Signatures {
		if !sig.Integrity.OK {
			return nil, nil, invalid(op, "invalid_signature", "signature "+sig.Field+" does not match the document: "+sig.Integrity.Error)
		}
		if sig.Timestamp != nil && sig.Timestamp.Check.OK && (signedAt.IsZero() || sig.Timestamp.Time.Before(signedAt)) {
			signedAt = sig.Timestamp.Time
		}
	}
	if signedAt.IsZero() {
		signedAt = s.d.Now()
	}
	c, err := s.customerByRef(ctx, op, u.CustomerRef)
	if err != nil {
		return nil, nil, err
	}
	report, err := json.Marshal(rep)
	if err != nil {
		return nil, nil, esign.E(op, esign.Internal, "encode the report", err)
	}
	pdfDoc, err := s.put(ctx, c.ID, esign.DocumentContract, u.File)
	if err != nil {
		return nil, nil, esign.E(op, err)
	}
	repDoc, err := s.put(ctx, c.ID, esign.DocumentEvidence, File{Name: "verification-report.json", Data: report})
	if err != nil {
		s.discard([]*esign.Document{pdfDoc})
		return nil, nil, esign.E(op, err)
	}
	repDoc.ContentType = "application/json"
	var out *esign.Contract
	err = s.d.DB.InTx(ctx, func(tx *sqlstore.Tx) error {
		k := &esign.Contract{CustomerID: c.ID, ExternalRef: u.ExternalRef, Title: u.Title, Status: esign.ContractActive,
			SignedAt: esign.Timestamp(signedAt), SealLevel: uploadedLevel(rep)}
		if err := tx.CreateContract(ctx, k); err != nil {
			return err
		}
		for _, d := range []*esign.Document{pdfDoc, repDoc} {
			d.ContractID = k.ID
			if err := tx.CreateDocument(ctx, d); err != nil {
				return err
			}
		}
		out = k
		if c.Phone == "" {
			return nil
		}
		_, err := s.d.Queue.Enqueue(ctx, tx.SQLTx(), jobs.Notification{Kind: notify.ContractReady, Channel: notify.SMS,
			Lang: notify.ParseLang(c.Locale), To: c.Phone, Params: notify.Params{CustomerName: c.Name, OfferTitle: u.Title},
			Key: "contract-ready-" + k.ID + "-sms"})
		return err
	})
	if err != nil {
		s.discard([]*esign.Document{pdfDoc, repDoc})
		return nil, nil, esign.E(op, err)
	}
	return out, rep, nil
}

// Idempotent is the stored first result of a webhook request made with an
// Idempotency-Key (docs/webhook-api.md).
type Idempotent = sqlstore.Idempotent

// BeginIdempotent claims the key for the request (see
// sqlstore.DB.BeginIdempotent).
func (s *Service) BeginIdempotent(ctx context.Context, endpoint, key, requestHash string) (Idempotent, bool, error) {
	return s.d.DB.BeginIdempotent(ctx, endpoint, key, requestHash)
}

// CompleteIdempotent stores the first request's response.
func (s *Service) CompleteIdempotent(ctx context.Context, endpoint, key string, status int, response []byte) error {
	return s.d.DB.CompleteIdempotent(ctx, endpoint, key, status, response)
}

// ReleaseIdempotent forgets an unfinished claim so that a retry runs again.
func (s *Service) ReleaseIdempotent(ctx context.Context, endpoint, key string) error {
	return s.d.DB.ReleaseIdempotent(ctx, endpoint, key)
}

// AppMessage is a push notification the bank sends to a customer's apps.
type AppMessage struct {
	CustomerRef string
	Title       string            // at most 100 characters
	Message     string            // at most 1,000 characters
	Data        map[string]string // extra payload for the app, at most 10 entries
}

// NotifyApps enqueues m as a push to every associated app of the customer
// that has a push token, and returns how many. Errors: Invalid
// (validation, no app to reach: code no_recipient), NotFound (unknown
// customer).
func (s *Service) NotifyApps(ctx context.Context, m AppMessage) (int, error) {
	const op = "offers.NotifyApps"
	switch {
	case strings.TrimSpace(m.Title) == "" || utf8.RuneCountInString(m.Title) > 100:
		return 0, invalid(op, "title", "the title is required and has at most 100 characters")
	case strings.TrimSpace(m.Message) == "" || utf8.RuneCountInString(m.Message) > 1000:
		return 0, invalid(op, "message", "the message is required and has at most 1000 characters")
	case len(m.Data) > 10:
		return 0, invalid(op, "data", "at most 10 data entries")
	}
	c, err := s.customerByRef(ctx, op, m.CustomerRef)
	if err != nil {
		return 0, err
	}
	n := 0
	err = s.d.DB.InTx(ctx, func(tx *sqlstore.Tx) error {
		targets, err := tx.CustomerPushTargets(ctx, c.ID)
		if err != nil {
			return err
		}
		if len(targets) == 0 {
			return invalid(op, "no_recipient", "the customer has no app that can receive push notifications")
		}
		for _, t := range targets {
			if _, err := s.d.Queue.Enqueue(ctx, tx.SQLTx(), jobs.Notification{Kind: notify.BankMessage, Channel: notify.Push,
				Lang: notify.ParseLang(c.Locale), To: t.Token, Params: notify.Params{CustomerName: c.Name, Title: m.Title, Message: m.Message},
				Data: m.Data}); err != nil {
				return err
			}
		}
		n = len(targets)
		return nil
	})
	if err != nil {
		return 0, esign.E(op, err)
	}
	return n, nil
}
