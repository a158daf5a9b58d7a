package config

import (
	"fmt"
	"reflect"
	"strings"
	"time"
)

// Field describes one setting.
type Field struct {
	Key     string // dotted key: "database.url"
	Env     string // environment variable: "ESIGN_DATABASE_URL"
	Type    string // string, int, bool, duration
	Secret  bool
	Help    string
	Default string
}

// Fields lists every setting in declaration order, with its default.
func Fields() []Field {
	var out []Field
	def := reflect.ValueOf(Default())
	walk(reflect.TypeFor[Config](), def, "", func(key string, sf reflect.StructField, v reflect.Value) {
		out = append(out, Field{
			Key:     key,
			Env:     EnvPrefix + strings.ToUpper(strings.ReplaceAll(key, ".", "_")),
			Type:    typeName(sf.Type),
			Secret:  sf.Tag.Get("secret") == "true",
			Help:    sf.Tag.Get("help"),
			Default: formatValue(v),
		})
	})
	return out
}

func walk(t reflect.Type, v reflect.Value, prefix string, fn func(key string, sf reflect.StructField, v reflect.Value)) {
	for i := range t.NumField() {
		sf := t.Field(i)
		name := jsonName(sf)
		if name == "" {
			continue
		}
		key := prefix + name
		if sf.Type.Kind() == reflect.Struct && sf.Type != reflect.TypeFor[time.Duration]() {
			walk(sf.Type, v.Field(i), key+".", fn)
			continue
		}
		fn(key, sf, v.Field(i))
	}
}

func jsonName(sf reflect.StructField) string {
	name, _, _ := strings.Cut(sf.Tag.Get("json"), ",")
	if name == "-" || !sf.IsExported() {
		return ""
	}
	return name
}

func fieldsByName(t reflect.Type) map[string]int {
	m := make(map[string]int, t.NumField())
	for i := range t.NumField() {
		if name := jsonName(t.Field(i)); name != "" {
			m[name] = i
		}
	}
	return m
}

func typeName(t reflect.Type) string {
	if t == reflect.TypeFor[time.Duration]() {
		return "duration"
	}
	switch t.Kind() {
	case reflect.Int, reflect.Int64:
		return "int"
	case reflect.Float64:
		return "number"
	}
	return t.Kind().String()
}

func formatValue(v reflect.Value) string {
	if v.Type() == reflect.TypeFor[time.Duration]() {
		return time.Duration(v.Int()).String()
	}
	return fmt.Sprint(v.Interface())
}

// lookup returns the settable field for a dotted key.
func (c *Config) lookup(key string) (reflect.Value, error) {
	v := reflect.ValueOf(c).Elem()
	for part := range strings.SplitSeq(key, ".") {
		idx, ok := fieldsByName(v.Type())[part]
		if !ok {
			return reflect.Value{}, &FieldError{Key: key, Reason: "unknown setting"}
		}
		v = v.Field(idx)
	}
	return v, nil
}

// Entry is one line of the effective configuration.
type Entry struct {
	Key    string `json:"key"`
	Value  string `json:"value"`
	Secret bool   `json:"secret,omitempty"`
}

// Redacted returns the effective configuration with secrets masked: a secret
// that is set shows as "********"; URLs keep their scheme, host and path and
// lose the password.
func (c Config) Redacted() []Entry {
	var out []Entry
	walk(reflect.TypeFor[Config](), reflect.ValueOf(c), "", func(key string, sf reflect.StructField, v reflect.Value) {
		val := formatValue(v)
		secret := sf.Tag.Get("secret") == "true"
		// The SQLite database is a file path, not a credential.
		if secret && !(key == "database.url" && c.Database.Driver == "sqlite") {
			val = Mask(val)
		}
		out = append(out, Entry{Key: key, Value: val, Secret: secret})
	})
	return out
}
