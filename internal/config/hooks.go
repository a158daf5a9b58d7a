package config

import (
	"time"
)

// Hooks configures the bank's out-of-process hooks: a synchronous HTTPS
// callout per moment (docs/customization.md, "Hooks"). Hooks a bank
// compiles into its own binary (package customize) take the policies
// here too.
type Hooks struct {
	Secret  string        `json:"secret" secret:"true" help:"HMAC-SHA256 key (at least 32 characters) of the X-Esign-Signature header of hook callouts, signed like the events; required when any hooks.*_url is set."`
	Timeout time.Duration `json:"timeout" help:"How long one hook (a callout or an in-process function) may take; a hook that has not answered by then has failed and its policy applies."`

	OfferCreatedURL          string `json:"offer_created_url" help:"Callout before an offer's notification; its answer may veto the offer (shown to operators as the offer's reason) or add data. https, or http to a loopback address; empty: none."`
	OfferCreatedPolicy       string `json:"offer_created_policy" help:"open (a failed or late offer_created hook lets the offer go on) or closed (the offer is stopped, the failure as its reason)."`
	CustomerRegisteredURL    string `json:"customer_registered_url" help:"Callout before a customer's registration is approved; its answer may veto the approval (the customer stays pending). https, or http to a loopback address; empty: none."`
	CustomerRegisteredPolicy string `json:"customer_registered_policy" help:"open or closed (a failed customer_registered hook refuses the approval, the failure as the reason)."`
	SignatureVerifiedURL     string `json:"signature_verified_url" help:"Callout after a signature is verified, before the seal; its answer may add PDF metadata to the sealed documents (never change what was signed). https, or http to a loopback address; empty: none."`
	SignatureVerifiedPolicy  string `json:"signature_verified_policy" help:"open (a failed signature_verified hook: sealed without its metadata) or closed (the seal job fails and is retried)."`
	ContractSealedURL        string `json:"contract_sealed_url" help:"Callout after a contract is sealed (no answer expected; a failure is logged). https, or http to a loopback address; empty: none."`
	OfferEndedURL            string `json:"offer_ended_url" help:"Callout after an offer is refused by the customer or expires (no answer expected; a failure is logged). https, or http to a loopback address; empty: none."`
}

// HookURLs maps the hook names to their settings' keys and URLs.
func (h Hooks) HookURLs() []HookSetting {
	return []HookSetting{
		{"offer_created", "hooks.offer_created", h.OfferCreatedURL, h.OfferCreatedPolicy},
		{"customer_registered", "hooks.customer_registered", h.CustomerRegisteredURL, h.CustomerRegisteredPolicy},
		{"signature_verified", "hooks.signature_verified", h.SignatureVerifiedURL, h.SignatureVerifiedPolicy},
		{"contract_sealed", "hooks.contract_sealed", h.ContractSealedURL, ""},
		{"offer_ended", "hooks.offer_ended", h.OfferEndedURL, ""},
	}
}

// HookSetting is one hook's settings; Key is the prefix of its _url and
// _policy keys.
type HookSetting struct {
	Name, Key, URL, Policy string
}

func (h Hooks) validate() error {
	if h.Timeout <= 0 || h.Timeout > time.Minute {
		return &FieldError{Key: "hooks.timeout", Reason: "must be positive and at most 1m"}
	}
	set := false
	for _, s := range h.HookURLs() {
		if s.URL != "" {
			set = true
			if err := checkProviderURL(s.URL); err != nil {
				return &FieldError{Key: s.Key + "_url", Reason: err.Error()}
			}
		}
		if s.Key == "hooks.contract_sealed" || s.Key == "hooks.offer_ended" {
			continue
		}
		if s.Policy != "open" && s.Policy != "closed" {
			return &FieldError{Key: s.Key + "_policy", Reason: "must be open or closed"}
		}
	}
	if set && len(h.Secret) < 32 {
		return &FieldError{Key: "hooks.secret", Reason: "must have at least 32 characters when a hooks.*_url is set"}
	}
	return nil
}
