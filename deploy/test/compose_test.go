package deploytest

import (
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"esign/internal/config"

	"github.com/compose-spec/compose-go/v2/cli"
	"github.com/compose-spec/compose-go/v2/types"
)

const composeFile = "../compose/compose.yaml"

// loadCompose loads compose.yaml as `docker compose config` would, with
// the profiles given (the dev profile adds the one-shot dev-certificate).
func loadCompose(t *testing.T, profiles ...string) *types.Project {
	t.Helper()
	opts, err := cli.NewProjectOptions([]string{composeFile},
		cli.WithEnv([]string{}), // no host variables: the defaults in the file
		cli.WithProfiles(profiles),
		cli.WithResolvedPaths(false),
	)
	if err != nil {
		t.Fatal(err)
	}
	p, err := opts.LoadProject(t.Context())
	if err != nil {
		t.Fatalf("load %s: %v", composeFile, err)
	}
	return p
}

// oneShot: a service that runs to completion (migrate, dev-certificate).
func oneShot(s types.ServiceConfig) bool { return s.Restart == "no" }

func TestComposeTopology(t *testing.T) {
	p := loadCompose(t)
	replicas := map[string]int{}
	for name, s := range p.Services {
		n := 1
		if s.Deploy != nil && s.Deploy.Replicas != nil {
			n = *s.Deploy.Replicas
		}
		replicas[name] = n
	}
	want := map[string]int{
		"postgres": 1, "rabbitmq": 1, "redis": 1, "migrate": 1,
		"oss": 2, "css": 2, "pdfservice": 1, "cron": 2, "tsa": 1,
	}
	if !maps.Equal(replicas, want) {
		t.Errorf("services and replicas %v, want %v", replicas, want)
	}
	dev := loadCompose(t, "dev")
	if _, ok := dev.Services["dev-certificate"]; !ok {
		t.Error("the dev profile has no dev-certificate service")
	}
}

func TestComposeHealthChecks(t *testing.T) {
	p := loadCompose(t, "dev")
	for _, name := range slices.Sorted(maps.Keys(p.Services)) {
		s := p.Services[name]
		hc := s.HealthCheck
		hasCheck := hc != nil && !hc.Disable && len(hc.Test) > 1
		switch {
		case oneShot(s):
			if hasCheck {
				t.Errorf("%s: a one-shot service with a health check", name)
			}
			continue
		case !hasCheck:
			t.Errorf("%s: no health check", name)
			continue
		}
		if !strings.HasPrefix(s.Image, "${") && !strings.HasPrefix(s.Image, "esign") {
			continue // PostgreSQL, RabbitMQ, Redis: their own tools
		}
		// esign: the image has no shell; `esign health` on the process's
		// own detailed /readyz.
		want := []string{"CMD", "/usr/local/bin/esign", "health", "http://127.0.0.1:10189/readyz"}
		if !slices.Equal(hc.Test, want) {
			t.Errorf("%s: health check %q, want %q", name, hc.Test, want)
		}
	}
	// Every one-shot is waited for, or runs only on request (a profile).
	for name, s := range p.Services {
		if !oneShot(s) || len(s.Profiles) > 0 {
			continue
		}
		waited := false
		for _, other := range p.Services {
			if d, ok := other.DependsOn[name]; ok && d.Condition == types.ServiceConditionCompletedSuccessfully {
				waited = true
			}
		}
		if !waited {
			t.Errorf("one-shot %s: nothing waits for it to complete", name)
		}
	}
}

func TestComposeEsignServices(t *testing.T) {
	p := loadCompose(t, "dev")
	for _, name := range slices.Sorted(maps.Keys(p.Services)) {
		s := p.Services[name]
		if s.Image != "esign:dev" {
			continue
		}
		switch {
		case s.User != "65532:65532":
			t.Errorf("%s: user %q", name, s.User)
		case !s.ReadOnly:
			t.Errorf("%s: root filesystem not read-only", name)
		case !slices.Contains(s.CapDrop, "ALL") || len(s.CapAdd) > 0:
			t.Errorf("%s: capabilities drop %v add %v", name, s.CapDrop, s.CapAdd)
		case !slices.Contains(s.SecurityOpt, "no-new-privileges:true"):
			t.Errorf("%s: privilege escalation allowed", name)
		}
		for k, v := range s.Environment {
			if v == nil {
				continue
			}
			if strings.HasSuffix(k, "_FILE") {
				secret := strings.TrimPrefix(*v, "/run/secrets/")
				if !slices.ContainsFunc(s.Secrets, func(r types.ServiceSecretConfig) bool {
					return r.Source == secret && (r.Target == "" || r.Target == *v)
				}) {
					t.Errorf("%s: %s=%s, which is not one of its secrets", name, k, *v)
				}
			}
			lk := strings.ToLower(k)
			if (strings.Contains(lk, "password") || strings.Contains(lk, "url") && strings.Contains(strings.ToLower(*v), "@")) && !strings.HasSuffix(k, "_FILE") {
				t.Errorf("%s: %s in the environment: secrets go in files", name, k)
			}
		}
		// Every secret mounted is read (an unread crypto-keys makes the
		// process generate a key of its own).
		for _, sec := range s.Secrets {
			path := "/run/secrets/" + sec.Source
			if sec.Target != "" {
				path = sec.Target
			}
			used := false
			for k, v := range s.Environment {
				used = used || (v != nil && *v == path && strings.HasSuffix(k, "_FILE"))
			}
			if !used {
				t.Errorf("%s: secret %s is mounted but no ESIGN_*_FILE reads it", name, sec.Source)
			}
		}
		for _, port := range s.Ports {
			if port.Target == 10189 {
				t.Errorf("%s publishes the operations listener", name)
			}
			if port.HostIP != "127.0.0.1" {
				t.Errorf("%s publishes %d on %q, want 127.0.0.1 by default", name, port.Target, port.HostIP)
			}
		}
	}
	// pdfservice, holding the bank's key, is reached over the bus only.
	if ps := p.Services["pdfservice"]; len(ps.Ports) > 0 || len(ps.Volumes) > 0 {
		t.Errorf("pdfservice publishes %v and mounts %v", ps.Ports, ps.Volumes)
	}
	for _, name := range []string{"oss", "cron", "tsa"} {
		s := p.Services[name]
		if !slices.ContainsFunc(s.Volumes, func(v types.ServiceVolumeConfig) bool { return v.Source == "data" && v.Target == "/var/lib/esign" }) {
			t.Errorf("%s does not mount the shared data volume at /var/lib/esign", name)
		}
	}
	for name, s := range p.Secrets {
		if s.File == "" {
			t.Errorf("secret %s is not a file", name)
		}
	}
}

// TestComposeSecretsScript runs secrets.sh in a copy of the Compose
// directory: it writes every secret file compose.yaml names, the URLs
// carry the passwords the servers get, esign accepts the result, and a
// second run changes nothing.
func TestComposeSecretsScript(t *testing.T) {
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Fatal("secrets.sh needs a POSIX sh")
	}
	dir := t.TempDir()
	for _, f := range []string{"compose.yaml", "secrets.sh"} {
		if err := os.WriteFile(filepath.Join(dir, f), []byte(readFile(t, filepath.Join("../compose", f))), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	run := func() map[string]string {
		t.Helper()
		if out, err := exec.Command(sh, filepath.Join(dir, "secrets.sh")).CombinedOutput(); err != nil {
			t.Fatalf("secrets.sh: %v\n%s", err, out)
		}
		files := map[string]string{}
		entries, err := os.ReadDir(filepath.Join(dir, "secrets"))
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range entries {
			files[e.Name()] = strings.TrimSpace(readFile(t, filepath.Join(dir, "secrets", e.Name())))
		}
		return files
	}
	first := run()
	p := loadCompose(t, "dev")
	for name, s := range p.Secrets {
		if _, ok := first[filepath.Base(s.File)]; !ok {
			t.Errorf("secret %s: secrets.sh does not write %s", name, s.File)
		}
	}
	for file, want := range map[string]string{
		"database-url": "postgres://esign:" + first["postgres-password"] + "@postgres:5432/esign?sslmode=disable",
		"amqp-url":     "amqp://esign:" + first["rabbitmq-password"] + "@rabbitmq:5672/esign",
		"redis-url":    "redis://:" + first["redis-password"] + "@redis:6379/0",
	} {
		if first[file] != want {
			t.Errorf("%s = %q, want %q", file, first[file], want)
		}
	}
	if !strings.Contains(first["rabbitmq.conf"], "default_pass = "+first["rabbitmq-password"]) || !strings.Contains(first["rabbitmq.conf"], "default_vhost = esign") {
		t.Errorf("rabbitmq.conf does not match amqp-url:\n%s", first["rabbitmq.conf"])
	}
	if !strings.Contains(first["redis.conf"], "requirepass "+first["redis-password"]) {
		t.Errorf("redis.conf does not match redis-url:\n%s", first["redis.conf"])
	}
	if second := run(); !maps.Equal(first, second) {
		t.Error("a second run of secrets.sh changed the secrets")
	}
	// esign reads the real files.
	for _, name := range []string{"oss", "migrate"} {
		s := p.Services[name]
		environ := []string{}
		for k, v := range s.Environment {
			if v == nil {
				continue
			}
			val := *v
			if rest, ok := strings.CutPrefix(val, "/run/secrets/"); ok {
				val = filepath.Join(dir, "secrets", rest)
			}
			environ = append(environ, k+"="+val)
		}
		if _, err := config.Load("", environ); err != nil {
			t.Errorf("%s with the generated secrets: %v", name, err)
		}
	}
}
