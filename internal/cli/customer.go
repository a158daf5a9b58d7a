package cli

import (
	"cmp"
	"net/http"
	"strings"

	"esign/internal/customerui"
	"esign/internal/rpc"
)

// customerUI builds the customer's web signing journey of css: every step
// an RPC to oss over the process's bus.
func (a *app) customerUI() (http.Handler, error) {
	ui, err := customerui.New(rpc.NewClient(a.bus, rpc.DefaultQueues()), a.log, customerui.Config{
		Secure:       strings.HasPrefix(a.cfg.Public.CustomerURL, "https://"),
		MaxBodyBytes: a.cfg.HTTP.MaxBodyBytes, Version: version,
		BankName: cmp.Or(a.cfg.Branding.BankName, a.cfg.Branding.ProductName), Live: a.customerLive()})
	if err != nil {
		return nil, err
	}
	a.custLive = http.NewServeMux()
	ui.MountLive(a.custLive)
	return ui.Handler(), nil
}
