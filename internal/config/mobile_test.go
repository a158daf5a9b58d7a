package config

import "testing"

func TestMobileValidate(t *testing.T) {
	tests := []struct {
		name string
		edit func(m *Mobile)
		key  string
	}{
		{"default", func(m *Mobile) {}, ""},
		{"idle_zero", func(m *Mobile) { m.SessionIdle = 0 }, "mobile.session_idle"},
		{"max_below_idle", func(m *Mobile) { m.SessionMax = m.SessionIdle - 1 }, "mobile.session_max"},
		{"code_key_short", func(m *Mobile) { m.CodeKey = "c2hvcnQ=" }, "mobile.code_key"},
		{"code_key_not_base64", func(m *Mobile) { m.CodeKey = "!!" }, "mobile.code_key"},
		{"code_key_ok", func(m *Mobile) { m.CodeKey = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=" }, ""},
		{"sms_zero", func(m *Mobile) { m.SMSGlobalPerMinute = 0 }, "mobile.sms_global_per_minute"},
		{"register_negative", func(m *Mobile) { m.RegisterPerIPPer10Min = -1 }, "mobile.register_per_ip_per_10min"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := Default()
			c.fillDerived()
			tt.edit(&c.Mobile)
			err := c.Validate()
			fe, _ := err.(*FieldError)
			switch {
			case tt.key == "" && err != nil:
				t.Fatalf("unexpected error %v", err)
			case tt.key != "" && (fe == nil || fe.Key != tt.key):
				t.Fatalf("got %v, want an error for %s", err, tt.key)
			}
		})
	}
}
