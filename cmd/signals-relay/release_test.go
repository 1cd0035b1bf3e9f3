package main

import (
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

const module = "github.com/signals-relay/signals-relay"

// developmentOnly are the packages a release build must not contain: the
// simulator, the JWT generator and the demo's sample request.
var developmentOnly = []string{
	module,
	module + "/internal/simulator",
	module + "/internal/jwtgen",
}

// goCommand runs the go command in this package's directory.
func goCommand(t *testing.T, args ...string) string {
	t.Helper()
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("the go command is needed to check the release build: %v", err)
	}
	out, err := exec.Command(goTool, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("go %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// TestReleaseBuildLeavesOutDevelopmentCode checks the package lists of both
// builds: the default build links the simulator and the JWT generator (so
// the check below names real packages), the release build links neither,
// nor any load-testing command.
func TestReleaseBuildLeavesOutDevelopmentCode(t *testing.T) {
	deps := func(tags ...string) []string {
		return strings.Fields(goCommand(t, append(append([]string{"list", "-deps"}, tags...), ".")...))
	}
	dev := deps()
	for _, p := range developmentOnly {
		if !slices.Contains(dev, p) {
			t.Errorf("the default build does not link %s; update developmentOnly", p)
		}
	}
	for _, p := range deps("-tags", "release") {
		if slices.Contains(developmentOnly, p) || strings.HasPrefix(p, module+"/cmd/") && p != module+"/cmd/signals-relay" {
			t.Errorf("the release build links %s", p)
		}
	}
}

// TestReleaseBuildRefusesDevelopmentCommands builds the release binary and
// checks that demo and simulate answer a clear error while version works.
func TestReleaseBuildRefusesDevelopmentCommands(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a binary")
	}
	bin := filepath.Join(t.TempDir(), "signals-relay")
	goCommand(t, "build", "-tags", "release", "-o", bin, ".")
	for _, cmd := range []string{"demo", "simulate"} {
		out, err := exec.Command(bin, cmd).CombinedOutput()
		want := "signals-relay: " + cmd + " is not in release builds"
		if err == nil || !strings.HasPrefix(string(out), want) {
			t.Errorf("%s: err %v, output %q; want a failure starting %q", cmd, err, out, want)
		}
	}
	if out, err := exec.Command(bin, "version").CombinedOutput(); err != nil || !strings.HasPrefix(string(out), "signals-relay ") {
		t.Errorf("version: err %v, output %q", err, out)
	}
}
