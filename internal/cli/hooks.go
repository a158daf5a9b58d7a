package cli

import (
	"log/slog"

	"esign/customize"
	"esign/internal/config"
	"esign/internal/hooks"
)

// newHooks is the runner of the bank's hooks: the functions a bank's own
// binary registered (Env.Hooks) and the callouts of hooks.* (docs/customization.md).
func newHooks(cfg config.Config, reg *customize.Registry, log *slog.Logger) *hooks.Runner {
	h := cfg.Hooks
	c := hooks.Config{Secret: []byte(h.Secret), Timeout: h.Timeout, Log: log.With("component", "hooks"),
		Callouts: map[string]hooks.Callout{}, Policies: map[string]hooks.Policy{}}
	for _, s := range h.HookURLs() {
		if s.Policy != "" {
			c.Policies[s.Name] = hooks.Policy(s.Policy)
		}
		if s.URL != "" {
			c.Callouts[s.Name] = hooks.Callout{URL: s.URL, Policy: hooks.Policy(s.Policy)}
		}
	}
	return hooks.New(c, reg)
}
