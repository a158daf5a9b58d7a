package seal

import (
	"context"
	"fmt"

	"esign/internal/envelope"
	"esign/internal/esign"
	"esign/internal/pki"
	"esign/internal/signer"
)

// UpgradeCount counts stored secrets by what an upgrade did with them. A
// certificate has two: its .p12 and its password.
type UpgradeCount struct {
	Upgraded int // re-encrypted in the current format and stored
	Current  int // in the current format already: left alone
	Failed   int // could not be decrypted: left alone
}

// Total is the number of secrets counted.
func (c UpgradeCount) Total() int { return c.Upgraded + c.Current + c.Failed }

// Add returns the sum of c and d.
func (c UpgradeCount) Add(d UpgradeCount) UpgradeCount {
	return UpgradeCount{Upgraded: c.Upgraded + d.Upgraded, Current: c.Current + d.Current, Failed: c.Failed + d.Failed}
}

// String reports c as "upgraded 3 of 12 stored secrets (9 already current)",
// with ", N failed" inside the parentheses when some failed.
func (c UpgradeCount) String() string {
	s := fmt.Sprintf("upgraded %d of %d stored secrets (%d already current", c.Upgraded, c.Total(), c.Current)
	if c.Failed > 0 {
		s += fmt.Sprintf(", %d failed", c.Failed)
	}
	return s + ")"
}

// openedCert is a stored certificate's two secrets, decrypted.
type openedCert struct {
	p12, password       []byte // plaintexts; nil where decryption failed
	p12Enc, passwordEnc []byte // what to store: the stored value, or its re-encryption in the current format
	count               UpgradeCount
	errs                []error // the failures, one per secret
}

// openCert decrypts c's .p12 and password. A value in the legacy format or
// under a key other than the keyring's primary is re-encrypted under the
// primary key (envelope.DecryptUpgrade) for the caller to store.
func openCert(c *esign.Cert, keys *envelope.Keyring) *openedCert {
	o := &openedCert{}
	for _, f := range []struct {
		what         string
		stored       []byte
		plain, store *[]byte
	}{
		{"the stored certificate", c.PKCS12Enc, &o.p12, &o.p12Enc},
		{"the certificate password", c.PasswordEnc, &o.password, &o.passwordEnc},
	} {
		*f.store = f.stored
		pt, up, err := keys.DecryptUpgrade(f.stored, certAD(c.ID))
		switch {
		case err != nil:
			o.count.Failed++
			msg := "cannot decrypt " + f.what
			if envelope.IsLegacy(f.stored) {
				msg += " (legacy format: the legacy secret is not configured or wrong)"
			}
			o.errs = append(o.errs, esign.E("seal.openCert", esign.Internal, msg, err))
		case up != nil:
			*f.plain, *f.store = pt, up
			o.count.Upgraded++
		default:
			*f.plain = pt
			o.count.Current++
		}
	}
	return o
}

// identity decodes the opened .p12.
func (o *openedCert) identity(op string) (pki.Identity, error) {
	if len(o.errs) > 0 {
		return pki.Identity{}, esign.E(op, o.errs[0])
	}
	imp, err := pki.ImportP12(o.p12, string(o.password), pki.ImportOptions{})
	if err != nil {
		return pki.Identity{}, err
	}
	return imp.Identity, nil
}

// CertUpgradeStore is the store UpgradeCerts works on.
type CertUpgradeStore interface {
	ListCerts(ctx context.Context, f esign.CertFilter) ([]*esign.Cert, error)
	GetCert(ctx context.Context, id string) (*esign.Cert, error)
	SwapCertSecrets(ctx context.Context, old *esign.Cert, pkcs12Enc, passwordEnc []byte) (*esign.Cert, error)
}

// UpgradeResult is what UpgradeCerts did.
type UpgradeResult struct {
	UpgradeCount
	// Problems says why the secrets counted in Failed were not upgraded:
	// one error per secret that could not be decrypted, one per
	// certificate that could not be stored, each message naming the
	// certificate.
	Problems []error
}

// swapTries bounds how often UpgradeCerts reads a certificate again that
// changed while it was being upgraded.
const swapTries = 3

// UpgradeCerts re-encrypts in the current format (envelope format v1 under
// the keyring's primary key) every certificate secret stored in the legacy
// format or under an older key, and counts what it did. Each certificate is
// stored on its own, with a compare-and-swap, so an interrupted run leaves
// every certificate either upgraded or as it was, a concurrent change is
// never overwritten (the certificate is read again), and a second run
// upgrades only what is left. A secret that cannot be decrypted or stored is
// counted as Failed and described in Problems; the others are still
// upgraded. The error is for what stops the run: the store fails, or ctx
// ends; the result then counts what was done so far.
func UpgradeCerts(ctx context.Context, store CertUpgradeStore, keys *envelope.Keyring) (UpgradeResult, error) {
	const op = "seal.UpgradeCerts"
	var res UpgradeResult
	var ids []string
	seen := map[string]bool{}
	const page = 100
	for off := 0; ; off += page {
		certs, err := store.ListCerts(ctx, esign.CertFilter{Page: esign.Page{Limit: page, Offset: off}})
		if err != nil {
			return res, esign.E(op, err)
		}
		for _, c := range certs {
			if !seen[c.ID] {
				seen[c.ID] = true
				ids = append(ids, c.ID)
			}
		}
		if len(certs) < page {
			break
		}
	}
	for _, id := range ids {
		if err := ctx.Err(); err != nil {
			return res, esign.E(op, err)
		}
		n, problems, err := upgradeCert(ctx, store, keys, id)
		if err != nil {
			return res, esign.E(op, err)
		}
		res.UpgradeCount = res.UpgradeCount.Add(n)
		res.Problems = append(res.Problems, problems...)
	}
	return res, nil
}

// upgradeCert upgrades the secrets of one certificate; a certificate
// deleted meanwhile counts nothing. The error stops the run.
func upgradeCert(ctx context.Context, store CertUpgradeStore, keys *envelope.Keyring, id string) (UpgradeCount, []error, error) {
	const op = "seal.UpgradeCerts"
	problem := func(err error) error {
		return esign.E(op, esign.ErrorKind(err), fmt.Sprintf("certificate %s: %s", id, esign.ErrorMessage(err)), err)
	}
	for try := 1; ; try++ {
		c, err := store.GetCert(ctx, id)
		switch {
		case esign.IsKind(err, esign.NotFound):
			return UpgradeCount{}, nil, nil
		case err != nil:
			return UpgradeCount{}, nil, err
		case c.KeySource != "" && c.KeySource != string(signer.P12):
			return UpgradeCount{}, nil, nil // no secret in the database
		}
		o := openCert(c, keys)
		var problems []error
		for _, err := range o.errs {
			problems = append(problems, problem(err))
		}
		if o.count.Upgraded == 0 {
			return o.count, problems, nil
		}
		_, err = store.SwapCertSecrets(ctx, c, o.p12Enc, o.passwordEnc)
		switch {
		case err == nil:
			return o.count, problems, nil
		case !esign.IsKind(err, esign.Conflict):
			return UpgradeCount{}, nil, err
		case try < swapTries:
			continue // changed meanwhile: read it again
		}
		n := o.count
		n.Failed, n.Upgraded = n.Failed+n.Upgraded, 0
		return n, append(problems, problem(esign.E(op, esign.Conflict, "its secrets kept changing while they were upgraded; run again", err))), nil
	}
}
