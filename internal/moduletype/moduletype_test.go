package moduletype_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/signals-relay/signals-relay/internal/moduletype"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden.json")

const testURL = "https://relay.example/prod"

// render renders opts and decodes the result into a generic document.
func render(t *testing.T, opts moduletype.Options) ([]byte, map[string]any) {
	t.Helper()
	b, err := moduletype.Render(opts)
	if err != nil {
		t.Fatalf("Render(%+v): %v", opts, err)
	}
	var doc map[string]any
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatalf("Render output is not JSON: %v\n%s", err, b)
	}
	return b, doc
}

func TestRenderGolden(t *testing.T) {
	t.Parallel()
	got, _ := render(t, moduletype.Options{RelayURL: testURL, Region: "us"})
	path := filepath.Join("testdata", "module_type.us.golden.json")
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("Render differs from %s (run go test -update and review the diff):\n%s", path, got)
	}
}

func TestRenderRegions(t *testing.T) {
	t.Parallel()
	tests := []struct {
		region   string
		wantHost string
	}{
		{region: "", wantHost: "visibility.amp.cisco.com"},
		{region: "us", wantHost: "visibility.amp.cisco.com"},
		{region: "eu", wantHost: "visibility.eu.amp.cisco.com"},
		{region: "APJC", wantHost: "visibility.apjc.amp.cisco.com"},
	}
	for _, tc := range tests {
		t.Run(tc.region, func(t *testing.T) {
			t.Parallel()
			_, doc := render(t, moduletype.Options{RelayURL: testURL, Region: tc.region})
			props := doc["properties"].(map[string]any)
			if got := props["custom_jwks_host"]; got != tc.wantHost {
				t.Errorf("custom_jwks_host = %v, want %s", got, tc.wantHost)
			}
		})
	}
}

// TestRenderValid checks the document against the module-type vocabulary.
func TestRenderValid(t *testing.T) {
	t.Parallel()
	_, doc := render(t, moduletype.Options{RelayURL: testURL + "/", Region: "eu"})

	for _, k := range []string{"title", "default_name", "short_description", "description", "tips"} {
		if s, _ := doc[k].(string); strings.TrimSpace(s) == "" {
			t.Errorf("%s is missing or empty", k)
		}
	}
	for _, step := range []string{"1. ", "2. ", "3. ", "4. ", "RELAY_URL=" + testURL, "AUTH_MODE=xdr"} {
		if !strings.Contains(doc["tips"].(string), step) {
			t.Errorf("tips lack %q", step)
		}
	}

	refs := doc["external_references"].([]any)
	if len(refs) == 0 {
		t.Error("external_references is empty")
	}
	for _, r := range refs {
		m := r.(map[string]any)
		if link, _ := m["link"].(string); !strings.HasPrefix(link, "https://") || m["label"] == "" {
			t.Errorf("external reference %v needs a label and an https link", m)
		}
	}

	fieldTypes := []string{"api_key", "string", "integer", "password", "boolean", "options", "device"}
	spec := map[string]map[string]any{}
	for _, f := range doc["configuration_spec"].([]any) {
		m := f.(map[string]any)
		if !slices.Contains(fieldTypes, m["type"].(string)) {
			t.Errorf("configuration field %v has an unknown type", m)
		}
		if m["label"] == "" {
			t.Errorf("configuration field %v has no label", m)
		}
		spec[m["key"].(string)] = m
	}
	wantSpec := map[string]struct {
		typ      string
		required bool
	}{
		"custom_key":                {"api_key", true},
		"custom_CTR_ENTITIES_LIMIT": {"integer", false},
	}
	if len(spec) != len(wantSpec) {
		t.Errorf("configuration_spec has %d fields, want %d", len(spec), len(wantSpec))
	}
	for key, w := range wantSpec {
		f, ok := spec[key]
		if !ok {
			t.Errorf("configuration_spec lacks %s", key)
			continue
		}
		if f["type"] != w.typ || f["required"] != w.required {
			t.Errorf("%s = type %v required %v, want %s %v", key, f["type"], f["required"], w.typ, w.required)
		}
	}

	props := doc["properties"].(map[string]any)
	wantProps := map[string]any{
		"url":                     testURL,
		"auth-type":               "configuration-token",
		"configuration-token-alg": "RS256",
		"custom_jwks_host":        "visibility.eu.amp.cisco.com",
	}
	for k, want := range wantProps {
		if props[k] != want {
			t.Errorf("properties.%s = %v, want %v", k, props[k], want)
		}
	}

	// Every supported API has a capability and every capability an API.
	knownAPIs := []string{"health", "deliberate/observables", "observe/observables", "refer/observables",
		"respond/observables", "respond/trigger", "tiles", "tiles/tile", "tiles/tile-data"}
	wantAPIs := []string{"health", "deliberate/observables", "observe/observables", "refer/observables",
		"respond/observables", "respond/trigger"}
	var apis []string
	apiCaps := map[string]bool{}
	for _, a := range props["supported-apis"].([]any) {
		s := a.(string)
		if !slices.Contains(knownAPIs, s) {
			t.Errorf("supported-apis has unknown %q", s)
		}
		apis = append(apis, s)
		c, _, _ := strings.Cut(s, "/")
		apiCaps[c] = true
	}
	if !slices.Equal(apis, wantAPIs) {
		t.Errorf("supported-apis = %v, want %v", apis, wantAPIs)
	}
	if !slices.Equal(moduletype.SupportedAPIs(), wantAPIs) {
		t.Errorf("SupportedAPIs() = %v, want %v", moduletype.SupportedAPIs(), wantAPIs)
	}
	caps := map[string]bool{}
	for _, c := range doc["capabilities"].([]any) {
		m := c.(map[string]any)
		id := m["id"].(string)
		if !slices.Contains([]string{"health", "deliberate", "observe", "refer", "respond", "tiles"}, id) {
			t.Errorf("capability %q is unknown", id)
		}
		if d, _ := m["description"].(string); d == "" {
			t.Errorf("capability %q has no description", id)
		}
		caps[id] = true
	}
	for c := range apiCaps {
		if !caps[c] {
			t.Errorf("supported API group %q has no capability", c)
		}
	}
	for c := range caps {
		if !apiCaps[c] {
			t.Errorf("capability %q has no supported API", c)
		}
	}
}

func TestRenderURL(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in      string
		want    string // "" means an error is expected
		wantErr string
	}{
		{in: "https://relay.example", want: "https://relay.example"},
		{in: "https://relay.example/", want: "https://relay.example"},
		{in: " https://relay.example/prod// ", want: "https://relay.example/prod"},
		{in: "https://relay.example:8443/x", want: "https://relay.example:8443/x"},
		{in: "", wantErr: "required"},
		{in: "http://relay.example", wantErr: "https"},
		{in: "relay.example", wantErr: "https"},
		{in: "https://", wantErr: "no host"},
		{in: "https://:443/", wantErr: "no host"},
		{in: "https://user:hunter2@relay.example", wantErr: "credentials"},
		{in: "https://relay.example/?a=b", wantErr: "query"},
		{in: "https://relay.example/?", wantErr: "query"},
		{in: "https://relay.example/#frag", wantErr: "fragment"},
		{in: "https://relay example", wantErr: "relay URL"},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			t.Parallel()
			b, err := moduletype.Render(moduletype.Options{RelayURL: tc.in})
			if tc.wantErr != "" {
				if err == nil {
					t.Fatalf("Render succeeded, want an error mentioning %q", tc.wantErr)
				}
				if !strings.Contains(err.Error(), tc.wantErr) {
					t.Errorf("error %q does not mention %q", err, tc.wantErr)
				}
				if strings.Contains(err.Error(), "hunter2") {
					t.Errorf("error %q quotes the URL's password", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Render: %v", err)
			}
			var doc struct {
				Properties struct {
					URL string `json:"url"`
				} `json:"properties"`
			}
			if err := json.Unmarshal(b, &doc); err != nil {
				t.Fatal(err)
			}
			if doc.Properties.URL != tc.want {
				t.Errorf("properties.url = %q, want %q", doc.Properties.URL, tc.want)
			}
		})
	}
}

func TestRenderUnknownRegion(t *testing.T) {
	t.Parallel()
	_, err := moduletype.Render(moduletype.Options{RelayURL: testURL, Region: "mars"})
	if err == nil || !strings.Contains(err.Error(), "us, eu, apjc") {
		t.Errorf("Render with region mars: error = %v, want one listing the regions", err)
	}
}

func TestRenderIsStable(t *testing.T) {
	t.Parallel()
	a, _ := render(t, moduletype.Options{RelayURL: testURL})
	b, _ := render(t, moduletype.Options{RelayURL: testURL})
	if !bytes.Equal(a, b) {
		t.Error("two renders differ")
	}
	if !bytes.HasSuffix(a, []byte("}\n")) {
		t.Error("output does not end with a newline")
	}
}
