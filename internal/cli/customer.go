package cli

import (
	"cmp"
	"net/http"
	"strings"

	"esign/internal/customerui"
	"esign/internal/rpc"
)

// customerSetting is a setting of the latest system configuration oss
// pushed to css (the admin UI's Settings page).
func (a *app) customerSetting(key string) string {
	if a.sysConfig == nil {
		return ""
	}
	cfg, _ := a.sysConfig.Latest()
	return cfg.Settings[key]
}

// customerUI builds the customer's web signing journey of css: every step
// an RPC to oss over the process's bus.
func (a *app) customerUI() (http.Handler, error) {
	ui, err := customerui.New(rpc.NewClient(a.bus, rpc.DefaultQueues()), a.log, customerui.Config{
		Secure:       strings.HasPrefix(a.cfg.Public.CustomerURL, "https://"),
		MaxBodyBytes: a.cfg.HTTP.MaxBodyBytes, Version: version,
		BankName: cmp.Or(a.cfg.Branding.BankName, a.cfg.Branding.ProductName), Setting: a.customerSetting, Live: a.customerLive()})
	if err != nil {
		return nil, err
	}
	a.custLive = http.NewServeMux()
	ui.MountLive(a.custLive)
	return ui.Handler(), nil
}
