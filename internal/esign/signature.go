package esign

import "time"

// SignatureStatus is the progress of a customer's signature on an offer.
type SignatureStatus string

// The signature states.
const (
	SignatureM1Received SignatureStatus = "m1_received" // key registered, 2FA SMS sent
	SignatureM2Received SignatureStatus = "m2_received" // M2 received, being verified
	SignatureVerified   SignatureStatus = "verified"    // M1/M2 verified, bank seal pending
	SignatureCompleted  SignatureStatus = "completed"   // contract sealed and stored
	SignatureRejected   SignatureStatus = "rejected"    // verification failed; see RejectCode
)

// Signature is one signing attempt of a customer on an offer (the M1/M2
// protocol). The raw protocol messages are kept as SignatureData rows, the
// timestamps as TimestampToken rows, the verdict as a SignatureValidation.
type Signature struct {
	ID                    string
	OfferID               string
	CustomerID            string
	AppID                 string // empty for browser signatures
	Status                SignatureStatus
	PublicKey             string // the device's RSA public key, PEM (SubjectPublicKeyInfo)
	Username              string // the user name M1 was made for
	M1At                  time.Time
	M2At                  time.Time
	CustomerSignatureHash string // hex, from M2
	RejectCode            string // machine-readable reason when rejected ("ts_order", …)
	RejectReason          string
	CompletedAt           time.Time
	CreatedAt             time.Time
	UpdatedAt             time.Time
}

// Validate checks the signature before it is stored.
func (s *Signature) Validate() error {
	v := newChecker("esign.Signature.Validate")
	v.id("offer id", s.OfferID, true)
	v.id("customer id", s.CustomerID, true)
	v.id("app id", s.AppID, false)
	oneOf(v, "status", s.Status, SignatureM1Received, SignatureM2Received, SignatureVerified, SignatureCompleted, SignatureRejected)
	v.text("public key", s.PublicKey, true, 8192)
	v.text("username", s.Username, true, 64)
	v.text("customer signature hash", s.CustomerSignatureHash, false, 128)
	v.text("reject code", s.RejectCode, false, 64)
	v.text("reject reason", s.RejectReason, false, 1024)
	return v.err()
}

// SignatureFilter selects signatures.
type SignatureFilter struct {
	OfferID    string
	CustomerID string
	Status     SignatureStatus
	Page
}

// SignatureUpdate changes the non-nil fields of a signature.
type SignatureUpdate struct {
	Status                *SignatureStatus
	M2At                  *time.Time
	CustomerSignatureHash *string
	RejectCode            *string
	RejectReason          *string
	CompletedAt           *time.Time
}

// SignatureData is one raw piece of signing evidence, stored byte-exact:
// Kind names it ("m1_raw", "m1_signed", "ts1", "m2_customer_signature",
// "m2_signed_ts3", "ts2", "ts3", "device_info", "photo", …). One row per
// kind and signature.
type SignatureData struct {
	ID          string
	SignatureID string
	Kind        string
	Data        []byte
	SHA256      string // hex of Data
	CreatedAt   time.Time
}

// Validate checks the evidence before it is stored.
func (d *SignatureData) Validate() error {
	v := newChecker("esign.SignatureData.Validate")
	v.id("signature id", d.SignatureID, true)
	v.text("kind", d.Kind, true, 64)
	v.that(len(d.Data) <= 32<<20, "data is larger than 32 MiB")
	v.that(isHexDigest(d.SHA256), "sha256 must be 64 lower-case hex digits")
	return v.err()
}

// SignatureValidation is the server's verdict on a signature: at most one per
// signature, written once.
type SignatureValidation struct {
	ID          string
	SignatureID string
	Valid       bool
	Code        string // failure code when not valid
	Reason      string
	Report      string // JSON report of every check
	TS1At       time.Time
	TS2At       time.Time
	TS3At       time.Time
	CreatedAt   time.Time
}

// Validate checks the verdict before it is stored.
func (s *SignatureValidation) Validate() error {
	v := newChecker("esign.SignatureValidation.Validate")
	v.id("signature id", s.SignatureID, true)
	v.that(s.Valid || s.Code != "", "a failed validation needs a code")
	v.text("code", s.Code, false, 64)
	v.text("reason", s.Reason, false, 1024)
	v.text("report", s.Report, false, 1<<20)
	return v.err()
}

// TimestampPurpose says what a stored RFC 3161 token timestamps.
type TimestampPurpose string

// The timestamp purposes.
const (
	TimestampTS1      TimestampPurpose = "ts1"      // M1
	TimestampTS2      TimestampPurpose = "ts2"      // M2 data
	TimestampTS3      TimestampPurpose = "ts3"      // M2 signature
	TimestampContract TimestampPurpose = "contract" // the sealed contract
	TimestampAPI      TimestampPurpose = "api"      // issued through /api/timestamp
)

// TimestampToken is an RFC 3161 time-stamp token (DER) with the fields the
// product queries.
type TimestampToken struct {
	ID             string
	SignatureID    string // optional
	ContractID     string // optional
	Purpose        TimestampPurpose
	HashAlgorithm  string // "sha256", …
	MessageImprint []byte // the hashed message
	Token          []byte // DER TimeStampToken (CMS SignedData)
	GenTime        time.Time
	SerialNumber   string // decimal
	TSAName        string
	CreatedAt      time.Time
}

// Validate checks the token record before it is stored.
func (t *TimestampToken) Validate() error {
	v := newChecker("esign.TimestampToken.Validate")
	v.id("signature id", t.SignatureID, false)
	v.id("contract id", t.ContractID, false)
	oneOf(v, "purpose", t.Purpose, TimestampTS1, TimestampTS2, TimestampTS3, TimestampContract, TimestampAPI)
	v.text("hash algorithm", t.HashAlgorithm, true, 32)
	v.that(len(t.MessageImprint) > 0, "message imprint is required")
	v.that(len(t.Token) > 0, "token is required")
	v.that(!t.GenTime.IsZero(), "generation time is required")
	v.text("serial number", t.SerialNumber, true, 64)
	v.text("tsa name", t.TSAName, false, 512)
	return v.err()
}

// TimestampTokenFilter selects timestamp tokens.
type TimestampTokenFilter struct {
	SignatureID string
	ContractID  string
	Purpose     TimestampPurpose
	Page
}
