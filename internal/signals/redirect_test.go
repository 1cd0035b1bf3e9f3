package signals

import (
	"context"
	"crypto/tls"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// TestRedirectFromHTTPSToHTTPIsRefused checks that an https base URL whose
// answer redirects to http on the same host and port is not followed: the
// API key would cross the network in clear text. The client knows the API
// as "signals.test:8443"; its transport sends the TLS connections to a TLS
// server and the clear-text ones to a plain server, so "the same host"
// holds for both schemes and only the scheme tells them apart.
func TestRedirectFromHTTPSToHTTPIsRefused(t *testing.T) {
	t.Parallel()
	const host = "signals.test:8443"
	plain := untouchable(t, "the clear-text address")

	for _, status := range []int{301, 302, 303, 307, 308} {
		t.Run(http.StatusText(status), func(t *testing.T) {
			t.Parallel()
			var secureHits atomic.Int32
			secure := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				secureHits.Add(1)
				http.Redirect(w, r, "http://"+host+r.URL.Path, status)
			}))
			t.Cleanup(secure.Close)

			tr := secure.Client().Transport.(*http.Transport).Clone()
			tr.TLSClientConfig.ServerName = "example.com" // in httptest's certificate
			var d net.Dialer
			tr.DialContext = func(ctx context.Context, network, _ string) (net.Conn, error) {
				// Only TLS connections go through DialTLSContext; every
				// other connection here is clear text.
				return d.DialContext(ctx, network, plain.Listener.Addr().String())
			}
			td := &tls.Dialer{Config: tr.TLSClientConfig}
			tr.DialTLSContext = func(ctx context.Context, network, _ string) (net.Conn, error) {
				return td.DialContext(ctx, network, secure.Listener.Addr().String())
			}
			t.Cleanup(tr.CloseIdleConnections)
			c := newClient(t, "https://"+host, &http.Client{Timeout: 10 * time.Second, Transport: tr})

			r, err := c.Report(t.Context(), testKey, "198.51.100.7")
			var te *TransportError
			if !errors.As(err, &te) || te.Kind != RedirectRefused {
				t.Fatalf("Report = %v, %#v; want a *TransportError of kind RedirectRefused", r, err)
			}
			if secureHits.Load() != 1 {
				t.Errorf("the https server got %d requests, want 1 (the test's wiring is broken)", secureHits.Load())
			}
			if strings.Contains(err.Error(), testKey) {
				t.Errorf("Error() = %q shows the API key", err)
			}
		})
	}
}

// untouchable starts a server that must get no request; it answers with a
// report, and once t and its subtests are done, fails t if any came.
func untouchable(t *testing.T, name string) *httptest.Server {
	t.Helper()
	var (
		hits atomic.Int32
		key  atomic.Value
	)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		key.Store(r.Header.Get("X-Auth-Token"))
		serveFixture(t, w, "ip-report_clean_198.51.100.7_score0.json")
	}))
	t.Cleanup(func() {
		srv.Close()
		if n := hits.Load(); n != 0 {
			t.Errorf("%s got %d requests (X-Auth-Token %q), want none", name, n, key.Load())
		}
	})
	return srv
}

// TestRedirectLoopMakesThreeRequests counts the requests a same-host
// redirect loop costs: the first and two redirects followed, then the
// client gives up. The figure is written out, not taken from the client's
// constant, so that raising the limit fails here.
func TestRedirectLoopMakesThreeRequests(t *testing.T) {
	t.Parallel()
	for _, status := range []int{301, 302, 303, 307, 308} {
		t.Run(http.StatusText(status), func(t *testing.T) {
			t.Parallel()
			c, mux := setup(t)
			var hits atomic.Int32
			mux.HandleFunc("/v2.0/ip/{ip}", func(w http.ResponseWriter, r *http.Request) {
				hits.Add(1)
				testAPIRequest(t, r)
				http.Redirect(w, r, basePath+"/v2.0/ip/"+r.PathValue("ip"), status)
			})
			_, err := c.Report(t.Context(), testKey, "198.51.100.7")
			var te *TransportError
			if !errors.As(err, &te) || te.Kind != RedirectRefused {
				t.Fatalf("Report = %#v, want a *TransportError of kind RedirectRefused", err)
			}
			if n := hits.Load(); n != 3 {
				t.Errorf("the loop cost %d requests, want 3", n)
			}
		})
	}
}
