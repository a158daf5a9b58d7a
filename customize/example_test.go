package customize_test

import (
	"context"
	"fmt"

	"esign/customize"
)

// A bank's main registers its rules and passes the registry to
// esigncmd.Main (examples/bank-esign).
func ExampleRegistry() {
	var hooks customize.Registry
	hooks.RegisterOfferCreated(func(ctx context.Context, o customize.OfferCreated) (customize.Answer, error) {
		if o.ExternalRef == "" {
			return customize.Answer{Veto: true, Reason: "every offer needs the bank's offer reference"}, nil
		}
		return customize.Answer{}, nil
	})
	a, _ := hooks.OfferCreated[0](context.Background(), customize.OfferCreated{Title: "Loan"})
	fmt.Println(len(hooks.OfferCreated), a.Veto, a.Reason)
	// Output: 1 true every offer needs the bank's offer reference
}
