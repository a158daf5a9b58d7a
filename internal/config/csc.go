package config

import (
	"net"
	"net/url"
	"strings"
)

// CSC configures the Cloud Signature Consortium API v2 service that holds
// the seal key when the active certificate's key source is csc
// (docs/key-custody.md, "CSC remote signing").
type CSC struct {
	URL           string `json:"url" help:"Base URI of the CSC API v2 remote signing service (ending in /csc/v2; added when the URL has no path) that pdfservice signs with when the active certificate's key is a CSC credential; its OAuth2 token endpoint is <url>/oauth2/token. https, or http to a loopback address only (esign csc-server). Empty: CSC is not configured."`
	ClientID      string `json:"client_id" help:"OAuth2 client id (service account) pdfservice authenticates with to the CSC service (client credentials grant)."`
	ClientSecret  string `json:"client_secret" secret:"true" help:"OAuth2 client secret of csc.client_id; set it with ESIGN_CSC_CLIENT_SECRET_FILE."`
	Authorization string `json:"authorization" secret:"true" help:"Values of the credential's authorisation objects, sent to credentials/authorize when the credential's authorisation is explicit (always for SCAL2): comma-separated ID=VALUE pairs such as PIN=123456. Only Password objects are supported (no OTP sent to a person). Empty: the credential must authorise implicitly (SCAL1)."`
}

// AuthorizationValues splits csc.authorization into its ID=VALUE pairs.
func (c CSC) AuthorizationValues() map[string]string {
	m := map[string]string{}
	for p := range strings.SplitSeq(c.Authorization, ",") {
		if k, v, ok := strings.Cut(strings.TrimSpace(p), "="); ok && k != "" {
			m[k] = v
		}
	}
	return m
}

func (c CSC) validate() error {
	if c.URL == "" {
		return nil
	}
	if err := checkURL(c.URL, "https", "http"); err != nil {
		return &FieldError{Key: "csc.url", Reason: err.Error()}
	}
	if u, _ := url.Parse(c.URL); u.Scheme == "http" {
		if ip := net.ParseIP(u.Hostname()); u.Hostname() != "localhost" && (ip == nil || !ip.IsLoopback()) {
			return &FieldError{Key: "csc.url", Reason: "http only to a loopback address; use https"}
		}
	}
	if c.ClientID == "" {
		return &FieldError{Key: "csc.client_id", Reason: "must be set with csc.url"}
	}
	if c.ClientSecret == "" {
		return &FieldError{Key: "csc.client_secret", Reason: "must be set with csc.url (ESIGN_CSC_CLIENT_SECRET_FILE)"}
	}
	if c.Authorization != "" {
		for p := range strings.SplitSeq(c.Authorization, ",") {
			if k, _, ok := strings.Cut(strings.TrimSpace(p), "="); !ok || k == "" {
				return &FieldError{Key: "csc.authorization", Reason: "must be comma-separated ID=VALUE pairs"}
			}
		}
	}
	return nil
}
