package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"runtime"
	"runtime/debug"
)

// version and commit are set at build time (the Dockerfile does):
//
//	go build -ldflags "-X esign/internal/cli.version=v1.2.3 -X esign/internal/cli.commit=$(git rev-parse HEAD)"
//
// Without commit, the revision Go records from the checkout
// (debug.ReadBuildInfo's vcs.revision, with -buildvcs) is shown instead.
var (
	version = "dev"
	commit  = ""
)

func versionString() string {
	bi, _ := debug.ReadBuildInfo()
	return fmt.Sprintf("esign %s %s %s/%s %s", version, revision(commit, bi), runtime.GOOS, runtime.GOARCH, runtime.Version())
}

// revision is the commit the binary was built from, shortened to 12
// characters: the one given with -ldflags, else the build's vcs.revision
// (with "-dirty" when the checkout had changes), else "unknown".
func revision(ldflagsCommit string, bi *debug.BuildInfo) string {
	if ldflagsCommit != "" {
		return short(ldflagsCommit)
	}
	if bi == nil {
		return "unknown"
	}
	rev, dirty := "", false
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			dirty = s.Value == "true"
		}
	}
	if rev == "" {
		return "unknown"
	}
	if dirty {
		return short(rev) + "-dirty"
	}
	return short(rev)
}

func short(rev string) string {
	if len(rev) > 12 {
		return rev[:12]
	}
	return rev
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
