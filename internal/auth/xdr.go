package auth

import (
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/golang-jwt/jwt/v5"
)

// Defaults and limits of the XDR verifier.
const (
	// MaxEntitiesLimit caps the CTR_ENTITIES_LIMIT a configuration token
	// may ask for; larger values are lowered to it.
	MaxEntitiesLimit = 1000
	// DefaultJWKSTimeout bounds one key-set fetch when XDROptions.Timeout
	// is zero.
	DefaultJWKSTimeout = 5 * time.Second
	// DefaultJWKSRefreshInterval is the least time between two fetches of
	// one host's key set when XDROptions.RefreshInterval is zero.
	DefaultJWKSRefreshInterval = 5 * time.Minute
	// ClockLeeway is the clock skew tolerated on exp and nbf.
	ClockLeeway = 30 * time.Second
)

// DefaultJWKSHosts returns the Cisco XDR hosts that publish the keys
// configuration tokens are signed with, one per region (us, eu, apjc).
func DefaultJWKSHosts() []string {
	return []string{
		"visibility.amp.cisco.com",
		"visibility.eu.amp.cisco.com",
		"visibility.apjc.amp.cisco.com",
	}
}

// XDROptions configures an XDR verifier.
type XDROptions struct {
	// Hosts is the allowlist of JWKS hosts, each "host" or "host:port".
	// Empty means DefaultJWKSHosts.
	Hosts []string
	// Audience is the relay's public URL (RELAY_URL); every token's aud
	// must equal it. A trailing slash is ignored on both sides.
	Audience string
	// AudienceFromRequest makes the expected audience the URL the request
	// arrived at: scheme from X-Forwarded-Proto (or TLS), then the Host
	// header, no path. It is only allowed when Audience is empty, and only
	// safe behind a proxy that sets both headers itself: a client choosing
	// them can replay a token issued for another relay.
	AudienceFromRequest bool
	// HTTPClient fetches key sets. Nil means a client on the system trust
	// store (so SSL_CERT_FILE applies). Redirects are never followed.
	HTTPClient *http.Client
	// Timeout bounds one key-set fetch; zero means DefaultJWKSTimeout.
	Timeout time.Duration
	// RefreshInterval is the least time between two fetches of one host's
	// key set, however many unknown kids arrive and whether or not the last
	// fetch succeeded; zero means DefaultJWKSRefreshInterval.
	RefreshInterval time.Duration
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// XDR verifies Cisco XDR configuration tokens: RS256 JWTs signed per call
// by XDR, whose payload is the module instance's configuration (custom_key
// as "key", custom_CTR_ENTITIES_LIMIT as "CTR_ENTITIES_LIMIT") plus
// "jwks_host" and "aud".
//
// Verify checks, in order: a Bearer token; alg RS256 and a kid in the
// header; a jwks_host claim naming an allowlisted host (checked before any
// network request, so a forged host is never contacted); the key with that
// kid in the host's key set at https://<host>/.well-known/jwks; the
// signature; exp (required) and nbf when present (with ClockLeeway); aud; and a
// non-empty "key". Key sets are cached per host and refetched on an unknown
// kid at most once per RefreshInterval; a cached kid never waits for a
// fetch.
//
// An XDR is safe for concurrent use. Create it with NewXDR.
type XDR struct {
	audience    string
	fromRequest bool
	now         func() time.Time
	keys        *keyCache
}

var _ Verifier = (*XDR)(nil)

// NewXDR returns an XDR verifier, or an error when the options are
// unusable: no audience source, or a malformed host or audience.
func NewXDR(o XDROptions) (*XDR, error) {
	v := &XDR{fromRequest: o.AudienceFromRequest, now: o.Now}
	if v.now == nil {
		v.now = time.Now
	}
	switch {
	case o.Audience != "" && o.AudienceFromRequest:
		return nil, errors.New("auth: set either the relay URL or audience-from-request, not both")
	case o.Audience != "":
		aud, err := normalizeAudience(o.Audience)
		if err != nil {
			return nil, err
		}
		v.audience = aud
	case !o.AudienceFromRequest:
		return nil, errors.New("auth: XDR tokens need the relay URL as their audience")
	}

	hosts := o.Hosts
	if len(hosts) == 0 {
		hosts = DefaultJWKSHosts()
	}
	allowed := make([]string, 0, len(hosts))
	for _, h := range hosts {
		n, err := normalizeHost(h)
		if err != nil {
			return nil, err
		}
		allowed = append(allowed, n)
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

	v.keys = newKeyCache(allowed, &client, timeout, interval, v.now)
	return v, nil
}

// Verify implements Verifier.
func (v *XDR) Verify(r *http.Request) (Credentials, error) {
	raw, err := BearerToken(r)
	if err != nil {
		return Credentials{}, err
	}

	// Read header and claims unverified, to learn where the key lives.
	unverified := jwt.MapClaims{}
	tok, _, err := jwt.NewParser().ParseUnverified(raw, unverified)
	if err != nil {
		if errors.Is(err, jwt.ErrTokenMalformed) {
			return Credentials{}, fail(ReasonWrongStructure)
		}
		return Credentials{}, fail(ReasonRS256BadSignature) // unknown alg
	}
	if alg, _ := tok.Header["alg"].(string); alg != jwt.SigningMethodRS256.Alg() {
		return Credentials{}, fail(ReasonRS256BadSignature)
	}
	kid, _ := tok.Header["kid"].(string)
	if kid == "" {
		return Credentials{}, fail(ReasonWrongStructure)
	}
	host, err := v.jwksHost(unverified)
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

	claims := jwt.MapClaims{}
	_, err = jwt.NewParser(
		jwt.WithValidMethods([]string{jwt.SigningMethodRS256.Alg()}),
		jwt.WithLeeway(ClockLeeway),
		jwt.WithTimeFunc(v.now),
		jwt.WithExpirationRequired(), // XDR's configuration tokens always carry exp

	).ParseWithClaims(raw, claims, func(*jwt.Token) (any, error) { return key, nil })
	if err != nil {
		return Credentials{}, classify(err, ReasonRS256BadSignature)
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

// jwksHost returns the allowlisted host the jwks_host claim names.
func (v *XDR) jwksHost(claims jwt.MapClaims) (string, error) {
	c, ok := claims["jwks_host"]
	if !ok || c == "" {
		return "", fail(ReasonJWKSHostMissing)
	}
	s, ok := c.(string)
	if !ok {
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

// expectedAudience is the aud a token for this request must carry.
func (v *XDR) expectedAudience(r *http.Request) string {
	if !v.fromRequest {
		return v.audience
	}
	return requestAudience(r)
}

// requestAudience derives a relay URL from r: "https" when the first
// X-Forwarded-Proto value says so or the connection is TLS (X-Forwarded-Proto
// "http" wins over TLS, as the proxy saw the client), otherwise "http";
// then "://" and the Host header. It has no path and no trailing slash.
func requestAudience(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	if p := r.Header.Get("X-Forwarded-Proto"); p != "" {
		first, _, _ := strings.Cut(p, ",")
		switch strings.ToLower(strings.TrimSpace(first)) {
		case "https":
			scheme = "https"
		case "http":
			scheme = "http"
		}
	}
	return scheme + "://" + r.Host
}

// audienceMatches reports whether the aud claim (a string or an array)
// contains want, ignoring a trailing slash.
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

// entitiesLimit reads the CTR_ENTITIES_LIMIT claim: a positive integer (a
// JSON number or a decimal string), capped at MaxEntitiesLimit. Anything
// else — absent, zero, negative, fractional, not a number — yields 0, which
// leaves the relay's default in force.
func entitiesLimit(c any) int {
	switch x := c.(type) {
	case float64:
		switch {
		case x != math.Trunc(x) || x < 1:
			return 0
		case x > MaxEntitiesLimit:
			return MaxEntitiesLimit
		default:
			return int(x)
		}
	case string:
		n, err := strconv.ParseInt(strings.TrimSpace(x), 10, 64)
		switch {
		case err != nil && errors.Is(err, strconv.ErrRange) && n > 0:
			return MaxEntitiesLimit
		case err != nil || n < 1:
			return 0
		case n > MaxEntitiesLimit:
			return MaxEntitiesLimit
		default:
			return int(n)
		}
	default:
		return 0
	}
}

// asciiLower folds the ASCII letters of a host name to lower case. A name
// with any other byte is refused (ok is false): Unicode case mapping would
// let "vİsİbİlİty.amp.cİsco.com" (dotted capital I) or a Kelvin sign stand
// for an allowlisted name. Internationalised names are written in their
// ASCII (punycode) form.
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

// normalizeHost validates an allowlist entry ("host" or "host:port") and
// returns it in lower case.
func normalizeHost(entry string) (string, error) {
	h, ascii := asciiLower(strings.TrimSpace(entry))
	u, err := url.Parse("https://" + h)
	if h == "" || !ascii || err != nil || u.Host != h || u.Hostname() == "" || u.User != nil ||
		u.Path != "" || u.RawQuery != "" || u.Fragment != "" || strings.ContainsAny(h, "/?#@\\") {
		return "", fmt.Errorf("auth: JWKS host %q is not an ASCII host or host:port", entry)
	}
	return h, nil
}

// normalizeAudience validates the relay URL used as the audience and drops
// trailing slashes.
func normalizeAudience(s string) (string, error) {
	u, err := url.Parse(strings.TrimSpace(s))
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" ||
		u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return "", errors.New("auth: the relay URL must be an absolute http(s) URL without query or fragment")
	}
	return strings.TrimRight(strings.TrimSpace(s), "/"), nil
}
