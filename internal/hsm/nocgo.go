//go:build !cgo

package hsm

import (
	"context"

	"esign/internal/esign"
	"esign/internal/signer"
)

// Available reports whether this build can reach PKCS#11 tokens: this one
// was compiled without cgo, which the PKCS#11 client needs.
const Available = false

// Opener of a build without cgo: it refuses, saying why.
type Opener struct {
	Config Config
}

// Open implements signer.Opener.
func (o *Opener) Open(ctx context.Context, ref string) (signer.Signer, error) {
	if _, err := ParseRef(ref); err != nil {
		return nil, esign.E("hsm.Open", esign.Invalid, err.Error())
	}
	return nil, esign.E("hsm.Open", esign.Unavailable, "this esign was built without cgo, which PKCS#11 needs: use the cgo build (docs/key-custody.md)")
}
