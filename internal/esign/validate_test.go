package esign

import (
	"strings"
	"testing"
	"time"
)

// validator is what every entity has.
type validator interface{ Validate() error }

func TestValidate(t *testing.T) {
	id := NewID()
	digest := strings.Repeat("ab", 32)
	now := time.Now()
	tests := []struct {
		name string
		v    validator
		bad  string // "" when valid; otherwise a fragment of the message
	}{
		{"customer-ok", &Customer{ExternalRef: "C1", Name: "Anna", Status: CustomerPending, Phone: "+36201234567"}, ""},
		{"customer-no-name", &Customer{ExternalRef: "C1", Status: CustomerPending}, "name is required"},
		{"customer-bad-phone", &Customer{ExternalRef: "C1", Name: "A", Status: CustomerPending, Phone: "06201234567"}, "E.164"},
		{"customer-bad-status", &Customer{ExternalRef: "C1", Name: "A", Status: "x"}, "status"},
		{"customer-long-ref", &Customer{ExternalRef: strings.Repeat("x", 129), Name: "A", Status: CustomerPending}, "too long"},
		{"customer-bad-utf8", &Customer{ExternalRef: "C1", Name: "\xff", Status: CustomerPending}, "UTF-8"},
		{"offer-ok", &Offer{CustomerID: id, Title: "Loan", ExpiresAt: now}, ""},
		{"offer-no-expiry", &Offer{CustomerID: id, Title: "Loan"}, "expiry"},
		{"offer-bad-customer", &Offer{CustomerID: "42", Title: "Loan", ExpiresAt: now}, "customer id is not a valid id"},
		{"document-ok", &Document{CustomerID: id, Kind: DocumentOffer, Name: "a.pdf", ContentType: "application/pdf", SHA256: digest, StorageKey: "k"}, ""},
		{"document-bad-digest", &Document{CustomerID: id, Kind: DocumentOffer, Name: "a.pdf", ContentType: "application/pdf", SHA256: "AB", StorageKey: "k"}, "sha256"},
		{"document-negative-size", &Document{CustomerID: id, Kind: DocumentOffer, Name: "a.pdf", ContentType: "application/pdf", SHA256: digest, StorageKey: "k", Size: -1}, "size"},
		{"contract-no-signing-time", &Contract{CustomerID: id, Title: "K", Status: ContractActive}, "signing time"},
		{"attachment-two-owners", &Attachment{OfferID: id, ContractID: id, Name: "a", ContentType: "x", SHA256: digest, StorageKey: "k"}, "exactly one"},
		{"signature-ok", &Signature{OfferID: id, CustomerID: id, Status: SignatureM1Received, PublicKey: "pk", Username: "u"}, ""},
		{"validation-failed-without-code", &SignatureValidation{SignatureID: id}, "needs a code"},
		{"timestamp-empty", &TimestampToken{Purpose: TimestampTS1}, "token is required"},
		{"app-associated-without-customer", &App{SessionTokenHash: "h", Status: AppAssociated}, "needs a customer"},
		{"session-ok", &Session{TokenHash: "h", SubjectType: SessionUser, SubjectID: id, ExpiresAt: now}, ""},
		{"session-bad-subject", &Session{TokenHash: "h", SubjectType: "robot", SubjectID: id, ExpiresAt: now}, "subject type"},
		{"cert-bad-period", &Cert{Name: "n", Subject: "s", Issuer: "i", SerialNumber: "1", FingerprintSHA256: digest, NotBefore: now, NotAfter: now, ChainPEM: "c", PKCS12Enc: []byte{1}, PasswordEnc: []byte{1}}, "validity"},
		{"process-progress", &BackgroundProcess{Kind: "k", Status: ProcessRunning, Progress: 101}, "progress"},
		{"inbox-bad-channel", &DevInboxMessage{Channel: "fax", Recipient: "r"}, "channel"},
		{"shortener-ok", &Shortener{Code: "abc", TargetURL: "https://x", ExpiresAt: now}, ""},
		{"audit-bad-actor", &AuditLog{ActorType: "robot", Action: "a"}, "actor type"},
		{"user-no-hash", &User{Username: "u", Status: UserActive}, "password hash"},
		{"push-log-ok", &PushLog{Recipient: "abcd…wxyz", Title: "New offer", Status: DeliverySent}, ""},
		{"push-log-no-recipient", &PushLog{Status: DeliverySent}, "recipient is required"},
		{"push-log-bad-status", &PushLog{Recipient: "abcd…wxyz", Status: "lost"}, "status"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.v.Validate()
			if tt.bad == "" {
				if err != nil {
					t.Fatalf("Validate() = %v, want nil", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("Validate() = nil, want an error about %q", tt.bad)
			}
			if ErrorKind(err) != Invalid || !strings.Contains(ErrorMessage(err), tt.bad) {
				t.Fatalf("Validate() = %v, want Invalid about %q", err, tt.bad)
			}
		})
	}
}

// FuzzCustomerValidate feeds outside input (the webhook's bootstrap call)
// to Validate: it must never panic, and what it accepts fits the columns.
func FuzzCustomerValidate(f *testing.F) {
	f.Add("C1", "Anna", "+36201234567", "anna")
	f.Add("", "\xff", "+", "")
	f.Fuzz(func(t *testing.T, ref, name, phone, username string) {
		c := &Customer{ExternalRef: ref, Name: name, Phone: phone, Username: username, Status: CustomerPending}
		if c.Validate() == nil && (len([]rune(ref)) > 128 || strings.TrimSpace(name) == "") {
			t.Fatalf("accepted %+v", c)
		}
	})
}
