package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"os"
	"strings"

	"esign/internal/cms"
	"esign/internal/csc"
	"esign/internal/signer"
)

// benchCSC is pdfsign's --signer csc: the key is a credential of a CSC API
// v2 service (esign csc-server, or a QTSP), reached over HTTP for every
// signature.
type benchCSC struct {
	url, clientID, secretFile, credentialID string
}

func (b *benchCSC) flags(fs *flag.FlagSet) {
	fs.StringVar(&b.url, "csc-url", "", "CSC service base URI for --signer csc (esign csc-server: http://127.0.0.1:10190/csc/v2)")
	fs.StringVar(&b.clientID, "csc-client-id", "", "OAuth2 client id for --signer csc")
	fs.StringVar(&b.secretFile, "csc-client-secret-file", "", "file whose first line is the OAuth2 client secret, for --signer csc")
	fs.StringVar(&b.credentialID, "credential-id", "", "the credential for --signer csc")
}

func (b *benchCSC) signer(ctx context.Context) (cms.Signer, error) {
	f, err := os.Open(b.secretFile)
	if err != nil {
		return cms.Signer{}, fmt.Errorf("pdfsign: --csc-client-secret-file: %w", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Scan()
	client, err := csc.NewClient(csc.ClientConfig{URL: b.url, ClientID: b.clientID, ClientSecret: strings.TrimSpace(sc.Text())})
	if err != nil {
		return cms.Signer{}, err
	}
	cred, err := client.Open(ctx, b.credentialID)
	if err != nil {
		return cms.Signer{}, fmt.Errorf("pdfsign: open the CSC credential: %w", err)
	}
	chain, _ := cred.Certificates(ctx)
	return cms.Signer{Certificate: chain[0], Chain: chain[1:], Key: signer.WithContext(ctx, cred)}, nil
}
