package simulator

import (
	"encoding/json"
	"io/fs"
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
