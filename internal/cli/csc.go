package cli

import (
	"context"
	"flag"
	"fmt"
	"net/http"
	"strings"
	"time"

	"esign/internal/certs"
	"esign/internal/config"
	"esign/internal/csc"
	"esign/internal/esign"
	"esign/internal/signer"
	"esign/internal/sqlstore"
)

var _ signer.Signer = (*csc.Credential)(nil)
var _ signer.ContextSigner = (*csc.Credential)(nil)
var _ signer.Certified = (*csc.Credential)(nil)

// newCSCClient is the client of the configured CSC service.
func newCSCClient(c config.CSC) (*csc.Client, error) {
	return csc.NewClient(csc.ClientConfig{URL: c.URL, ClientID: c.ClientID, ClientSecret: c.ClientSecret,
		Authorization: c.AuthorizationValues(), HTTP: &http.Client{Timeout: 30 * time.Second}})
}

// cscRef is a CSC certificate's key_ref: the service's base URI and the
// credential id, "https://qtsp.example/csc/v2#credentialID".
func cscRef(serviceURL, credentialID string) string { return serviceURL + "#" + credentialID }

// The URL has no fragment (csc.NewClient refuses one), so the first '#'
// ends it; a credential id may hold more.
func splitCSCRef(ref string) (serviceURL, credentialID string) {
	if u, id, ok := strings.Cut(ref, "#"); ok {
		return u, id
	}
	return "", ref
}

// cscOpener opens the CSC credentials of certificates for pdfservice.
type cscOpener struct{ c *csc.Client }

// Open implements signer.Opener. A credential registered at another
// service than csc.url is refused: the certificate would not match.
func (o cscOpener) Open(ctx context.Context, ref string) (signer.Signer, error) {
	u, id := splitCSCRef(ref)
	if u != "" && u != o.c.URL() {
		return nil, esign.E("csc.Open", esign.Unavailable, fmt.Sprintf("the active certificate's CSC credential is at %s, but csc.url is %s", u, o.c.URL()))
	}
	return o.c.Open(ctx, id)
}

// cscOpeners adds the CSC opener to o when csc.url is set.
func cscOpeners(cfg config.Config, o signer.Openers) error {
	if cfg.CSC.URL == "" {
		return nil
	}
	c, err := newCSCClient(cfg.CSC)
	if err != nil {
		return fmt.Errorf("csc.url: %w", err)
	}
	o[signer.CSC] = cscOpener{c}
	return nil
}

// cscImportFlags are esign cert import's flags for a CSC credential; an
// empty one falls back to the csc.* setting.
type cscImportFlags struct {
	url, clientID, secretFile, credentialID string
}

func addCSCImportFlags(fs *flag.FlagSet) *cscImportFlags {
	f := &cscImportFlags{}
	fs.StringVar(&f.credentialID, "credential-id", "", "register the CSC credential with this id (its chain fetched from credentials/info) instead of a .p12")
	fs.StringVar(&f.url, "csc-url", "", "the CSC service's base URI (default csc.url)")
	fs.StringVar(&f.clientID, "csc-client-id", "", "OAuth2 client id at the CSC service (default csc.client_id)")
	fs.StringVar(&f.secretFile, "csc-client-secret-file", "", "file whose first line is the OAuth2 client secret (default csc.client_secret)")
	return f
}

// importCSC registers a CSC credential: key_source csc, key_ref
// URL#credentialID, the chain from credentials/info.
func importCSC(ctx context.Context, env Env, cfg config.Config, db *sqlstore.DB, f *cscImportFlags, name string, activate bool) error {
	cc := cfg.CSC
	if f.url != "" {
		cc.URL = f.url
	}
	if f.clientID != "" {
		cc.ClientID = f.clientID
	}
	if f.secretFile != "" {
		s, err := firstLine("--csc-client-secret-file", f.secretFile)
		if err != nil {
			return err
		}
		cc.ClientSecret = s
	}
	if cc.URL == "" || cc.ClientID == "" || cc.ClientSecret == "" {
		return usagef("a CSC credential needs --csc-url, --csc-client-id and --csc-client-secret-file (or the csc.* settings)")
	}
	client, err := newCSCClient(cc)
	if err != nil {
		return usagef("%v", err)
	}
	cred, err := client.Open(ctx, f.credentialID)
	if err != nil {
		return esign.E("cert import", esign.ErrorKind(err), esign.ErrorMessage(err))
	}
	res, err := certs.ImportKey(ctx, db, certs.KeyInput{Source: signer.CSC, Ref: cscRef(client.URL(), f.credentialID), Key: cred, Name: name, Activate: activate})
	if err != nil {
		return esign.E("cert import", esign.ErrorKind(err), esign.ErrorMessage(err))
	}
	if configured, err := newCSCClient(cfg.CSC); err == nil && configured.URL() != client.URL() {
		fmt.Fprintf(env.Stderr, "warning: csc.url is %s; pdfservice signs with this credential only when csc.url is %s\n", cfg.CSC.URL, client.URL())
	}
	return recordImport(ctx, env, db, res, activate)
}
