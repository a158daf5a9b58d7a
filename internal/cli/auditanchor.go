package cli

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"

	"esign/internal/auditchain"
	"esign/internal/tsa"
)

// auditAnchorer is the AuditAnchor cron job's and oss's shutdown view of
// auditchain.Anchor with the configured TSA.
type auditAnchorer struct{ a *app }

func (x auditAnchorer) AnchorAudit(ctx context.Context) (string, error) {
	return x.anchor(ctx, "schedule")
}

func (x auditAnchorer) anchor(ctx context.Context, reason string) (string, error) {
	client, err := x.client()
	if err != nil {
		return "", err
	}
	an, err := auditchain.Anchor(ctx, x.a.db, client, reason)
	if err != nil {
		return "", err
	}
	if an == nil {
		return "nothing to anchor: the chain is empty or its head is anchored already", nil
	}
	return fmt.Sprintf("anchored seq %d", an.Seq), nil
}

// client is the configured TSA's client; in a process that is the
// built-in TSA itself (esign all) and has no tsa.url, the handler is
// called in-process, so that the shutdown anchor works after the
// listeners closed.
func (x auditAnchorer) client() (*tsa.Client, error) {
	c, err := tsaClient(x.a.cfg, "", nil)
	if err != nil {
		return nil, err
	}
	if x.a.tsa != nil && x.a.cfg.TSA.URL == "" {
		c.HTTPClient = &http.Client{Transport: handlerTransport{x.a.tsa}}
	}
	return c, nil
}

// shutdown anchors the head when oss stops (a closer: after the queue
// stopped, before the database closes), so that the last entries of the
// process's life are time-stamped too. A failure is logged, not fatal.
func (x auditAnchorer) shutdown() error {
	ctx, cancel := context.WithTimeout(context.Background(), x.a.cfg.TSA.Timeout)
	defer cancel()
	res, err := x.anchor(ctx, "shutdown")
	if err != nil {
		return fmt.Errorf("anchor the audit chain at shutdown: %w", err)
	}
	x.a.log.Info("audit chain: "+res, "reason", "shutdown")
	return nil
}

// handlerTransport answers requests with an in-process handler.
type handlerTransport struct{ h http.Handler }

func (t handlerTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	w := httptest.NewRecorder()
	t.h.ServeHTTP(w, r)
	return w.Result(), nil
}
