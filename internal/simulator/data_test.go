package simulator

import (
	"encoding/json"
	"errors"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
	"testing/fstest"
)

func TestEmbeddedFilesParse(t *testing.T) {
	referenced := map[string]bool{"data/health.json": true}
	for _, name := range reportFiles {
		referenced[name] = true
	}
	n := 0
	err := fs.WalkDir(files, "data", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		n++
		if !strings.HasSuffix(path, ".json") {
			t.Errorf("%s: unexpected non-JSON file", path)
			return nil
		}
		raw, err := fs.ReadFile(files, path)
		if err != nil {
			return err
		}
		var v any
		if err := json.Unmarshal(raw, &v); err != nil {
			t.Errorf("%s: %v", path, err)
		}
		if strings.HasPrefix(path, "data/metadata/") {
			var obj map[string]string
			if err := json.Unmarshal(raw, &obj); err != nil {
				t.Errorf("%s: metadata values must all be strings: %v", path, err)
			}
			for _, field := range []string{"name", "source", "site", "description", "tags", "sensitivity", "visibility", "type"} {
				if _, ok := obj[field]; !ok {
					t.Errorf("%s: missing %q", path, field)
				}
			}
			if dir := strings.Split(path, "/")[2]; obj["type"] != dir {
				t.Errorf("%s: type %q, want %q", path, obj["type"], dir)
			}
			return nil
		}
		if !referenced[path] {
			t.Errorf("%s: embedded but never served", path)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n == 0 {
		t.Fatal("no embedded files")
	}
	if _, err := load(files); err != nil {
		t.Fatalf("load: %v", err)
	}
}

func TestReportFilesMatchTheirAddress(t *testing.T) {
	d, err := fixtures()
	if err != nil {
		t.Fatal(err)
	}
	for ip, name := range reportFiles {
		if a, err := netip.ParseAddr(ip); err != nil || a.String() != ip {
			t.Errorf("%s: key is not a canonical address", ip)
		}
		var r struct {
			FullIP struct {
				Geo struct {
					Address *string `json:"address"`
				} `json:"geo"`
			} `json:"fullip"`
		}
		if err := json.Unmarshal(d.reports[ip], &r); err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if a := r.FullIP.Geo.Address; a != nil && *a != ip {
			t.Errorf("%s: geo.address %q, want %q", name, *a, ip)
		}
	}
}

// TestLoadReportsBrokenData checks that broken embedded data is an error for
// the caller, not a panic.
func TestLoadReportsBrokenData(t *testing.T) {
	good, err := fs.ReadFile(files, "data/health.json")
	if err != nil {
		t.Fatal(err)
	}
	tests := map[string]fstest.MapFS{
		"no files":        {},
		"broken health":   {"data/health.json": {Data: []byte(`{"fullip":`)}},
		"missing reports": {"data/health.json": {Data: good}},
	}
	for name, fsys := range tests {
		if d, err := load(fsys); err == nil || d != nil {
			t.Errorf("%s: load = %v, %v; want an error", name, d, err)
		}
	}
}

// TestBrokenDataAnswers500 checks that a request needing data that cannot be
// parsed gets a 500 naming the reason. It replaces the package's loader, so
// it must not run in parallel.
func TestBrokenDataAnswers500(t *testing.T) {
	saved := fixtures
	fixtures = func() (*dataset, error) { return nil, errors.New("data/health.json: unexpected end of JSON input") }
	defer func() { fixtures = saved }()
	for _, path := range []string{"/v2.0/ip/198.51.100.7", "/metadata/badip/lists/FAIL2BAN-SSH"} {
		req := httptest.NewRequest(http.MethodGet, path, nil)
		req.Header.Set("X-Auth-Token", DemoKey)
		rec := httptest.NewRecorder()
		New(Options{}).ServeHTTP(rec, req)
		if rec.Code != http.StatusInternalServerError || !strings.Contains(rec.Body.String(), "data/health.json") {
			t.Errorf("%s: %d %q, want 500 naming the broken file", path, rec.Code, rec.Body.String())
		}
	}
}
