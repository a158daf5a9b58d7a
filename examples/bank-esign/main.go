// Command bank-esign is esign with a bank's own rules compiled in: copy
// this directory into the bank's repository, change the functions, and
// build it instead of cmd/esign (docs/customization.md, "Hooks"). It runs
// every esign subcommand unchanged ("bank-esign all", "bank-esign oss", …).
package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"strings"

	"esign/cmd/esigncmd"
	"esign/customize"
)

func main() {
	var hooks customize.Registry
	hooks.RegisterOfferCreated(offerRules)
	hooks.RegisterSignatureVerified(caseNumber)
	hooks.RegisterContractSealed(func(ctx context.Context, c customize.ContractSealed) error {
		slog.Info("contract sealed", "contract", c.ContractID, "offer_ref", c.ExternalRef, "level", c.SealLevel)
		return nil
	})
	esigncmd.Main(&hooks)
}

// offerRules vetoes offers without the bank's reference and tags every
// other one with the branch that issued it (the prefix of the reference).
func offerRules(ctx context.Context, o customize.OfferCreated) (customize.Answer, error) {
	if o.ExternalRef == "" {
		return customize.Answer{Veto: true, Reason: "every offer needs the bank's offer reference (external_ref)"}, nil
	}
	branch, _, _ := strings.Cut(o.ExternalRef, "-")
	return customize.Answer{Data: map[string]string{"branch": branch}}, nil
}

// caseNumber adds the bank's case number to the sealed PDF, in the seal's
// own update: the signed bytes are never touched.
func caseNumber(ctx context.Context, s customize.SignatureVerified) (customize.Answer, error) {
	ref := s.ExternalRef
	if ref == "" {
		ref = s.OfferID
	}
	return customize.Answer{PDFMetadata: map[string]string{
		"BankCaseNumber": fmt.Sprintf("CASE-%s", ref),
		"BankHost":       hostname(),
	}}, nil
}

func hostname() string {
	h, _ := os.Hostname()
	return h
}
