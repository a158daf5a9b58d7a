package config

import "strings"

// Seal configures the bank's seal on contracts (docs/pades.md, "Seal levels"
// and "Revocation data sources").
type Seal struct {
	Level     string `json:"level" help:"PAdES level of the bank's seal on contracts: B-B, B-T, B-LT or B-LTA. B-LT and B-LTA need revocation data (OCSP or CRL) for every certificate of the seal and of the TSA; when a certificate has none the seal is made at B-T, logged, and the contract records the level reached."`
	CRLFiles  string `json:"crl_files" help:"Comma-separated paths of CRLs (DER or PEM) to embed for certificates that name no reachable CRL or OCSP responder (a bank's internal PKI). Read by the process that runs the seal jobs (oss, esign all), again whenever a file changes; an expired one (nextUpdate passed) is not used and is logged. Tried before the network."`
	OCSPFiles string `json:"ocsp_files" help:"Comma-separated paths of DER OCSP responses (openssl ocsp -respout) to embed, refreshed by the operator like seal.crl_files."`
}

// sealLevels are the values seal.level takes.
var sealLevels = []string{"B-B", "B-T", "B-LT", "B-LTA"}

// Files splits a comma-separated list of paths, dropping empty entries.
func Files(list string) []string {
	var out []string
	for p := range strings.SplitSeq(list, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

func (s Seal) validate() error {
	for _, l := range sealLevels {
		if s.Level == l {
			return nil
		}
	}
	return &FieldError{Key: "seal.level", Reason: "must be one of " + strings.Join(sealLevels, ", ")}
}
