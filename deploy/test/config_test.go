package deploytest

import (
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"esign/internal/config"
)

// secretValues are well-formed stand-ins for the secret files.
var secretValues = map[string]string{
	"database-url":         "postgres://esign:pw@postgres:5432/esign?sslmode=disable",
	"amqp-url":             "amqp://esign:pw@rabbitmq:5672/esign",
	"redis-url":            "redis://:pw@redis:6379/0",
	"crypto-keys":          "k1:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
	"tsa-password":         "pw",
	"notify-smsapi-token":  "token",
	"notify-smtp-password": "pw",
}

// checkConfig loads esign's configuration from a container's environment,
// its secret files (under mountDir) replaced by stand-ins, as the process
// would: an unknown variable, an unreadable secret or a bad value fails.
func checkConfig(t *testing.T, what string, env map[string]string, mountDir string) {
	t.Helper()
	dir := t.TempDir()
	var environ []string
	for _, k := range slices.Sorted(maps.Keys(env)) {
		v := env[k]
		if rest, ok := strings.CutPrefix(v, mountDir); ok && strings.HasSuffix(k, "_FILE") {
			key := strings.TrimPrefix(rest, "/")
			val, known := secretValues[key]
			if !known {
				t.Errorf("%s: %s=%s: no stand-in for secret %q", what, k, v, key)
				continue
			}
			v = filepath.Join(dir, key)
			if err := os.WriteFile(v, []byte(val+"\n"), 0o600); err != nil {
				t.Fatal(err)
			}
		}
		environ = append(environ, k+"="+v)
	}
	cfg, err := config.Load("", environ)
	if err != nil {
		t.Errorf("%s: esign would exit 2: %v", what, err)
		return
	}
	if cfg.Listen.Ops != "0.0.0.0:10189" {
		t.Errorf("%s: listen.ops %q, want 0.0.0.0:10189 (the probes' port)", what, cfg.Listen.Ops)
	}
}

func TestChartConfiguration(t *testing.T) {
	for _, vf := range valuesFiles {
		t.Run(vf.name, func(t *testing.T) {
			m := render(t, vf.file)
			for process, d := range m.deployments {
				checkConfig(t, vf.name+" "+process, envOf(d.Spec.Template.Spec.Containers[0]), "/run/secrets/esign")
			}
			for _, j := range m.jobs {
				checkConfig(t, vf.name+" "+j.Name, envOf(j.Spec.Template.Spec.Containers[0]), "/run/secrets/esign")
			}
		})
	}
}

func TestComposeConfiguration(t *testing.T) {
	p := loadCompose(t, "dev")
	for name, s := range p.Services {
		if s.Image != "esign:dev" {
			continue
		}
		env := map[string]string{}
		for k, v := range s.Environment {
			if v != nil {
				env[k] = *v
			}
		}
		checkConfig(t, name, env, "/run/secrets")
	}
}
