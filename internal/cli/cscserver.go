package cli

import (
	"context"
	"crypto"
	"crypto/x509"
	"fmt"
	"net"
	"os"
	"time"

	"esign/internal/config"
	"esign/internal/csc"
	"esign/internal/esign"
	"esign/internal/hsm"
	"esign/internal/httpkit"
	"esign/internal/pki"
	"esign/internal/signer"
)

// runCSCServer: esign csc-server, a CSC API v2 remote signing service of
// our own for development and tests (docs/key-custody.md), as esign tsa
// is for RFC 3161. Loopback by default.
func runCSCServer(ctx context.Context, env Env, args []string) error {
	const usage = "usage: esign csc-server (--p12 FILE --password-file FILE | --dev | --pkcs11-key REF [--chain FILE]) --client-id ID --client-secret-file FILE [--credential-id ID] [--scal 1|2 --pin-file FILE] [--listen ADDR] [--rate N] [--disabled] [--wrong-digest]"
	fs, path := newFlagSet(env, "csc-server")
	listen := fs.String("listen", "127.0.0.1:10190", "address to listen on (plain HTTP: keep it on loopback or behind a TLS proxy)")
	p12File := fs.String("p12", "", "the credential's key and certificate chain as a .p12 file")
	pwFile := fs.String("password-file", "", "file whose first line is the .p12 password")
	dev := fs.Bool("dev", false, "sign with the development PKI's bank signer (data_dir/pki)")
	p11Key := fs.String("pkcs11-key", "", "sign with a key in a PKCS#11 token (pkcs11.module, pkcs11.pin): token=LABEL;key=LABEL or slot=N;key=LABEL")
	chainFile := fs.String("chain", "", "with --pkcs11-key: PEM certificate chain, leaf first (or only the issuers when the token holds the leaf)")
	clientID := fs.String("client-id", "", "the OAuth2 client id (service account) allowed to sign")
	secretFile := fs.String("client-secret-file", "", "file whose first line is the client's secret (16 characters or more)")
	credID := fs.String("credential-id", "seal", "the credential's id")
	scal := fs.Int("scal", 1, "1: implicit authorisation by the access token; 2: credentials/authorize with the PIN, bound to the hashes")
	pinFile := fs.String("pin-file", "", "with --scal 2: file whose first line is the credential's PIN")
	rate := fs.Int("rate", 0, "requests per second one client may make; more are answered 429 with Retry-After (0: no limit)")
	disabled := fs.Bool("disabled", false, "start with the credential disabled (tests)")
	wrong := fs.Bool("wrong-digest", false, "sign another digest than the one asked (tests of the client's check; never for real use)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	sources := 0
	for _, on := range []bool{*dev, *p12File != "", *p11Key != ""} {
		if on {
			sources++
		}
	}
	if fs.NArg() > 0 || *clientID == "" || *secretFile == "" || sources != 1 || (*p12File != "") != (*pwFile != "") || (*chainFile != "" && *p11Key == "") {
		return usagef(usage)
	}
	cfg, err := loadConfig(env, *path)
	if err != nil {
		return err
	}
	log := newLogger(env.Stderr, cfg.Log)
	var id pki.Identity
	switch {
	case *p11Key != "":
		if id, err = pkcs11Identity(ctx, cfg, *p11Key, *chainFile); err != nil {
			return err
		}
		defer id.Key.(signer.Signer).Close()
	case *dev:
		keys, err := openKeyring(cfg)
		if err != nil {
			return err
		}
		d, err := openDevPKI(cfg, keys, log)
		if err != nil {
			return err
		}
		id = d.Signer
	default:
		p12, err := os.ReadFile(*p12File)
		if err != nil {
			return fmt.Errorf("read --p12: %w", err)
		}
		pw, err := firstLine("--password-file", *pwFile)
		if err != nil {
			return err
		}
		imp, err := pki.ImportP12(p12, pw, pki.ImportOptions{})
		if err != nil {
			return esign.E("csc-server", esign.ErrorKind(err), esign.ErrorMessage(err))
		}
		id = pki.Identity{Certificate: imp.Certificate, Chain: imp.Chain, Key: imp.Key}
	}
	secret, err := firstLine("--client-secret-file", *secretFile)
	if err != nil {
		return err
	}
	pin := ""
	if *pinFile != "" {
		if pin, err = firstLine("--pin-file", *pinFile); err != nil {
			return err
		}
	}
	srv, err := csc.NewServer(csc.ServerConfig{
		Credentials: []csc.ServerCredential{{ID: *credID, Key: id.Key, Chain: append([]*x509.Certificate{id.Certificate}, id.Chain...),
			SCAL: *scal, PIN: pin, Disabled: *disabled, Description: id.Certificate.Subject.CommonName}},
		Clients:     []csc.ServerClient{{ID: *clientID, Secret: secret}},
		RateLimit:   *rate,
		Log:         log,
		WrongDigest: *wrong,
	})
	if err != nil {
		return usagef("%v", err)
	}
	if host, _, err := net.SplitHostPort(*listen); err == nil {
		if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
			log.Warn("csc-server listens beyond loopback over plain HTTP: client secrets and PINs cross the network in the clear", "listen", *listen)
		}
	}
	g, err := httpkit.Listen(ctx, log, httpkit.Timeouts{ReadHeader: 10 * time.Second, Read: 30 * time.Second, Write: 30 * time.Second,
		Idle: time.Minute, Shutdown: 5 * time.Second}, []httpkit.Listener{{Name: "csc", Addr: *listen, Handler: srv.Handler()}})
	if err != nil {
		return err
	}
	addr := g.Addr("csc")
	log.Info("csc-server listening", "url", "http://"+addr+"/csc/v2", "credential", *credID, "scal", *scal)
	if env.Ready != nil {
		env.Ready(map[string]string{"csc": addr})
	}
	return g.Serve(ctx)
}

// pkcs11Identity opens a token's key for csc-server, with the certificate
// the token holds and the chain of chainFile.
func pkcs11Identity(ctx context.Context, cfg config.Config, ref, chainFile string) (pki.Identity, error) {
	if cfg.PKCS11.Module == "" {
		return pki.Identity{}, usagef("--pkcs11-key needs pkcs11.module (ESIGN_PKCS11_MODULE) and pkcs11.pin")
	}
	k, err := (&hsm.Opener{Config: hsm.Config{Module: cfg.PKCS11.Module, PIN: cfg.PKCS11.PIN}}).Open(ctx, ref)
	if err != nil {
		return pki.Identity{}, esign.E("csc-server", esign.ErrorKind(err), esign.ErrorMessage(err))
	}
	var chain []*x509.Certificate
	if c, ok := k.(signer.Certified); ok {
		chain, _ = c.Certificates(ctx)
	}
	if chainFile != "" {
		b, err := os.ReadFile(chainFile)
		if err != nil {
			k.Close()
			return pki.Identity{}, fmt.Errorf("read --chain: %w", err)
		}
		more, err := pki.ParseCertificatesPEM(b)
		if err != nil {
			k.Close()
			return pki.Identity{}, fmt.Errorf("--chain: %w", err)
		}
		for _, c := range more {
			if len(chain) == 0 || !c.Equal(chain[0]) {
				chain = append(chain, c)
			}
		}
	}
	if len(chain) == 0 {
		k.Close()
		return pki.Identity{}, usagef("the token holds no certificate for %s: give the chain with --chain", ref)
	}
	if pub, ok := k.Public().(interface{ Equal(crypto.PublicKey) bool }); !ok || !pub.Equal(chain[0].PublicKey) {
		k.Close()
		return pki.Identity{}, usagef("the certificate is not the key's")
	}
	return pki.Identity{Certificate: chain[0], Chain: chain[1:], Key: k}, nil
}
