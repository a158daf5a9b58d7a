package pades

import (
	"crypto/x509"

	"esign/internal/cms"
	"esign/internal/tsa"
)

// certsCovered reports whether every certificate of the CMS der (a
// document time-stamp token) is among those a DSS made for sigs collected
// (the signatures' certificates, their signature time-stamps' and extra):
// then that DSS holds its validation data already. A token without
// certificates is covered when its signer was (its TSA is the signature
// time-stamp's), which is the usual case of one TSA for both.
func certsCovered(der []byte, sigs [][]byte, extra []*x509.Certificate) bool {
	sd, err := cms.Parse(der)
	if err != nil {
		return false
	}
	have := append([]*x509.Certificate(nil), extra...)
	for _, s := range sigs {
		have = append(have, signatureCerts(s)...)
	}
	for _, c := range sd.Certificates {
		found := false
		for _, h := range have {
			if h.Equal(c) {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	return true
}

// signatureCerts are the certificates of a CMS signature and of its
// signature time-stamps, as collectValidationData gathers them.
func signatureCerts(der []byte) []*x509.Certificate {
	sd, err := cms.Parse(der)
	if err != nil {
		return nil
	}
	all := append([]*x509.Certificate(nil), sd.Certificates...)
	for _, si := range sd.SignerInfos {
		if a := si.UnsignedAttribute(cms.OIDSignatureTimeStampToken); a != nil && len(a.Values) > 0 {
			if tok, err := tsa.ParseToken(a.Values[0]); err == nil {
				all = append(all, tok.SignedData.Certificates...)
			}
		}
	}
	return all
}
