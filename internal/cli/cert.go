package cli

import (
	"context"
	"crypto/rand"
	"fmt"
	"log/slog"
	"os"

	"software.sslmate.com/src/go-pkcs12"

	"esign/internal/certs"
	"esign/internal/config"
	"esign/internal/envelope"
	"esign/internal/esign"
)

// runCert: esign cert import|list. The admin UI offers the same (package
// certs); the command serves installation scripts and operators without a browser.
func runCert(ctx context.Context, env Env, args []string) error {
	const usage = "usage: esign cert import (--p12 FILE --password-file FILE | --dev | --credential-id ID [--csc-url URL --csc-client-id ID --csc-client-secret-file FILE]) [--name NAME] [--activate] | esign cert list"
	if len(args) == 0 {
		return usagef(usage)
	}
	fs, path := newFlagSet(env, "cert "+args[0])
	p12File := fs.String("p12", "", "the bank's signing identity as a .p12 file")
	pwFile := fs.String("password-file", "", "file whose first line is the .p12 password")
	name := fs.String("name", "", "a name for operators (default: the certificate's common name)")
	activate := fs.Bool("activate", false, "make it the certificate pdfservice signs with")
	dev := fs.Bool("dev", false, "import the development PKI's bank certificate (data_dir/pki): for staging and benchmarks of a production deployment, never for real contracts")
	cscFlags := addCSCImportFlags(fs)
	if err := parseFlags(fs, args[1:]); err != nil {
		return err
	}
	if fs.NArg() > 0 || (args[0] != "import" && args[0] != "list") {
		return usagef(usage)
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
		if *dev || *p12File != "" || *pwFile != "" {
			return usagef(usage)
		}
		return importCSC(ctx, env, cfg, db, cscFlags, *name, *activate)
	}
	keys, err := openKeyring(cfg)
	if err != nil {
		return err
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
	c := res.Cert
	for _, w := range res.Warnings {
		fmt.Fprintf(env.Stderr, "warning: %s\n", w)
	}
	state := "imported"
	if *activate {
		state = "imported and activated"
	}
	fmt.Fprintf(env.Stdout, "%s %s: %s (valid until %s)\n", state, c.ID, c.Subject, c.NotAfter.Format("2006-01-02"))
	return nil
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
