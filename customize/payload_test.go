package customize_test

import (
	"reflect"
	"strings"
	"testing"

	"esign/customize"
)

// TestPayloadsHoldNoSecrets: no field of a payload a hook sees is named
// like a secret; a new field that is must be thought about, not added in
// passing (docs/customization.md, "Payloads").
func TestPayloadsHoldNoSecrets(t *testing.T) {
	forbidden := []string{"password", "token", "code", "secret", "key", "otp", "pin", "phone", "email", "session", "content", "data_base64"}
	var walk func(path string, ty reflect.Type)
	walk = func(path string, ty reflect.Type) {
		switch ty.Kind() {
		case reflect.Slice, reflect.Pointer:
			walk(path, ty.Elem())
			return
		case reflect.Struct:
		default:
			return
		}
		if ty.PkgPath() != "esign/customize" {
			return // time.Time
		}
		for i := range ty.NumField() {
			f := ty.Field(i)
			name := strings.ToLower(f.Name + " " + f.Tag.Get("json"))
			for _, w := range forbidden {
				if strings.Contains(name, w) {
					t.Errorf("%s.%s (json %q) looks like a secret (%q)", path, f.Name, f.Tag.Get("json"), w)
				}
			}
			walk(path+"."+f.Name, f.Type)
		}
	}
	for _, p := range []any{customize.OfferCreated{}, customize.CustomerRegistered{}, customize.SignatureVerified{},
		customize.ContractSealed{}, customize.OfferEnded{}} {
		walk(reflect.TypeOf(p).Name(), reflect.TypeOf(p))
	}
}
