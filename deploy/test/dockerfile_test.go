package deploytest

import (
	"encoding/json"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// Debian has no hadolint, so TestDockerfile checks the rules of hadolint
// (DL3000-series numbers in brackets) and of docs/operations.md
// ("Container image") that matter for this image:
//
//   - multi-stage: a named Go build stage and a final stage that copies
//     only the binary (and empty, owned directories) from it;
//   - every base image pinned by a tag other than latest, or a digest
//     [DL3006, DL3007], with ARG defaults substituted;
//   - a static, reproducible build: CGO_ENABLED=0, -trimpath,
//     -buildvcs=false, -buildid= and the version and commit through
//     -ldflags from build arguments;
//   - the final stage runs as a numeric non-root user [DL3002], has no RUN
//     (the base has no shell), JSON-form ENTRYPOINT and CMD [DL3025] with
//     the binary's absolute path, absolute WORKDIR [DL3000];
//   - COPY, never ADD [DL3020], and nothing fetched from a URL;
//   - COPY --from names an earlier stage [DL3022];
//   - OCI labels for version, revision and source;
//   - no secret in ENV or ARG;
//   - .dockerignore lets in only what the build copies.
//
// A container health check is not required: Kubernetes probes the
// processes, Compose runs `esign health`.

type instruction struct {
	line int
	cmd  string // upper case
	args string
}

func parseDockerfile(t *testing.T, text string) []instruction {
	t.Helper()
	var out []instruction
	var cur strings.Builder
	start := 0
	for i, raw := range strings.Split(text, "\n") {
		line := strings.TrimSpace(raw)
		if cur.Len() == 0 && (line == "" || strings.HasPrefix(line, "#")) {
			continue
		}
		if cur.Len() > 0 && strings.HasPrefix(line, "#") {
			continue // a comment inside a continued instruction
		}
		if cur.Len() == 0 {
			start = i + 1
		}
		if body, ok := strings.CutSuffix(line, "\\"); ok {
			cur.WriteString(body + " ")
			continue
		}
		cur.WriteString(line)
		cmd, args, _ := strings.Cut(cur.String(), " ")
		out = append(out, instruction{line: start, cmd: strings.ToUpper(cmd), args: strings.TrimSpace(args)})
		cur.Reset()
	}
	if cur.Len() > 0 {
		t.Fatalf("Dockerfile ends inside a continued instruction (line %d)", start)
	}
	return out
}

type stage struct {
	name, image string
	ins         []instruction
}

var (
	argRef     = regexp.MustCompile(`\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?`)
	pinnedRef  = regexp.MustCompile(`^[a-z0-9.\-/:]+(:[A-Za-z0-9._\-]+)?(@sha256:[0-9a-f]{64})?$`)
	secretName = regexp.MustCompile(`(?i)(password|secret|token|key)`)
)

func TestDockerfile(t *testing.T) {
	ins := parseDockerfile(t, readFile(t, "../../Dockerfile"))
	known := map[string]bool{"FROM": true, "ARG": true, "ENV": true, "WORKDIR": true, "COPY": true, "RUN": true, "LABEL": true, "USER": true, "VOLUME": true, "EXPOSE": true, "ENTRYPOINT": true, "CMD": true}
	globalArgs := map[string]string{}
	var stages []stage
	for _, in := range ins {
		if !known[in.cmd] {
			t.Errorf("line %d: %s is not used by this image (ADD, SHELL, HEALTHCHECK, ONBUILD: see the rules)", in.line, in.cmd)
		}
		switch {
		case in.cmd == "ARG" && len(stages) == 0:
			name, def, _ := strings.Cut(in.args, "=")
			globalArgs[name] = def
		case in.cmd == "FROM":
			f := strings.Fields(in.args)
			st := stage{image: argRef.ReplaceAllStringFunc(f[0], func(ref string) string {
				return globalArgs[argRef.FindStringSubmatch(ref)[1]]
			})}
			if len(f) == 3 && strings.EqualFold(f[1], "AS") {
				st.name = f[2]
			}
			stages = append(stages, st)
		case len(stages) > 0:
			stages[len(stages)-1].ins = append(stages[len(stages)-1].ins, in)
		}
		if (in.cmd == "ARG" || in.cmd == "ENV") && secretName.MatchString(strings.SplitN(in.args, "=", 2)[0]) {
			t.Errorf("line %d: %s %s: a secret in the image", in.line, in.cmd, in.args)
		}
		if strings.Contains(in.args, "://") && in.cmd != "LABEL" && in.cmd != "ARG" {
			t.Errorf("line %d: %s fetches from a URL", in.line, in.cmd)
		}
	}
	if len(stages) < 2 {
		t.Fatalf("%d stages, want a build stage and a final one", len(stages))
	}
	for _, st := range stages {
		img := st.image
		if !pinnedRef.MatchString(img) || (!strings.Contains(img[strings.LastIndex(img, "/")+1:], ":") && !strings.Contains(img, "@sha256:")) {
			t.Errorf("FROM %s: pin the base image by tag or digest", img)
		}
		if strings.HasSuffix(img, ":latest") {
			t.Errorf("FROM %s: never latest", img)
		}
	}
	build, final := stages[0], stages[len(stages)-1]
	if build.name == "" || !strings.HasPrefix(build.image, "golang:") {
		t.Errorf("first stage %q (%s): want a named golang build stage", build.name, build.image)
	}
	var goBuild, cgo string
	declared := map[string]bool{}
	argDefaults := map[string]string{}
	for _, in := range build.ins {
		if in.cmd == "ARG" {
			name, def, _ := strings.Cut(in.args, "=")
			declared[name] = true
			argDefaults[name] = def
		}
		if in.cmd == "RUN" && strings.Contains(in.args, "go build") {
			goBuild = in.args
			for _, m := range argRef.FindAllStringSubmatch(in.args, -1) {
				if !declared[m[1]] {
					t.Errorf("line %d: ${%s} is not declared by ARG in the build stage", in.line, m[1])
				}
			}
		}
		// The default is static; the cgo variant (PKCS#11) is a build
		// argument whose default is 0.
		if in.cmd == "ENV" && (strings.Contains(in.args, "CGO_ENABLED=0") ||
			strings.Contains(in.args, "CGO_ENABLED=${CGO_ENABLED}") && argDefaults["CGO_ENABLED"] == "0") {
			cgo = " CGO_ENABLED=0"
		}
	}
	goBuild += cgo
	for _, want := range []string{"CGO_ENABLED=0", "-trimpath", "-buildvcs=false", "-buildid=", "-X esign/internal/cli.version=${VERSION}", "-X esign/internal/cli.commit=${COMMIT}", "./cmd/esign"} {
		if !strings.Contains(goBuild, want) {
			t.Errorf("the build does not use %s", want)
		}
	}
	var user, entrypoint, cmd string
	labels := map[string]bool{}
	stageNames := map[string]bool{}
	for _, st := range stages[:len(stages)-1] {
		stageNames[st.name] = true
	}
	for _, in := range final.ins {
		switch in.cmd {
		case "RUN":
			t.Errorf("line %d: RUN in the final stage: its base has no shell", in.line)
		case "USER":
			user = in.args
		case "ENTRYPOINT":
			entrypoint = in.args
		case "CMD":
			cmd = in.args
		case "WORKDIR":
			if !strings.HasPrefix(in.args, "/") {
				t.Errorf("line %d: WORKDIR %s is not absolute", in.line, in.args)
			}
		case "LABEL":
			for _, m := range regexp.MustCompile(`(org\.opencontainers\.image\.[a-z]+)=`).FindAllStringSubmatch(in.args, -1) {
				labels[m[1]] = true
			}
		case "COPY":
			if from, ok := strings.CutPrefix(in.args, "--from="); ok {
				if name, _, _ := strings.Cut(from, " "); !stageNames[name] {
					t.Errorf("line %d: COPY --from=%s is not an earlier stage", in.line, name)
				}
			}
		}
	}
	uid, _, _ := strings.Cut(user, ":")
	if n, err := strconv.Atoi(uid); err != nil || n == 0 {
		t.Errorf("final USER %q: want a numeric non-root user", user)
	}
	var ep []string
	if err := json.Unmarshal([]byte(entrypoint), &ep); err != nil || len(ep) == 0 || ep[0] != "/usr/local/bin/esign" {
		t.Errorf("ENTRYPOINT %s: want the JSON form of /usr/local/bin/esign", entrypoint)
	}
	var cmdArgs []string
	if err := json.Unmarshal([]byte(cmd), &cmdArgs); err != nil {
		t.Errorf("CMD %s: want the JSON form", cmd)
	}
	for _, l := range []string{"version", "revision", "source"} {
		if !labels["org.opencontainers.image."+l] {
			t.Errorf("no label org.opencontainers.image.%s", l)
		}
	}
}

func TestDockerignore(t *testing.T) {
	var patterns []string
	for _, l := range strings.Split(readFile(t, "../../.dockerignore"), "\n") {
		if l = strings.TrimSpace(l); l != "" && !strings.HasPrefix(l, "#") {
			patterns = append(patterns, l)
		}
	}
	if len(patterns) == 0 || patterns[0] != "*" {
		t.Fatalf(".dockerignore starts with %v: exclude everything first, then let in what the build copies", patterns)
	}
	var allowed []string
	for _, p := range patterns {
		if rest, ok := strings.CutPrefix(p, "!"); ok {
			allowed = append(allowed, strings.TrimSuffix(rest, "/"))
		}
	}
	slices.Sort(allowed)
	if want := []string{"cmd", "go.mod", "go.sum", "internal"}; !slices.Equal(allowed, want) {
		t.Errorf(".dockerignore lets in %v, want %v", allowed, want)
	}
	// What the build stage copies must be let in.
	for _, in := range parseDockerfile(t, readFile(t, "../../Dockerfile")) {
		if in.cmd != "COPY" || strings.HasPrefix(in.args, "--from") {
			continue
		}
		f := strings.Fields(in.args)
		for _, src := range f[:len(f)-1] {
			if !slices.Contains(allowed, strings.TrimSuffix(src, "/")) {
				t.Errorf("COPY %s: excluded by .dockerignore", src)
			}
		}
	}
}
