// Package hooks runs the bank's hooks at the moments of docs/customization.md
// ("Hooks"): the in-process functions of a customize.Registry and the
// HTTPS callouts named in the configuration, each under a timeout and a
// policy (fail open or fail closed), every failure logged.
//
// A callout is a POST of a JSON envelope {id, type, created_at, data},
// signed like the events to the bank's callback URLs (offers.Sign: the
// X-Esign-Timestamp and X-Esign-Signature headers), whose 2xx answer is
// a customize.Answer in JSON (an empty body is the zero answer).
package hooks

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	neturl "net/url"
	"strconv"
	"sync"
	"time"

	"esign/customize"
	"esign/internal/esign"
	"esign/internal/offers"
)

// Policy says what a failed hook (an error, a timeout, a refused answer)
// means for the change it was asked about.
type Policy string

const (
	// FailOpen: the change goes on as if the hook had answered nothing.
	FailOpen Policy = "open"
	// FailClosed: the change does not go on (an offer or a registration
	// is vetoed with the failure as the reason; a seal waits and is
	// retried by its job).
	FailClosed Policy = "closed"
)

// Callout is one hook's HTTPS endpoint.
type Callout struct {
	URL    string // empty: no callout
	Policy Policy // default FailOpen
}

// Config configures a Runner.
type Config struct {
	// Callouts by hook name (customize.OfferCreatedHook, …).
	Callouts map[string]Callout
	// Policies of the in-process hooks by name; a name with a callout
	// takes the callout's. Default FailOpen.
	Policies map[string]Policy
	Secret   []byte        // HMAC-SHA256 key of the callouts' signature
	Timeout  time.Duration // of each hook function or callout; default 5 s
	Client   *http.Client  // default: no redirects
	Log      *slog.Logger  // default: discard
	Now      func() time.Time
}

// MaxAnswer bounds a callout's answer body.
const MaxAnswer = 64 << 10

// Runner runs the hooks. A nil *Runner runs none. It is safe for
// concurrent use.
type Runner struct {
	cfg   Config
	reg   customize.Registry
	after sync.WaitGroup // the hooks told after the fact, still running
}

// Wait waits for the hooks told after the fact (ContractSealed,
// OfferEnded) that are still running: at most the timeout each.
func (r *Runner) Wait() {
	if r != nil {
		r.after.Wait()
	}
}

// New returns a runner of the registry's functions (nil: none) and the
// configured callouts.
func New(cfg Config, reg *customize.Registry) *Runner {
	if cfg.Timeout <= 0 {
		cfg.Timeout = 5 * time.Second
	}
	if cfg.Client == nil {
		cfg.Client = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	r := &Runner{cfg: cfg}
	if reg != nil {
		r.reg = *reg
	}
	return r
}

func (r *Runner) policy(hook string) Policy {
	if c, ok := r.cfg.Callouts[hook]; ok && c.URL != "" && c.Policy != "" {
		return c.Policy
	}
	if p := r.cfg.Policies[hook]; p != "" {
		return p
	}
	return FailOpen
}

// call runs f under the timeout; a function that ignores its context is
// left to finish on its own and counts as timed out.
func call[T any](ctx context.Context, timeout time.Duration, f func(context.Context) (T, error)) (T, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	type result struct {
		v   T
		err error
	}
	done := make(chan result, 1)
	go func() {
		defer func() {
			if p := recover(); p != nil {
				done <- result{err: fmt.Errorf("the hook panicked: %v", p)}
			}
		}()
		v, err := f(ctx)
		done <- result{v, err}
	}()
	select {
	case res := <-done:
		return res.v, res.err
	case <-ctx.Done():
		var zero T
		return zero, fmt.Errorf("no answer within %s: %w", timeout, ctx.Err())
	}
}

// before runs the in-process functions and then the callout of a hook
// before a change, merging their answers; the first veto stops. A failure
// under FailOpen is logged and skipped; under FailClosed it is returned.
func before[P any](ctx context.Context, r *Runner, hook string, p P, fns []func(context.Context, P) (customize.Answer, error)) (customize.Answer, error) {
	var out customize.Answer
	if r == nil {
		return out, nil
	}
	steps := make([]func(context.Context) (customize.Answer, error), 0, len(fns)+1)
	for _, f := range fns {
		steps = append(steps, func(ctx context.Context) (customize.Answer, error) {
			a, err := f(ctx, p)
			if err != nil {
				return a, err
			}
			return a, check(hook, a)
		})
	}
	if c := r.cfg.Callouts[hook]; c.URL != "" {
		steps = append(steps, func(ctx context.Context) (customize.Answer, error) {
			body, err := r.post(ctx, hook, c.URL, p)
			if err != nil {
				return customize.Answer{}, err
			}
			return ParseAnswer(hook, body)
		})
	}
	for i, step := range steps {
		start := time.Now()
		a, err := call(ctx, r.cfg.Timeout, step)
		if err != nil {
			pol := r.policy(hook)
			r.cfg.Log.Warn("hook failed", "hook", hook, "step", i, "policy", string(pol),
				"duration", time.Since(start).Round(time.Millisecond).String(), "error", err.Error())
			if pol == FailClosed {
				return customize.Answer{}, esign.WithCode("hooks."+hook, esign.Unavailable, "hook_failed",
					"the "+hook+" hook failed and its policy is fail closed: "+err.Error())
			}
			continue
		}
		out = merge(out, a)
		if out.Veto {
			r.cfg.Log.Info("hook vetoed", "hook", hook, "reason", out.Reason)
			return out, nil
		}
	}
	return out, nil
}

func merge(a, b customize.Answer) customize.Answer {
	if b.Veto {
		a.Veto, a.Reason = true, b.Reason
	}
	for k, v := range b.Data {
		if a.Data == nil {
			a.Data = map[string]string{}
		}
		a.Data[k] = v
	}
	for k, v := range b.PDFMetadata {
		if a.PDFMetadata == nil {
			a.PDFMetadata = map[string]string{}
		}
		a.PDFMetadata[k] = v
	}
	return a
}

// after runs the functions and the callout of a hook told of a change that
// happened, in the background (the change never waits for them); failures
// are logged.
func after[P any](ctx context.Context, r *Runner, hook string, p P, fns []func(context.Context, P) error) {
	if r == nil || (len(fns) == 0 && r.cfg.Callouts[hook].URL == "") {
		return
	}
	ctx = context.WithoutCancel(ctx)
	r.after.Go(func() { tell(ctx, r, hook, p, fns) })
}

func tell[P any](ctx context.Context, r *Runner, hook string, p P, fns []func(context.Context, P) error) {
	for _, f := range fns {
		if _, err := call(ctx, r.cfg.Timeout, func(ctx context.Context) (struct{}, error) { return struct{}{}, f(ctx, p) }); err != nil {
			r.cfg.Log.Warn("hook failed", "hook", hook, "error", err.Error())
		}
	}
	if c := r.cfg.Callouts[hook]; c.URL != "" {
		if _, err := call(ctx, r.cfg.Timeout, func(ctx context.Context) ([]byte, error) { return r.post(ctx, hook, c.URL, p) }); err != nil {
			r.cfg.Log.Warn("hook failed", "hook", hook, "error", err.Error())
		}
	}
}

// Envelope is the body of a callout.
type Envelope struct {
	ID        string    `json:"id"`
	Type      string    `json:"type"` // hook.<name>
	CreatedAt time.Time `json:"created_at"`
	Data      any       `json:"data"`
}

// post sends one callout and returns the answer's body.
func (r *Runner) post(ctx context.Context, hook, url string, p any) ([]byte, error) {
	env := Envelope{ID: esign.NewID(), Type: "hook." + hook, CreatedAt: esign.Timestamp(r.cfg.Now()), Data: p}
	body, err := json.Marshal(env)
	if err != nil {
		return nil, fmt.Errorf("encode the payload: %w", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return nil, errors.New("the hook URL is not valid")
	}
	ts := r.cfg.Now().Unix()
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "esign-hook/1")
	req.Header.Set("X-Esign-Hook", hook)
	req.Header.Set("X-Esign-Event-Id", env.ID)
	req.Header.Set("X-Esign-Timestamp", strconv.FormatInt(ts, 10))
	req.Header.Set("X-Esign-Signature", offers.Sign(r.cfg.Secret, ts, body))
	res, err := r.cfg.Client.Do(req)
	if err != nil {
		// Not the *url.Error's text: the URL may carry credentials.
		var ue *neturl.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return nil, err
	}
	defer res.Body.Close()
	ans, err := io.ReadAll(io.LimitReader(res.Body, MaxAnswer+1))
	if err != nil {
		return nil, fmt.Errorf("read the answer: %w", err)
	}
	if res.StatusCode < 200 || res.StatusCode > 299 {
		return nil, fmt.Errorf("the hook answered %d", res.StatusCode)
	}
	if len(ans) > MaxAnswer {
		return nil, fmt.Errorf("the answer is larger than %d bytes", MaxAnswer)
	}
	return ans, nil
}

// OfferCreated runs the offer_created hooks. A failure under fail closed
// comes back as a veto whose reason names it.
func (r *Runner) OfferCreated(ctx context.Context, p customize.OfferCreated) customize.Answer {
	a, err := before(ctx, r, customize.OfferCreatedHook, p, fns[customize.OfferCreatedFunc, customize.OfferCreated, customize.Answer](r, func(g customize.Registry) []customize.OfferCreatedFunc { return g.OfferCreated }))
	if err != nil {
		return customize.Answer{Veto: true, Reason: esign.ErrorMessage(err)}
	}
	return a
}

// CustomerRegistered runs the customer_registered hooks, as OfferCreated.
func (r *Runner) CustomerRegistered(ctx context.Context, p customize.CustomerRegistered) customize.Answer {
	a, err := before(ctx, r, customize.CustomerRegisteredHook, p, fns[customize.CustomerRegisteredFunc, customize.CustomerRegistered, customize.Answer](r, func(g customize.Registry) []customize.CustomerRegisteredFunc { return g.CustomerRegistered }))
	if err != nil {
		return customize.Answer{Veto: true, Reason: esign.ErrorMessage(err)}
	}
	return a
}

// SignatureVerified runs the signature_verified hooks and returns the PDF
// metadata to add. Errors: Unavailable (hook_failed) under fail closed.
func (r *Runner) SignatureVerified(ctx context.Context, p customize.SignatureVerified) (map[string]string, error) {
	a, err := before(ctx, r, customize.SignatureVerifiedHook, p, fns[customize.SignatureVerifiedFunc, customize.SignatureVerified, customize.Answer](r, func(g customize.Registry) []customize.SignatureVerifiedFunc { return g.SignatureVerified }))
	return a.PDFMetadata, err
}

// ContractSealed tells the contract_sealed hooks.
func (r *Runner) ContractSealed(ctx context.Context, p customize.ContractSealed) {
	var fs []func(context.Context, customize.ContractSealed) error
	if r != nil {
		for _, f := range r.reg.ContractSealed {
			fs = append(fs, f)
		}
	}
	after(ctx, r, customize.ContractSealedHook, p, fs)
}

// OfferEnded tells the offer_ended hooks.
func (r *Runner) OfferEnded(ctx context.Context, p customize.OfferEnded) {
	var fs []func(context.Context, customize.OfferEnded) error
	if r != nil {
		for _, f := range r.reg.OfferEnded {
			fs = append(fs, f)
		}
	}
	after(ctx, r, customize.OfferEndedHook, p, fs)
}

// fns converts a registry's named function types to plain funcs (nil
// runner: none).
func fns[F ~func(context.Context, P) (R, error), P, R any](r *Runner, get func(customize.Registry) []F) []func(context.Context, P) (R, error) {
	if r == nil {
		return nil
	}
	var out []func(context.Context, P) (R, error)
	for _, f := range get(r.reg) {
		out = append(out, f)
	}
	return out
}
