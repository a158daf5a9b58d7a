package cli

import (
	"cmp"
	"net/http"
	"strings"

	"esign/internal/customerui"
	"esign/internal/rpc"
)

// customerNotice is the bank's notice to customers from the latest system
// configuration oss pushed (the setting customer.notice).
func (a *app) customerNotice() string {
	if a.sysConfig == nil {
		return ""
	}
	cfg, _ := a.sysConfig.Latest()
	return cfg.Settings["customer.notice"]
}

// customerUI builds the customer's web signing journey of css: every step
// an RPC to oss over the process's bus.
func (a *app) customerUI() (http.Handler, error) {
	ui, err := customerui.New(rpc.NewClient(a.bus, rpc.DefaultQueues()), a.log, customerui.Config{
		Secure:       strings.HasPrefix(a.cfg.Public.CustomerURL, "https://"),
		MaxBodyBytes: a.cfg.HTTP.MaxBodyBytes, Version: version,
		BankName: cmp.Or(a.cfg.Branding.BankName, a.cfg.Branding.ProductName), Notice: a.customerNotice})
	if err != nil {
		return nil, err
	}
	return ui.Handler(), nil
}
