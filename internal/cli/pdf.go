package cli

import (
	"bytes"
	"context"
	"crypto/x509"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"esign/internal/atomicfile"
	"esign/internal/cms"
	"esign/internal/config"
	"esign/internal/esign"
	"esign/internal/pades"
	"esign/internal/pdf"
	"esign/internal/pki"
	"esign/internal/tsa"
	"esign/internal/validation"
)

func indicationText(ind, sub string) string {
	if sub != "" {
		return ind + "/" + sub
	}
	return ind
}

// exitStatus ends a command with a chosen status; Msg, if set, is printed
// like an error.
type exitStatus struct {
	Code int
	Msg  string
}

func (e exitStatus) Error() string { return e.Msg }

// runPDF: esign pdf sign|verify|sample.
func runPDF(ctx context.Context, env Env, args []string) error {
	if len(args) > 0 {
		switch args[0] {
		case "sign":
			return runPDFSign(ctx, env, args[1:])
		case "verify":
			return runPDFVerify(ctx, env, args[1:])
		case "sample":
			return runPDFSample(ctx, env, args[1:])
		}
	}
	return usagef("usage: esign pdf sign [flags] IN OUT | esign pdf verify [--trust CA.pem]… [--json] [--online] [--report FILE] FILE | esign pdf sample [--pages N] [--title T] OUT")
}

// runPDFSample: esign pdf sample OUT, a small document to try signing on.
func runPDFSample(ctx context.Context, env Env, args []string) error {
	fs, _ := newFlagSet(env, "pdf sample")
	pages := fs.Int("pages", 2, fmt.Sprintf("number of pages (1 to %d)", pdf.MaxSamplePages))
	title := fs.String("title", "Sample offer", "title on every page and in the document information")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return usagef("usage: esign pdf sample [--pages N] [--title T] OUT")
	}
	if *pages < 1 || *pages > pdf.MaxSamplePages {
		return usagef("--pages must be from 1 to %d", pdf.MaxSamplePages)
	}
	var b bytes.Buffer
	if err := pdf.WriteSample(&b, *title, *pages); err != nil {
		return err
	}
	out := fs.Arg(0)
	if err := atomicfile.Write(out, b.Bytes(), 0o644); err != nil {
		return fmt.Errorf("write %s: %w", out, err)
	}
	fmt.Fprintf(env.Stdout, "wrote %s (%d pages, %d bytes): a sample to try 'esign pdf sign' on\n", out, *pages, b.Len())
	return nil
}

// stringList is a repeatable string flag.
type stringList []string

func (s *stringList) String() string     { return strings.Join(*s, ", ") }
func (s *stringList) Set(v string) error { *s = append(*s, v); return nil }

func runPDFSign(ctx context.Context, env Env, args []string) error {
	fs, path := newFlagSet(env, "pdf sign")
	level := fs.String("level", "B-T", "PAdES baseline level: B-B, B-T, B-LT or B-LTA")
	p12 := fs.String("p12", "", "signing identity as a .p12 file (default: the development signer in the data directory)")
	p12Password := fs.String("p12-password", "", "password of --p12 (visible to other users in the process list: prefer --p12-password-file)")
	p12PasswordFile := fs.String("p12-password-file", "", "file whose first line is the password of --p12")
	tsaURL := fs.String("tsa", "", "RFC 3161 time-stamping authority (default: tsa.url, else the built-in TSA at listen.tsa)")
	var trust stringList
	fs.Var(&trust, "trust", "PEM file of a trust anchor for the TSA's certificate (repeatable; default: the system roots and the development CA)")
	reason := fs.String("reason", "", "/Reason of the signature")
	location := fs.String("location", "", "/Location of the signature")
	name := fs.String("name", "", "/Name of the signer (default: the certificate's common name)")
	visible := fs.Bool("visible", false, "draw a visible signature")
	page := fs.Int("page", 1, "page of the visible signature")
	rect := fs.String("rect", "36,36,286,96", "rectangle of the visible signature in points: x1,y1,x2,y2 from the lower left")
	var lines stringList
	fs.Var(&lines, "text", "a line of text in the visible signature (repeatable; default: the signer and the time)")
	image := fs.String("image", "", "baseline JPEG drawn in the visible signature")
	var crls, ocsps stringList
	fs.Var(&crls, "crl", "CRL (DER or PEM) to embed for B-LT/B-LTA when the certificates name no reachable CRL or OCSP responder (repeatable)")
	fs.Var(&ocsps, "ocsp-response", "DER OCSP response to embed for B-LT/B-LTA, as openssl ocsp -respout writes it (repeatable)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 2 {
		return usagef("usage: esign pdf sign [flags] IN OUT")
	}
	in, out := fs.Arg(0), fs.Arg(1)
	lvl, err := pades.ParseLevel(*level)
	if err != nil {
		return usageError{err}
	}
	cfg, err := loadConfig(env, *path)
	if err != nil {
		return err
	}
	id, err := signingIdentity(cfg, *p12, *p12Password, *p12PasswordFile)
	if err != nil {
		return err
	}
	prep := pades.PrepareOptions{Name: *name, Reason: *reason, Location: *location}
	if prep.Name == "" {
		prep.Name = id.Certificate.Subject.CommonName
	}
	if *visible || len(lines) > 0 || *image != "" {
		app, err := appearance(*page, *rect, lines, *image, prep.Name)
		if err != nil {
			return err
		}
		prep.Appearance = app
	}
	opt := pades.SignOptions{Level: lvl, Prepare: prep}
	if len(crls)+len(ocsps) > 0 {
		if lvl != pades.LevelBLT && lvl != pades.LevelBLTA {
			return usagef("--crl and --ocsp-response are for --level B-LT or B-LTA")
		}
		set, err := suppliedRevocation(crls, ocsps)
		if err != nil {
			return err
		}
		for _, w := range set.Expired() {
			fmt.Fprintf(env.Stderr, "warning: %s\n", w)
		}
		opt.Revocation = pades.RevocationSources{set, pades.HTTPRevocation{}}
	}
	signer := &pades.LocalSigner{Signer: cms.Signer(id)}
	if lvl != pades.LevelBB {
		client, err := tsaClient(cfg, *tsaURL, trust)
		if err != nil {
			return err
		}
		signer.TSA = client
		opt.TSA = client
	}
	opt.CMS = signer
	if err := pades.SignFile(ctx, in, out, opt); err != nil {
		if errors.Is(err, pades.ErrNoRevocation) {
			return fmt.Errorf("sign %s at %s: %w (supply the issuer's revocation data with --crl or --ocsp-response, or use --level B-T)", in, lvl, err)
		}
		if esign.IsKind(err, esign.Unavailable) {
			return fmt.Errorf("sign %s: %s (is the TSA running? start 'esign all' or 'esign tsa', pass --tsa URL, or use --level B-B)", in, esign.ErrorMessage(err))
		}
		if esign.IsKind(err, esign.Invalid) {
			// what is wrong with the input, without parser internals
			return fmt.Errorf("sign %s: %s", in, esign.ErrorMessage(err))
		}
		return fmt.Errorf("sign %s: %w", in, err)
	}
	fmt.Fprintf(env.Stdout, "signed %s → %s (PAdES %s, %s)\n", in, out, lvl, id.Certificate.Subject.CommonName)
	return nil
}

// suppliedRevocation reads the --crl and --ocsp-response files.
func suppliedRevocation(crls, ocsps []string) (*pades.RevocationSet, error) {
	set := &pades.RevocationSet{}
	for _, f := range crls {
		b, err := os.ReadFile(f)
		if err != nil {
			return nil, fmt.Errorf("read --crl: %w", err)
		}
		c, err := pades.ParseCRL(f, b)
		if err != nil {
			return nil, usagef("--crl: %v", err)
		}
		set.CRLs = append(set.CRLs, c)
	}
	for _, f := range ocsps {
		b, err := os.ReadFile(f)
		if err != nil {
			return nil, fmt.Errorf("read --ocsp-response: %w", err)
		}
		o, err := pades.ParseOCSPResponse(f, b)
		if err != nil {
			return nil, usagef("--ocsp-response: %v", err)
		}
		set.OCSPs = append(set.OCSPs, o)
	}
	return set, nil
}

// signingIdentity loads --p12, or the development signer of the data
// directory.
func signingIdentity(cfg config.Config, p12, pw, pwFile string) (pki.Identity, error) {
	if p12 == "" {
		if pw != "" || pwFile != "" {
			return pki.Identity{}, usagef("--p12-password needs --p12")
		}
		keys, err := openKeyring(cfg)
		if err != nil {
			return pki.Identity{}, err
		}
		dev, err := openDevPKI(cfg, keys, newLogger(os.Stderr, cfg.Log))
		if err != nil {
			return pki.Identity{}, err
		}
		return dev.Signer, nil
	}
	if pwFile != "" {
		var err error
		if pw, err = firstLine("--p12-password-file", pwFile); err != nil {
			return pki.Identity{}, err
		}
	}
	data, err := os.ReadFile(p12)
	if err != nil {
		return pki.Identity{}, fmt.Errorf("read --p12: %w", err)
	}
	imp, err := pki.ImportP12(data, pw, pki.ImportOptions{})
	if err != nil {
		return pki.Identity{}, fmt.Errorf("%s: %s", p12, esign.ErrorMessage(err))
	}
	for _, w := range imp.Warnings {
		fmt.Fprintf(os.Stderr, "warning: %s\n", w)
	}
	return imp.Identity, nil
}

// tsaClient returns the client of the TSA to use: --tsa, tsa.url, or the
// built-in one.
func tsaClient(cfg config.Config, url string, trust []string) (*tsa.Client, error) {
	if url == "" {
		url = cfg.TSA.URL
	}
	if url == "" {
		url = "http://" + displayAddr(cfg.Listen.TSA) + "/tsa"
	}
	roots, err := trustPool(cfg, trust)
	if err != nil {
		return nil, err
	}
	return &tsa.Client{URL: url, Username: cfg.TSA.Username, Password: cfg.TSA.Password, Timeout: cfg.TSA.Timeout, Retries: cfg.TSA.Retries, Roots: roots}, nil
}

// trustPool returns the PEM files' certificates, or, when none are named,
// the system roots plus the development CA of the data directory if there
// is one.
func trustPool(cfg config.Config, files []string) (*x509.CertPool, error) {
	var pool *x509.CertPool
	if len(files) == 0 {
		sys, err := x509.SystemCertPool()
		if err != nil || sys == nil {
			sys = x509.NewCertPool()
		}
		pool = sys
		pool.AppendCertsFromPEM(extraTrustAnchors(cfg))
		return pool, nil
	}
	pool = x509.NewCertPool()
	for _, f := range files {
		pem, err := os.ReadFile(f)
		if err != nil {
			return nil, fmt.Errorf("read --trust: %w", err)
		}
		if !pool.AppendCertsFromPEM(pem) {
			return nil, usagef("--trust %s holds no PEM certificate", f)
		}
	}
	return pool, nil
}

// extraTrustAnchors returns the PEM certificates trusted besides the
// system roots: the development CA of the data directory when there is
// one (nil otherwise). oss pushes them to css with the system
// configuration (bus.SystemConfig.TrustAnchors) for its verify page.
func extraTrustAnchors(cfg config.Config) []byte {
	pem, err := os.ReadFile(filepath.Join(cfg.DataDir, "pki", pki.FileCABundle))
	if err != nil {
		return nil
	}
	return pem
}

func appearance(page int, rect string, lines []string, image, signer string) (*pades.Appearance, error) {
	parts := strings.Split(rect, ",")
	if len(parts) != 4 {
		return nil, usagef("--rect %q: want x1,y1,x2,y2", rect)
	}
	a := &pades.Appearance{Page: page, Lines: lines}
	for i, p := range parts {
		v, err := strconv.ParseFloat(strings.TrimSpace(p), 64)
		if err != nil {
			return nil, usagef("--rect %q: %q is not a number", rect, p)
		}
		a.Rect[i] = v
	}
	if len(a.Lines) == 0 {
		a.Lines = []string{"Digitally signed by " + signer}
	}
	if image != "" {
		data, err := os.ReadFile(image)
		if err != nil {
			return nil, fmt.Errorf("read --image: %w", err)
		}
		a.JPEG = data
	}
	return a, nil
}

func runPDFVerify(ctx context.Context, env Env, args []string) error {
	fs, path := newFlagSet(env, "pdf verify")
	var trust stringList
	fs.Var(&trust, "trust", "PEM file of a trust anchor (repeatable; default: the system roots and the development CA of the data directory)")
	asJSON := fs.Bool("json", false, "print the report as JSON")
	report := fs.String("report", "", "also write a validation report (ETSI TS 119 102-2 style, docs/validation-report.md) to this file")
	reportFormat := fs.String("report-format", "", "format of --report: json, html or pdf (default: by the file's extension)")
	online := fs.Bool("online", false, "ask the certificates' OCSP responders and CRL distribution points for revocation status the DSS lacks")
	if err := parseFlags(fs, args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return exitStatus{Code: exitUsage, Msg: err.Error()}
	}
	if fs.NArg() != 1 {
		return exitStatus{Code: exitUsage, Msg: "usage: esign pdf verify [--trust CA.pem]… [--json] [--online] [--report FILE [--report-format json|html|pdf]] FILE"}
	}
	if *report != "" {
		f := *reportFormat
		if f == "" {
			f = validation.FormatOf(*report)
		}
		if f != validation.FormatJSON && f != validation.FormatHTML && f != validation.FormatPDF {
			return exitStatus{Code: exitUsage, Msg: "--report: name the format with --report-format json|html|pdf, or end the file name in .json, .html or .pdf"}
		}
		*reportFormat = f
	} else if *reportFormat != "" {
		return exitStatus{Code: exitUsage, Msg: "--report-format needs --report"}
	}
	cfg, err := loadConfig(env, *path)
	if err != nil {
		return err
	}
	roots, err := trustPool(cfg, trust)
	if err != nil {
		return exitStatus{Code: exitUsage, Msg: err.Error()}
	}
	rep, vrep, err := validation.VerifyFile(ctx, fs.Arg(0), pades.VerifyOptions{Roots: roots, Online: *online})
	if err != nil {
		return exitStatus{Code: 2, Msg: fmt.Sprintf("cannot read %s: %s", fs.Arg(0), esign.ErrorMessage(err))}
	}
	if *report != "" {
		if err := vrep.WriteFile(*report, *reportFormat); err != nil {
			return err
		}
		fmt.Fprintf(env.Stderr, "validation report (%s): %s: %s\n", *reportFormat, *report, indicationText(vrep.Indication, vrep.SubIndication))
	}
	if *asJSON {
		b, err := rep.JSON()
		if err != nil {
			return err
		}
		if _, err := env.Stdout.Write(b); err != nil {
			return err
		}
	} else {
		fmt.Fprint(env.Stdout, rep.Summary())
	}
	if !rep.Valid() {
		return exitStatus{Code: 1}
	}
	return nil
}
