package config

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"reflect"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
)

// EnvPrefix starts every environment variable esign reads.
const EnvPrefix = "ESIGN_"

// FileEnv names the config file when --config is not given.
const FileEnv = "ESIGN_CONFIG"

// maxFileSize bounds the config file so a wrong path (a log, a device) fails
// clearly instead of being read whole.
const maxFileSize = 1 << 20

// FieldError says which setting is wrong and why. Its text is one line, fit
// for the terminal.
type FieldError struct {
	Key    string // dotted key, e.g. "listen.admin"
	Source string // where the value came from: "default", a file name, or an env var
	Reason string
}

func (e *FieldError) Error() string {
	if e.Source != "" && e.Source != "default" {
		return fmt.Sprintf("config: %s (from %s): %s", e.Key, e.Source, e.Reason)
	}
	return fmt.Sprintf("config: %s: %s", e.Key, e.Reason)
}

// Load builds the effective configuration: the defaults, then the JSON file at
// path (if not empty), then <branding.dir>/branding.json when branding.dir is
// set, then the ESIGN_* variables in environ (os.Environ() form). Unknown keys
// and unknown ESIGN_ variables are errors, so typos do not pass silently. The
// result is validated.
func Load(path string, environ []string) (Config, error) {
	cfg := Default()
	sources := map[string]string{}
	if path != "" {
		if err := loadFile(&cfg, path, sources); err != nil {
			return Config{}, err
		}
	}
	if err := applyEnv(&cfg, environ, sources); err != nil {
		return Config{}, err
	}
	if cfg.Branding.Dir != "" {
		// branding.json over the file, the environment over both.
		if err := loadBrandingDir(&cfg, sources); err != nil {
			return Config{}, err
		}
		if err := applyEnv(&cfg, environ, sources); err != nil {
			return Config{}, err
		}
	}
	cfg.fillDerived()
	if err := cfg.Validate(); err != nil {
		var fe *FieldError
		if errors.As(err, &fe) && fe.Source == "" {
			fe.Source = sources[fe.Key]
			if p := contrastPartner[fe.Key]; fe.Source == "" && sources[p] != "" {
				// The colour that was set broke the contrast: name it.
				fe.Key, fe.Source = p, sources[p]
			}
		}
		return Config{}, err
	}
	return cfg, nil
}

func loadFile(cfg *Config, path string, sources map[string]string) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("config: open %s: %w", path, errors.Unwrap(err))
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxFileSize+1))
	if err != nil {
		return fmt.Errorf("config: read %s: %w", path, err)
	}
	if len(data) > maxFileSize {
		return fmt.Errorf("config: %s: larger than %d bytes", path, maxFileSize)
	}
	// Decode into a generic tree first, to name unknown keys and bad types by
	// their full dotted key rather than by a Go type name.
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var tree map[string]any
	if err := dec.Decode(&tree); err != nil {
		return fmt.Errorf("config: %s: not valid JSON: %s", path, jsonErrorPosition(data, err))
	}
	if dec.More() {
		return fmt.Errorf("config: %s: not valid JSON: more than one value", path)
	}
	return applyTree(reflect.ValueOf(cfg).Elem(), tree, "", path, sources)
}

func applyTree(v reflect.Value, tree map[string]any, prefix, source string, sources map[string]string) error {
	fields := fieldsByName(v.Type())
	names := make([]string, 0, len(tree))
	for k := range tree {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, name := range names {
		key := prefix + name
		idx, ok := fields[name]
		if !ok {
			return &FieldError{Key: key, Source: source, Reason: "unknown setting"}
		}
		fv := v.Field(idx)
		raw := tree[name]
		if fv.Kind() == reflect.Struct && fv.Type() != reflect.TypeFor[time.Duration]() {
			sub, ok := raw.(map[string]any)
			if !ok {
				return &FieldError{Key: key, Source: source, Reason: "must be an object"}
			}
			if err := applyTree(fv, sub, key+".", source, sources); err != nil {
				return err
			}
			continue
		}
		var text string
		switch raw := raw.(type) {
		case string:
			text = raw
		case json.Number:
			text = raw.String()
		case bool:
			text = strconv.FormatBool(raw)
		case nil:
			continue
		default:
			return &FieldError{Key: key, Source: source, Reason: "must be a string, number or boolean"}
		}
		if err := setScalar(fv, text); err != nil {
			return &FieldError{Key: key, Source: source, Reason: err.Error()}
		}
		sources[key] = source
	}
	return nil
}

func applyEnv(cfg *Config, environ []string, sources map[string]string) error {
	byEnv := map[string]Field{}
	for _, f := range Fields() {
		byEnv[f.Env] = f
	}
	// Sort a copy (the caller's list stays as it was) for a deterministic
	// first error.
	environ = slices.Sorted(slices.Values(environ))
	for _, kv := range environ {
		name, value, ok := strings.Cut(kv, "=")
		if !ok || !strings.HasPrefix(name, EnvPrefix) || ignoredEnv(name) {
			continue
		}
		fromFile := false
		f, ok := byEnv[name]
		if !ok {
			if base, isFile := strings.CutSuffix(name, "_FILE"); isFile {
				f, ok = byEnv[base]
				fromFile = ok
			}
		}
		if !ok {
			return &FieldError{Key: name, Source: "environment", Reason: "unknown variable (see docs/configuration.md)"}
		}
		if fromFile {
			data, err := readSecretFile(value)
			if err != nil {
				return &FieldError{Key: f.Key, Source: name, Reason: err.Error()}
			}
			value = data
		}
		fv, err := cfg.lookup(f.Key)
		if err != nil {
			return err
		}
		if err := setScalar(fv, value); err != nil {
			return &FieldError{Key: f.Key, Source: name, Reason: err.Error()}
		}
		sources[f.Key] = name
	}
	return nil
}

// ignoredEnv lists ESIGN_ variables that are not settings.
func ignoredEnv(name string) bool {
	return name == FileEnv || strings.HasPrefix(name, "ESIGN_TEST_") || strings.HasPrefix(name, "ESIGN_BENCH_")
}

func readSecretFile(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", fmt.Errorf("read secret file: %w", errors.Unwrap(err))
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, 64<<10))
	if err != nil {
		return "", fmt.Errorf("read secret file: %w", err)
	}
	return strings.TrimRight(string(data), "\r\n"), nil
}

func setScalar(v reflect.Value, text string) error {
	switch {
	case v.Type() == reflect.TypeFor[time.Duration]():
		d, err := time.ParseDuration(text)
		if err != nil {
			return fmt.Errorf("not a duration %q (use e.g. 30s, 5m, 1h)", text)
		}
		v.SetInt(int64(d))
	case v.Kind() == reflect.String:
		v.SetString(text)
	case v.Kind() == reflect.Bool:
		b, err := strconv.ParseBool(text)
		if err != nil {
			return fmt.Errorf("not a boolean %q (use true or false)", text)
		}
		v.SetBool(b)
	case v.Kind() == reflect.Int || v.Kind() == reflect.Int64:
		n, err := strconv.ParseInt(text, 10, 64)
		if err != nil {
			return fmt.Errorf("not a whole number %q", text)
		}
		v.SetInt(n)
	case v.Kind() == reflect.Float64:
		f, err := strconv.ParseFloat(text, 64)
		if err != nil {
			return fmt.Errorf("not a number %q", text)
		}
		v.SetFloat(f)
	default:
		return fmt.Errorf("unsupported setting type %s", v.Type())
	}
	return nil
}

func jsonErrorPosition(data []byte, err error) string {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		line := 1 + bytes.Count(data[:min(int(se.Offset), len(data))], []byte("\n"))
		return fmt.Sprintf("line %d: %v", line, se)
	}
	return err.Error()
}
