package cli

import (
	"context"

	"esign/internal/config"
	"esign/internal/locale"
)

// runI18n is "esign i18n check [--dir DIR]": the translation check of the
// shipped languages and the customization directory (customize.dir, or
// --dir). Exit 1 when a shipped language lacks a text, 2 when a file of
// the directory is broken.
func runI18n(ctx context.Context, env Env, args []string) error {
	if len(args) == 0 || args[0] != "check" {
		return usagef("usage: esign i18n check [--config FILE] [--dir DIR]")
	}
	fs, path := newFlagSet(env, "i18n check")
	dir := fs.String("dir", "", "customization directory to check (default: customize.dir)")
	if err := parseFlags(fs, args[1:]); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("unexpected argument %q", fs.Arg(0))
	}
	d := *dir
	if d == "" {
		cfg, err := loadConfig(env, *path)
		if err != nil {
			return err
		}
		d = cfg.Customize.Dir
	}
	rep, err := locale.Check(locale.Surfaces(), locale.Dir(d))
	if err != nil {
		return &config.FieldError{Key: "customize.dir", Reason: err.Error()}
	}
	if err := rep.Write(env.Stdout); err != nil {
		return err
	}
	if rep.Failed() {
		return exitStatus{Code: exitFailed}
	}
	return nil
}

// checkCustomize refuses a customization directory whose message or
// template files are broken, naming the file (exit 2).
func checkCustomize(cfg config.Config) error {
	if cfg.Customize.Dir == "" {
		return nil
	}
	if _, err := locale.Check(locale.Surfaces(), locale.Dir(cfg.Customize.Dir)); err != nil {
		return &config.FieldError{Key: "customize.dir", Reason: err.Error()}
	}
	return nil
}
