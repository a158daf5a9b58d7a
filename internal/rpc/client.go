package rpc

import (
	"context"

	"esign/internal/bus"
)

// caller is the part of bus.Bus the client needs.
type caller interface {
	Call(ctx context.Context, queue, method string, req, resp any) error
}

// CustomerAPI is what css does for a customer over the bus; *Client
// implements it (css declares its own narrower interfaces from these
// methods as it uses them). Every method takes the end user's Caller (their
// token, address and user agent) and returns *esign.Error values of the
// server's kind and code: Unauthorized (invalid_token, missing_token) for
// a bad, expired or revoked token, NotFound for another customer's object,
// Invalid with the customers package's codes for bad input.
type CustomerAPI interface {
	Register(ctx context.Context, r RegisterRequest) (*Registered, error)
	Associate(ctx context.Context, c Caller, phone, code string) (*Associated, error)
	RemoveAccount(ctx context.Context, c Caller) error
	UpdatePushToken(ctx context.Context, c Caller, fcmToken string) error
	ReportClientError(ctx context.Context, c Caller, message, stack, url string) error

	CheckUsername(ctx context.Context, c Caller, username string) error
	CheckPassword(ctx context.Context, c Caller, password string) error
	CreateCredentials(ctx context.Context, c Caller, username, password string) error
	Login(ctx context.Context, c Caller, username, password string) (*LoggedIn, error)
	Logout(ctx context.Context, c Caller) error
	TwoFactorAuth(ctx context.Context, c Caller, signatureID, username, password, smsToken string) error

	ListOffers(ctx context.Context, c Caller, limit, offset int) ([]Offer, error)
	GetOffer(ctx context.Context, c Caller, id string) (*Offer, error)
	RefuseOffer(ctx context.Context, c Caller, id, reason string) (*Offer, error)

	ListContracts(ctx context.Context, c Caller, limit, offset int) ([]Contract, error)
	GetContract(ctx context.Context, c Caller, id string) (*Contract, error)
	AcknowledgeContract(ctx context.Context, c Caller, id string) (*Contract, error)

	GetDocument(ctx context.Context, c Caller, id string) (*DocumentContent, error)
	GetDocumentRange(ctx context.Context, c Caller, id string, offset, length int64, continued bool) (*DocumentContent, error)
	MarkDocumentRead(ctx context.Context, c Caller, id string) (*Document, error)

	Timestamp(ctx context.Context, c Caller, digest []byte, hashAlgorithm string, dataSize int64) (*Stamp, error)
	SystemConfig(ctx context.Context) (*bus.SystemConfig, error)
}

var _ CustomerAPI = (*Client)(nil)

// Client calls the customer-facing queues of oss.
type Client struct {
	b caller
	q Queues
}

// NewClient returns a client that calls the queues q over b.
func NewClient(b caller, q Queues) *Client { return &Client{b: b, q: q} }

func invoke[T any](ctx context.Context, c *Client, queue, method string, req any) (*T, error) {
	var out T
	if err := c.b.Call(ctx, queue, method, req, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

func (c *Client) ok(ctx context.Context, queue, method string, req any) error {
	_, err := invoke[OK](ctx, c, queue, method, req)
	return err
}

// Register registers an app installation (app.register).
func (c *Client) Register(ctx context.Context, r RegisterRequest) (*Registered, error) {
	return invoke[Registered](ctx, c, c.q.App, MethodRegister, r)
}

// Associate binds the device to a customer with the SMS code (app.associate).
func (c *Client) Associate(ctx context.Context, cl Caller, phone, code string) (*Associated, error) {
	return invoke[Associated](ctx, c, c.q.App, MethodAssociate, AssociateRequest{Caller: cl, Phone: phone, Code: code})
}

// RemoveAccount unbinds the device and revokes its sessions.
func (c *Client) RemoveAccount(ctx context.Context, cl Caller) error {
	return c.ok(ctx, c.q.App, MethodRemoveAccount, cl)
}

// UpdatePushToken replaces the app's FCM token.
func (c *Client) UpdatePushToken(ctx context.Context, cl Caller, fcmToken string) error {
	return c.ok(ctx, c.q.App, MethodUpdatePushToken, PushTokenRequest{Caller: cl, FCMToken: fcmToken})
}

// ReportClientError records an error the client reports.
func (c *Client) ReportClientError(ctx context.Context, cl Caller, message, stack, url string) error {
	return c.ok(ctx, c.q.App, MethodClientError, ClientErrorRequest{Caller: cl, Message: message, Stack: stack, URL: url})
}

// CheckUsername reports nil when the username is valid and available.
func (c *Client) CheckUsername(ctx context.Context, cl Caller, username string) error {
	return c.ok(ctx, c.q.Customer, MethodCheckUsername, CheckRequest{Caller: cl, Value: username})
}

// CheckPassword reports nil when the password meets the policy.
func (c *Client) CheckPassword(ctx context.Context, cl Caller, password string) error {
	return c.ok(ctx, c.q.Customer, MethodCheckPassword, CheckRequest{Caller: cl, Value: password})
}

// CreateCredentials sets the associated customer's username and password.
func (c *Client) CreateCredentials(ctx context.Context, cl Caller, username, password string) error {
	return c.ok(ctx, c.q.Customer, MethodCreate, CredentialsRequest{Caller: cl, Username: username, Password: password})
}

// Login opens a session for the device's customer.
func (c *Client) Login(ctx context.Context, cl Caller, username, password string) (*LoggedIn, error) {
	return invoke[LoggedIn](ctx, c, c.q.Customer, MethodLogin, CredentialsRequest{Caller: cl, Username: username, Password: password})
}

// Logout revokes the session.
func (c *Client) Logout(ctx context.Context, cl Caller) error {
	return c.ok(ctx, c.q.Customer, MethodLogout, cl)
}

// TwoFactorAuth checks the second factor of a signature.
func (c *Client) TwoFactorAuth(ctx context.Context, cl Caller, signatureID, username, password, smsToken string) error {
	return c.ok(ctx, c.q.Customer, MethodTwoFactor, TwoFactorRequest{Caller: cl, SignatureID: signatureID, Username: username,
		Password: password, SMSToken: smsToken})
}

// ListOffers lists the customer's offers, newest first.
func (c *Client) ListOffers(ctx context.Context, cl Caller, limit, offset int) ([]Offer, error) {
	out, err := invoke[Offers](ctx, c, c.q.Offer, MethodListOffers, ListRequest{Caller: cl, Limit: limit, Offset: offset})
	if err != nil {
		return nil, err
	}
	return out.Offers, nil
}

// GetOffer returns the customer's offer with its documents.
func (c *Client) GetOffer(ctx context.Context, cl Caller, id string) (*Offer, error) {
	return invoke[Offer](ctx, c, c.q.Offer, MethodGetOffer, IDRequest{Caller: cl, ID: id})
}

// RefuseOffer refuses the customer's offer.
func (c *Client) RefuseOffer(ctx context.Context, cl Caller, id, reason string) (*Offer, error) {
	return invoke[Offer](ctx, c, c.q.Offer, MethodRefuseOffer, RefuseRequest{Caller: cl, ID: id, Reason: reason})
}

// ListContracts lists the customer's contracts, newest first.
func (c *Client) ListContracts(ctx context.Context, cl Caller, limit, offset int) ([]Contract, error) {
	out, err := invoke[Contracts](ctx, c, c.q.Contract, MethodListContracts, ListRequest{Caller: cl, Limit: limit, Offset: offset})
	if err != nil {
		return nil, err
	}
	return out.Contracts, nil
}

// GetContract returns the customer's contract with its documents.
func (c *Client) GetContract(ctx context.Context, cl Caller, id string) (*Contract, error) {
	return invoke[Contract](ctx, c, c.q.Contract, MethodGetContract, IDRequest{Caller: cl, ID: id})
}

// AcknowledgeContract records that the customer received the contract.
func (c *Client) AcknowledgeContract(ctx context.Context, cl Caller, id string) (*Contract, error) {
	return invoke[Contract](ctx, c, c.q.Contract, MethodAcknowledgeContract, IDRequest{Caller: cl, ID: id})
}

// GetDocument returns the document with its bytes; documents over the
// server's inline cap fail with Invalid (document_too_large).
func (c *Client) GetDocument(ctx context.Context, cl Caller, id string) (*DocumentContent, error) {
	return invoke[DocumentContent](ctx, c, c.q.Document, MethodGetDocument, DocumentRequest{Caller: cl, ID: id})
}

// GetDocumentRange returns at most length bytes (and at most the server's
// inline cap) of the document from offset, with its metadata; continued
// marks a later range of a download already recorded.
func (c *Client) GetDocumentRange(ctx context.Context, cl Caller, id string, offset, length int64, continued bool) (*DocumentContent, error) {
	return invoke[DocumentContent](ctx, c, c.q.Document, MethodGetDocument, DocumentRequest{Caller: cl, ID: id,
		Offset: offset, Length: length, Continued: continued})
}

// MarkDocumentRead records that the customer read the document.
func (c *Client) MarkDocumentRead(ctx context.Context, cl Caller, id string) (*Document, error) {
	return invoke[Document](ctx, c, c.q.Document, MethodMarkDocument, IDRequest{Caller: cl, ID: id})
}

// Timestamp obtains an RFC 3161 token over the digest.
func (c *Client) Timestamp(ctx context.Context, cl Caller, digest []byte, hashAlgorithm string, dataSize int64) (*Stamp, error) {
	return invoke[Stamp](ctx, c, c.q.Timestamp, MethodTimestamp, TimestampRequest{Caller: cl, Digest: digest,
		HashAlgorithm: hashAlgorithm, DataSize: dataSize})
}

// SystemConfig pulls the current system configuration from oss.
func (c *Client) SystemConfig(ctx context.Context) (*bus.SystemConfig, error) {
	return invoke[bus.SystemConfig](ctx, c, c.q.App, MethodSystemConfig, struct{}{})
}
