package relay_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/signals-relay/signals-relay/internal/simulator"
)

// schemaBase is the base URI shared by the CTIM validator schemas.
const schemaBase = "https://ctim-relay-validator.invalid/ctim/"

// loadSchemas compiles the CTIM relay-response schemas from $CTIM_SCHEMA_DIR.
// The test is skipped only when the variable is unset; CI always sets it.
func loadSchemas(t *testing.T) func(def string) *jsonschema.Schema {
	t.Helper()
	dir := os.Getenv("CTIM_SCHEMA_DIR")
	if dir == "" {
		t.Skip("CTIM_SCHEMA_DIR is not set; point it at the CTIM JSON Schemas to validate responses")
	}
	files, err := filepath.Glob(filepath.Join(dir, "*.schema.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no *.schema.json in CTIM_SCHEMA_DIR=%s (%v)", dir, err)
	}
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		if err := c.AddResource(schemaBase+filepath.Base(f), doc); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
	}
	var mu sync.Mutex // a Compiler is not safe for concurrent use; parallel subtests share it
	return func(def string) *jsonschema.Schema {
		mu.Lock()
		defer mu.Unlock()
		s, err := c.Compile(schemaBase + "responses.schema.json#/$defs/" + def)
		if err != nil {
			t.Fatalf("compile %s: %v", def, err)
		}
		return s
	}
}

// responseDef returns the schema definition a golden answer must satisfy,
// from the golden's name.
func responseDef(name string) string {
	for _, p := range []struct{ prefix, def string }{
		{"health", "HealthResponse"},
		{"deliberate", "DeliberateResponse"},
		{"observe", "ObserveResponse"},
		{"invalid-refer", "ReferResponse"},
		{"invalid-respond", "RespondObservablesResponse"},
		{"invalid", "ObserveResponse"},
		{"refer", "ReferResponse"},
		{"respond-observables", "RespondObservablesResponse"},
		{"respond-trigger", "RespondTriggerResponse"},
		{"version", "VersionResponse"},
		{"watchdog", "WatchdogResponse"},
	} {
		if strings.HasPrefix(name, p.prefix) {
			return p.def
		}
	}
	return ""
}

// TestGoldenResponsesMatchSchemas validates every golden answer against the
// CTIM relay-response schemas, plus the rules a schema cannot express.
func TestGoldenResponsesMatchSchemas(t *testing.T) {
	schema := loadSchemas(t)
	files, err := filepath.Glob(filepath.Join("testdata", "golden", "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatal("no golden files")
	}
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".json")
		t.Run(name, func(t *testing.T) {
			def := responseDef(name)
			if def == "" {
				t.Fatalf("no schema known for golden %s", name)
			}
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			validate(t, schema(def), b)
		})
	}
}

// TestSchemasRejectInvalidExamples proves the validator is wired: every
// invalid example shipped with the schemas must fail, the start-after-end
// ones (which only the extra rules catch) by the extra rules.
func TestSchemasRejectInvalidExamples(t *testing.T) {
	schema := loadSchemas(t)
	files, _ := filepath.Glob(filepath.Join(os.Getenv("CTIM_SCHEMA_DIR"), "examples", "invalid", "*.json"))
	if len(files) == 0 {
		t.Skip("no invalid examples beside the schemas")
	}
	for _, f := range files {
		name := filepath.Base(f)
		def := "ObserveResponse"
		switch {
		case strings.HasPrefix(name, "deliberate"):
			def = "DeliberateResponse"
		case strings.HasPrefix(name, "refer"):
			def = "ReferResponse"
		}
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(name, "start-after-end") {
			if problems := extraRuleProblems(t, b); len(problems) == 0 {
				t.Errorf("%s: accepted by the extra rules, want a time window that ends before it starts", name)
			}
			continue
		}
		if schema(def).Validate(inst) == nil {
			t.Errorf("%s: accepted by %s, want a violation", name, def)
		}
	}
}

// TestLiveResponsesMatchSchemas validates fresh answers over many synthetic
// addresses, with the real clock and ids.
func TestLiveResponsesMatchSchemas(t *testing.T) {
	schema := loadSchemas(t)
	e := newEnv(t, envOptions{secret: testSecret})
	var pairs []string
	for i := range 120 {
		pairs = append(pairs, "ip", fmt.Sprintf("10.%d.%d.%d", i%7, i*13%251, i*31%253))
	}
	pairs = append(pairs, "ipv6", "2001:db8::77", "ip", "203.0.113.66", "ip", "192.0.2.7")
	body := obsJSON(pairs...)
	for _, tc := range []struct{ path, def string }{
		{"/observe/observables", "ObserveResponse"},
		{"/deliberate/observables", "DeliberateResponse"},
		{"/refer/observables", "ReferResponse"},
	} {
		status, b := e.do(t, http.MethodPost, tc.path, bearer(t, simulator.DemoKey), body)
		if status != http.StatusOK {
			t.Fatalf("%s: status %d", tc.path, status)
		}
		t.Run(tc.path, func(t *testing.T) { validate(t, schema(tc.def), b) })
	}
}

func validate(t *testing.T, s *jsonschema.Schema, body []byte) {
	t.Helper()
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(body))
	if err != nil {
		t.Fatalf("not JSON: %v", err)
	}
	if err := s.Validate(inst); err != nil {
		t.Fatalf("schema violation: %v\n%s", err, body)
	}
	for _, p := range extraRuleProblems(t, body) {
		t.Error(p)
	}
}

// extraRuleProblems checks what the schemas cannot: each collection's count
// equals its docs, and no time window ends before it starts.
func extraRuleProblems(t *testing.T, body []byte) (problems []string) {
	t.Helper()
	var resp struct {
		Data json.RawMessage `json:"data"`
	}
	if err := json.Unmarshal(body, &resp); err != nil {
		t.Fatal(err)
	}
	var data map[string]struct {
		Count int               `json:"count"`
		Docs  []json.RawMessage `json:"docs"`
	}
	if json.Unmarshal(resp.Data, &data) != nil {
		return nil // not a bundle (refer, health, ...)
	}
	for name, coll := range data {
		if coll.Count != len(coll.Docs) {
			problems = append(problems, fmt.Sprintf("%s: count %d, docs %d", name, coll.Count, len(coll.Docs)))
		}
		for _, d := range coll.Docs {
			var doc map[string]json.RawMessage
			if err := json.Unmarshal(d, &doc); err != nil {
				t.Fatal(err)
			}
			for _, key := range []string{"valid_time", "observed_time"} {
				var w struct {
					Start *time.Time `json:"start_time"`
					End   *time.Time `json:"end_time"`
				}
				if raw, ok := doc[key]; ok {
					if err := json.Unmarshal(raw, &w); err != nil {
						t.Fatalf("%s.%s: %v", name, key, err)
					}
					if w.Start != nil && w.End != nil && w.End.Before(*w.Start) {
						problems = append(problems, fmt.Sprintf("%s.%s ends before it starts: %s", name, key, raw))
					}
				}
			}
		}
	}
	return problems
}
