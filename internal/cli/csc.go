package cli

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"time"

	"esign/internal/config"
	"esign/internal/csc"
	"esign/internal/esign"
	"esign/internal/signer"
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

func splitCSCRef(ref string) (serviceURL, credentialID string) {
	if i := strings.LastIndexByte(ref, '#'); i >= 0 {
		return ref[:i], ref[i+1:]
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
