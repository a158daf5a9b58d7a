package cli

import (
	"bufio"
	"bytes"
	"context"
	"crypto"
	"crypto/rand"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"esign/internal/atomicfile"
	"esign/internal/device"
	"esign/internal/signing"
)

// deviceState is what `esign device` keeps between its steps: the
// installation's key and tokens, and the signature in progress. The file
// holds a private key and tokens, so it is written with mode 0600.
type deviceState struct {
	BaseURL      string `json:"base_url"`
	Algorithm    string `json:"algorithm"`
	Key          []byte `json:"key"` // PKCS #8
	AppID        string `json:"app_id,omitempty"`
	DeviceToken  string `json:"device_token,omitempty"`
	SessionToken string `json:"session_token,omitempty"`
	UserName     string `json:"user_name,omitempty"`
	SignatureID  string `json:"signature_id,omitempty"` // after m1, until m2
	OfferID      string `json:"offer_id,omitempty"`
	// M1 is the message m1 sent, kept until m2: sent again, it asks for
	// a new signing code (resend-code).
	M1 *signing.M1 `json:"m1,omitempty"`
}

const deviceUsage = `usage: esign device [--state FILE] <step> [flags]
steps, in the order the app takes them:
  register [--url URL] [--algorithm A]   new key pair and device token
  associate --phone P --code C            link the device to the customer (SMS code)
  create --username U                     set the credentials (password: first line of stdin)
  login --username U                      new session (password: first line of stdin)
  offer ID                                open an offer and list its documents
  m1 OFFER                                register the key for the offer (M1); the 2FA code comes by SMS
  resend-code                             the code did not arrive or expired: send the same M1 again for a new one
                                          (at most 5 an hour per signature, and the phone number's SMS limit)
  m2 --sms CODE                           confirm the code (2f-auth) and sign (M2; password: first line of stdin);
                                          waits for the seal, prints the contract id; a mistyped code may be entered again
  contract ID [--out DIR]                 download the sealed contract and acknowledge it`

// runDevice: esign device …, the reference device client on the command
// line (what the mobile app does, step by step, against a running oss).
func runDevice(ctx context.Context, env Env, args []string) error {
	state := "esign-device.json"
	if len(args) >= 2 && args[0] == "--state" {
		state, args = args[1], args[2:]
	}
	if len(args) == 0 {
		return usagef("%s", deviceUsage)
	}
	step, args := args[0], args[1:]
	fs, path := newFlagSet(env, "device "+step)
	url := fs.String("url", "", "register: base URL of the mobile API (default http:// + listen.mobile)")
	alg := fs.String("algorithm", "", "register: ecdsa-p256-sha256 (default), rsa-pss-sha256 or rsa-pkcs1-sha256")
	phone := fs.String("phone", "", "associate: the customer's phone number")
	code := fs.String("code", "", "associate: the SMS code")
	user := fs.String("username", "", "create, login: the user name")
	sms := fs.String("sms", "", "m2: the 2FA code from the SMS")
	out := fs.String("out", ".", "contract: directory for the PDFs")
	// A step's argument may come before its flags ("contract ID --out DIR").
	var positional []string
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		positional, args = args[:1], args[1:]
	}
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	positional = append(positional, fs.Args()...)
	if step == "register" {
		cfg, err := loadConfig(env, *path)
		if err != nil {
			return err
		}
		base := *url
		if base == "" {
			base = "http://" + displayAddr(cfg.Listen.Mobile)
		}
		c := &device.Client{BaseURL: base, Algorithm: *alg, DeviceInfo: "esign device (reference client)"}
		if err := c.NewKey(); err != nil {
			return usageError{err}
		}
		if err := c.Register(ctx, "esign-device-"+rand.Text()[:10], ""); err != nil {
			return fmt.Errorf("register: %w", device.AsError(err))
		}
		if err := saveDevice(state, c, nil); err != nil {
			return err
		}
		fmt.Fprintf(env.Stdout, "registered app %s (%s); state in %s\n", c.AppID, c.Algorithm, state)
		return nil
	}
	c, st, err := loadDevice(state)
	if err != nil {
		return err
	}
	password := func() (string, error) {
		if env.Stdin == nil {
			return "", usagef("the password is read from standard input")
		}
		line, err := bufio.NewReader(io.LimitReader(env.Stdin, 1024)).ReadString('\n')
		if err != nil && !errors.Is(err, io.EOF) {
			return "", err
		}
		return strings.TrimRight(line, "\r\n"), nil
	}
	need := func(ok bool) error {
		if !ok {
			return usagef("%s", deviceUsage)
		}
		return nil
	}
	switch step {
	case "associate":
		if err := need(*phone != "" && *code != "" && len(positional) == 0); err != nil {
			return err
		}
		if err = c.Associate(ctx, *phone, *code); err == nil {
			fmt.Fprintf(env.Stdout, "app %s associated with the customer of %s; next: esign device create --username NAME\n", c.AppID, *phone)
		}
	case "create", "login":
		if err := need(*user != "" && len(positional) == 0); err != nil {
			return err
		}
		pw, perr := password()
		if perr != nil {
			return perr
		}
		if step == "create" {
			if err = c.Create(ctx, *user, pw); err == nil {
				fmt.Fprintf(env.Stdout, "credentials of %q set; once the bank approved the registration: esign device login --username %s\n", *user, *user)
			}
		} else if err = c.Login(ctx, *user, pw); err == nil {
			fmt.Fprintf(env.Stdout, "logged in as %q; session kept in %s\n", *user, state)
		}
	case "offer":
		if err := need(len(positional) == 1); err != nil {
			return err
		}
		var o *device.Offer
		if o, err = c.GetOffer(ctx, positional[0]); err == nil {
			fmt.Fprintf(env.Stdout, "offer %s %q (%s)\n", o.ID, o.Title, o.State)
			for _, d := range o.Documents {
				fmt.Fprintf(env.Stdout, "  %s  %s  sha256 %s\n", d.ID, d.Name, d.SHA256)
			}
		}
	case "m1":
		if err := need(len(positional) == 1); err != nil {
			return err
		}
		var m1 *signing.M1
		if m1, err = deviceM1(ctx, c, positional[0]); err == nil {
			var sigID string
			if sigID, err = c.SendM1(ctx, m1); err == nil {
				st.SignatureID, st.OfferID, st.M1 = sigID, positional[0], m1
				fmt.Fprintf(env.Stdout, "M1 accepted: signature %s; the 2FA code is on its way by SMS\n", sigID)
			}
		}
	case "resend-code":
		if err := need(st.M1 != nil && st.SignatureID != "" && len(positional) == 0); err != nil {
			return err
		}
		var sigID string
		if sigID, err = c.SendM1(ctx, st.M1); err == nil {
			if sigID != st.SignatureID {
				return fmt.Errorf("resend-code: the server answered for signature %s, not %s", sigID, st.SignatureID)
			}
			fmt.Fprintf(env.Stdout, "a new 2FA code for signature %s is on its way by SMS (the earlier one no longer works)\n", sigID)
		}
	case "m2":
		if err := need(*sms != "" && st.SignatureID != "" && len(positional) == 0); err != nil {
			return err
		}
		pw, perr := password()
		if perr != nil {
			return perr
		}
		var contractID, hash string
		if contractID, hash, err = deviceM2(ctx, c, st, pw, *sms); err == nil {
			st.SignatureID, st.OfferID, st.M1 = "", "", nil
			fmt.Fprintf(env.Stdout, "M2 accepted: customer signature hash %s\ncontract %s\n", hash, contractID)
		}
	case "contract":
		if err := need(len(positional) == 1); err != nil {
			return err
		}
		err = deviceContract(ctx, env, c, positional[0], *out)
	default:
		return usagef("unknown step %q\n%s", step, deviceUsage)
	}
	if err != nil {
		return fmt.Errorf("%s: %w", step, device.AsError(err))
	}
	return saveDevice(state, c, st)
}

// deviceM1 opens the offer (as the app does before signing) and builds
// its M1.
func deviceM1(ctx context.Context, c *device.Client, offerID string) (*signing.M1, error) {
	if _, err := c.GetOffer(ctx, offerID); err != nil {
		return nil, err
	}
	return c.BuildM1(ctx, offerID)
}

func deviceM2(ctx context.Context, c *device.Client, st *deviceState, password, sms string) (contractID, hash string, err error) {
	o, err := c.GetOffer(ctx, st.OfferID)
	if err != nil {
		return "", "", err
	}
	var docs [][]byte
	for _, d := range o.Documents {
		var b bytes.Buffer
		if err := c.Download(ctx, d.ID, &b); err != nil {
			return "", "", err
		}
		docs = append(docs, b.Bytes())
	}
	// The second factor first, as the app does: a mistyped code costs an
	// attempt (the error says how many are left), not the time-stamps of
	// an M2, and the signature waits for the corrected code.
	if err := c.TwoFactorAuth(ctx, st.SignatureID, password, sms); err != nil {
		return "", "", err
	}
	m, err := c.BuildM2(ctx, &device.M2Input{SignatureID: st.SignatureID, OfferID: st.OfferID, Documents: docs, Password: password, SMSToken: sms})
	if err != nil {
		return "", "", err
	}
	res, err := c.SendM2(ctx, m)
	if err != nil {
		return "", "", err
	}
	// The bank's seal follows M2 as a job: wait for the contract.
	id, err := c.WaitContract(ctx, res)
	if err != nil {
		return "", "", err
	}
	return id, res.CustomerSignatureHash, nil
}

func deviceContract(ctx context.Context, env Env, c *device.Client, id, dir string) error {
	k, err := c.GetContract(ctx, id)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	for _, d := range k.Documents {
		var b bytes.Buffer
		if err := c.Download(ctx, d.ID, &b); err != nil {
			return err
		}
		file := filepath.Join(dir, filepath.Base(d.Name))
		if err := os.WriteFile(file, b.Bytes(), 0o644); err != nil {
			return err
		}
		fmt.Fprintf(env.Stdout, "wrote %s\n", file)
	}
	if err := c.Acknowledge(ctx, id); err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "contract %s acknowledged\n", id)
	return nil
}

func saveDevice(path string, c *device.Client, st *deviceState) error {
	key, err := x509.MarshalPKCS8PrivateKey(c.Key)
	if err != nil {
		return fmt.Errorf("device state: %w", err)
	}
	s := deviceState{}
	if st != nil {
		s = *st
	}
	s.BaseURL, s.Algorithm, s.Key = c.BaseURL, c.Algorithm, key
	s.AppID, s.DeviceToken, s.SessionToken, s.UserName = c.AppID, c.DeviceToken, c.SessionToken, c.UserName
	data, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return err
	}
	return atomicfile.Write(path, append(data, '\n'), 0o600)
}

func loadDevice(path string) (*device.Client, *deviceState, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil, usagef("no device state in %s: run 'esign device register' first", path)
	}
	if err != nil {
		return nil, nil, err
	}
	var s deviceState
	if err := json.Unmarshal(data, &s); err != nil {
		return nil, nil, fmt.Errorf("device state %s: %w", path, err)
	}
	k, err := x509.ParsePKCS8PrivateKey(s.Key)
	if err != nil {
		return nil, nil, fmt.Errorf("device state %s: key: %w", path, err)
	}
	signer, ok := k.(crypto.Signer)
	if !ok {
		return nil, nil, fmt.Errorf("device state %s: the key cannot sign", path)
	}
	c := &device.Client{BaseURL: s.BaseURL, Algorithm: s.Algorithm, Key: signer, AppID: s.AppID, DeviceToken: s.DeviceToken,
		SessionToken: s.SessionToken, UserName: s.UserName, DeviceInfo: "esign device (reference client)"}
	return c, &s, nil
}
