package auth_test

import (
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/signals-relay/signals-relay/internal/auth"
	"github.com/signals-relay/signals-relay/internal/testsupport"
)

// xdrFixture is one fake JWKS host serving key 0 as "k1", a clock, and a
// verifier that allowlists the host and counts its dials.
type xdrFixture struct {
	jwks  *jwksServer
	clock *testsupport.Clock
	dials atomic.Int64
	v     *auth.XDR
}

func newXDRFixture(t testing.TB, opts auth.XDROptions) *xdrFixture {
	t.Helper()
	f := &xdrFixture{clock: testsupport.NewClock()}
	f.jwks = newJWKSServer(t, map[string]*rsa.PublicKey{"k1": &rsaKey(t, 0).PublicKey})
	if opts.Hosts == nil {
		opts.Hosts = []string{f.jwks.host()}
	}
	if opts.Audience == "" && !opts.AudienceFromRequest {
		opts.Audience = testRelayURL
	}
	opts.HTTPClient = trustingClient(t, &f.dials, f.jwks.srv)
	opts.Now = f.clock.Now
	v, err := auth.NewXDR(opts)
	if err != nil {
		t.Fatalf("NewXDR: %v", err)
	}
	f.v = v
	return f
}

// publicKeyPEM is the PEM form of pub, what an alg-confusion attacker would
// use as an HMAC secret.
func publicKeyPEM(t *testing.T, pub *rsa.PublicKey) []byte {
	t.Helper()
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
}

func TestXDRVerify(t *testing.T) {
	t.Parallel()
	f := newXDRFixture(t, auth.XDROptions{})
	host := f.jwks.host()
	now := f.clock.Now()
	k1, k2 := rsaKey(t, 0), rsaKey(t, 1)

	with := func(mod func(jwt.MapClaims)) jwt.MapClaims {
		c := xdrClaims(host, now)
		mod(c)
		return c
	}
	valid := signRS256(t, k1, "k1", xdrClaims(host, now))

	tests := []struct {
		name    string
		header  string // Authorization header; "" means none
		want    auth.Credentials
		wantErr string // reason; "" means success
	}{
		{name: "valid", header: "Bearer " + valid, want: auth.Credentials{APIKey: testAPIKey}},
		{name: "valid with entities limit",
			header: "Bearer " + signRS256(t, k1, "k1", with(func(c jwt.MapClaims) { c["CTR_ENTITIES_LIMIT"] = 42 })),
			want:   auth.Credentials{APIKey: testAPIKey, EntitiesLimit: 42}},
		{name: "audience as array",
			header: "Bearer " + signRS256(t, k1, "k1", with(func(c jwt.MapClaims) { c["aud"] = []string{"https://other.example", testRelayURL} })),
			want:   auth.Credentials{APIKey: testAPIKey}},
		{name: "audience with trailing slash",
			header: "Bearer " + signRS256(t, k1, "k1", with(func(c jwt.MapClaims) { c["aud"] = testRelayURL + "/" })),
			want:   auth.Credentials{APIKey: testAPIKey}},
		{name: "no iat",
			header: "Bearer " + signRS256(t, k1, "k1", with(func(c jwt.MapClaims) { delete(c, "iat") })),
			want:   auth.Credentials{APIKey: testAPIKey}},
		{name: "expired within leeway",
			header: "Bearer " + signRS256(t, k1, "k1", with(func(c jwt.MapClaims) { c["exp"] = now.Add(-10 * time.Second).Unix() })),
			want:   auth.Credentials{APIKey: testAPIKey}},

		{name: "no authorization header", wantErr: auth.ReasonHeaderMissing},
		{name: "basic scheme", header: "Basic " + valid, wantErr: auth.ReasonWrongType},
		{name: "not a JWT", header: "Bearer not-a-jwt", wantErr: auth.ReasonWrongStructure},
		{name: "wrong audience",
			header:  "Bearer " + signRS256(t, k1, "k1", with(func(c jwt.MapClaims) { c["aud"] = "https://attacker.example" })),
			wantErr: auth.ReasonWrongAudience},
		{name: "audience with a path",
			header:  "Bearer " + signRS256(t, k1, "k1", with(func(c jwt.MapClaims) { c["aud"] = testRelayURL + "/prod" })),
			wantErr: auth.ReasonWrongAudience},
		{name: "no audience",
			header:  "Bearer " + signRS256(t, k1, "k1", with(func(c jwt.MapClaims) { delete(c, "aud") })),
			wantErr: auth.ReasonWrongAudience},
		{name: "expired",
			header:  "Bearer " + signRS256(t, k1, "k1", with(func(c jwt.MapClaims) { c["exp"] = now.Add(-2 * time.Minute).Unix() })),
			wantErr: auth.ReasonExpired},
		{name: "not yet valid",
			header:  "Bearer " + signRS256(t, k1, "k1", with(func(c jwt.MapClaims) { c["nbf"] = now.Add(2 * time.Minute).Unix() })),
			wantErr: auth.ReasonExpired},
		{name: "no exp",
			header:  "Bearer " + signRS256(t, k1, "k1", with(func(c jwt.MapClaims) { delete(c, "exp") })),
			wantErr: auth.ReasonWrongPayload},
		{name: "no exp or iat",
			header:  "Bearer " + signRS256(t, k1, "k1", with(func(c jwt.MapClaims) { delete(c, "exp"); delete(c, "iat") })),
			wantErr: auth.ReasonWrongPayload},
		{name: "exp null",
			header:  "Bearer " + signRS256(t, k1, "k1", with(func(c jwt.MapClaims) { c["exp"] = nil })),
			wantErr: auth.ReasonWrongPayload},
		{name: "exp not a number",
			header:  "Bearer " + signRS256(t, k1, "k1", with(func(c jwt.MapClaims) { c["exp"] = "tomorrow" })),
			wantErr: auth.ReasonWrongPayload},
		{name: "alg confusion: HS256 with the public key as secret",
			header:  "Bearer " + signHS256(t, publicKeyPEM(t, &k1.PublicKey), "k1", xdrClaims(host, now)),
			wantErr: auth.ReasonRS256BadSignature},
		{name: "alg confusion: HS256 with the DER public key as secret",
			header:  "Bearer " + signHS256(t, x509.MarshalPKCS1PublicKey(&k1.PublicKey), "k1", xdrClaims(host, now)),
			wantErr: auth.ReasonRS256BadSignature},
		{name: "alg none",
			header:  "Bearer " + unsignedToken(t, "k1", xdrClaims(host, now)),
			wantErr: auth.ReasonRS256BadSignature},
		{name: "signed by another key under a known kid",
			header:  "Bearer " + signRS256(t, k2, "k1", xdrClaims(host, now)),
			wantErr: auth.ReasonRS256BadSignature},
		{name: "signature stripped",
			header:  "Bearer " + valid[:len(valid)-10],
			wantErr: auth.ReasonRS256BadSignature},
		{name: "no kid",
			header:  "Bearer " + signRS256(t, k1, "", xdrClaims(host, now)),
			wantErr: auth.ReasonWrongStructure},
		{name: "unknown kid",
			header:  "Bearer " + signRS256(t, k2, "k2", xdrClaims(host, now)),
			wantErr: auth.ReasonKidNotFound},
		{name: "jwks_host missing",
			header:  "Bearer " + signRS256(t, k1, "k1", with(func(c jwt.MapClaims) { delete(c, "jwks_host") })),
			wantErr: auth.ReasonJWKSHostMissing},
		{name: "jwks_host empty",
			header:  "Bearer " + signRS256(t, k1, "k1", with(func(c jwt.MapClaims) { c["jwks_host"] = "" })),
			wantErr: auth.ReasonJWKSHostMissing},
		{name: "jwks_host not a string",
			header:  "Bearer " + signRS256(t, k1, "k1", with(func(c jwt.MapClaims) { c["jwks_host"] = 443 })),
			wantErr: auth.ReasonWrongJWKSHost},
		{name: "claims missing key",
			header:  "Bearer " + signRS256(t, k1, "k1", with(func(c jwt.MapClaims) { delete(c, "key") })),
			wantErr: auth.ReasonWrongPayload},
		{name: "key empty",
			header:  "Bearer " + signRS256(t, k1, "k1", with(func(c jwt.MapClaims) { c["key"] = "  " })),
			wantErr: auth.ReasonWrongPayload},
		{name: "key not a string",
			header:  "Bearer " + signRS256(t, k1, "k1", with(func(c jwt.MapClaims) { c["key"] = 12345 })),
			wantErr: auth.ReasonWrongPayload},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := httptest.NewRequest(http.MethodPost, testRelayURL+"/observe/observables", nil)
			if tc.header != "" {
				r.Header.Set("Authorization", tc.header)
			}
			got, err := f.v.Verify(r)
			if tc.wantErr != "" {
				wantReason(t, err, tc.wantErr, tc.header[min(len(tc.header), 7):], testAPIKey)
				if got != (auth.Credentials{}) {
					t.Errorf("credentials = %v on failure, want zero", got)
				}
				return
			}
			if err != nil {
				t.Fatalf("Verify: %v", err)
			}
			if got.APIKey != tc.want.APIKey || got.EntitiesLimit != tc.want.EntitiesLimit {
				t.Errorf("credentials = {%q %d}, want {%q %d}", got.APIKey, got.EntitiesLimit, tc.want.APIKey, tc.want.EntitiesLimit)
			}
		})
	}
}

func TestXDRHostNotAllowlisted(t *testing.T) {
	t.Parallel()
	// The attacker runs a real JWKS host serving its own key; a token
	// signed by that key must be refused without contacting it.
	attackerKey := rsaKey(t, 2)
	attacker := newJWKSServer(t, map[string]*rsa.PublicKey{"k1": &attackerKey.PublicKey})
	legit := newJWKSServer(t, map[string]*rsa.PublicKey{"k1": &rsaKey(t, 0).PublicKey})

	tests := []struct {
		name  string
		hosts []string // allowlist; nil means the legit server only
		claim string   // jwks_host claim
	}{
		{name: "other host", claim: attacker.host()},
		{name: "userinfo trick", claim: legit.host() + "@" + attacker.host()},
		{name: "path trick", claim: attacker.host() + "/" + legit.host()},
		{name: "suffix trick", hosts: auth.DefaultJWKSHosts(), claim: "visibility.amp.cisco.com." + attacker.host()},
		{name: "prefix trick", hosts: auth.DefaultJWKSHosts(), claim: "evil-visibility.amp.cisco.com"},
		{name: "trailing dot", hosts: auth.DefaultJWKSHosts(), claim: "visibility.amp.cisco.com."},
		{name: "default port spelled out", hosts: auth.DefaultJWKSHosts(), claim: "visibility.amp.cisco.com:8443"},
		{name: "scheme included", claim: "https://" + attacker.host()},
		// Unicode case mapping folds these to allowlisted names; the
		// comparison folds ASCII letters only.
		{name: "dotted capital I", hosts: auth.DefaultJWKSHosts(), claim: "vİsİbİlİty.amp.cİsco.com"},
		{name: "Kelvin sign", hosts: []string{"keys.example.com"}, claim: "\u212Aeys.example.com"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			hosts := tc.hosts
			if hosts == nil {
				hosts = []string{legit.host()}
			}
			var dials atomic.Int64
			clock := testsupport.NewClock()
			v, err := auth.NewXDR(auth.XDROptions{
				Hosts:      hosts,
				Audience:   testRelayURL,
				HTTPClient: trustingClient(t, &dials, legit.srv, attacker.srv),
				Now:        clock.Now,
			})
			if err != nil {
				t.Fatal(err)
			}
			before := attacker.accepts.Load()
			token := signRS256(t, attackerKey, "k1", xdrClaims(tc.claim, clock.Now()))
			_, err = v.Verify(request(token))
			wantReason(t, err, auth.ReasonWrongJWKSHost, token, testAPIKey, tc.claim, attacker.host())
			if n := dials.Load(); n != 0 {
				t.Errorf("client dialled %d times, want 0", n)
			}
			if n := attacker.accepts.Load() - before; n != 0 {
				t.Errorf("attacker host accepted %d connections, want 0", n)
			}
		})
	}
	if n := attacker.hits.Load(); n != 0 {
		t.Errorf("attacker key set requested %d times, want 0", n)
	}
}

func TestXDRKeyRotation(t *testing.T) {
	t.Parallel()
	f := newXDRFixture(t, auth.XDROptions{RefreshInterval: time.Minute})
	k1, k2, k3 := rsaKey(t, 0), rsaKey(t, 1), rsaKey(t, 2)
	host := f.jwks.host()

	steps := []struct {
		name      string
		advance   time.Duration
		rotate    map[string]*rsa.PublicKey // served from this step on, if set
		key       *rsa.PrivateKey
		kid       string
		wantErr   string
		wantFetch int64 // total key-set requests after the step
	}{
		{name: "first use fetches", key: k1, kid: "k1", wantFetch: 1},
		{name: "known kid is cached", advance: 10 * time.Second, key: k1, kid: "k1", wantFetch: 1},
		{name: "rotated kid refetches", advance: time.Minute,
			rotate: map[string]*rsa.PublicKey{"k1": &k1.PublicKey, "k2": &k2.PublicKey},
			key:    k2, kid: "k2", wantFetch: 2},
		{name: "old kid still served", key: k1, kid: "k1", wantFetch: 2},
		{name: "unknown kid within the interval does not refetch",
			rotate: map[string]*rsa.PublicKey{"k2": &k2.PublicKey, "k3": &k3.PublicKey},
			key:    k3, kid: "k3", wantErr: auth.ReasonKidNotFound, wantFetch: 2},
		{name: "nor does a second one", advance: 30 * time.Second, key: k3, kid: "k3", wantErr: auth.ReasonKidNotFound, wantFetch: 2},
		{name: "after the interval it refetches once", advance: 31 * time.Second, key: k3, kid: "k3", wantFetch: 3},
		{name: "withdrawn kid is unknown", key: k1, kid: "k1", wantErr: auth.ReasonKidNotFound, wantFetch: 3},
		{name: "new key set is cached", key: k2, kid: "k2", wantFetch: 3},
	}
	for _, st := range steps {
		f.clock.Advance(st.advance)
		if st.rotate != nil {
			f.jwks.serve(http.StatusOK, jwksBody(t, st.rotate))
		}
		token := signRS256(t, st.key, st.kid, xdrClaims(host, f.clock.Now()))
		_, err := f.v.Verify(request(token))
		if st.wantErr == "" && err != nil {
			t.Errorf("%s: Verify: %v", st.name, err)
		}
		if st.wantErr != "" {
			wantReason(t, err, st.wantErr, token)
		}
		if got := f.jwks.hits.Load(); got != st.wantFetch {
			t.Errorf("%s: key-set requests = %d, want %d", st.name, got, st.wantFetch)
		}
	}

	// A key set older than an hour is refreshed in the background: the
	// token is verified with the cached key while the fetch is held.
	release := f.jwks.hold(t)
	f.clock.Advance(2 * time.Hour)
	if _, err := f.v.Verify(request(signRS256(t, k2, "k2", xdrClaims(host, f.clock.Now())))); err != nil {
		t.Errorf("stale key set: Verify: %v", err)
	}
	f.jwks.waitHits(t, 4)
	release()
}

func TestXDRConcurrentFirstUseFetchesOnce(t *testing.T) {
	t.Parallel()
	f := newXDRFixture(t, auth.XDROptions{Timeout: 20 * time.Second})
	token := signRS256(t, rsaKey(t, 0), "k1", xdrClaims(f.jwks.host(), f.clock.Now()))
	unknown := signRS256(t, rsaKey(t, 1), "k9", xdrClaims(f.jwks.host(), f.clock.Now()))

	// The key host answers only once every caller is under way, so callers
	// that ran one after another would leave the first fetch waiting until
	// it timed out, and the valid tokens would fail.
	const callers = 32
	var started sync.WaitGroup
	started.Add(callers)
	allStarted := make(chan struct{})
	go func() { started.Wait(); close(allStarted) }()
	f.jwks.gateOn(allStarted)

	var wg sync.WaitGroup
	errs := make(chan error, callers)
	for i := range callers {
		wg.Go(func() {
			tok := token
			if i%2 == 1 {
				tok = unknown
			}
			started.Done()
			_, err := f.v.Verify(request(tok))
			if tok == token && err != nil {
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("Verify: %v", err)
	}
	if got := f.jwks.hits.Load(); got != 1 {
		t.Errorf("key-set requests = %d, want 1", got)
	}
}

// TestXDRCachedKeyNeverWaits floods the relay with unknown kids while the
// key host holds the fetch they caused: a token whose key is cached must
// still verify at once, the flood must cause one fetch, and once the fetch
// has ended, further unknown kids are refused without another.
func TestXDRCachedKeyNeverWaits(t *testing.T) {
	t.Parallel()
	// Only the fetch timeout (the test client's 5 s) ends the held fetch
	// before the test releases it; the flood's calls wait for it.
	f := newXDRFixture(t, auth.XDROptions{RefreshInterval: time.Minute})
	host := f.jwks.host()
	cached := func() string { return signRS256(t, rsaKey(t, 0), "k1", xdrClaims(host, f.clock.Now())) }
	if _, err := f.v.Verify(request(cached())); err != nil {
		t.Fatalf("Verify: %v", err)
	}
	f.clock.Advance(2 * time.Minute) // unknown kids may cause a fetch again

	const flood = 32
	unknown := make([]string, flood)
	for i := range unknown {
		unknown[i] = signRS256(t, rsaKey(t, 1), fmt.Sprintf("unknown-%d", i), xdrClaims(host, f.clock.Now()))
	}
	release := f.jwks.hold(t)
	results := make(chan error, flood)
	for _, tok := range unknown {
		go func() {
			_, err := f.v.Verify(request(tok))
			results <- err
		}()
	}
	f.jwks.waitHits(t, 2) // the flood's fetch is at the key host, held

	for i := range 3 {
		if _, err := f.v.Verify(request(cached())); err != nil {
			t.Errorf("cached key %d during the fetch: Verify: %v", i, err)
		}
	}
	if ended, held := len(results), f.jwks.inFlight.Load(); ended != 0 || held != 1 {
		t.Fatalf("the cached key was verified only after the key-set fetch ended "+
			"(%d flood calls answered, %d fetches still held)", ended, held)
	}
	if got := f.jwks.hits.Load(); got != 2 {
		t.Errorf("key-set requests during the flood = %d, want 2", got)
	}

	release()
	for range flood {
		wantReason(t, <-results, auth.ReasonKidNotFound)
	}
	// The rate limit refuses another fetch: unknown kids are answered
	// without one, even with the key host holding every request.
	f.jwks.hold(t)
	for _, tok := range unknown[:4] {
		_, err := f.v.Verify(request(tok))
		wantReason(t, err, auth.ReasonKidNotFound)
	}
	if got := f.jwks.hits.Load(); got != 2 {
		t.Errorf("key-set requests after the flood = %d, want 2", got)
	}
}

// TestXDRFailedFetchKeepsTheRateLimit checks that a failed fetch does not
// make the next one come sooner, and that the key set last fetched stays in
// use while the key host fails, even past its age limit.
func TestXDRFailedFetchKeepsTheRateLimit(t *testing.T) {
	t.Parallel()
	f := newXDRFixture(t, auth.XDROptions{RefreshInterval: 5 * time.Minute})
	host := f.jwks.host()
	cached := func() string { return signRS256(t, rsaKey(t, 0), "k1", xdrClaims(host, f.clock.Now())) }
	unknown := func() string { return signRS256(t, rsaKey(t, 1), "k2", xdrClaims(host, f.clock.Now())) }
	if _, err := f.v.Verify(request(cached())); err != nil {
		t.Fatalf("Verify: %v", err)
	}
	f.jwks.serve(http.StatusServiceUnavailable, nil)

	steps := []struct {
		name      string
		advance   time.Duration
		token     func() string
		wantErr   string
		wantFetch int64
	}{
		{name: "unknown kid after the interval fetches and fails", advance: 5 * time.Minute, token: unknown,
			wantErr: auth.ReasonWrongJWKSHost, wantFetch: 2},
		{name: "cached key still verifies", token: cached, wantFetch: 2},
		{name: "unknown kid 30s after the failure does not fetch", advance: 30 * time.Second, token: unknown,
			wantErr: auth.ReasonKidNotFound, wantFetch: 2},
		{name: "nor 4m later", advance: 4 * time.Minute, token: unknown, wantErr: auth.ReasonKidNotFound, wantFetch: 2},
		{name: "a full interval after the failure it fetches", advance: 30 * time.Second, token: unknown,
			wantErr: auth.ReasonWrongJWKSHost, wantFetch: 3},
	}
	for _, st := range steps {
		f.clock.Advance(st.advance)
		_, err := f.v.Verify(request(st.token()))
		switch {
		case st.wantErr == "" && err != nil:
			t.Errorf("%s: Verify: %v", st.name, err)
		case st.wantErr != "":
			wantReason(t, err, st.wantErr)
		}
		if got := f.jwks.hits.Load(); got != st.wantFetch {
			t.Errorf("%s: key-set requests = %d, want %d", st.name, got, st.wantFetch)
		}
	}

	// Past the age limit the cached set is refreshed in the background;
	// the refresh fails and the set stays in use.
	f.clock.Advance(2 * time.Hour)
	if _, err := f.v.Verify(request(cached())); err != nil {
		t.Errorf("stale key set with the host failing: Verify: %v", err)
	}
	f.jwks.waitHits(t, 4)
	for range 3 {
		if _, err := f.v.Verify(request(cached())); err != nil {
			t.Errorf("stale key set after a failed refresh: Verify: %v", err)
		}
	}
	if got := f.jwks.hits.Load(); got != 4 {
		t.Errorf("key-set requests = %d, want 4", got)
	}
}

// wantCause checks that an authorization failure carries, for the log, the
// cause naming the key host, and that the cause quotes no secret.
func wantCause(t *testing.T, err error, host string, secrets ...string) {
	t.Helper()
	var authErr *auth.Error
	if !errors.As(err, &authErr) || authErr.Err == nil {
		t.Fatalf("error %v carries no cause for the log", err)
	}
	cause := authErr.Err.Error()
	if !strings.Contains(cause, host) {
		t.Errorf("cause %q does not name the key host %s", cause, host)
	}
	for _, s := range secrets {
		if strings.Contains(cause, s) {
			t.Errorf("cause %q quotes a secret", cause)
		}
	}
}

func TestXDRJWKSFailures(t *testing.T) {
	t.Parallel()
	weak := mustWeakKey(t)
	tests := []struct {
		name   string
		status int
		body   string
	}{
		{name: "server error", status: http.StatusInternalServerError, body: `{"keys":[]}`},
		{name: "not found", status: http.StatusNotFound, body: "not found"},
		{name: "garbage", status: http.StatusOK, body: "<html>hello</html>"},
		{name: "truncated JSON", status: http.StatusOK, body: `{"keys":[{"kty":"RSA"`},
		{name: "empty key set", status: http.StatusOK, body: `{"keys":[]}`},
		{name: "no keys member", status: http.StatusOK, body: `{}`},
		{name: "only a weak key", status: http.StatusOK, body: string(jwksBody(t, map[string]*rsa.PublicKey{"k1": &weak.PublicKey}))},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newXDRFixture(t, auth.XDROptions{})
			f.jwks.serve(tc.status, []byte(tc.body))
			token := signRS256(t, rsaKey(t, 0), "k1", xdrClaims(f.jwks.host(), f.clock.Now()))
			_, err := f.v.Verify(request(token))
			wantReason(t, err, auth.ReasonWrongJWKSHost, token, testAPIKey)
			wantCause(t, err, f.jwks.host(), token, testAPIKey)
		})
	}

	t.Run("host down", func(t *testing.T) {
		t.Parallel()
		f := newXDRFixture(t, auth.XDROptions{})
		f.jwks.srv.Close()
		token := signRS256(t, rsaKey(t, 0), "k1", xdrClaims(f.jwks.host(), f.clock.Now()))
		_, err := f.v.Verify(request(token))
		wantReason(t, err, auth.ReasonWrongJWKSHost, token, testAPIKey)
		wantCause(t, err, f.jwks.host(), token, testAPIKey)
	})

	t.Run("too slow", func(t *testing.T) {
		t.Parallel()
		release := make(chan struct{})
		slow := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			select {
			case <-r.Context().Done():
			case <-release:
			}
		}))
		t.Cleanup(slow.Close)
		t.Cleanup(func() { close(release) })
		clock := testsupport.NewClock()
		v, err := auth.NewXDR(auth.XDROptions{
			Hosts:      []string{slow.Listener.Addr().String()},
			Audience:   testRelayURL,
			HTTPClient: trustingClient(t, nil, slow),
			Timeout:    100 * time.Millisecond,
			Now:        clock.Now,
		})
		if err != nil {
			t.Fatal(err)
		}
		token := signRS256(t, rsaKey(t, 0), "k1", xdrClaims(slow.Listener.Addr().String(), clock.Now()))
		start := time.Now()
		_, err = v.Verify(request(token))
		wantReason(t, err, auth.ReasonWrongJWKSHost, token)
		if d := time.Since(start); d > 3*time.Second {
			t.Errorf("Verify took %v, want about the 100ms timeout", d)
		}
	})

	t.Run("redirect is not followed", func(t *testing.T) {
		t.Parallel()
		target := newJWKSServer(t, map[string]*rsa.PublicKey{"k1": &rsaKey(t, 0).PublicKey})
		redirector := httptest.NewTLSServer(http.RedirectHandler("https://"+target.host()+"/.well-known/jwks", http.StatusFound))
		t.Cleanup(redirector.Close)
		clock := testsupport.NewClock()
		v, err := auth.NewXDR(auth.XDROptions{
			Hosts:      []string{redirector.Listener.Addr().String()},
			Audience:   testRelayURL,
			HTTPClient: trustingClient(t, nil, redirector, target.srv),
			Now:        clock.Now,
		})
		if err != nil {
			t.Fatal(err)
		}
		token := signRS256(t, rsaKey(t, 0), "k1", xdrClaims(redirector.Listener.Addr().String(), clock.Now()))
		_, err = v.Verify(request(token))
		wantReason(t, err, auth.ReasonWrongJWKSHost, token)
		if n := target.accepts.Load(); n != 0 {
			t.Errorf("redirect target accepted %d connections, want 0", n)
		}
	})
}

func TestXDRRecoversAfterFailedFetch(t *testing.T) {
	t.Parallel()
	f := newXDRFixture(t, auth.XDROptions{RefreshInterval: time.Minute})
	good := jwksBody(t, map[string]*rsa.PublicKey{"k1": &rsaKey(t, 0).PublicKey})
	f.jwks.serve(http.StatusServiceUnavailable, nil)
	token := func() string {
		return signRS256(t, rsaKey(t, 0), "k1", xdrClaims(f.jwks.host(), f.clock.Now()))
	}

	_, err := f.v.Verify(request(token()))
	wantReason(t, err, auth.ReasonWrongJWKSHost)
	wantCause(t, err, f.jwks.host())
	f.jwks.serve(http.StatusOK, good)

	// A failure is retried no sooner than the refresh interval; until then
	// every call is refused at once, with the failure's cause for the log.
	f.clock.Advance(59 * time.Second)
	_, err = f.v.Verify(request(token()))
	wantReason(t, err, auth.ReasonWrongJWKSHost)
	wantCause(t, err, f.jwks.host())
	if got := f.jwks.hits.Load(); got != 1 {
		t.Errorf("key-set requests = %d, want 1", got)
	}

	f.clock.Advance(time.Second)
	if _, err := f.v.Verify(request(token())); err != nil {
		t.Errorf("Verify after recovery: %v", err)
	}
	if got := f.jwks.hits.Load(); got != 2 {
		t.Errorf("key-set requests = %d, want 2", got)
	}
}

func TestXDREntitiesLimit(t *testing.T) {
	t.Parallel()
	f := newXDRFixture(t, auth.XDROptions{})
	tests := []struct {
		name  string
		claim any // nil means absent
		want  int
	}{
		{name: "absent", want: 0},
		{name: "valid", claim: 50, want: 50},
		{name: "one", claim: 1, want: 1},
		{name: "above 1000", claim: 1500, want: 1500}, // the relay caps it (CTR_ENTITIES_LIMIT_MAX)
		{name: "zero", claim: 0, want: 0},
		{name: "negative", claim: -5, want: 0},
		{name: "huge", claim: 1e12, want: math.MaxInt32},
		{name: "fractional", claim: 2.5, want: 0},
		{name: "numeric string", claim: "25", want: 25},
		{name: "huge numeric string", claim: "99999999999999999999999", want: math.MaxInt32},
		{name: "negative string", claim: "-3", want: 0},
		{name: "word", claim: "lots", want: 0},
		{name: "empty string", claim: "", want: 0},
		{name: "boolean", claim: true, want: 0},
		{name: "object", claim: map[string]any{"n": 5}, want: 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			claims := xdrClaims(f.jwks.host(), f.clock.Now())
			if tc.claim != nil {
				claims["CTR_ENTITIES_LIMIT"] = tc.claim
			}
			got, err := f.v.Verify(request(signRS256(t, rsaKey(t, 0), "k1", claims)))
			if err != nil {
				t.Fatalf("Verify: %v", err)
			}
			if got.EntitiesLimit != tc.want {
				t.Errorf("EntitiesLimit = %d, want %d", got.EntitiesLimit, tc.want)
			}
		})
	}
}

func TestXDRAudienceFromRequest(t *testing.T) {
	t.Parallel()
	f := newXDRFixture(t, auth.XDROptions{AudienceFromRequest: true})
	tests := []struct {
		name    string
		url     string
		proto   string // X-Forwarded-Proto
		aud     string
		wantErr string
	}{
		{name: "TLS request", url: "https://relay.example/health", aud: "https://relay.example"},
		{name: "behind a TLS proxy", url: "http://relay.example/health", proto: "https", aud: "https://relay.example"},
		{name: "first forwarded value wins", url: "http://relay.example/health", proto: "https, http", aud: "https://relay.example"},
		{name: "plain http", url: "http://relay.example:8080/health", aud: "http://relay.example:8080"},
		{name: "proxy says http", url: "https://relay.example/health", proto: "http", aud: "https://relay.example", wantErr: auth.ReasonWrongAudience},
		{name: "scheme mismatch", url: "http://relay.example/health", aud: "https://relay.example", wantErr: auth.ReasonWrongAudience},
		{name: "other host", url: "https://relay.example/health", aud: "https://other.example", wantErr: auth.ReasonWrongAudience},
		{name: "bogus forwarded proto ignored", url: "https://relay.example/health", proto: "gopher", aud: "https://relay.example"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			claims := xdrClaims(f.jwks.host(), f.clock.Now())
			claims["aud"] = tc.aud
			r := httptest.NewRequest(http.MethodPost, tc.url, nil)
			r.Header.Set("Authorization", "Bearer "+signRS256(t, rsaKey(t, 0), "k1", claims))
			if tc.proto != "" {
				r.Header.Set("X-Forwarded-Proto", tc.proto)
			}
			_, err := f.v.Verify(r)
			if tc.wantErr != "" {
				wantReason(t, err, tc.wantErr)
				return
			}
			if err != nil {
				t.Errorf("Verify: %v", err)
			}
		})
	}
}

func TestNewXDRRejectsBadOptions(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		opts auth.XDROptions
	}{
		{name: "no audience", opts: auth.XDROptions{}},
		{name: "audience and from-request", opts: auth.XDROptions{Audience: testRelayURL, AudienceFromRequest: true}},
		{name: "relative audience", opts: auth.XDROptions{Audience: "relay.example"}},
		{name: "ftp audience", opts: auth.XDROptions{Audience: "ftp://relay.example"}},
		{name: "audience with query", opts: auth.XDROptions{Audience: "https://relay.example/?a=b"}},
		{name: "empty host", opts: auth.XDROptions{Audience: testRelayURL, Hosts: []string{""}}},
		{name: "host with scheme", opts: auth.XDROptions{Audience: testRelayURL, Hosts: []string{"https://visibility.amp.cisco.com"}}},
		{name: "host with path", opts: auth.XDROptions{Audience: testRelayURL, Hosts: []string{"visibility.amp.cisco.com/x"}}},
		{name: "host with userinfo", opts: auth.XDROptions{Audience: testRelayURL, Hosts: []string{"u@visibility.amp.cisco.com"}}},
		{name: "host with bad port", opts: auth.XDROptions{Audience: testRelayURL, Hosts: []string{"visibility.amp.cisco.com:https"}}},
		{name: "host not in ASCII", opts: auth.XDROptions{Audience: testRelayURL, Hosts: []string{"vİsİbİlİty.amp.cisco.com"}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if _, err := auth.NewXDR(tc.opts); err == nil {
				t.Errorf("NewXDR(%+v) succeeded, want an error", tc.opts)
			}
		})
	}

	v, err := auth.NewXDR(auth.XDROptions{Audience: testRelayURL + "/", Hosts: []string{" Visibility.AMP.cisco.com ", "127.0.0.1:8443"}})
	if err != nil || v == nil {
		t.Errorf("NewXDR with a trailing slash and mixed-case hosts: %v", err)
	}
}

// TestXDRDefaultClientHonoursSSLCertFile runs a child test process with
// SSL_CERT_FILE naming the fake JWKS host's certificate: the default client
// (system trust store) must then reach it. The child sees a kid the host
// does not publish, so reaching the host yields ReasonKidNotFound while a
// TLS failure would yield ReasonWrongJWKSHost.
func TestXDRDefaultClientHonoursSSLCertFile(t *testing.T) {
	if host := os.Getenv("AUTH_TEST_JWKS_HOST"); host != "" {
		v, err := auth.NewXDR(auth.XDROptions{Hosts: []string{host}, Audience: testRelayURL})
		if err != nil {
			t.Fatal(err)
		}
		token := signRS256(t, rsaKey(t, 1), "child", xdrClaims(host, time.Now()))
		_, err = v.Verify(request(token))
		wantReason(t, err, auth.ReasonKidNotFound)
		return
	}
	if testing.Short() {
		t.Skip("runs a child process")
	}
	s := newJWKSServer(t, map[string]*rsa.PublicKey{"k1": &rsaKey(t, 0).PublicKey})
	certFile := filepath.Join(t.TempDir(), "jwks.pem")
	pemBytes := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: s.srv.Certificate().Raw})
	if err := os.WriteFile(certFile, pemBytes, 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.CommandContext(t.Context(), os.Args[0], "-test.run=^TestXDRDefaultClientHonoursSSLCertFile$", "-test.count=1")
	cmd.Env = append(os.Environ(), "AUTH_TEST_JWKS_HOST="+s.host(), "SSL_CERT_FILE="+certFile, "SSL_CERT_DIR="+t.TempDir())
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("child: %v\n%s", err, out)
	}
	if got := s.hits.Load(); got != 1 {
		t.Errorf("key-set requests = %d, want 1", got)
	}
}

// BenchmarkXDRVerify measures accepting a valid XDR token whose key is
// cached: XDR signs every call anew, so no token cache helps and each call
// pays for its signature check and claims.
func BenchmarkXDRVerify(b *testing.B) {
	f := newXDRFixture(b, auth.XDROptions{})
	r := request(signRS256(b, rsaKey(b, 0), "k1", xdrClaims(f.jwks.host(), f.clock.Now())))
	if _, err := f.v.Verify(r); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := f.v.Verify(r); err != nil {
			b.Fatal(err)
		}
	}
}
