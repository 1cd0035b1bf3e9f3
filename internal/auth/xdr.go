package auth

import (
	"context"
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/MicahParks/jwkset"
	"github.com/golang-jwt/jwt/v5"

	"github.com/signals-relay/signals-relay/internal/xdrregion"
)

// Defaults and limits of the XDR verifier.
const (
	DefaultJWKSTimeout         = 5 * time.Second  // XDROptions.Timeout
	DefaultJWKSRefreshInterval = 5 * time.Minute  // XDROptions.RefreshInterval
	ClockLeeway                = 30 * time.Second // skew tolerated on exp and nbf
)

// DefaultJWKSHosts returns the key host of each XDR region, the default
// region's first.
func DefaultJWKSHosts() []string {
	var hosts []string
	for _, r := range xdrregion.All() {
		hosts = append(hosts, r.JWKSHost)
	}
	return hosts
}

// XDROptions configures an XDR verifier.
type XDROptions struct {
	Hosts []string // JWKS allowlist, "host" or "host:port"; empty: DefaultJWKSHosts
	// Audience is the relay's public URL (RELAY_URL), which every token's
	// aud must equal, a trailing slash aside.
	Audience string
	// AudienceFromRequest expects instead the URL the request arrived at.
	// Only behind a proxy that sets X-Forwarded-Proto and Host is it safe: a
	// client choosing them can replay a token issued for another relay.
	AudienceFromRequest bool
	HTTPClient          *http.Client     // nil: the system trust store; never redirected
	Timeout             time.Duration    // of one key-set fetch; 0: DefaultJWKSTimeout
	RefreshInterval     time.Duration    // least time between a host's fetches, failed or not; 0: DefaultJWKSRefreshInterval
	Now                 func() time.Time // nil: time.Now
}

// XDR verifies Cisco XDR configuration tokens: RS256 JWTs signed per call,
// carrying the module's configuration, "jwks_host" and "aud". Verify checks
// alg and kid; that jwks_host is allowlisted (before any request, so a
// forged host is never contacted); the signature by that host's key; exp,
// nbf, aud and "key". Build it with NewXDR; it is safe for concurrent use.
type XDR struct {
	audience    string
	fromRequest bool
	now         func() time.Time
	keys        *keyCache
}

// NewXDR returns an XDR verifier, or an error for unusable options.
func NewXDR(o XDROptions) (*XDR, error) {
	v := &XDR{fromRequest: o.AudienceFromRequest, now: o.Now}
	if v.now == nil {
		v.now = time.Now
	}
	switch {
	case o.Audience != "" && o.AudienceFromRequest:
		return nil, errors.New("auth: set RELAY_URL or RELAY_URL_FROM_REQUEST=true, not both")
	case o.Audience != "":
		aud, err := RelayURL(o.Audience)
		if err != nil {
			return nil, err
		}
		v.audience = aud
	case !o.AudienceFromRequest:
		return nil, errors.New("auth: XDR tokens need the relay URL as their audience")
	}
	timeout := o.Timeout
	if timeout <= 0 {
		timeout = DefaultJWKSTimeout
	}
	interval := o.RefreshInterval
	if interval <= 0 {
		interval = DefaultJWKSRefreshInterval
	}
	var client http.Client
	if o.HTTPClient != nil {
		client = *o.HTTPClient
	} else {
		client = http.Client{Transport: http.DefaultTransport.(*http.Transport).Clone(), Timeout: timeout}
	}
	// A redirect would send the relay to a host nobody allowlisted.
	client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	hosts := o.Hosts
	if len(hosts) == 0 {
		hosts = DefaultJWKSHosts()
	}
	v.keys = &keyCache{client: &client, timeout: timeout, interval: interval, now: v.now, hosts: make(map[string]*hostKeys, len(hosts))}
	for _, h := range hosts {
		n, err := normalizeHost(h)
		if err != nil {
			return nil, err
		}
		v.keys.hosts[n] = &hostKeys{url: "https://" + n + jwksPath}
	}
	return v, nil
}

// Verify implements Verifier.
func (v *XDR) Verify(r *http.Request) (Credentials, error) {
	raw, err := BearerToken(r)
	if err != nil {
		return Credentials{}, err
	}
	// Read only the header and jwks_host unverified, to learn where the key
	// lives: nothing else of an unsigned payload is decoded.
	kid, host, err := v.unverifiedKey(raw)
	if err != nil {
		return Credentials{}, err
	}
	key, err := v.keys.key(r.Context(), host, kid)
	switch {
	case errors.Is(err, errKidNotFound):
		return Credentials{}, fail(ReasonKidNotFound)
	case err != nil:
		// The contract's wording blames the host; the cause goes to the log.
		return Credentials{}, &Error{Reason: ReasonWrongJWKSHost, Err: fmt.Errorf("key set of %s: %w", host, err)}
	}
	if !rs256Signed(raw, key) { // before the claims are decoded
		return Credentials{}, fail(ReasonRS256BadSignature)
	}
	claims, err := signedClaims(raw,
		jwt.WithLeeway(ClockLeeway),
		jwt.WithTimeFunc(v.now),
		jwt.WithExpirationRequired(), // XDR's configuration tokens always carry exp
	)
	if err != nil {
		return Credentials{}, classify(err, ReasonRS256BadSignature)
	}
	if signed, _ := claims["jwks_host"].(string); !strings.EqualFold(signed, host) {
		// The unverified reading matched the name in another case (JSON
		// object keys): the signed claim is the one that counts.
		return Credentials{}, fail(ReasonWrongJWKSHost)
	}
	if !audienceMatches(claims, v.expectedAudience(r)) {
		return Credentials{}, fail(ReasonWrongAudience)
	}
	creds, err := credentialsFrom(claims)
	if err != nil {
		return Credentials{}, err
	}
	creds.EntitiesLimit = entitiesLimit(claims["CTR_ENTITIES_LIMIT"])
	return creds, nil
}

// rs256Signed reports whether raw carries an RSA PKCS #1 v1.5 SHA-256
// signature by key over its header and payload.
func rs256Signed(raw string, key *rsa.PublicKey) bool {
	header, payload, sig, ok := splitToken(raw)
	if !ok {
		return false
	}
	s, err := base64.RawURLEncoding.DecodeString(sig)
	if err != nil {
		return false
	}
	h := sha256.New()
	hashString(h, raw[:len(header)+1+len(payload)])
	return rsa.VerifyPKCS1v15(key, crypto.SHA256, h.Sum(nil), s) == nil
}

// Bounds of what is read of a token before its signature is checked.
const (
	maxKidBytes      = 256
	maxJWKSHostBytes = 262 // a DNS name and a port
)

// unverifiedKey reads, before any signature check, a token's kid and the
// allowlisted host its jwks_host claim names: the header (alg, kid) and
// that one claim, with bounded sizes.
func (v *XDR) unverifiedKey(raw string) (kid, host string, err error) {
	header, payload, _, ok := splitToken(raw)
	if !ok {
		return "", "", fail(ReasonWrongStructure)
	}
	var h struct {
		Alg any `json:"alg"`
		Kid any `json:"kid"`
	}
	if decodeSegment(header, maxHeaderSegment, &h) != nil {
		return "", "", fail(ReasonWrongStructure)
	}
	if h.Alg != jwt.SigningMethodRS256.Alg() {
		return "", "", fail(ReasonRS256BadSignature)
	}
	kid, _ = h.Kid.(string)
	if kid == "" || len(kid) > maxKidBytes {
		return "", "", fail(ReasonWrongStructure)
	}
	var c struct {
		JWKSHost any `json:"jwks_host"`
	}
	if decodeSegment(payload, MaxTokenBytes, &c) != nil {
		return "", "", fail(ReasonWrongStructure)
	}
	host, err = v.jwksHost(c.JWKSHost)
	return kid, host, err
}

// jwksHost returns the allowlisted host a jwks_host claim names.
func (v *XDR) jwksHost(c any) (string, error) {
	if c == nil || c == "" {
		return "", fail(ReasonJWKSHostMissing)
	}
	s, ok := c.(string)
	if !ok || len(s) > maxJWKSHostBytes {
		return "", fail(ReasonWrongJWKSHost)
	}
	host, ok := asciiLower(s)
	if !ok {
		return "", fail(ReasonWrongJWKSHost)
	}
	if _, ok := v.keys.hosts[host]; !ok {
		return "", fail(ReasonWrongJWKSHost)
	}
	return host, nil
}

// expectedAudience is the aud a token for r must carry; from the request,
// X-Forwarded-Proto wins over TLS, as the proxy saw the client.
func (v *XDR) expectedAudience(r *http.Request) string {
	if !v.fromRequest {
		return v.audience
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	first, _, _ := strings.Cut(r.Header.Get("X-Forwarded-Proto"), ",")
	if p := strings.ToLower(strings.TrimSpace(first)); p == "https" || p == "http" {
		scheme = p
	}
	return scheme + "://" + r.Host
}

// audienceMatches reports whether aud holds want, a trailing slash aside.
func audienceMatches(claims jwt.MapClaims, want string) bool {
	auds, err := claims.GetAudience()
	if err != nil || want == "" {
		return false
	}
	for _, a := range auds {
		if strings.TrimRight(a, "/") == want {
			return true
		}
	}
	return false
}

// entitiesLimit reads CTR_ENTITIES_LIMIT, a positive integer (maybe in a
// string); anything else is 0, the relay's default. The relay caps it at
// CTR_ENTITIES_LIMIT_MAX; past MaxInt32 (so it fits an int) it is MaxInt32.
func entitiesLimit(c any) int {
	x, ok := c.(float64)
	if s, isString := c.(string); isString {
		n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
		if errors.Is(err, strconv.ErrRange) && n > 0 {
			return math.MaxInt32
		}
		x, ok = float64(n), err == nil
	}
	switch {
	case !ok || x != math.Trunc(x) || x < 1:
		return 0
	case x > math.MaxInt32:
		return math.MaxInt32
	}
	return int(x)
}

// asciiLower lower-cases a host name, refusing any non-ASCII byte: Unicode
// case mapping would let "vİsİbİlİty.amp.cİsco.com" (dotted capital I) or a
// Kelvin sign stand for an allowlisted name. IDNs come in punycode.
func asciiLower(s string) (lower string, ok bool) {
	b := []byte(s)
	for i, c := range b {
		switch {
		case c >= utf8.RuneSelf:
			return "", false
		case 'A' <= c && c <= 'Z':
			b[i] = c + ('a' - 'A')
		}
	}
	return string(b), true
}

// normalizeHost validates and lower-cases an allowlist entry.
func normalizeHost(entry string) (string, error) {
	h, ascii := asciiLower(strings.TrimSpace(entry))
	u, err := url.Parse("https://" + h)
	if h == "" || !ascii || err != nil || u.Host != h || u.Hostname() == "" || u.User != nil ||
		u.Path != "" || u.RawQuery != "" || u.Fragment != "" || strings.ContainsAny(h, "/?#@\\") {
		return "", fmt.Errorf("auth: JWKS host %q is not an ASCII host or host:port", entry)
	}
	return h, nil
}

// RelayURL checks the relay's public URL (RELAY_URL; the module type's
// properties.url, which XDR sends as every token's aud): an absolute
// http(s) URL with a host, without credentials, query or fragment. It
// returns the URL without trailing slashes; its errors never quote it, as
// it may hold a password.
func RelayURL(s string) (string, error) {
	s = strings.TrimSpace(s)
	u, err := url.Parse(s)
	switch {
	case s == "":
		return "", errors.New("auth: the relay URL is required")
	case err != nil:
		return "", errors.New("auth: the relay URL is not a URL")
	case u.Scheme != "https" && u.Scheme != "http":
		return "", errors.New("auth: the relay URL must start with https:// (or http://)")
	case u.Hostname() == "":
		return "", errors.New("auth: the relay URL has no host")
	case u.User != nil:
		return "", errors.New("auth: the relay URL must not carry credentials")
	case u.RawQuery != "" || u.ForceQuery || u.Fragment != "":
		return "", errors.New("auth: the relay URL must not have a query or fragment")
	}
	return strings.TrimRight(s, "/"), nil
}

// JWKS fetching limits. A key set is a few KiB of a handful of keys.
const (
	jwksPath        = "/.well-known/jwks"
	maxJWKSBytes    = 1 << 20 // cap on a key-set response body
	minRSAKeyBits   = 2048    // smaller keys are ignored
	jwksMaxAge      = time.Hour
	maxJWKSKeyCount = 100
)

// errKidNotFound is turned into a contract reason by XDR.Verify.
var errKidNotFound = errors.New("kid not in key set")

// keyCache holds the RSA keys of each allowlisted JWKS host; its map never
// grows, so a token cannot make the relay remember another host. jwkset's
// own HTTP storage fetches within the caller's context, lets no caller join
// a fetch, drops the fetch error and reads an unbounded body: fetching and
// the rate limit stay here.
type keyCache struct {
	client   *http.Client
	timeout  time.Duration
	interval time.Duration // least time between two fetches of one host
	now      func() time.Time
	hosts    map[string]*hostKeys // allowlisted host → its keys
}

// hostKeys is one host's cached key set. Its lock is never held across a
// network call: a fetch runs in its own goroutine, and callers wait on it.
type hostKeys struct {
	url string

	mu        sync.Mutex
	keys      map[string]*rsa.PublicKey // nil until a fetch succeeds
	fetchedAt time.Time                 // last successful fetch
	triedAt   time.Time                 // start of the last fetch, whatever its outcome
	lastErr   error                     // outcome of the last finished fetch
	inflight  *keyFetch                 // the fetch under way, if any
}

// keyFetch is one fetch of a host's key set; err is set before done closes.
type keyFetch struct {
	done chan struct{}
	err  error
}

// key returns the key kid of an allowlisted host. A cached kid is returned
// at once (a stale set is refreshed in the background); an unknown one
// starts or joins a fetch and waits for it. Fetches start at most once per
// interval; a refused one answers errKidNotFound, or the last fetch's error
// when the host has no key set.
func (c *keyCache) key(ctx context.Context, host, kid string) (*rsa.PublicKey, error) {
	hk := c.hosts[host] // callers check the allowlist
	hk.mu.Lock()
	now := c.now()
	if k, found := hk.keys[kid]; found {
		if now.Sub(hk.fetchedAt) >= jwksMaxAge && hk.inflight == nil && c.mayFetch(hk, now) {
			c.startFetch(hk, now)
		}
		hk.mu.Unlock()
		return k, nil
	}
	call := hk.inflight
	if call == nil {
		if !c.mayFetch(hk, now) {
			hasKeys, err := hk.keys != nil, hk.lastErr
			hk.mu.Unlock()
			if hasKeys || err == nil {
				return nil, errKidNotFound
			}
			return nil, err
		}
		call = c.startFetch(hk, now)
	}
	hk.mu.Unlock()

	select {
	case <-call.done:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	hk.mu.Lock()
	k, found := hk.keys[kid]
	hk.mu.Unlock()
	switch {
	case found:
		return k, nil
	case call.err != nil:
		return nil, call.err
	default:
		return nil, errKidNotFound
	}
}

// mayFetch reports whether the rate limit allows a fetch of hk at now (a
// failed fetch counts too). hk.mu is held.
func (c *keyCache) mayFetch(hk *hostKeys, now time.Time) bool {
	return hk.triedAt.IsZero() || now.Sub(hk.triedAt) >= c.interval
}

// startFetch starts fetching hk's key set and returns the fetch to wait
// on. hk.mu is held.
func (c *keyCache) startFetch(hk *hostKeys, now time.Time) *keyFetch {
	call := &keyFetch{done: make(chan struct{})}
	hk.triedAt, hk.inflight = now, call
	go func() {
		keys, err := c.fetch(hk.url)
		hk.mu.Lock()
		if err == nil {
			hk.keys, hk.fetchedAt = keys, c.now()
		}
		hk.lastErr, hk.inflight, call.err = err, nil, err
		hk.mu.Unlock()
		close(call.done)
	}()
	return call
}

// fetch downloads and parses a key set under its own timeout: one
// impatient caller must not spoil the cache for the others.
func (c *keyCache) fetch(url string) (map[string]*rsa.PublicKey, error) {
	ctx, cancel := context.WithTimeout(context.Background(), c.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, fmt.Errorf("jwks request: %w", err)
	}
	req.Header.Set("Accept", "application/json")
	resp, err := c.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("jwks fetch: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxJWKSBytes))
		return nil, fmt.Errorf("jwks fetch: status %d", resp.StatusCode)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxJWKSBytes+1))
	if err != nil {
		return nil, fmt.Errorf("jwks read: %w", err)
	}
	if len(body) > maxJWKSBytes {
		return nil, errors.New("jwks read: response too large")
	}
	return parseJWKS(body)
}

// parseJWKS returns a JWK Set's usable RS256 signing keys by kid; a kid two
// entries claim is trusted in neither, whether or not the other decodes.
func parseJWKS(body []byte) (map[string]*rsa.PublicKey, error) {
	var set struct {
		Keys []json.RawMessage `json:"keys"`
	}
	if err := json.Unmarshal(body, &set); err != nil {
		return nil, errors.New("jwks decode: not a JWK Set")
	}
	keys := make(map[string]*rsa.PublicKey)
	seen := make(map[string]bool)
	for _, raw := range set.Keys {
		var head struct {
			Kty string `json:"kty"`
			Kid string `json:"kid"`
			Use string `json:"use"`
			Alg string `json:"alg"`
		}
		if json.Unmarshal(raw, &head) != nil || head.Kid == "" {
			continue
		}
		if seen[head.Kid] { // ambiguous, whether or not the other copy was usable: trust none
			delete(keys, head.Kid)
			continue
		}
		seen[head.Kid] = true
		if head.Kty != "RSA" || (head.Use != "" && head.Use != string(jwkset.UseSig)) ||
			(head.Alg != "" && head.Alg != string(jwkset.AlgRS256)) {
			continue
		}
		k, err := jwkset.NewJWKFromRawJSON(raw, jwkset.JWKMarshalOptions{}, jwkset.JWKValidateOptions{})
		if err != nil {
			continue
		}
		pub, ok := k.Key().(*rsa.PublicKey)
		if !ok || pub.N.BitLen() < minRSAKeyBits || pub.E < 3 || pub.E%2 == 0 {
			continue
		}
		keys[head.Kid] = pub
		if len(keys) == maxJWKSKeyCount {
			break
		}
	}
	if len(keys) == 0 {
		return nil, errors.New("jwks decode: no usable RS256 key")
	}
	return keys, nil
}
