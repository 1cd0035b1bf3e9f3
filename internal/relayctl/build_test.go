package relayctl

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/signals-relay/signals-relay/internal/pack"
)

// TestReleaseBuildsUseThePinnedToolchain: package and image build with
// go.mod's toolchain even when the shell says GOTOOLCHAIN=local (as a Go
// whose go.env sets it does): the go command they run gets
// GOTOOLCHAIN=<release toolchain> after the inherited one, and the last
// value of a variable is the one a process sees.
func TestReleaseBuildsUseThePinnedToolchain(t *testing.T) {
	t.Setenv("GOTOOLCHAIN", "local")
	e := newEnv(t)
	e.mustRun("", "package", "dev", "-o", filepath.Join(e.dir, "a.zip"))
	e.mustRun("", "image", "--platform", "linux/arm64", "--output", filepath.Join(e.dir, "a.tar"))
	if len(e.builds) != 2 {
		t.Fatalf("builds = %+v", e.builds)
	}
	for _, b := range e.builds {
		if b.Toolchain != pack.ReleaseToolchain {
			t.Errorf("build toolchain = %q, want %q", b.Toolchain, pack.ReleaseToolchain)
		}
		last := ""
		for _, kv := range b.Environ() {
			if v, ok := strings.CutPrefix(kv, "GOTOOLCHAIN="); ok {
				last = v
			}
		}
		if last != pack.ReleaseToolchain {
			t.Errorf("the go command sees GOTOOLCHAIN=%s, want %s", last, pack.ReleaseToolchain)
		}
	}
}
