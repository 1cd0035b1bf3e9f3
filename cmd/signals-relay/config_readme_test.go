package main

import (
	"bufio"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/signals-relay/signals-relay/internal/lambdaedge"
)

// readmeRow is one row of the README's configuration table.
type readmeRow struct{ name, def, meaning string }

// readmeConfig returns the rows of the README's configuration table, the
// first table after "## Configuration", in order.
func readmeConfig(t *testing.T) []readmeRow {
	t.Helper()
	f, err := os.Open(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var (
		rows                    []readmeRow
		inSection, inTable, end bool
	)
	sc := bufio.NewScanner(f)
	for sc.Scan() && !end {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "## "):
			inSection = line == "## Configuration"
		case !inSection:
		case strings.HasPrefix(line, "|"):
			inTable = true
			cells := strings.Split(strings.Trim(line, "|"), " | ")
			if len(cells) != 3 {
				t.Fatalf("README configuration table: row %q has %d cells, want 3", line, len(cells))
			}
			for i := range cells {
				cells[i] = strings.TrimSpace(cells[i])
			}
			if name, ok := strings.CutPrefix(cells[0], "`"); ok {
				rows = append(rows, readmeRow{name: strings.TrimSuffix(name, "`"), def: cells[1], meaning: cells[2]})
			}
		case inTable:
			end = true // the table ends at its first non-table line
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if len(rows) == 0 {
		t.Fatal("README has no configuration table under ## Configuration")
	}
	return rows
}

// otherPrograms are variables the table documents that signals-relay does
// not read, and the package that does.
var otherPrograms = map[string]string{"RELAYCTL_SETTINGS": "internal/relayctl"}

// TestReadmeConfigurationTable checks the README's configuration table
// against the code: every variable the relay reads has a row and every row
// is read; where the code bounds a variable, the row gives the same range;
// and a default the row gives is the code's default.
func TestReadmeConfigurationTable(t *testing.T) {
	rows := readmeConfig(t)

	// What loadConfig reads, in the order it reads it, and what run reads.
	var read []string
	if _, err := loadConfig(func(k string) string {
		if !slices.Contains(read, k) {
			read = append(read, k)
		}
		return ""
	}); err != nil {
		t.Fatal(err)
	}
	read = append(read, lambdaedge.RuntimeAPIEnv)

	var documented []string
	for _, r := range rows {
		if slices.Contains(documented, r.name) {
			t.Errorf("README: %s has two rows", r.name)
		}
		documented = append(documented, r.name)
	}
	for _, name := range read {
		if !slices.Contains(documented, name) {
			t.Errorf("README: the relay reads %s, which the configuration table lacks", name)
		}
	}
	for _, r := range rows {
		if pkg, ok := otherPrograms[r.name]; ok {
			if !sourceMentions(t, pkg, strconv.Quote(r.name)) {
				t.Errorf("README: %s is documented as read by %s, whose code does not name it", r.name, pkg)
			}
			continue
		}
		if !slices.Contains(read, r.name) {
			t.Errorf("README: %s is in the configuration table, but the relay does not read it", r.name)
		}
	}

	for _, r := range rows {
		if !slices.Contains(read, r.name) || r.name == lambdaedge.RuntimeAPIEnv {
			continue
		}
		t.Run(r.name, func(t *testing.T) {
			checkRange(t, r)
			checkDefault(t, r)
		})
	}
}

// Ranges: the code states them in its errors ("want an integer from 1 to
// 1000", "… from 1s to 50s"); the README as "(1–1,000" or "(1s–50s".
var (
	codeRangeRE   = regexp.MustCompile(`from (\S+) to ([^\s;,]+)`)
	readmeRangeRE = regexp.MustCompile(`\((\d[0-9a-z.,]*)–(\d[0-9a-z.,]*)[;)]`)
)

// checkRange checks that r states the range loadConfig enforces, if any.
func checkRange(t *testing.T, r readmeRow) {
	t.Helper()
	_, err := loadConfig(mapEnv(map[string]string{r.name: "-1"}))
	var code []string
	if err != nil {
		code = codeRangeRE.FindStringSubmatch(err.Error())
	}
	readme := readmeRangeRE.FindStringSubmatch(r.meaning)
	switch {
	case code == nil && readme == nil:
		return
	case code == nil:
		t.Fatalf("README gives %s the range %s–%s, which the code does not enforce", r.name, readme[1], readme[2])
	case readme == nil:
		t.Fatalf("the code bounds %s from %s to %s; its README row says no range as (lo–hi)", r.name, code[1], code[2])
	}
	for i, bound := range []string{"low", "high"} {
		if !sameValue(code[i+1], strings.ReplaceAll(readme[i+1], ",", "")) {
			t.Errorf("%s: README's %s bound is %s, the code's %s", r.name, bound, readme[i+1], code[i+1])
		}
	}
}

// sameValue compares two integers or two durations, whatever their spelling.
func sameValue(a, b string) bool {
	if x, err := strconv.Atoi(a); err == nil {
		y, err := strconv.Atoi(b)
		return err == nil && x == y
	}
	x, errA := time.ParseDuration(a)
	y, errB := time.ParseDuration(b)
	if b == "0" {
		y, errB = 0, nil
	}
	return errA == nil && errB == nil && x == y
}

// checkDefault checks that a default the README gives as one literal value
// configures what leaving the variable unset does.
func checkDefault(t *testing.T, r readmeRow) {
	t.Helper()
	def, quoted := strings.CutPrefix(r.def, "`")
	def, closed := strings.CutSuffix(def, "`")
	if !quoted || !closed || strings.Contains(def, "`") {
		return // no default, or one in words
	}
	want, err := loadConfig(mapEnv(nil))
	if err != nil {
		t.Fatal(err)
	}
	got, err := loadConfig(mapEnv(map[string]string{r.name: def}))
	if err != nil {
		t.Fatalf("README's default %s=%s is refused: %v", r.name, def, err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("README's default %s=%s is not the code's default", r.name, def)
	}
}

// sourceMentions reports whether a non-test Go file of the package at dir
// (from the module root) holds s.
func sourceMentions(t *testing.T, dir, s string) bool {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("..", "..", dir, "*.go"))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(b), s) {
			return true
		}
	}
	return false
}

// TestReadmeNamesGoModsGoLine: the quick start's Go version is go.mod's go
// line, the oldest Go that builds the module with GOTOOLCHAIN=local.
func TestReadmeNamesGoModsGoLine(t *testing.T) {
	readme, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	mod, err := os.ReadFile(filepath.Join("..", "..", "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	goLine := regexp.MustCompile(`(?m)^go (\S+)$`).FindSubmatch(mod)
	need := regexp.MustCompile(`You need Go (\S+) or later`).FindSubmatch(readme)
	if goLine == nil || need == nil {
		t.Fatalf("go.mod's go line (%q) or the README's \"You need Go … or later\" (%q) not found", goLine, need)
	}
	if string(need[1]) != string(goLine[1]) {
		t.Errorf("README asks for Go %s; go.mod's go line is %s", need[1], goLine[1])
	}
}
