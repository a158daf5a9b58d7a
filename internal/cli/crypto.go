package cli

import (
	"context"
	"encoding/asn1"
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"esign/internal/atomicfile"
	"esign/internal/config"
	"esign/internal/envelope"
	"esign/internal/esign"
	"esign/internal/hsm"
	"esign/internal/httpkit"
	"esign/internal/pki"
	"esign/internal/seal"
	"esign/internal/signer"
	"esign/internal/tsa"
)

// keysFile holds the generated envelope key of the embedded deployment.
const keysFile = "envelope.keys"

// openKeyring returns the envelope keyring from crypto.keys or, when that is
// empty (embedded deployment only; Validate refuses it with postgres), from
// <data_dir>/envelope.keys, generating that file on first start.
func openKeyring(cfg config.Config) (*envelope.Keyring, error) {
	spec := cfg.Crypto.Keys
	if spec == "" {
		path := filepath.Join(cfg.DataDir, keysFile)
		data, err := os.ReadFile(path)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			key, err := envelope.GenerateKey()
			if err != nil {
				return nil, err
			}
			spec = "dev-" + time.Now().UTC().Format("20060102") + ":" + base64.StdEncoding.EncodeToString(key)
			if err := atomicfile.Write(path, []byte(spec+"\n"), 0o600); err != nil {
				return nil, fmt.Errorf("write %s: %w", path, err)
			}
		case err != nil:
			return nil, fmt.Errorf("read %s: %w", path, err)
		default:
			spec = strings.TrimSpace(string(data))
		}
	}
	k, err := envelope.ParseKeys(spec)
	if err != nil {
		return nil, fmt.Errorf("crypto.keys: %w", err)
	}
	if cfg.Crypto.LegacySecret != "" {
		k = k.WithLegacy(&envelope.Legacy{Secret: cfg.Crypto.LegacySecret})
	}
	return k, nil
}

// keyCodec seals the development PKI's private keys with the envelope.
type keyCodec struct{ k *envelope.Keyring }

var keyCodecAD = []byte("esign dev pki private key")

func (c keyCodec) Seal(p []byte) ([]byte, error) { return c.k.Encrypt(p, keyCodecAD) }
func (c keyCodec) Open(p []byte) ([]byte, error) { return c.k.Decrypt(p, keyCodecAD) }

// tsaBaseURL is where the built-in TSA is reached from outside.
func tsaBaseURL(cfg config.Config) string {
	if cfg.TSA.PublicURL != "" {
		return strings.TrimSuffix(cfg.TSA.PublicURL, "/")
	}
	return "http://" + displayAddr(cfg.Listen.TSA)
}

// openDevPKI loads the development PKI from <data_dir>/pki, generating it on
// first start.
func openDevPKI(cfg config.Config, keys *envelope.Keyring, log *slog.Logger) (*pki.Dev, error) {
	dir := filepath.Join(cfg.DataDir, "pki")
	dev, created, err := pki.OpenDev(dir, pki.DevOptions{BaseURL: tsaBaseURL(cfg) + "/pki", KeyCodec: keyCodec{keys}})
	if err != nil {
		return nil, fmt.Errorf("development PKI in %s: %w", dir, err)
	}
	if created {
		log.Info("generated the development PKI", "dir", dir, "ca_bundle", filepath.Join(dir, pki.FileCABundle))
	}
	for _, w := range dev.Warnings(time.Now()) {
		log.Warn("development PKI", "warning", w)
	}
	return dev, nil
}

// tsaHandler serves the built-in TSA: RFC 3161 at POST /tsa and POST /
// (the same server at both paths) and the development CA's certificate, CRL
// and OCSP under /pki/.
func tsaHandler(cfg config.Config, dev *pki.Dev, log *slog.Logger, checks map[string]httpkit.Check) (http.Handler, func() error, error) {
	policy, err := parseOID(cfg.TSA.PolicyOID)
	if err != nil {
		return nil, nil, fmt.Errorf("tsa.policy_oid: %w", err)
	}
	serials, err := tsa.OpenFileSerialStore(filepath.Join(cfg.DataDir, "tsa.serial"), 0)
	if err != nil {
		return nil, nil, fmt.Errorf("open the TSA serial store: %w", err)
	}
	id, closeKey, err := tsaIdentity(cfg, dev)
	if err != nil {
		serials.Close()
		return nil, nil, err
	}
	if k, ok := id.Key.(signer.Signer); ok && checks != nil {
		checks["tsa_key"] = k.Check // its token answers (/readyz)
	}
	srv, err := tsa.NewServer(tsa.ServerConfig{
		Certificate: id.Certificate,
		Chain:       id.Chain,
		Key:         id.Key,
		Policy:      policy,
		Accuracy:    cfg.TSA.Accuracy,
		Serials:     serials,
		Logger:      log,
	})
	if err != nil {
		serials.Close()
		closeKey()
		return nil, nil, err
	}
	mux := http.NewServeMux()
	mux.Handle("POST /tsa", srv)
	mux.Handle("POST /{$}", srv)
	mux.Handle("/pki/", http.StripPrefix("/pki", dev.CA.Handler(dev.Revocations, pki.HandlerOptions{Logger: log})))
	return mux, func() error { closeKey(); return serials.Close() }, nil
}

// tsaIdentity is the built-in TSA's key and certificate: the key in the
// PKCS#11 token named by tsa.pkcs11_key with the chain of
// tsa.certificate_file, or the development PKI's TSA.
func tsaIdentity(cfg config.Config, dev *pki.Dev) (pki.Identity, func(), error) {
	if cfg.TSA.PKCS11Key == "" {
		return dev.TSA, func() {}, nil
	}
	b, err := os.ReadFile(cfg.TSA.CertificateFile)
	if err != nil {
		return pki.Identity{}, nil, fmt.Errorf("tsa.certificate_file: %w", err)
	}
	chain, err := pki.ParseCertificatesPEM(b)
	if err != nil || len(chain) == 0 {
		return pki.Identity{}, nil, fmt.Errorf("tsa.certificate_file: no PEM certificate: %v", err)
	}
	o := &hsm.Opener{Config: hsm.Config{Module: cfg.PKCS11.Module, PIN: cfg.PKCS11.PIN}}
	key, err := o.Open(context.Background(), cfg.TSA.PKCS11Key)
	if err != nil {
		return pki.Identity{}, nil, fmt.Errorf("tsa.pkcs11_key: %w", err)
	}
	return pki.Identity{Certificate: chain[0], Chain: chain[1:], Key: key}, func() { _ = key.Close() }, nil
}

// parseOID parses a dotted object identifier (validated by config already).
func parseOID(s string) (asn1.ObjectIdentifier, error) {
	var oid asn1.ObjectIdentifier
	for part := range strings.SplitSeq(s, ".") {
		n, err := strconv.Atoi(part)
		if err != nil || n < 0 {
			return nil, fmt.Errorf("%q is not a dotted object identifier", s)
		}
		oid = append(oid, n)
	}
	return oid, nil
}

// runCrypto: esign crypto upgrade re-encrypts every stored secret that is in
// the legacy format or under an older key (see seal.UpgradeCerts) and prints
// what it did. It is safe to interrupt and to run again.
func runCrypto(ctx context.Context, env Env, args []string) error {
	const usage = "usage: esign crypto upgrade [--config FILE]"
	if len(args) == 0 || args[0] != "upgrade" {
		return usagef(usage)
	}
	fs, path := newFlagSet(env, "crypto upgrade")
	if err := parseFlags(fs, args[1:]); err != nil {
		return err
	}
	if fs.NArg() > 0 {
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
	keys, err := openKeyring(cfg)
	if err != nil {
		return err
	}
	res, err := seal.UpgradeCerts(ctx, db, keys)
	if err != nil {
		if ctx.Err() != nil {
			fmt.Fprintf(env.Stdout, "%s before the interruption\n", res)
			return esign.E("crypto upgrade", esign.Unavailable, "interrupted: run esign crypto upgrade again to finish")
		}
		return err
	}
	for _, p := range res.Problems {
		fmt.Fprintf(env.Stderr, "esign crypto upgrade: %s\n", esign.ErrorMessage(p))
	}
	fmt.Fprintln(env.Stdout, res)
	if res.Failed > 0 {
		return esign.E("crypto upgrade", esign.Internal, fmt.Sprintf("%d stored secrets could not be upgraded: check crypto.keys and crypto.legacy_secret, then run again", res.Failed))
	}
	return nil
}
