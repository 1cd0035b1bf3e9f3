package auth

import (
	"context"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"

	"github.com/MicahParks/jwkset"
)

// JWKS fetching limits. A key set is a few kilobytes; Cisco publishes a
// handful of keys.
const (
	jwksPath        = "/.well-known/jwks"
	maxJWKSBytes    = 1 << 20 // cap on a key-set response body
	minRSAKeyBits   = 2048    // smaller keys are ignored
	jwksMaxAge      = time.Hour
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
//
// jwkset decodes the keys (parseJWKS). Fetching, caching and the rate limit
// stay here: jwkset's HTTP storage refreshes on an unknown kid within the
// caller's context (one caller hanging up cancels the fetch yet spends the
// interval), lets no caller join a fetch under way, waits on its rate
// limiter up to the deadline it also fetches with, reads the wall clock
// rather than the verifier's, drops the fetch error instead of returning it,
// and reads an unbounded body in which one bad key fails the whole set.
type keyCache struct {
	client   *http.Client
	timeout  time.Duration
	interval time.Duration // least time between two fetches of one host
	now      func() time.Time
	hosts    map[string]*hostKeys // allowlisted host → its keys
}

// hostKeys is the cached key set of one host. Its lock guards the fields
// only and is never held across a network call: a fetch runs in its own
// goroutine, and the callers that need its result wait on its done channel.
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

func newKeyCache(hosts []string, client *http.Client, timeout, interval time.Duration, now func() time.Time) *keyCache {
	c := &keyCache{client: client, timeout: timeout, interval: interval, now: now, hosts: make(map[string]*hostKeys, len(hosts))}
	for _, h := range hosts {
		c.hosts[h] = &hostKeys{url: "https://" + h + jwksPath}
	}
	return c
}

// key returns the key with id kid published by host, which must be one of
// the allowlisted hosts.
//
// A cached kid is returned at once, whatever the host's state; when the
// cached set is older than jwksMaxAge a refresh is started in the
// background, and the old set stays in use until a fetch succeeds. An
// unknown kid starts a fetch and waits for it (at most the fetch timeout,
// or until ctx ends), or joins the fetch already under way. Whatever their
// outcome, fetches of one host start at most once per interval, and never
// two at a time: an unknown kid that the rate limit refuses is answered at
// once, with errKidNotFound when the host has a key set and with the last
// fetch's error when it has none.
func (c *keyCache) key(ctx context.Context, host, kid string) (*rsa.PublicKey, error) {
	hk, ok := c.hosts[host]
	if !ok {
		return nil, errNoKeySet // unreachable: callers check the allowlist
	}
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

// mayFetch reports whether the rate limit allows another fetch of hk at
// now. A failed fetch counts like a successful one. hk.mu must be held.
func (c *keyCache) mayFetch(hk *hostKeys, now time.Time) bool {
	return hk.triedAt.IsZero() || now.Sub(hk.triedAt) >= c.interval
}

// startFetch starts fetching hk's key set in its own goroutine and returns
// the fetch to wait on. hk.mu must be held.
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

// fetch downloads and parses a key set. It belongs to no caller — one
// impatient caller must not spoil the cache for the others — and is bounded
// by the fetch timeout.
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

// parseJWKS returns the RS256 signing keys of a JWK Set by kid. jwkset
// decodes and validates each key; keys of other types or uses, keys without
// a kid, keys the library refuses and weak keys are skipped. A kid that two
// RS256 signing entries claim is ambiguous, whether or not the other entry
// decodes: neither is trusted. A set without any usable key is an error.
func parseJWKS(body []byte) (map[string]*rsa.PublicKey, error) {
	var set struct {
		Keys []json.RawMessage `json:"keys"`
	}
	if err := json.Unmarshal(body, &set); err != nil {
		return nil, errors.New("jwks decode: not a JWK Set")
	}
	keys := make(map[string]*rsa.PublicKey)
	withdrawn := make(map[string]bool)
	for _, raw := range set.Keys {
		var head struct {
			Kty string `json:"kty"`
			Kid string `json:"kid"`
			Use string `json:"use"`
			Alg string `json:"alg"`
		}
		if json.Unmarshal(raw, &head) != nil || head.Kty != "RSA" || head.Kid == "" || withdrawn[head.Kid] ||
			(head.Use != "" && head.Use != string(jwkset.UseSig)) || (head.Alg != "" && head.Alg != string(jwkset.AlgRS256)) {
			continue
		}
		if _, dup := keys[head.Kid]; dup { // ambiguous: trust neither
			delete(keys, head.Kid)
			withdrawn[head.Kid] = true
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
