package relay_test

import (
	"bufio"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"github.com/signals-relay/signals-relay/internal/simulator"
)

// requestLines returns the request lines of e's log, decoded.
func requestLines(t *testing.T, e *env) []map[string]any {
	t.Helper()
	var out []map[string]any
	sc := bufio.NewScanner(strings.NewReader(e.logs.String()))
	for sc.Scan() {
		var l map[string]any
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			t.Fatalf("log line %q: %v", sc.Text(), err)
		}
		if l["msg"] == "request" {
			out = append(out, l)
		}
	}
	return out
}

// TestLogCountsOnlyLookedUpObservables checks the log line's observable
// count: each supported observable once, and nothing for unsupported
// types, values that are no address of their type, or repeats.
func TestLogCountsOnlyLookedUpObservables(t *testing.T) {
	t.Parallel()
	body := obsJSON(
		"ip", "198.51.100.7",
		"domain", "example.net", // unsupported type
		"ip", "198.51.100.7", // repeated
		"sha256", "abc",
		"ip", "2001:db8::5", // no IPv4 address
		"ipv6", "2001:db8::5",
		"ip", "not-an-ip",
		"ipv6", "2001:db8::5", // repeated
		"ip", "203.0.113.66",
		"ip", "198.51.100.7", // repeated
	)
	const want = 3 // 198.51.100.7, 2001:db8::5, 203.0.113.66
	for _, path := range []string{"/deliberate/observables", "/observe/observables", "/refer/observables", "/respond/observables"} {
		t.Run(strings.TrimPrefix(path, "/"), func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, envOptions{secret: testSecret})
			if status, b := e.do(t, http.MethodPost, path, bearer(t, simulator.DemoKey), body); status != http.StatusOK {
				t.Fatalf("status %d: %s", status, b)
			}
			lines := requestLines(t, e)
			if len(lines) != 1 {
				t.Fatalf("%d request lines, want 1:\n%s", len(lines), e.logs.String())
			}
			if got := lines[0]["observables"]; got != float64(want) {
				t.Errorf("observables = %v, want %d\n%s", got, want, e.logs.String())
			}
		})
	}
}

// TestWatchdogEchoCap pins the cap on the echoed Health-Check header: 256
// characters are echoed whole; from 257 on, the first 255 and an ellipsis.
func TestWatchdogEchoCap(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{secret: testSecret})
	a := func(n int) string { return strings.Repeat("a", n) }
	for _, tc := range []struct {
		name, header, want string
	}{
		{"255", a(255), a(255)},
		{"256", a(256), a(256)},
		{"257", a(257), a(255) + "…"},
		{"1000", a(1000), a(255) + "…"},
		{"256 with a multi-byte character", "é" + a(255), "é" + a(255)},
		{"257 with a multi-byte character", "é" + a(256), "é" + a(254) + "…"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, b := e.do(t, http.MethodGet, "/watchdog", "", "", "Health-Check", tc.header)
			var got struct {
				Data   string          `json:"data"`
				Errors json.RawMessage `json:"errors"`
			}
			if err := json.Unmarshal(b, &got); err != nil || status != http.StatusOK || got.Errors != nil {
				t.Fatalf("status %d, body %s (%v)", status, b, err)
			}
			if got.Data != tc.want {
				t.Errorf("echoed %d characters (%q…), want %d (%q…)",
					len([]rune(got.Data)), firstRunes(got.Data, 8), len([]rune(tc.want)), firstRunes(tc.want, 8))
			}
		})
	}
}

func firstRunes(s string, n int) string {
	if r := []rune(s); len(r) > n {
		return string(r[:n])
	}
	return s
}

// TestRequestIDBoundary pins which X-Request-Id the relay keeps (answer
// header and log line): up to 64 characters of letters, digits, '-', '_'
// and '.'; any other is replaced by 16 hex digits of its own.
func TestRequestIDBoundary(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{secret: testSecret})
	generated := regexp.MustCompile(`^[0-9a-f]{16}$`)
	id := func(n int) string { return strings.Repeat("A", n) }
	for _, tc := range []struct {
		name, id string
		kept     bool
	}{
		{"1", "x", true},
		{"63", id(63), true},
		{"64", id(64), true},
		{"64 of every kept character", strings.Repeat("aZ09-_.", 9) + "a", true},
		{"65", id(65), false},
		{"200", id(200), false},
		{"space", "abc def", false},
		{"slash", "abc/def", false},
		{"non-ASCII", "abcé", false},
		{"empty", "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodPost, "/version", nil)
			if tc.id != "" {
				r.Header.Set("X-Request-Id", tc.id)
			}
			before := len(requestLines(t, e))
			w := httptest.NewRecorder()
			e.handler.ServeHTTP(w, r)
			got := w.Header().Get("X-Request-Id")
			if tc.kept && got != tc.id {
				t.Errorf("X-Request-Id of %d characters answered as %q, want it kept", len(tc.id), got)
			}
			if !tc.kept && !generated.MatchString(got) {
				t.Errorf("X-Request-Id %.20q… (%d bytes) answered as %q, want 16 new hex digits", tc.id, len(tc.id), got)
			}
			lines := requestLines(t, e)
			if len(lines) != before+1 || lines[len(lines)-1]["request_id"] != got {
				t.Errorf("log's request_id differs from the answer's %q", got)
			}
		})
	}
}
