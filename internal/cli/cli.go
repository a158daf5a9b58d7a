// Package cli implements the esign command: it parses arguments, loads the
// configuration and wires the packages together into the processes (all,
// oss, css, pdfservice, cron, tsa) and tools (migrate, config, version).
package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sort"
	"strings"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"esign/customize"
	"esign/internal/config"
	"esign/internal/esign"
	"esign/internal/tracing"
)

// Exit statuses.
const (
	exitOK     = 0
	exitFailed = 1 // the command ran and failed
	exitUsage  = 2 // bad arguments or bad configuration
)

// Env is what a command sees of the outside world.
type Env struct {
	Args    []string
	Stdin   io.Reader
	Stdout  io.Writer
	Stderr  io.Writer
	Environ []string
	// Ready, when set, is called by the long-running commands once every
	// listener is bound, with the bound addresses by listener name (tests).
	Ready func(addrs map[string]string)
	// Spans, when set, receives every span of a long-running command
	// instead of tracing.endpoint (tests).
	Spans sdktrace.SpanExporter
	// Hooks are the bank's in-process hooks, when it builds its own
	// binary (esigncmd.Main; docs/customization.md); nil: none.
	Hooks *customize.Registry
}

type command struct {
	name    string
	summary string
	run     func(ctx context.Context, env Env, args []string) error
}

func commands() []command {
	return []command{
		{"all", "run every process in one, on the embedded defaults (the newcomer's command)", runProcess(processAll)},
		{"oss", "run the backend: admin UI, webhook API, mobile API, realtime", runProcess(processOSS)},
		{"css", "run the customer web UI", runProcess(processCSS)},
		{"pdfservice", "run the PDF signing service (holds the bank's key)", runProcess(processPDFService)},
		{"cron", "run the scheduled jobs; cron run NAME runs one job now", runCron},
		{"tsa", "run the RFC 3161 time-stamping authority (development and tests)", runProcess(processTSA)},
		{"csc-server", "run a CSC API v2 remote signing service (development and tests): csc-server --p12 FILE --password-file FILE --client-id ID --client-secret-file FILE", runCSCServer},
		{"migrate", "apply or roll back database migrations: migrate up|down|status", runMigrate},
		{"pdf", "sign or verify a PDF: pdf sign [flags] IN OUT | pdf verify [--trust CA.pem] [--json] FILE | pdf sample OUT", runPDF},
		{"demo", "sign an offer end to end on a running system (default: the local esign all) and verify the contract", runDemo},
		{"cert", "the bank's signing certificates: cert import --p12 FILE --password-file FILE [--activate] | cert list", runCert},
		{"crypto", "re-encrypt stored secrets in the current format: crypto upgrade", runCrypto},
		{"audit", "the audit log's hash chain: audit verify [--from DATE] [--json] | audit anchor", runAudit},
		{"evidence", "check a sealed contract offline: evidence verify [--trust CA.pem] [--json] CONTRACT.pdf", runEvidence},
		{"events", "list the deliveries of events to the bank's callback URLs: events [--status failed]", runEvents},
		{"device", "the reference device client, step by step: device register|associate|create|login|offer|m1|resend-code|m2|contract", runDevice},
		{"user", "manage operator accounts: user create --username NAME [--role ROLE] | user password --username NAME | user reset-2fa --username NAME", runUser},
		{"config", "print the effective configuration, secrets masked", runConfig},
		{"i18n", "check the translations: i18n check [--dir DIR] lists missing and unused texts per language", runI18n},
		{"health", "exit 0 when URL (a process's /healthz or /readyz) answers 2xx: the image's health check", runHealth},
		{"version", "print the version and the commit", runVersion},
	}
}

// usageError marks errors that exit with status 2.
type usageError struct{ err error }

func (u usageError) Error() string { return u.err.Error() }
func (u usageError) Unwrap() error { return u.err }

func usagef(format string, args ...any) error { return usageError{fmt.Errorf(format, args...)} }

// Run runs the command named by env.Args and returns the exit status. Errors
// are printed as one line on Stderr.
func Run(ctx context.Context, env Env) int {
	args := env.Args
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		printUsage(env.Stdout)
		if len(args) == 0 {
			return exitUsage
		}
		return exitOK
	}
	for _, c := range commands() {
		if c.name != args[0] {
			continue
		}
		err := c.run(ctx, env, args[1:])
		switch {
		case err == nil:
			return exitOK
		case errors.Is(err, flag.ErrHelp):
			return exitOK
		}
		var es exitStatus
		if errors.As(err, &es) {
			if es.Msg != "" {
				fmt.Fprintf(env.Stderr, "esign %s: %s\n", c.name, oneLine(err))
			}
			return es.Code
		}
		fmt.Fprintf(env.Stderr, "esign %s: %s\n", c.name, oneLine(err))
		var ue usageError
		var fe *config.FieldError
		if errors.As(err, &ue) || errors.As(err, &fe) {
			return exitUsage
		}
		return exitFailed
	}
	fmt.Fprintf(env.Stderr, "esign: unknown command %q (see 'esign help')\n", args[0])
	return exitUsage
}

func printUsage(w io.Writer) {
	fmt.Fprintln(w, "esign — bank-grade electronic signatures")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Usage: esign <command> [--config FILE] [arguments]")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Commands:")
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-11s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Configuration: a JSON file (--config or ESIGN_CONFIG) and ESIGN_* variables; see docs/configuration.md.")
}

// oneLine renders err for the terminal: a domain error shows its message
// (the internal cause is for logs), anything else its text, on one line.
func oneLine(err error) string {
	text := err.Error()
	if e, ok := err.(*esign.Error); ok && e.Msg != "" {
		text = e.Msg
	}
	return strings.Join(strings.Fields(text), " ")
}

// newFlagSet makes a flag set that reports usage errors as usageError and
// has the common --config flag.
func newFlagSet(env Env, name string) (*flag.FlagSet, *string) {
	fs := flag.NewFlagSet("esign "+name, flag.ContinueOnError)
	fs.SetOutput(env.Stderr)
	path := fs.String("config", "", "configuration file (JSON); default $"+config.FileEnv)
	return fs, path
}

func parseFlags(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return usageError{err}
	}
	return nil
}

// loadConfig loads the configuration from the --config file (or
// $ESIGN_CONFIG) and the environment.
func loadConfig(env Env, path string) (config.Config, error) {
	if path == "" {
		for _, kv := range env.Environ {
			if v, ok := strings.CutPrefix(kv, config.FileEnv+"="); ok {
				path = v
			}
		}
	}
	return config.Load(path, env.Environ)
}

func newLogger(w io.Writer, c config.Log) *slog.Logger {
	var level slog.Level
	_ = level.UnmarshalText([]byte(c.Level))
	opts := &slog.HandlerOptions{Level: level}
	if c.Format == "json" {
		return slog.New(tracing.LogHandler(slog.NewJSONHandler(w, opts)))
	}
	return slog.New(tracing.LogHandler(slog.NewTextHandler(w, opts)))
}

func runConfig(ctx context.Context, env Env, args []string) error {
	fs, path := newFlagSet(env, "config")
	asJSON := fs.Bool("json", false, "print as JSON")
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
	entries := cfg.Redacted()
	if *asJSON {
		m := make(map[string]string, len(entries))
		for _, e := range entries {
			m[e.Key] = e.Value
		}
		return writeJSON(env.Stdout, m)
	}
	sort.SliceStable(entries, func(i, j int) bool { return entries[i].Key < entries[j].Key })
	for _, e := range entries {
		fmt.Fprintf(env.Stdout, "%s = %s\n", e.Key, e.Value)
	}
	return nil
}

func runVersion(ctx context.Context, env Env, args []string) error {
	fmt.Fprintln(env.Stdout, versionString())
	return nil
}

func ensureDataDir(dir string) error {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return fmt.Errorf("create data directory: %w", err)
	}
	return nil
}
