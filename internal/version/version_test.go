package version

import (
	"os"
	"strings"
	"testing"
)

// TestToolchainIsGoMods keeps Toolchain and go.mod's toolchain line one fact.
func TestToolchainIsGoMods(t *testing.T) {
	data, err := os.ReadFile("../../go.mod")
	if err != nil {
		t.Fatal(err)
	}
	var line string
	for l := range strings.Lines(string(data)) {
		if name, ok := strings.CutPrefix(strings.TrimSpace(l), "toolchain "); ok {
			line = strings.TrimSpace(name)
		}
	}
	if line != Toolchain {
		t.Errorf("go.mod's toolchain line names %q, Toolchain is %q", line, Toolchain)
	}
}

func TestOldToolchain(t *testing.T) {
	for _, tc := range []struct {
		v    string
		want bool
	}{
		{"go1.26.8", true},
		{"go1.27.2", true},
		{"go1.27rc1", true},
		{Toolchain, false},
		{"go1.27.10", false},
		{"go1.28", false},
		{"devel go1.28-abcdef", false},
		{"", false},
	} {
		if got := OldToolchain(tc.v); got != tc.want {
			t.Errorf("OldToolchain(%q) = %v, want %v", tc.v, got, tc.want)
		}
	}
}

// TestSourceRevision: a stamped Revision wins over the build info, which a
// test binary has no vcs.revision in, so it reads "unknown".
func TestSourceRevision(t *testing.T) {
	if got := SourceRevision(); got != "unknown" {
		t.Errorf("SourceRevision() unstamped = %q, want unknown", got)
	}
	Revision = "0123abc"
	t.Cleanup(func() { Revision = "" })
	if got := SourceRevision(); got != "0123abc" {
		t.Errorf("SourceRevision() = %q, want the stamped 0123abc", got)
	}
}
