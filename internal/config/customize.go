package config

import (
	"fmt"
	"os"
	"path/filepath"
)

// Customize names the bank's customization directory (docs/customization.md):
// messages/<lang>.json override or add UI texts, templates/ overrides the
// notification templates.
type Customize struct {
	Dir string `json:"dir" help:"The bank's customization directory: messages/<lang>.json and messages/<lang>.<part>.json replace texts of the web UIs or add a language (e.g. de.json), templates/text.<lang>.tmpl, templates/html.<lang>.tmpl and templates/layout.html.tmpl override the e-mail, SMS and push templates. Read at start; a broken file stops the process naming it. Empty: the shipped texts only."`
}

func (c Customize) validate() error {
	if c.Dir == "" {
		return nil
	}
	st, err := os.Stat(c.Dir)
	if err != nil {
		return &FieldError{Key: "customize.dir", Reason: err.Error()}
	}
	if !st.IsDir() {
		return &FieldError{Key: "customize.dir", Reason: fmt.Sprintf("%s is not a directory", c.Dir)}
	}
	for _, sub := range []string{"messages", "templates"} {
		p := filepath.Join(c.Dir, sub)
		if st, err := os.Stat(p); err == nil && !st.IsDir() {
			return &FieldError{Key: "customize.dir", Reason: fmt.Sprintf("%s is not a directory", p)}
		}
	}
	return nil
}
