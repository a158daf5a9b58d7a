package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"text/tabwriter"

	"esign/internal/signing"
)

// runEvidence: esign evidence verify [--trust CA.pem]… [--max-span D]
// [--json] CONTRACT.pdf re-runs every Phase-4 check of a sealed contract
// from its evidence attachment and checks the bank's seal, offline
// (docs/evidence.md); exit 0 when every check passes, 1 otherwise.
func runEvidence(ctx context.Context, env Env, args []string) error {
	const usage = "usage: esign evidence verify [--trust CA.pem]… [--max-span 10m] [--json] CONTRACT.pdf"
	if len(args) == 0 || args[0] != "verify" {
		return usagef(usage)
	}
	fs, path := newFlagSet(env, "evidence verify")
	var trust stringList
	fs.Var(&trust, "trust", "PEM file of a trust anchor of the TSA and the bank's seal (repeatable; default: the system roots and the development CA of the data directory)")
	maxSpan := fs.Duration("max-span", 0, "the longest TS3 − TS1 accepted (default: the signing default, 10m)")
	asJSON := fs.Bool("json", false, "print the report as JSON")
	if err := parseFlags(fs, args[1:]); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return usagef(usage)
	}
	cfg, err := loadConfig(env, *path)
	if err != nil {
		return err
	}
	roots, err := trustPool(cfg, trust)
	if err != nil {
		return usagef("%s", err)
	}
	f, err := os.Open(fs.Arg(0))
	if err != nil {
		return exitStatus{Code: exitUsage, Msg: err.Error()}
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return err
	}
	rep, err := signing.VerifyEvidence(ctx, f, st.Size(), signing.EvidenceOptions{Roots: roots, MaxSpan: *maxSpan})
	if err != nil {
		return exitStatus{Code: exitUsage, Msg: fmt.Sprintf("cannot read %s: %s", fs.Arg(0), err)}
	}
	if *asJSON {
		b, err := json.MarshalIndent(rep, "", "  ")
		if err != nil {
			return err
		}
		fmt.Fprintf(env.Stdout, "%s\n", b)
	} else {
		if rep.SignatureID != "" {
			fmt.Fprintf(env.Stdout, "signature %s, offer %s, customer %s (%s), evidence version %d\n\n",
				rep.SignatureID, rep.OfferID, rep.CustomerID, rep.UserName, rep.Version)
		}
		tw := tabwriter.NewWriter(env.Stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "CHECK\tRESULT\tDETAIL")
		for _, c := range rep.Checks {
			fmt.Fprintf(tw, "%s\t%s\t%s\n", c.Name, c.Result, c.Detail)
		}
		if err := tw.Flush(); err != nil {
			return err
		}
		if rep.OK {
			fmt.Fprintln(env.Stdout, "\nresult: every check passed")
		} else {
			fmt.Fprintln(env.Stdout, "\nresult: FAILED")
		}
	}
	if !rep.OK {
		return exitStatus{Code: exitFailed}
	}
	return nil
}
