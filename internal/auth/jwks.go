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

// keyCache holds the RSA keys of each allowlisted JWKS host. Its map is
// built once from the allowlist, so a token cannot make the relay remember
// (or contact) another host.
//
// jwkset decodes the keys; fetching and the rate limit stay here, because
// jwkset's HTTP storage fetches within the caller's context (one caller
// hanging up spends the interval), lets no caller join a fetch under way,
// reads the wall clock, drops the fetch error, and reads an unbounded body
// in which one bad key fails the whole set.
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

func newKeyCache(hosts []string, client *http.Client, timeout, interval time.Duration, now func() time.Time) *keyCache {
	c := &keyCache{client: client, timeout: timeout, interval: interval, now: now, hosts: make(map[string]*hostKeys, len(hosts))}
	for _, h := range hosts {
		c.hosts[h] = &hostKeys{url: "https://" + h + jwksPath}
	}
	return c
}

// key returns the key kid of an allowlisted host. A cached kid is returned
// at once; a set older than jwksMaxAge is refreshed in the background and
// used until a fetch succeeds. An unknown kid starts a fetch, or joins the
// one under way, and waits for it (or for ctx). Fetches of one host start
// at most once per interval, whatever their outcome; an unknown kid the
// rate limit refuses gets errKidNotFound at once, or the last fetch's error
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

// parseJWKS returns a JWK Set's RS256 signing keys by kid, skipping keys of
// other types or uses, without a kid, refused by jwkset, or weak. A kid two
// entries claim is trusted in neither, whether or not the other decodes. A
// set without a usable key is an error.
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
