package deploytest

import (
	"maps"
	"slices"
	"strings"
	"testing"

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
