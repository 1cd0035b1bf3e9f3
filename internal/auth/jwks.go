package auth

import (
	"context"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"strings"
	"time"
)

// JWKS fetching limits. A key set is a few kilobytes; Cisco publishes a
// handful of keys.
const (
	jwksPath        = "/.well-known/jwks"
	maxJWKSBytes    = 1 << 20 // cap on a key-set response body
	minRSAKeyBits   = 2048    // smaller keys are ignored
	jwksMaxAge      = time.Hour
	jwksRetryDelay  = 10 * time.Second // after a failed fetch
	maxJWKSKeyCount = 100
)

// Errors of the key cache. They never leave the package: XDR.Verify turns
// them into contract reasons.
var (
	errKidNotFound = errors.New("kid not in key set")
	errNoKeySet    = errors.New("no key set")
)

// keyCache holds the RSA keys published by each allowlisted JWKS host. Its
// map is built once from the allowlist and never grows, so a token cannot
// make the relay remember (or contact) a host it was not configured with.
type keyCache struct {
	client   *http.Client
	timeout  time.Duration
	interval time.Duration // least time between two fetches of one host
	now      func() time.Time
	hosts    map[string]*hostKeys // allowlisted host → its keys
}

// hostKeys is the cached key set of one host. sem (capacity 1) serialises
// fetches, so concurrent requests for an unknown kid cause one request, and
// waiters give up when their own request ends.
type hostKeys struct {
	url string
	sem chan struct{}

	// Guarded by sem.
	keys      map[string]*rsa.PublicKey // nil until a fetch succeeds
	fetchedAt time.Time                 // last successful fetch
	triedAt   time.Time                 // last fetch attempt
	lastErr   error                     // outcome of the last attempt
}

func newKeyCache(hosts []string, client *http.Client, timeout, interval time.Duration, now func() time.Time) *keyCache {
	c := &keyCache{client: client, timeout: timeout, interval: interval, now: now, hosts: make(map[string]*hostKeys, len(hosts))}
	for _, h := range hosts {
		c.hosts[h] = &hostKeys{url: "https://" + h + jwksPath, sem: make(chan struct{}, 1)}
	}
	return c
}

// key returns the key with id kid published by host, which must be one of
// the allowlisted hosts. The host's key set is fetched on first use, when it
// is older than jwksMaxAge, and when kid is unknown — but at most once per
// interval (once per jwksRetryDelay after a failure, if that is shorter).
// It returns errKidNotFound when the host's current key set lacks kid, and
// a fetch error when there is no usable key set.
func (c *keyCache) key(ctx context.Context, host, kid string) (*rsa.PublicKey, error) {
	hk, ok := c.hosts[host]
	if !ok {
		return nil, errNoKeySet // unreachable: callers check the allowlist
	}
	select {
	case hk.sem <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	defer func() { <-hk.sem }()

	now := c.now()
	k, found := hk.keys[kid]
	fresh := hk.keys != nil && now.Sub(hk.fetchedAt) < jwksMaxAge
	if found && fresh {
		return k, nil
	}
	if !c.mayFetch(hk, now) {
		switch {
		case found:
			return k, nil
		case hk.keys != nil:
			return nil, errKidNotFound
		default:
			return nil, hk.lastErr
		}
	}

	hk.triedAt = now
	keys, err := c.fetch(ctx, hk.url)
	hk.lastErr = err
	if err != nil {
		if found { // a stale set still serves the keys it has
			return k, nil
		}
		return nil, err
	}
	hk.keys, hk.fetchedAt = keys, now
	if k, ok := keys[kid]; ok {
		return k, nil
	}
	return nil, errKidNotFound
}

// mayFetch reports whether the rate limit allows another fetch of hk at now.
func (c *keyCache) mayFetch(hk *hostKeys, now time.Time) bool {
	if hk.triedAt.IsZero() {
		return true
	}
	wait := c.interval
	if hk.lastErr != nil && jwksRetryDelay < wait {
		wait = jwksRetryDelay
	}
	return now.Sub(hk.triedAt) >= wait
}

// fetch downloads and parses a key set. The request is detached from the
// caller's cancellation — one impatient caller must not spoil the cache for
// the others — but bounded by the fetch timeout.
func (c *keyCache) fetch(ctx context.Context, url string) (map[string]*rsa.PublicKey, error) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), c.timeout)
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

// jsonWebKey is the subset of an RFC 7517 JWK that an RS256 key needs.
type jsonWebKey struct {
	Kty string `json:"kty"`
	Kid string `json:"kid"`
	Use string `json:"use"`
	Alg string `json:"alg"`
	N   string `json:"n"`
	E   string `json:"e"`
}

// parseJWKS returns the RS256 signing keys of a JWK Set by kid. Keys of
// other types or uses, keys without a kid, weak keys and repeated kids are
// skipped; a set without any usable key is an error.
func parseJWKS(body []byte) (map[string]*rsa.PublicKey, error) {
	var set struct {
		Keys []json.RawMessage `json:"keys"`
	}
	if err := json.Unmarshal(body, &set); err != nil {
		return nil, errors.New("jwks decode: not a JWK Set")
	}
	keys := make(map[string]*rsa.PublicKey)
	skipped := make(map[string]bool)
	for _, raw := range set.Keys {
		var k jsonWebKey
		if err := json.Unmarshal(raw, &k); err != nil {
			continue
		}
		if k.Kty != "RSA" || (k.Use != "" && k.Use != "sig") || (k.Alg != "" && k.Alg != "RS256") || k.Kid == "" {
			continue
		}
		if skipped[k.Kid] {
			continue
		}
		if _, dup := keys[k.Kid]; dup { // ambiguous: trust neither
			delete(keys, k.Kid)
			skipped[k.Kid] = true
			continue
		}
		pub, err := rsaPublicKey(k.N, k.E)
		if err != nil {
			continue
		}
		keys[k.Kid] = pub
		if len(keys) == maxJWKSKeyCount {
			break
		}
	}
	if len(keys) == 0 {
		return nil, errors.New("jwks decode: no usable RS256 key")
	}
	return keys, nil
}

// rsaPublicKey builds a public key from the base64url modulus and exponent
// of a JWK.
func rsaPublicKey(n, e string) (*rsa.PublicKey, error) {
	nb, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(n, "="))
	if err != nil {
		return nil, errors.New("bad modulus encoding")
	}
	eb, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(e, "="))
	if err != nil || len(eb) == 0 || len(eb) > 4 {
		return nil, errors.New("bad exponent")
	}
	var exp uint64
	for _, b := range eb {
		exp = exp<<8 | uint64(b)
	}
	if exp < 3 || exp%2 == 0 || exp > 1<<31-1 {
		return nil, errors.New("bad exponent")
	}
	mod := new(big.Int).SetBytes(nb)
	if mod.BitLen() < minRSAKeyBits {
		return nil, errors.New("modulus too small")
	}
	return &rsa.PublicKey{N: mod, E: int(exp)}, nil
}
