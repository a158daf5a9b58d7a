package operators

import (
	"context"
	"net/mail"
	"regexp"
	"slices"
	"time"
	"unicode/utf8"

	"esign/internal/customers"
	"esign/internal/esign"
	"esign/internal/sqlstore"
)

// SettingDef is a runtime setting operators may change in the admin UI.
// The settings are stored in the setting table and travel to css in the
// system configuration (bus.SystemConfig, pushed on esign:rpc-system-oss).
type SettingDef struct {
	Key   string
	Max   int                  // at most this many characters
	Check func(v string) error // nil: any text; called on non-empty values
}

var (
	semverRE = regexp.MustCompile(`^[0-9]{1,4}\.[0-9]{1,4}\.[0-9]{1,4}$`)
	phoneRE  = regexp.MustCompile(`^\+?[0-9][0-9 ()-]{3,30}$`)
)

// Settings lists the settings the admin UI edits, in page order. An empty
// value means "not set".
var Settings = []SettingDef{
	{Key: "customer.notice", Max: 500},
	{Key: "customer.support_email", Max: 254, Check: func(v string) error {
		a, err := mail.ParseAddress(v)
		if err != nil || a.Address != v {
			return esign.E("", esign.Invalid, "not an e-mail address")
		}
		return nil
	}},
	{Key: "customer.support_phone", Max: 32, Check: func(v string) error {
		if !phoneRE.MatchString(v) {
			return esign.E("", esign.Invalid, "not a telephone number")
		}
		return nil
	}},
	{Key: customers.SettingMinAppVersion, Max: 16, Check: func(v string) error {
		if !semverRE.MatchString(v) {
			return esign.E("", esign.Invalid, "not a version like 1.4.0")
		}
		return nil
	}},
}

// SettingValue is a setting with its current value.
type SettingValue struct {
	Def       SettingDef
	Value     string
	UpdatedBy string // username
	UpdatedAt time.Time
}

// SettingsPage returns the settings with their values.
func (s *Service) SettingsPage(ctx context.Context) ([]SettingValue, error) {
	const op = "operators.SettingsPage"
	out := make([]SettingValue, 0, len(Settings))
	for _, d := range Settings {
		v := SettingValue{Def: d}
		x, err := s.d.DB.GetSetting(ctx, d.Key)
		switch {
		case err == nil:
			v.Value, v.UpdatedAt = x.Value, x.UpdatedAt
			if x.UpdatedBy != "" {
				if u, err := s.d.DB.GetUser(ctx, x.UpdatedBy); err == nil {
					v.UpdatedBy = u.Username
				}
			}
		case !esign.IsKind(err, esign.NotFound):
			return nil, esign.E(op, err)
		}
		out = append(out, v)
	}
	return out, nil
}

// CheckSetting validates a value of the setting key (from a form): "" when
// it may be stored, else why not: "unknown" (no such setting), "too_long"
// (or not valid UTF-8), "invalid" (the setting's own check). An empty value
// unsets the setting and is always allowed for a known key.
func CheckSetting(key, value string) string {
	i := slices.IndexFunc(Settings, func(d SettingDef) bool { return d.Key == key })
	if i < 0 {
		return "unknown"
	}
	d := Settings[i]
	switch {
	case !utf8.ValidString(value) || utf8.RuneCountInString(value) > d.Max:
		return "too_long"
	case value != "" && d.Check != nil && d.Check(value) != nil:
		return "invalid"
	}
	return ""
}

// SettingError is a refused value: which setting and why.
type SettingError struct {
	Key    string
	Reason string // "too_long", "invalid"
}

// SaveSettings validates every value of values (keys of Settings; others
// are refused) and, when all are valid, stores the changed ones in one
// transaction and pushes the system configuration to css at once. It
// returns the keys it changed. Errors: Invalid (with the refused values in
// the returned slice), Unavailable (stored, but the push failed: css gets
// it with the next periodic push).
func (s *Service) SaveSettings(ctx context.Context, p *Principal, values map[string]string) (changed []string, refused []SettingError, err error) {
	const op = "operators.SaveSettings"
	for k, v := range values {
		if reason := CheckSetting(k, v); reason != "" {
			refused = append(refused, SettingError{Key: k, Reason: reason})
		}
	}
	if len(refused) > 0 {
		return nil, refused, esign.WithCode(op, esign.Invalid, "setting", "a setting's value is refused")
	}
	err = s.d.DB.InTx(ctx, func(tx *sqlstore.Tx) error {
		for _, d := range Settings {
			v, ok := values[d.Key]
			if !ok {
				continue
			}
			old, err := tx.GetSetting(ctx, d.Key)
			if err != nil && !esign.IsKind(err, esign.NotFound) {
				return err
			}
			if (old == nil && v == "") || (old != nil && old.Value == v) {
				continue
			}
			// An emptied setting is stored empty, not deleted: the
			// configuration's version (its newest change) must grow.
			if _, err := tx.PutSetting(ctx, d.Key, v, p.User.ID); err != nil {
				return err
			}
			changed = append(changed, d.Key)
		}
		return nil
	})
	if err != nil {
		return nil, nil, esign.E(op, err)
	}
	if len(changed) > 0 && s.d.PushSettings != nil {
		if err := s.d.PushSettings(ctx); err != nil {
			return changed, nil, esign.E(op, esign.Unavailable, "saved, but not sent to css yet", err)
		}
	}
	return changed, nil, nil
}
