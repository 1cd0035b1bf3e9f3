package relay_test

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/signals-relay/signals-relay/internal/moduletype"
	"github.com/signals-relay/signals-relay/internal/routes"
)

// lastLogged returns the route and status of the last request log line.
func lastLogged(t *testing.T, logs string) (route string, status int) {
	t.Helper()
	lines := strings.Split(strings.TrimSpace(logs), "\n")
	var line struct {
		Msg    string `json:"msg"`
		Route  string `json:"route"`
		Status int    `json:"status"`
	}
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &line); err != nil || line.Msg != "request" {
		t.Fatalf("last log line %q is not a request line (%v)", lines[len(lines)-1], err)
	}
	return line.Route, line.Status
}

// TestRoutesTableAgrees checks that the mux serves exactly the routes of
// the table, with the method it names, that the request log names each by
// its path, that the routes marked authenticated verify the caller and the
// others do not, and that the module type lists the authenticated ones.
func TestRoutesTableAgrees(t *testing.T) {
	e := newEnv(t, envOptions{secret: testSecret})
	var authNames []string
	for _, rt := range routes.All() {
		t.Run(rt.Path, func(t *testing.T) {
			status, body := e.do(t, rt.Method, rt.Path+"/", "", "[]", "Health-Check", "x")
			if status != http.StatusOK {
				t.Fatalf("%s %s: status %d, want 200", rt.Method, rt.Path, status)
			}
			if route, _ := lastLogged(t, e.logs.String()); route != rt.Path {
				t.Errorf("logged route %q, want %q", route, rt.Path)
			}
			refused := strings.Contains(string(body), `"code":"authorization error"`)
			if refused != rt.Auth {
				t.Errorf("answer without a token %s: refused %t, want %t", body, refused, rt.Auth)
			}
			other := http.MethodGet
			if rt.Method == http.MethodGet {
				other = http.MethodPost
			}
			if status, _ := e.do(t, other, rt.Path, "", "[]"); status != http.StatusMethodNotAllowed {
				t.Errorf("%s %s: status %d, want 405", other, rt.Path, status)
			}
		})
		if rt.Auth {
			authNames = append(authNames, rt.Name())
		}
	}
	if got := moduletype.SupportedAPIs(); !slices.Equal(got, authNames) {
		t.Errorf("moduletype.SupportedAPIs() = %v, want the authenticated routes %v", got, authNames)
	}
	if status, _ := e.do(t, http.MethodPost, "/deliberate", "", "[]"); status != http.StatusNotFound {
		t.Errorf("POST /deliberate: status %d, want 404", status)
	}
	if route, status := lastLogged(t, e.logs.String()); route != "other" || status != http.StatusNotFound {
		t.Errorf("unknown path logged as %q, %d; want \"other\", 404", route, status)
	}
}
