package cli

import (
	"cmp"
	"context"
	"crypto/rand"
	"crypto/x509"
	"flag"
	"fmt"
	"log/slog"
	"os"

	"software.sslmate.com/src/go-pkcs12"

	"esign/internal/certs"
	"esign/internal/config"
	"esign/internal/envelope"
	"esign/internal/esign"
	"esign/internal/hsm"
	"esign/internal/pki"
	"esign/internal/signer"
	"esign/internal/sqlstore"
)

// runCert: esign cert import|list. The admin UI offers the same (package
// certs); the command serves installation scripts and operators without a browser.
func runCert(ctx context.Context, env Env, args []string) error {
	const usage = "usage: esign cert import (--p12 FILE --password-file FILE | --dev | --key-label LABEL (--token-label LABEL | --slot N) [--pkcs11-module FILE] [--pin-file FILE] [--chain FILE] | --credential-id ID [--csc-url URL --csc-client-id ID --csc-client-secret-file FILE]) [--name NAME] [--activate] | esign cert list"
	if len(args) == 0 {
		return usagef(usage)
	}
	fs, path := newFlagSet(env, "cert "+args[0])
	p12File := fs.String("p12", "", "the bank's signing identity as a .p12 file")
	pwFile := fs.String("password-file", "", "file whose first line is the .p12 password")
	name := fs.String("name", "", "a name for operators (default: the certificate's common name)")
	activate := fs.Bool("activate", false, "make it the certificate pdfservice signs with")
	dev := fs.Bool("dev", false, "import the development PKI's bank certificate (data_dir/pki): for staging and benchmarks of a production deployment, never for real contracts")
	p11 := pkcs11Flags(fs)
	cscFlags := addCSCImportFlags(fs)
	if err := parseFlags(fs, args[1:]); err != nil {
		return err
	}
	if fs.NArg() > 0 || (args[0] != "import" && args[0] != "list") {
		return usagef(usage)
	}
	if p11.keyLabel != "" && !hsm.Available {
		return esign.E("cert import", esign.Unavailable, "this esign was built without cgo, which PKCS#11 needs: use the cgo build (docs/key-custody.md)")
	}
	cfg, err := loadConfig(env, *path)
	if err != nil {
		return err
	}
	db, err := openCurrentDB(ctx, cfg)
	if err != nil {
		return err
	}
	defer db.Close()
	if args[0] == "list" {
		certs, err := db.ListCerts(ctx, esign.CertFilter{})
		if err != nil {
			return err
		}
		if len(certs) == 0 {
			fmt.Fprintln(env.Stdout, "no certificates; import one with: esign cert import --p12 FILE --password-file FILE --activate")
		}
		for _, c := range certs {
			active := ""
			if c.Active {
				active = " (active)"
			}
			fmt.Fprintf(env.Stdout, "%s  %s  %s  valid %s … %s  key %s%s\n", c.ID, c.FingerprintSHA256[:16], c.Subject, c.NotBefore.Format("2006-01-02"), c.NotAfter.Format("2006-01-02"), keyWhere(c), active)
		}
		return nil
	}
	if cscFlags.credentialID != "" {
		if *dev || *p12File != "" || *pwFile != "" || p11.keyLabel != "" {
			return usagef(usage)
		}
		return importCSC(ctx, env, cfg, db, cscFlags, *name, *activate)
	}
	keys, err := openKeyring(cfg)
	if err != nil {
		return err
	}
	if p11.keyLabel != "" {
		if *dev || *p12File != "" || *pwFile != "" {
			return usagef(usage)
		}
		res, err := p11.importKey(ctx, cfg, db, *name, *activate)
		if err != nil {
			return esign.E("cert import", esign.ErrorKind(err), esign.ErrorMessage(err))
		}
		return recordImport(ctx, env, db, res, *activate)
	}
	var p12 []byte
	var pw string
	switch {
	case *dev && *p12File == "" && *pwFile == "":
		if p12, pw, err = devP12(cfg, keys); err != nil {
			return err
		}
	case !*dev && *p12File != "" && *pwFile != "":
		if p12, err = os.ReadFile(*p12File); err != nil {
			return fmt.Errorf("read --p12: %w", err)
		}
		if pw, err = firstLine("--password-file", *pwFile); err != nil {
			return err
		}
	default:
		return usagef(usage)
	}
	res, err := certs.Import(ctx, db, keys, certs.Input{P12: p12, Password: pw, Name: *name, Activate: *activate})
	if err != nil {
		return esign.E("cert import", esign.ErrorKind(err), esign.ErrorMessage(err))
	}
	return recordImport(ctx, env, db, res, *activate)
}

// recordImport records an import in the audit log — a certificate change
// is a security event (docs/evidence.md); the admin UI's import records
// its own, with the operator — and prints what was imported.
func recordImport(ctx context.Context, env Env, db *sqlstore.DB, res *certs.Imported, activate bool) error {
	c := res.Cert
	if err := db.CreateAuditLog(ctx, &esign.AuditLog{ActorType: "system", Action: "cert.import", ObjectType: "cert",
		ObjectID: c.ID, Detail: fmt.Sprintf(`{"via":"cli","activated":%t}`, activate)}); err != nil {
		return fmt.Errorf("record the import in the audit log: %w", err)
	}
	for _, w := range res.Warnings {
		fmt.Fprintf(env.Stderr, "warning: %s\n", w)
	}
	state := "imported"
	if activate {
		state = "imported and activated"
	}
	fmt.Fprintf(env.Stdout, "%s %s: %s (valid until %s, key %s)\n", state, c.ID, c.Subject, c.NotAfter.Format("2006-01-02"), keyWhere(c))
	return nil
}

// keyWhere says where a certificate's key lives: p12, pkcs11 REF, csc ID.
func keyWhere(c *esign.Cert) string {
	if c.KeySource == "" || c.KeySource == string(signer.P12) {
		return string(signer.P12)
	}
	return c.KeySource + " " + c.KeyRef
}

// p11Flags register a key in a PKCS#11 token.
type p11Flags struct {
	module, tokenLabel, keyLabel, pinFile, chain string
	slot                                         int
}

func pkcs11Flags(fs *flag.FlagSet) *p11Flags {
	p := &p11Flags{}
	fs.StringVar(&p.keyLabel, "key-label", "", "register the key pair with this label (CKA_LABEL) in a PKCS#11 token instead of a .p12")
	fs.StringVar(&p.tokenLabel, "token-label", "", "the PKCS#11 token's label")
	fs.IntVar(&p.slot, "slot", -1, "the PKCS#11 token's slot number, instead of --token-label")
	fs.StringVar(&p.module, "pkcs11-module", "", "the PKCS#11 library (default: pkcs11.module)")
	fs.StringVar(&p.pinFile, "pin-file", "", "file whose first line is the token user's PIN (default: pkcs11.pin)")
	fs.StringVar(&p.chain, "chain", "", "PEM file of the key's certificate chain, leaf first, or only the issuers when the token holds the certificate")
	return p
}

// importKey opens the key in the token, reads its certificate there (or
// from --chain) and registers it; pdfservice reaches it with pkcs11.module
// and pkcs11.pin.
func (p *p11Flags) importKey(ctx context.Context, cfg config.Config, db *sqlstore.DB, name string, activate bool) (*certs.Imported, error) {
	ref := hsm.Ref{Token: p.tokenLabel, Key: p.keyLabel}
	if p.slot >= 0 {
		slot := p.slot
		ref.Slot = &slot
	}
	if _, err := hsm.ParseRef(ref.String()); err != nil || (p.slot >= 0 && p.tokenLabel != "") {
		return nil, usagef("name the token by one of --token-label or --slot, and the key by --key-label")
	}
	hc := hsm.Config{Module: cmp.Or(p.module, cfg.PKCS11.Module), PIN: cfg.PKCS11.PIN}
	if hc.Module == "" {
		return nil, usagef("--pkcs11-module (or pkcs11.module) is required")
	}
	if p.pinFile != "" {
		pin, err := firstLine("--pin-file", p.pinFile)
		if err != nil {
			return nil, err
		}
		hc.PIN = pin
	}
	var chain []*x509.Certificate
	if p.chain != "" {
		b, err := os.ReadFile(p.chain)
		if err != nil {
			return nil, fmt.Errorf("read --chain: %w", err)
		}
		if chain, err = pki.ParseCertificatesPEM(b); err != nil {
			return nil, fmt.Errorf("read --chain: %w", err)
		}
	}
	key, err := (&hsm.Opener{Config: hc}).Open(ctx, ref.String())
	if err != nil {
		return nil, err
	}
	defer key.Close()
	return certs.ImportKey(ctx, db, certs.KeyInput{Source: signer.PKCS11, Ref: ref.String(), Key: key, Chain: chain, Name: name, Activate: activate})
}

// devP12 packs the development PKI's bank signer into a .p12 under a
// random password, so that --dev takes the same import path as a file.
func devP12(cfg config.Config, keys *envelope.Keyring) ([]byte, string, error) {
	dev, err := openDevPKI(cfg, keys, slog.New(slog.DiscardHandler))
	if err != nil {
		return nil, "", err
	}
	pw := rand.Text()
	p12, err := pkcs12.Modern.Encode(dev.Signer.Key, dev.Signer.Certificate, dev.Signer.Chain, pw)
	if err != nil {
		return nil, "", fmt.Errorf("pack the development signer: %w", err)
	}
	return p12, pw, nil
}
