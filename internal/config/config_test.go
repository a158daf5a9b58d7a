package config

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

func writeFile(t *testing.T, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "esign.json")
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestLoadDefaults(t *testing.T) {
	cfg, err := Load("", nil)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Database.Driver != "sqlite" || cfg.Database.URL != filepath.Join("data", "esign.db") {
		t.Errorf("database = %+v, want sqlite in ./data", cfg.Database)
	}
	if cfg.Listen.Admin != "127.0.0.1:10181" || cfg.Listen.Customer != "127.0.0.1:10183" {
		t.Errorf("listen = %+v", cfg.Listen)
	}
}

func TestLoadLayers(t *testing.T) {
	file := writeFile(t, `{"log": {"level": "debug"}, "listen": {"admin": "127.0.0.1:2000"}, "bus": {"request_timeout": "3s"}, "http": {"max_body_bytes": 2048}}`)
	secret := filepath.Join(t.TempDir(), "pw")
	if err := os.WriteFile(secret, []byte("s3cret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := Load(file, []string{
		"ESIGN_LISTEN_ADMIN=127.0.0.1:3000", // env wins over the file
		"ESIGN_TSA_PASSWORD_FILE=" + secret,
		"ESIGN_DATABASE_AUTO_MIGRATE=false",
		"ESIGN_TEST_POSTGRES_URL=ignored",
		"HOME=/root",
	})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Log.Level != "debug" {
		t.Errorf("log.level = %q", cfg.Log.Level)
	}
	if cfg.Listen.Admin != "127.0.0.1:3000" {
		t.Errorf("listen.admin = %q, want the environment's", cfg.Listen.Admin)
	}
	if cfg.Bus.RequestTimeout != 3*time.Second || cfg.HTTP.MaxBodyBytes != 2048 {
		t.Errorf("bus.request_timeout = %v, http.max_body_bytes = %d", cfg.Bus.RequestTimeout, cfg.HTTP.MaxBodyBytes)
	}
	if cfg.TSA.Password != "s3cret" {
		t.Errorf("tsa.password from file = %q", cfg.TSA.Password)
	}
	if cfg.Database.AutoMigrate {
		t.Error("database.auto_migrate stayed true")
	}
}

func TestLoadErrors(t *testing.T) {
	tests := []struct {
		name    string
		file    string
		env     []string
		wantKey string
		want    string
	}{
		{"unknown_file_key", `{"listen": {"admn": "127.0.0.1:1"}}`, nil, "listen.admn", "unknown setting"},
		{"unknown_env", "", []string{"ESIGN_LISTEN_ADMN=1"}, "ESIGN_LISTEN_ADMN", "unknown variable"},
		{"bad_port", "", []string{"ESIGN_LISTEN_ADMIN=127.0.0.1:99999"}, "listen.admin", "invalid port"},
		{"not_host_port", `{"listen": {"customer": "10183"}}`, nil, "listen.customer", "not host:port"},
		{"bad_driver", "", []string{"ESIGN_DATABASE_DRIVER=mysql"}, "database.driver", "not one of"},
		{"postgres_without_url", "", []string{"ESIGN_DATABASE_DRIVER=postgres"}, "database.url", "must be set"},
		{"postgres_without_keys", "", []string{"ESIGN_DATABASE_DRIVER=postgres", "ESIGN_DATABASE_URL=postgres://db/esign"}, "crypto.keys", "every replica"},
		{"bad_policy_oid", "", []string{"ESIGN_TSA_POLICY_OID=1.2.x"}, "tsa.policy_oid", "object identifier"},
		{"bad_seal_level", "", []string{"ESIGN_SEAL_LEVEL=B-LTX"}, "seal.level", "must be one of B-B, B-T, B-LT, B-LTA"},
		{"bad_archive_margin", "", []string{"ESIGN_ARCHIVE_RENEWAL_MARGIN=0s"}, "archive.renewal_margin", "must be from 1h to 87600h (10 years)"},
		{"tsa_pkcs11_no_module", "", []string{"ESIGN_TSA_PKCS11_KEY=token=t;key=k", "ESIGN_TSA_CERTIFICATE_FILE=/tsa.pem"}, "tsa.pkcs11_key", "needs pkcs11.module"},
		{"tsa_pkcs11_no_chain", "", []string{"ESIGN_TSA_PKCS11_KEY=token=t;key=k", "ESIGN_PKCS11_MODULE=/m.so"}, "tsa.pkcs11_key", "needs tsa.certificate_file"},
		{"postgres_bad_scheme", "", []string{"ESIGN_DATABASE_DRIVER=postgres", "ESIGN_DATABASE_URL=mysql://x/y"}, "database.url", "must start with postgres://"},
		{"bad_duration", "", []string{"ESIGN_BUS_REQUEST_TIMEOUT=10"}, "bus.request_timeout", "not a duration"},
		{"negative_duration", "", []string{"ESIGN_HTTP_SHUTDOWN_TIMEOUT=-1s"}, "http.shutdown_timeout", "positive"},
		{"bad_bool", `{"database": {"auto_migrate": "yes"}}`, nil, "database.auto_migrate", "not a boolean"},
		{"object_expected", `{"listen": "x"}`, nil, "listen", "must be an object"},
		{"bad_level", "", []string{"ESIGN_LOG_LEVEL=loud"}, "log.level", "not one of"},
		{"bad_amqp", "", []string{"ESIGN_BUS_AMQP_URL=http://x"}, "bus.amqp_url", "amqp://"},
		{"bad_namespace", "", []string{"ESIGN_BUS_NAMESPACE=Bank A"}, "bus.namespace", "lower-case letters"},
		{"long_namespace", "", []string{"ESIGN_BUS_NAMESPACE=" + strings.Repeat("a", 33)}, "bus.namespace", "1 to 32"},
		{"missing_secret_file", "", []string{"ESIGN_TSA_PASSWORD_FILE=/nonexistent/pw"}, "tsa.password", "read secret file"},
		{"fcm_endpoint_http", "", []string{"ESIGN_NOTIFY_FCM_ENDPOINT=http://fcm.example.com/v1/projects/{project}/messages:send"}, "notify.fcm_endpoint", "https://"},
		{"fcm_endpoint_empty", `{"notify": {"fcm_endpoint": ""}}`, nil, "notify.fcm_endpoint", "must be set"},
		{"fcm_endpoint_not_url", "", []string{"ESIGN_NOTIFY_FCM_ENDPOINT=fcm.googleapis.com"}, "notify.fcm_endpoint", "https://"},
		{"negative_link_lifetime", "", []string{"ESIGN_MOBILE_LINK_LIFETIME=-1h"}, "mobile.link_lifetime", "negative"},
		{"no_link_renewals", "", []string{"ESIGN_MOBILE_LINK_RENEWALS_PER_DAY=0"}, "mobile.link_renewals_per_day", "at least 1"},
		{"tracing_not_url", "", []string{"ESIGN_TRACING_ENDPOINT=collector:4318"}, "tracing.endpoint", "http"},
		{"sample_ratio_not_number", "", []string{"ESIGN_TRACING_SAMPLE_RATIO=half"}, "tracing.sample_ratio", "not a number"},
		{"sample_ratio_above_one", "", []string{"ESIGN_TRACING_SAMPLE_RATIO=1.5"}, "tracing.sample_ratio", "from 0 to 1"},
		{"sample_ratio_nan", `{"tracing": {"sample_ratio": -0.1}}`, nil, "tracing.sample_ratio", "from 0 to 1"},
		{"hook_policy", "", []string{"ESIGN_HOOKS_OFFER_CREATED_POLICY=maybe"}, "hooks.offer_created_policy", "open or closed"},
		{"hook_url_http", "", []string{"ESIGN_HOOKS_SIGNATURE_VERIFIED_URL=http://hooks.bank.example/sig"}, "hooks.signature_verified_url", "loopback"},
		{"hook_without_secret", "", []string{"ESIGN_HOOKS_OFFER_ENDED_URL=https://hooks.bank.example/ended"}, "hooks.secret", "at least 32"},
		{"hook_timeout", "", []string{"ESIGN_HOOKS_TIMEOUT=2m"}, "hooks.timeout", "at most 1m"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := ""
			if tt.file != "" {
				path = writeFile(t, tt.file)
			}
			_, err := Load(path, tt.env)
			var fe *FieldError
			if !errors.As(err, &fe) {
				t.Fatalf("err = %v, want a *FieldError", err)
			}
			if fe.Key != tt.wantKey || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %q (key %q), want key %q and %q", err, fe.Key, tt.wantKey, tt.want)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("error is not one line: %q", err)
			}
		})
	}
}

func TestLoadFileErrors(t *testing.T) {
	if _, err := Load(filepath.Join(t.TempDir(), "missing.json"), nil); err == nil || !strings.Contains(err.Error(), "no such file") {
		t.Errorf("missing file: err = %v", err)
	}
	bad := writeFile(t, "{\n  \"log\": {\n    \"level\": \"info\",\n  }\n}")
	if _, err := Load(bad, nil); err == nil || !strings.Contains(err.Error(), "line 4") {
		t.Errorf("syntax error: err = %v, want the line", err)
	}
}

func TestRedactedMasksSecrets(t *testing.T) {
	cfg, err := Load("", []string{
		"ESIGN_DATABASE_DRIVER=postgres",
		"ESIGN_DATABASE_URL=postgres://esign:topsecret@db.internal:5432/esign?sslmode=require",
		"ESIGN_TSA_PASSWORD=tsa-secret",
		"ESIGN_CRYPTO_KEYS=k1:c2VjcmV0LWtleQ==",
		"ESIGN_BUS_AMQP_URL=amqp://guest:guestpw@127.0.0.1:5672/",
	})
	if err != nil {
		t.Fatal(err)
	}
	var all strings.Builder
	for _, e := range cfg.Redacted() {
		all.WriteString(e.Key + "=" + e.Value + "\n")
	}
	dump := all.String()
	for _, secret := range []string{"topsecret", "tsa-secret", "guestpw", "c2VjcmV0LWtleQ"} {
		if strings.Contains(dump, secret) {
			t.Errorf("dump reveals %q:\n%s", secret, dump)
		}
	}
	for _, visible := range []string{"db.internal:5432", "tsa.password=********", "127.0.0.1:5672"} {
		if !strings.Contains(dump, visible) {
			t.Errorf("dump lacks %q:\n%s", visible, dump)
		}
	}
}

func TestFieldsDocumented(t *testing.T) {
	doc, err := os.ReadFile("../../docs/configuration.md")
	if err != nil {
		t.Fatalf("docs/configuration.md: %v", err)
	}
	for _, f := range Fields() {
		if f.Help == "" {
			t.Errorf("%s has no help text", f.Key)
		}
		if !strings.Contains(string(doc), "`"+f.Key+"`") || !strings.Contains(string(doc), f.Env) {
			t.Errorf("docs/configuration.md does not list %s (%s)", f.Key, f.Env)
		}
	}
}

func FuzzLoadFile(f *testing.F) {
	f.Add(`{"log": {"level": "debug"}}`)
	f.Add(`{"listen": {"admin": 1}}`)
	f.Add(`[]`)
	f.Fuzz(func(t *testing.T, content string) {
		p := filepath.Join(t.TempDir(), "c.json")
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		cfg, err := Load(p, nil)
		if err == nil {
			if verr := cfg.Validate(); verr != nil {
				t.Fatalf("Load accepted a config that fails Validate: %v", verr)
			}
		}
	})
}

// TestLoadLeavesEnvironAlone: Load reads the caller's environment list and
// never reorders it (callers share such lists between configurations).
func TestLoadLeavesEnvironAlone(t *testing.T) {
	env := []string{"ESIGN_LOG_LEVEL=debug", "HOME=/root", "ESIGN_BUS_NAMESPACE=a"}
	want := slices.Clone(env)
	if _, err := Load("", env); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(env, want) {
		t.Fatalf("Load changed its environment list to %q, want %q", env, want)
	}
}

func TestFCMEndpoint(t *testing.T) {
	cfg, err := Load("", nil)
	if err != nil || cfg.Notify.FCMEndpoint != "https://fcm.googleapis.com/v1/projects/{project}/messages:send" {
		t.Fatalf("default notify.fcm_endpoint = %q, %v", cfg.Notify.FCMEndpoint, err)
	}
	for _, ok := range []string{
		"https://fcm-proxy.bank.example/v1/projects/{project}/messages:send",
		"http://127.0.0.1:8080/v1/projects/{project}/messages:send",
		"http://[::1]:8080/send",
		"http://localhost:8080/send",
	} {
		cfg, err := Load("", []string{"ESIGN_NOTIFY_FCM_ENDPOINT=" + ok})
		if err != nil || cfg.Notify.FCMEndpoint != ok {
			t.Errorf("%s: %q, %v", ok, cfg.Notify.FCMEndpoint, err)
		}
	}
	if _, err := Load("", []string{"ESIGN_NOTIFY_FCM_ENDPOINT=http://10.0.0.1/send"}); err == nil {
		t.Error("http to a routable address accepted")
	}
}
