package adminui

import (
	"net/http"
	"slices"
	"strconv"
	"strings"

	"esign/internal/branding"

	"esign/internal/esign"
	"esign/internal/operators"
	"esign/internal/webui"
)

type settingsData struct {
	Settings []settingField
	Brand    brandPreview
}

// brandPreview is the branding as the settings page previews it: it comes
// from the configuration (branding.*), so it is shown, not edited.
type brandPreview struct {
	branding.Brand
	Colors    []colorSwatch
	SealLine  string // as drawn on a contract
	PushTitle string // of a sample push
}

type colorSwatch struct {
	Key      string // setting name, also the swatch's CSS class suffix
	Value    string
	Contrast string // "8.40:1" against the colour it is checked with; "" for none
}

func (u *UI) brandPreview() brandPreview {
	b := u.ui.Brand()
	c := b.Colors
	ratio := func(fg, bg string) string { return strconv.FormatFloat(branding.Contrast(fg, bg), 'f', 2, 64) + ":1" }
	push := "New offer"
	if b.PushTitle != "" {
		push = strings.ReplaceAll(b.PushTitle, "{title}", push)
	}
	return brandPreview{Brand: b, SealLine: u.cfg.SealPreview, PushTitle: push, Colors: []colorSwatch{
		{"color_primary", c.Primary, ""},
		{"color_on_primary", c.OnPrimary, ratio(c.OnPrimary, c.Primary)},
		{"color_accent", c.Accent, ratio(c.Accent, c.Background)},
		{"color_text", c.Text, ratio(c.Text, c.Background)},
		{"color_background", c.Background, ""},
	}}
}

type settingField struct {
	operators.SettingValue
	Name  string // the form field and message key suffix: the key with "." → "_"
	Error string // message key of a refused value
}

func fieldName(key string) string {
	b := []byte(key)
	for i, c := range b {
		if c == '.' {
			b[i] = '_'
		}
	}
	return string(b)
}

func (u *UI) settingsForm(w http.ResponseWriter, r *http.Request, p *operators.Principal) error {
	return u.settingsPage(w, r, p, http.StatusOK, nil, nil)
}

func (u *UI) settingsPage(w http.ResponseWriter, r *http.Request, p *operators.Principal, status int,
	typed map[string]string, refused []operators.SettingError) error {
	vs, err := u.svc.SettingsPage(r.Context())
	if err != nil {
		return err
	}
	d := settingsData{Brand: u.brandPreview()}
	for _, v := range vs {
		f := settingField{SettingValue: v, Name: fieldName(v.Def.Key)}
		if t, ok := typed[v.Def.Key]; ok {
			f.Value = t
		}
		if i := slices.IndexFunc(refused, func(e operators.SettingError) bool { return e.Key == v.Def.Key }); i >= 0 {
			f.Error = "settings.error." + refused[i].Reason
		}
		d.Settings = append(d.Settings, f)
	}
	return u.ui.Render(w, r, status, "settings.html", pageOf(p, "settings.title", "settings", d))
}

// settingsSave stores the settings and pushes them to css at once; a
// refused value shows the form again with the typed values and the reason.
func (u *UI) settingsSave(w http.ResponseWriter, r *http.Request, p *operators.Principal) error {
	if err := r.ParseForm(); err != nil {
		return esign.E("adminui.settingsSave", esign.Invalid, "the form cannot be read", err)
	}
	values := map[string]string{}
	for _, d := range operators.Settings {
		if _, ok := r.PostForm[fieldName(d.Key)]; ok {
			values[d.Key] = r.PostFormValue(fieldName(d.Key))
		}
	}
	changed, refused, err := u.svc.SaveSettings(r.Context(), p, values)
	if len(refused) > 0 {
		keys := make([]string, len(refused))
		for i, e := range refused {
			keys[i] = e.Key
		}
		noteAudit(r, "", "result", "invalid", "refused", keys)
		if rerr := u.settingsPage(w, r, p, http.StatusBadRequest, values, refused); rerr != nil {
			return rerr
		}
		return nil
	}
	noteAudit(r, "", "changed", changed)
	if esign.IsKind(err, esign.Unavailable) {
		noteAudit(r, "", "pushed", false)
		u.ui.Redirect(w, r, "/settings", &webui.Flash{Kind: webui.FlashError, Key: "settings.saved_not_pushed"})
		return nil
	}
	if err != nil {
		return err
	}
	key := "settings.saved"
	if len(changed) == 0 {
		key = "settings.unchanged"
	}
	u.ui.Redirect(w, r, "/settings", &webui.Flash{Kind: webui.FlashSuccess, Key: key})
	return nil
}
