package relayctl

import (
	"regexp"
	"strings"
	"testing"
)

// TestHelpMatchesFlags asks every command for its help with -h: it
// answers (no error, so relayctl exits 0 as with --help), its usage line is
// the one the overview lists, and that line names every flag the command
// takes, except --settings and --profile, which the overview says every
// command with a STAGE takes, and which exactly those take.
func TestHelpMatchesFlags(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	overview, _ := e.mustRun("", "--help")
	flagLine := regexp.MustCompile(`(?m)^  -(\S+)`)
	for _, c := range commands() {
		t.Run(c.name, func(t *testing.T) {
			out, help, err := e.run("", c.name, "-h")
			if err != nil || out != "" {
				t.Fatalf("relayctl %s -h = %v, stdout %q", c.name, err, out)
			}
			line := "relayctl " + c.name + " " + c.synopsis
			if !strings.HasPrefix(help, "Usage: "+line+"\n") {
				t.Errorf("help starts\n%s\nwant Usage: %s", help[:strings.Index(help, "\n")], line)
			}
			if !regexp.MustCompile(`(?m)^  relayctl ` + regexp.QuoteMeta(c.name) + ` +` + regexp.QuoteMeta(c.synopsis) + `$`).MatchString(overview) {
				t.Errorf("the overview does not list %q", line)
			}
			flags := map[string]bool{}
			for _, m := range flagLine.FindAllStringSubmatch(help, -1) {
				flags[m[1]] = true
			}
			stage := strings.HasPrefix(c.synopsis, "STAGE")
			for _, common := range []string{"settings", "profile"} {
				if flags[common] != stage {
					t.Errorf("takes --%s: %v, but its synopsis %s a STAGE", common, flags[common], map[bool]string{true: "has", false: "has no"}[stage])
				}
				delete(flags, common)
			}
			named := regexp.MustCompile(`(?:^|[\s\[(|])--?([a-z][a-z-]*)`)
			inLine := map[string]bool{}
			for _, m := range named.FindAllStringSubmatch(c.synopsis, -1) {
				inLine[m[1]] = true
			}
			for f := range flags {
				if !inLine[f] {
					t.Errorf("the synopsis %q omits -%s", c.synopsis, f)
				}
			}
			for f := range inLine {
				if !flags[f] {
					t.Errorf("the synopsis %q names -%s, which the command does not take", c.synopsis, f)
				}
			}
		})
	}
	if !strings.Contains(overview, "Every command with a STAGE also takes --settings FILE") {
		t.Errorf("the overview does not say which commands take --settings and --profile:\n%s", overview)
	}
}
