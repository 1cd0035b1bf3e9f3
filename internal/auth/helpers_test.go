package auth_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/signals-relay/signals-relay/internal/auth"
)

const (
	testRelayURL = "https://relay.example"
	testAPIKey   = "signals-api-key-0123456789"
)

// testRSAKeys are generated once per test binary: 2048-bit generation is
// slow under the race detector.
var testRSAKeys = sync.OnceValues(func() ([]*rsa.PrivateKey, error) {
	keys := make([]*rsa.PrivateKey, 3)
	for i := range keys {
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			return nil, err
		}
		keys[i] = k
	}
	return keys, nil
})

// rsaKey returns the i-th shared test key (0, 1 or 2).
func rsaKey(t testing.TB, i int) *rsa.PrivateKey {
	t.Helper()
	keys, err := testRSAKeys()
	if err != nil {
		t.Fatalf("generate RSA keys: %v", err)
	}
	return keys[i]
}

// jwk renders pub as an RS256 signing JWK.
func jwk(kid string, pub *rsa.PublicKey) map[string]any {
	return map[string]any{
		"kty": "RSA",
		"kid": kid,
		"use": "sig",
		"alg": "RS256",
		"n":   base64.RawURLEncoding.EncodeToString(pub.N.Bytes()),
		"e":   base64.RawURLEncoding.EncodeToString(big.NewInt(int64(pub.E)).Bytes()),
	}
}

// jwksBody renders a JWK Set of the given keys by kid.
func jwksBody(t testing.TB, keys map[string]*rsa.PublicKey) []byte {
	t.Helper()
	set := map[string][]map[string]any{"keys": {}}
	for kid, pub := range keys {
		set["keys"] = append(set["keys"], jwk(kid, pub))
	}
	b, err := json.Marshal(set)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// countingListener counts accepted connections, to prove that none were
// made.
type countingListener struct {
	net.Listener
	accepts *atomic.Int64
}

func (l countingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err == nil {
		l.accepts.Add(1)
	}
	return c, err
}

// jwksServer is a fake JWKS host over TLS whose response can be changed,
// and held back (see hold).
type jwksServer struct {
	srv      *httptest.Server
	accepts  atomic.Int64 // TCP connections accepted
	hits     atomic.Int64 // requests for the key set
	inFlight atomic.Int64 // requests being answered

	mu     sync.Mutex
	status int
	body   []byte
	gate   <-chan struct{} // when set, requests are answered once it closes
}

// newJWKSServer starts a fake JWKS host serving keys.
func newJWKSServer(t testing.TB, keys map[string]*rsa.PublicKey) *jwksServer {
	t.Helper()
	s := &jwksServer{status: http.StatusOK, body: jwksBody(t, keys)}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/jwks", func(w http.ResponseWriter, r *http.Request) {
		s.inFlight.Add(1)
		defer s.inFlight.Add(-1)
		s.hits.Add(1)
		s.mu.Lock()
		gate := s.gate
		s.mu.Unlock()
		if gate != nil {
			select {
			case <-gate:
			case <-r.Context().Done(): // the client gave up: no answer
				return
			}
		}
		s.mu.Lock()
		status, body := s.status, s.body
		s.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_, _ = w.Write(body)
	})
	s.srv = httptest.NewUnstartedServer(mux)
	s.srv.Listener = countingListener{Listener: s.srv.Listener, accepts: &s.accepts}
	s.srv.StartTLS()
	t.Cleanup(s.srv.Close)
	return s
}

// host is the server's "host:port", as it appears in an allowlist.
func (s *jwksServer) host() string { return s.srv.Listener.Addr().String() }

// serve changes the response.
func (s *jwksServer) serve(status int, body []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.status, s.body = status, body
}

// gateOn holds every request from now on until gate closes; nil answers
// at once again.
func (s *jwksServer) gateOn(gate <-chan struct{}) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.gate = gate
}

// hold holds every request from now on until release is called (release
// may be called more than once; the test's end calls it too).
func (s *jwksServer) hold(t testing.TB) (release func()) {
	t.Helper()
	gate := make(chan struct{})
	var once sync.Once
	release = func() { once.Do(func() { close(gate) }) }
	t.Cleanup(release)
	s.gateOn(gate)
	return release
}

// waitHits waits until the server has received at least n key-set
// requests: the barrier for fetches that run in the background.
func (s *jwksServer) waitHits(t testing.TB, n int64) {
	t.Helper()
	for deadline := time.Now().Add(20 * time.Second); s.hits.Load() < n; {
		if time.Now().After(deadline) {
			t.Fatalf("key-set requests = %d after 20s, want %d", s.hits.Load(), n)
		}
		time.Sleep(time.Millisecond)
	}
}

// trustingClient returns a client that trusts the given test servers'
// certificates and counts every dial it makes. It dials loopback addresses
// only: a test never reaches the network, even when the relay would.
func trustingClient(t testing.TB, dials *atomic.Int64, servers ...*httptest.Server) *http.Client {
	t.Helper()
	pool := x509.NewCertPool()
	for _, s := range servers {
		pool.AddCert(s.Certificate())
	}
	tr := &http.Transport{
		TLSClientConfig: &tls.Config{RootCAs: pool},
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			if dials != nil {
				dials.Add(1)
			}
			if host, _, err := net.SplitHostPort(addr); err != nil || !net.ParseIP(host).IsLoopback() {
				return nil, errors.New("test client dials loopback addresses only")
			}
			var d net.Dialer
			return d.DialContext(ctx, network, addr)
		},
	}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr, Timeout: 5 * time.Second}
}

// xdrClaims returns a valid configuration-token payload naming host.
func xdrClaims(host string, now time.Time) jwt.MapClaims {
	return jwt.MapClaims{
		"key":       testAPIKey,
		"jwks_host": host,
		"aud":       testRelayURL,
		"iat":       now.Unix(),
		"exp":       now.Add(5 * time.Minute).Unix(),
	}
}

// signRS256 signs claims with key, putting kid (if any) in the header.
func signRS256(t testing.TB, key *rsa.PrivateKey, kid string, claims jwt.MapClaims) string {
	t.Helper()
	tok := jwt.NewWithClaims(jwt.SigningMethodRS256, claims)
	if kid != "" {
		tok.Header["kid"] = kid
	}
	s, err := tok.SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// signHS256 signs claims with secret, putting kid (if any) in the header.
func signHS256(t testing.TB, secret []byte, kid string, claims jwt.MapClaims) string {
	t.Helper()
	tok := jwt.NewWithClaims(jwt.SigningMethodHS256, claims)
	if kid != "" {
		tok.Header["kid"] = kid
	}
	s, err := tok.SignedString(secret)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// unsignedToken builds an alg "none" token.
func unsignedToken(t testing.TB, kid string, claims jwt.MapClaims) string {
	t.Helper()
	h, err := json.Marshal(map[string]any{"alg": "none", "typ": "JWT", "kid": kid})
	if err != nil {
		t.Fatal(err)
	}
	p, err := json.Marshal(claims)
	if err != nil {
		t.Fatal(err)
	}
	enc := base64.RawURLEncoding.EncodeToString
	return enc(h) + "." + enc(p) + "."
}

// request returns a POST to the relay carrying token as a Bearer token.
func request(token string) *http.Request {
	r := httptest.NewRequest(http.MethodPost, testRelayURL+"/health", nil)
	if token != "" {
		r.Header.Set("Authorization", "Bearer "+token)
	}
	return r
}

// wantReason checks that err is an *auth.Error with reason want and that its
// message quotes none of the secrets or attacker-supplied values in leaks.
func wantReason(t testing.TB, err error, want string, leaks ...string) {
	t.Helper()
	var ae *auth.Error
	if !errors.As(err, &ae) {
		t.Fatalf("error = %v (%T), want *auth.Error with reason %q", err, err, want)
	}
	if ae.Reason != want {
		t.Errorf("reason = %q, want %q", ae.Reason, want)
	}
	for _, s := range leaks {
		if s != "" && strings.Contains(err.Error(), s) {
			t.Errorf("error %q contains %q", err.Error(), s)
		}
	}
}

// mustWeakKey returns a 1024-bit key, below the size the relay accepts.
func mustWeakKey(t testing.TB) *rsa.PrivateKey {
	t.Helper()
	k, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	return k
}
