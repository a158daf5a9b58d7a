package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"esign/internal/config"
	"esign/internal/demo"
	"esign/internal/webhookapi"
)

// demoCredentialsFile is where `esign all` keeps the webhook credentials
// it enables for `esign demo` (user:password, mode 0600), the format of
// the webhook.* settings, so that it can also be given to a production
// deployment as ESIGN_WEBHOOK_…_FILE.
const demoCredentialsFile = "demo-webhook-credentials"

// ensureDemoCredentials, for `esign all`, enables the webhook endpoints
// esign demo calls (and GET /dev/inbox while a channel goes to the
// development inbox) with the credentials in <data_dir>/demo-webhook-
// credentials, generated on first start — unless any webhook endpoint is
// configured, which leaves the configuration as it is. It returns the file
// when it applied it.
func ensureDemoCredentials(cfg *config.Config) (string, error) {
	w := &cfg.Webhook
	for _, e := range append(w.WebhookEndpoints(), w.DevInboxEndpoint()) {
		if e.Value != "" {
			return "", nil
		}
	}
	file := filepath.Join(cfg.DataDir, demoCredentialsFile)
	cred, err := readCredentials(file)
	if errors.Is(err, os.ErrNotExist) {
		cred = "demo:" + newPassword()
		err = os.WriteFile(file, []byte(cred+"\n"), 0o600)
	}
	if err != nil {
		return "", fmt.Errorf("demo webhook credentials: %w", err)
	}
	w.CustomerBootstrap, w.CustomerAssociation, w.CustomerApprove, w.OfferUpload, w.OfferRevoke = cred, cred, cred, cred, cred
	if cfg.Notify.UsesInbox() {
		w.DevInbox = cred
	}
	// The file may have been edited: refuse what the settings would.
	if err := cfg.Validate(); err != nil {
		return "", fmt.Errorf("%s: %w", file, err)
	}
	return file, nil
}

// readCredentials reads a user:password file (its first line).
func readCredentials(file string) (string, error) {
	b, err := os.ReadFile(file)
	if err != nil {
		return "", err
	}
	line, _, _ := strings.Cut(string(b), "\n")
	return strings.TrimRight(line, "\r"), nil
}

// runDemo is `esign demo`: against a running system (default: the local
// `esign all`) it signs an offer end to end through the public interfaces
// only (package demo) and verifies the sealed contract.
func runDemo(ctx context.Context, env Env, args []string) error {
	fs, path := newFlagSet(env, "demo")
	webhook := fs.String("webhook", "", "base URL of the webhook API (default http:// + listen.webhook)")
	mobile := fs.String("mobile", "", "base URL of the mobile API (default http:// + listen.mobile)")
	inbox := fs.String("inbox", "", "URL of the development inbox API (default http:// + listen.webhook + "+webhookapi.DevInboxPath+")")
	credFile := fs.String("webhook-credentials", "", "file holding user:password for the webhook API and the inbox API (default <data_dir>/"+demoCredentialsFile+", which esign all writes)")
	ref := fs.String("customer-ref", demo.DefaultCustomerRef, "bank reference of the demo customer, reused by every run")
	outDir := fs.String("out", ".", "directory to write the sealed contract's PDFs to")
	browser := fs.Bool("browser", false, "file an offer and print its link and the customer's credentials to sign it in the customer web UI, instead of signing with the reference device")
	var trust stringList
	fs.Var(&trust, "trust", "PEM file of a trust anchor of the contract's signatures (repeatable; default: the system roots and the development CA of the data directory)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("unexpected argument %q", fs.Arg(0))
	}
	cfg, err := loadConfig(env, *path)
	if err != nil {
		return err
	}
	o := demo.Options{WebhookURL: *webhook, MobileURL: *mobile, InboxURL: *inbox, CustomerRef: *ref, OutDir: *outDir, Out: env.Stdout, Browser: *browser}
	if o.WebhookURL == "" {
		o.WebhookURL = "http://" + displayAddr(cfg.Listen.Webhook)
	}
	if o.MobileURL == "" {
		o.MobileURL = "http://" + displayAddr(cfg.Listen.Mobile)
	}
	if o.InboxURL == "" {
		o.InboxURL = "http://" + displayAddr(cfg.Listen.Webhook) + webhookapi.DevInboxPath
	}
	if o.Roots, err = trustPool(cfg, trust); err != nil {
		return err
	}
	file := *credFile
	if file == "" {
		file = filepath.Join(cfg.DataDir, demoCredentialsFile)
	}
	// A missing file is reported after the check that the system answers:
	// with nothing running, "start esign all" is the useful advice.
	cred, err := readCredentials(file)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("read the webhook credentials: %w", err)
	}
	if cred != "" {
		var ok bool
		if o.User, o.Password, ok = strings.Cut(cred, ":"); !ok {
			return usagef("%s: want user:password", file)
		}
	}
	_, err = demo.Run(ctx, o)
	if errors.Is(err, demo.ErrNoCredentials) {
		return fmt.Errorf("no webhook credentials in %s: `esign all` writes it on start when no webhook endpoint is configured; "+
			"otherwise pass --webhook-credentials FILE (docs/operations.md)", file)
	}
	if err != nil {
		return err
	}
	if !*browser {
		fmt.Fprintln(env.Stdout, "signed.")
	}
	return nil
}
