package signals

// Fuzz targets for everything the client reads from or sends to the API.
// Seed corpora live in testdata/fuzz/<target>/; run one target longer with
//
//	go test ./internal/signals -run '^$' -fuzz '^FuzzDecodeReport$' -fuzztime 60s

import (
	"bytes"
	"encoding/json"
	"errors"
	"math"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"
)

// fuzzAPIKey is the key the fuzzed client sends.
const fuzzAPIKey = "0b6f7a9e-1c2d-4e3f-8a9b-0c1d2e3f4a5b"

// firstByte returns the first non-space byte of b, or 0.
func firstByte(b []byte) byte {
	if b = bytes.TrimSpace(b); len(b) > 0 {
		return b[0]
	}
	return 0
}

// checkDecodeError checks that a decoding error names no Go type of the
// client: its text reaches the relay's answers.
func checkDecodeError(t *testing.T, err error) {
	t.Helper()
	if msg := err.Error(); strings.Contains(msg, "Go value") || strings.Contains(msg, "signals.") {
		t.Errorf("error %q names a Go type", msg)
	}
}

// checkLists checks the invariants of the lists a report names: no empty
// or padded id, none twice.
func checkLists(t *testing.T, refs []ListRef) {
	t.Helper()
	seen := make(map[ListRef]bool)
	for _, ref := range refs {
		if ref.ID == "" || ref.ID != strings.TrimSpace(ref.ID) {
			t.Errorf("list id %q is empty or padded", ref.ID)
		}
		if ref.Kind != BadIP && ref.Kind != BadDomain {
			t.Errorf("list kind %q", ref.Kind)
		}
		if seen[ref] {
			t.Errorf("list %v named twice", ref)
		}
		seen[ref] = true
	}
}

// FuzzDecodeReport checks that any body decodes without a panic, that it
// fails exactly when it is not JSON or not an object (or null), and that a
// decoded report holds what encoding/json reads from the same body: every
// score, the hostname and every list, found by the same key rules.
func FuzzDecodeReport(f *testing.F) {
	f.Fuzz(func(t *testing.T, body []byte) {
		r, err := decodeReport(body)
		c := firstByte(body)
		wantOK := json.Valid(body) && (c == '{' || c == 'n')
		if (err == nil) != wantOK {
			t.Fatalf("decodeReport(%q) error = %v, want success %t", body, err, wantOK)
		}
		if err != nil {
			checkDecodeError(t, err)
			return
		}
		if r == nil {
			t.Fatal("decodeReport returned neither a report nor an error")
		}
		want := modelReport(t, body)
		if diff := cmp.Diff(summarize(&want), summarize(r)); diff != "" {
			t.Errorf("decodeReport(%q) differs from encoding/json's reading (-want +got):\n%s", body, diff)
		}
		checkLists(t, r.Lists())
	})
}

// member is one key and value of an object, in document order.
type member struct {
	key string
	val any
}

// tree decodes one value with encoding/json's tokenizer: objects become
// []member (order and repeated keys kept), arrays []any, numbers
// json.Number, strings string, booleans bool, null nil.
func tree(t *testing.T, dec *json.Decoder) any {
	t.Helper()
	tok, err := dec.Token()
	if err != nil {
		t.Fatalf("token: %v", err)
	}
	switch tok {
	case json.Delim('{'):
		var obj []member
		for dec.More() {
			k, err := dec.Token()
			if err != nil {
				t.Fatalf("key: %v", err)
			}
			obj = append(obj, member{k.(string), tree(t, dec)})
		}
		_, _ = dec.Token()
		return obj
	case json.Delim('['):
		arr := []any{}
		for dec.More() {
			arr = append(arr, tree(t, dec))
		}
		_, _ = dec.Token()
		return arr
	}
	return tok
}

// field returns the value of the last key of v that matches name without
// regard to case (encoding/json's rule), or nil.
func field(v any, name string) any {
	obj, _ := v.([]member)
	var out any
	for _, m := range obj {
		if strings.EqualFold(m.key, name) {
			out = m.val
		}
	}
	return out
}

// modelInt reads an Int: a number, or a string holding one after trimming,
// as an integer or else a float in the int32 range truncated toward zero.
func modelInt(v any) Int {
	var text string
	switch v := v.(type) {
	case json.Number:
		text = string(v)
	case string:
		text = strings.TrimSpace(v)
	default:
		return Int{}
	}
	if n, err := strconv.Atoi(text); err == nil {
		return Int{n, true}
	}
	f, err := strconv.ParseFloat(text, 64)
	if err != nil || math.IsNaN(f) || f <= math.MinInt32 || f >= math.MaxInt32 {
		return Int{}
	}
	return Int{int(f), true}
}

// modelString reads a String: a string, or a number or boolean as written.
func modelString(v any) String {
	switch v := v.(type) {
	case string:
		return String(v)
	case json.Number:
		return String(v)
	case bool:
		return String(strconv.FormatBool(v))
	}
	return ""
}

// modelStrings reads a Strings: the trimmed, non-empty strings of an array,
// or a string split by splitList.
func modelStrings(v any) Strings {
	switch v := v.(type) {
	case []any:
		var out Strings
		for _, e := range v {
			if s, ok := e.(string); ok && strings.TrimSpace(s) != "" {
				out = append(out, strings.TrimSpace(s))
			}
		}
		return out
	case string:
		return splitList(v)
	}
	return nil
}

// modelReport reads a valid report body through tree.
func modelReport(t *testing.T, body []byte) Report {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	full := field(tree(t, dec), "fullip")
	var r Report
	r.Score = modelInt(field(full, "score"))
	r.Hostname = modelString(field(full, "hostname"))
	badIP := field(full, "badip")
	r.BadIP.Score = modelInt(field(badIP, "score"))
	r.BadIP.Blacklists = modelStrings(field(badIP, "blacklists"))
	badDomain := field(full, "baddomain")
	r.BadDomain.Score = modelInt(field(badDomain, "score"))
	domain := field(badDomain, "domain")
	r.BadDomain.Domain.Score = modelInt(field(domain, "score"))
	r.BadDomain.Domain.Blacklist = modelStrings(field(domain, "blacklist"))
	r.BadDomain.Domain.BlacklistMX = modelStrings(field(domain, "blacklist_mx"))
	r.BadDomain.Domain.BlacklistNS = modelStrings(field(domain, "blacklist_ns"))
	r.History.Score = modelInt(field(field(full, "history"), "score"))
	return r
}

// FuzzDecodeListDetails checks that any body decodes without a panic and
// that it fails exactly when it is neither an object nor a one-element
// array holding an object. Leading and trailing Unicode white space (such
// as a vertical tab, which JSON itself does not allow) is tolerated.
func FuzzDecodeListDetails(f *testing.F) {
	f.Fuzz(func(t *testing.T, body []byte) {
		d, err := decodeListDetails(body)
		wantOK := false
		if trimmed := bytes.TrimSpace(body); json.Valid(trimmed) {
			switch firstByte(trimmed) {
			case '{':
				wantOK = true
			case '[':
				var arr []json.RawMessage
				wantOK = json.Unmarshal(trimmed, &arr) == nil && len(arr) == 1 && firstByte(arr[0]) == '{'
			}
		}
		if (err == nil) != wantOK {
			t.Fatalf("decodeListDetails(%q) error = %v, want success %t", body, err, wantOK)
		}
		if err != nil {
			checkDecodeError(t, err)
			return
		}
		if d == nil {
			t.Fatal("decodeListDetails returned neither details nor an error")
		}
		for _, tag := range d.Tags {
			if tag == "" || tag != strings.TrimSpace(tag) {
				t.Errorf("tag %q is empty or padded", tag)
			}
		}
	})
}

// FuzzLenientTypes checks that the lenient field types accept any JSON
// value without an error, inside an object as the API sends them, and read
// from it what the value means by their documented rules.
func FuzzLenientTypes(f *testing.F) {
	f.Fuzz(func(t *testing.T, value []byte) {
		doc := append(append([]byte(`{"v":`), value...), '}')
		if !json.Valid(doc) {
			return // the outer decoder rejects it before any field is seen
		}
		var i struct{ V Int }
		var s struct{ V String }
		var l struct{ V Strings }
		for _, v := range []any{&i, &s, &l} {
			if err := json.Unmarshal(doc, v); err != nil {
				t.Fatalf("unmarshal %s into %T: %v", doc, v, err)
			}
		}
		dec := json.NewDecoder(bytes.NewReader(doc))
		dec.UseNumber()
		v := field(tree(t, dec), "v") // the value may hold more members, even another "v"
		if want := modelInt(v); i.V != want {
			t.Errorf("Int from %s = %+v, want %+v", value, i.V, want)
		}
		if want := modelString(v); s.V != want {
			t.Errorf("String from %s = %q, want %q", value, s.V, want)
		}
		if want := modelStrings(v); !slices.Equal(l.V, want) {
			t.Errorf("Strings from %s = %q, want %q", value, l.V, want)
		}
		for _, e := range l.V {
			if e == "" || e != strings.TrimSpace(e) {
				t.Errorf("Strings from %s holds %q, empty or padded", value, e)
			}
		}
	})
}

// pathRecord is how one request arrived at the fake API.
type pathRecord struct {
	escaped, path, query, key string
}

// FuzzRequestPaths checks that no address or list id can make the client
// call anything but its own endpoint: each value is exactly one path
// segment under the base path, decodes back to itself on the server, adds
// no query, and the dot segments are never sent.
func FuzzRequestPaths(f *testing.F) {
	var (
		mu   sync.Mutex
		seen []pathRecord
	)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen = append(seen, pathRecord{r.URL.EscapedPath(), r.URL.Path, r.URL.RawQuery, r.Header.Get("X-Auth-Token")})
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{}`))
	}))
	f.Cleanup(srv.Close)
	c, err := New(srv.URL+"/base%20path", &http.Client{Timeout: 10 * time.Second}, "fuzz")
	if err != nil {
		f.Fatal(err)
	}
	take := func() []pathRecord {
		mu.Lock()
		defer mu.Unlock()
		s := seen
		seen = nil
		return s
	}

	f.Fuzz(func(t *testing.T, value string, details bool) {
		take()
		var err error
		prefix := []string{"v2.0", "ip"}
		if details {
			prefix = []string{"metadata", "badip", "lists"}
			_, err = c.ListDetails(t.Context(), fuzzAPIKey, ListRef{Kind: BadIP, ID: value})
		} else {
			_, err = c.Report(t.Context(), fuzzAPIKey, value)
		}
		reqs := take()
		if value == "" || value == "." || value == ".." {
			if len(reqs) != 0 {
				t.Fatalf("value %q was sent as %q", value, reqs[0].escaped)
			}
			return
		}
		if err != nil {
			t.Fatalf("value %q: %v", value, err)
		}
		if len(reqs) != 1 {
			t.Fatalf("value %q: %d requests, want 1", value, len(reqs))
		}
		r := reqs[0]
		base := "/base%20path/" + strings.Join(prefix, "/") + "/"
		seg, ok := strings.CutPrefix(r.escaped, base)
		if !ok || strings.Contains(seg, "/") || seg == "." || seg == ".." {
			t.Fatalf("value %q reached %q, not one segment under %q", value, r.escaped, base)
		}
		if got, err := url.PathUnescape(seg); err != nil || got != value {
			t.Errorf("value %q arrived as segment %q = %q (%v)", value, seg, got, err)
		}
		if want := "/base path/" + strings.Join(prefix, "/") + "/" + value; r.path != want {
			t.Errorf("value %q: server path %q, want %q", value, r.path, want)
		}
		if r.query != "" || r.key != fuzzAPIKey {
			t.Errorf("value %q: query %q, key %q", value, r.query, r.key)
		}
	})
}

// TestHostileAPIKeys checks that a key that cannot be a header value is
// refused before anything is sent, and that the refusal does not quote it.
func TestHostileAPIKeys(t *testing.T) {
	t.Parallel()
	var (
		mu   sync.Mutex
		sent []http.Header
	)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		sent = append(sent, r.Header.Clone())
		mu.Unlock()
		_, _ = w.Write([]byte(`{}`))
	}))
	t.Cleanup(srv.Close)
	c, err := New(srv.URL, &http.Client{Timeout: 10 * time.Second}, "test")
	if err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{
		"0b6f7a9e-1c2d-4e3f-8a9b-0c1d2e3f4a5b\r\nX-Injected: 1",
		"0b6f7a9e-1c2d-4e3f-8a9b-0c1d2e3f4a5b\nX-Injected: 1",
		"0b6f7a9e-1c2d-4e3f-8a9b-0c1d2e3f4a5b\x00",
		"0b6f7a9e-1c2d-4e3f-8a9b-0c1d2e3f4a5b\x7f",
	} {
		_, err := c.Report(t.Context(), key, "192.0.2.1")
		var te *TransportError
		if !errors.As(err, &te) {
			t.Errorf("Report with key %q: %v, want a *TransportError", key, err)
			continue
		}
		if msg := err.Error(); strings.Contains(msg, "0b6f7a9e") || !utf8.ValidString(msg) {
			t.Errorf("error quotes the key: %q", msg)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if len(sent) != 0 {
		t.Errorf("%d requests were sent, want none: %v", len(sent), sent)
	}
}
