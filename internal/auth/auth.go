// Package auth verifies the caller's JWT and recovers the Auth0 Signals
// credentials it carries: HS256 tokens signed with SECRET_KEY (the original
// relay's self-hosted mode) or Cisco XDR's RS256 configuration tokens.
package auth

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"time"
)

// Credentials are what a verified token yields.
type Credentials struct {
	APIKey        string // sent upstream as X-Auth-Token
	EntitiesLimit int    // the token's cap on entities per observable; 0: none
}

// Format redacts the API key for every verb, so Credentials never leak through fmt.
func (c Credentials) Format(f fmt.State, _ rune) {
	_, _ = fmt.Fprintf(f, "auth.Credentials{APIKey:[REDACTED] EntitiesLimit:%d}", c.EntitiesLimit)
}

// LogValue redacts the API key in structured logs.
func (c Credentials) LogValue() slog.Value {
	return slog.GroupValue(slog.String("api_key", "[REDACTED]"), slog.Int("entities_limit", c.EntitiesLimit))
}

// MarshalJSON redacts the API key in JSON.
func (c Credentials) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		APIKey        string `json:"api_key"`
		EntitiesLimit int    `json:"entities_limit"`
	}{"[REDACTED]", c.EntitiesLimit})
}

// Verifier authenticates a request; every failure is an *Error.
type Verifier interface {
	Verify(r *http.Request) (Credentials, error)
}

// Reasons after "Authorization failed: ", in the contract's wording.
const (
	ReasonHeaderMissing    = "Authorization header is missing"
	ReasonWrongType        = "Wrong authorization type"
	ReasonWrongStructure   = "Wrong JWT structure"
	ReasonWrongPayload     = "Wrong JWT payload structure"
	ReasonBadSignature     = "Failed to decode JWT with provided key"
	ReasonSecretKeyMissing = "<SECRET_KEY> is missing"
	ReasonExpired          = "JWT is expired or not yet valid"
)

// Reasons specific to XDR configuration tokens (RS256 + JWKS).
const (
	ReasonRS256BadSignature = "Failed to decode JWT with provided key. " +
		"Make sure domain in custom_jwks_host corresponds to your SecureX instance region."
	ReasonJWKSHostMissing = "jwks_host is missing in JWT payload. " +
		"Make sure custom_jwks_host field is present in module_type"
	ReasonWrongJWKSHost = "Wrong jwks_host in JWT payload. " +
		"Make sure domain follows the visibility.<region>.cisco.com structure"
	ReasonWrongAudience = "Wrong configuration-token-audience"
	ReasonKidNotFound   = "kid from JWT header not found in API response"
)

// Error is an authentication failure; its message holds no part of the token.
type Error struct {
	Reason string
	Err    error // the underlying failure (a key-set fetch), for the log only
}

// Error is the log's text; the caller's answer is worded from Reason.
func (e *Error) Error() string { return "auth: " + e.Reason }

// Unwrap returns the underlying failure, if any.
func (e *Error) Unwrap() error { return e.Err }

func fail(reason string) error { return &Error{Reason: reason} }

// MaxTokenBytes caps a token: an XDR configuration token is a few KiB at
// most, and a longer one is refused before any part of it is decoded.
const MaxTokenBytes = 8 << 10

// BearerToken extracts the token from "Authorization: Bearer <token>"; the
// scheme's case does not matter, and a token over MaxTokenBytes is refused.
func BearerToken(r *http.Request) (string, error) {
	h := r.Header.Get("Authorization")
	if strings.TrimSpace(h) == "" {
		return "", fail(ReasonHeaderMissing)
	}
	if len(h) > MaxTokenBytes+len("Bearer ")+64 { // room for the scheme and blanks
		return "", fail(ReasonWrongStructure)
	}
	scheme, token, _ := strings.Cut(strings.TrimSpace(h), " ")
	if !strings.EqualFold(scheme, "bearer") {
		return "", fail(ReasonWrongType)
	}
	token = strings.TrimSpace(token)
	if token == "" || len(token) > MaxTokenBytes || strings.ContainsAny(token, " \t") {
		return "", fail(ReasonWrongStructure)
	}
	return token, nil
}

// Authentication modes (AUTH_MODE).
const (
	ModeHS256 = "hs256" // only tokens signed with SECRET_KEY (self-hosted)
	ModeXDR   = "xdr"   // only Cisco XDR configuration tokens (RS256 + JWKS)
	ModeBoth  = "both"  // either, routed by the token header's alg
)

// MinSecretKeyBytes is SHA-256's output: a shorter HS256 key is weaker.
const MinSecretKeyBytes = 32

// Config selects and configures the verifier, from AUTH_MODE, SECRET_KEY,
// JWKS_HOSTS, RELAY_URL and RELAY_URL_FROM_REQUEST.
type Config struct {
	// Mode is a Mode constant, or empty: ModeHS256 when SecretKey is set,
	// else ModeXDR, or, when nothing is set, see Unconfigured.
	Mode string
	// SecretKey, when set, must be at least MinSecretKeyBytes long.
	SecretKey Secret
	JWKSHosts []string // empty: DefaultJWKSHosts
	// RelayURL or AudienceFromRequest is the audience (see XDROptions).
	RelayURL            string
	AudienceFromRequest bool
	HTTPClient          *http.Client     // fetches key sets; nil: system trust store
	Now                 func() time.Time // nil: time.Now
}

// Unconfigured reports whether cfg sets nothing. New then returns an HS256
// verifier without a key, which refuses every call: as with the original, a
// relay can be deployed before its SECRET_KEY is set.
func (cfg Config) Unconfigured() bool {
	return strings.TrimSpace(cfg.Mode) == "" && len(cfg.SecretKey) == 0 && cfg.RelayURL == "" && !cfg.AudienceFromRequest
}

// New returns the Verifier cfg selects, or what is missing or wrong.
func New(cfg Config) (Verifier, error) {
	if cfg.Unconfigured() {
		return HS256{}, nil
	}
	if n := len(cfg.SecretKey); n > 0 && n < MinSecretKeyBytes {
		return nil, fmt.Errorf("auth: SECRET_KEY must be at least %d bytes long; "+
			"generate one with `relayctl jwt` (it prints a 64-character SECRET_KEY and the JWT signed with it)", MinSecretKeyBytes)
	}
	mode := strings.ToLower(strings.TrimSpace(cfg.Mode))
	auto := mode == ""
	if auto {
		mode = ModeXDR
		if len(cfg.SecretKey) > 0 {
			mode = ModeHS256
		}
	}
	if mode != ModeHS256 && mode != ModeXDR && mode != ModeBoth {
		return nil, fmt.Errorf("auth: unknown AUTH_MODE %q: want %s, %s or %s", cfg.Mode, ModeHS256, ModeXDR, ModeBoth)
	}

	if mode != ModeXDR && len(cfg.SecretKey) == 0 {
		return nil, fmt.Errorf("auth: AUTH_MODE=%s needs SECRET_KEY", mode)
	}
	hs := NewHS256(cfg.SecretKey, cfg.Now)
	if mode == ModeHS256 {
		return hs, nil
	}

	if cfg.RelayURL == "" && !cfg.AudienceFromRequest {
		if auto {
			return nil, fmt.Errorf("auth: without SECRET_KEY the mode is %s, which needs RELAY_URL (or RELAY_URL_FROM_REQUEST=true); "+
				"set SECRET_KEY for the self-hosted HS256 mode", ModeXDR)
		}
		return nil, fmt.Errorf("auth: AUTH_MODE=%s needs RELAY_URL (or RELAY_URL_FROM_REQUEST=true)", mode)
	}
	xdr, err := NewXDR(XDROptions{
		Hosts:               cfg.JWKSHosts,
		Audience:            cfg.RelayURL,
		AudienceFromRequest: cfg.AudienceFromRequest,
		HTTPClient:          cfg.HTTPClient,
		Now:                 cfg.Now,
	})
	if err != nil {
		return nil, err
	}
	if mode == ModeXDR {
		return xdr, nil
	}
	return Both{HS256: hs, XDR: xdr}, nil
}

// Mode names the mode of a verifier New returned: ModeHS256, ModeXDR,
// ModeBoth, or "none" for the HS256 verifier without a key, which refuses
// every call (see Unconfigured). Any other Verifier has the mode "".
func Mode(v Verifier) string {
	switch v := v.(type) {
	case HS256:
		if len(v.Secret) == 0 {
			return "none"
		}
		return ModeHS256
	case *XDR:
		return ModeXDR
	case Both:
		return ModeBoth
	}
	return ""
}

// Both accepts HS256 and XDR tokens, routed by the header's alg. Each pins
// its algorithm: an HS256 token signed with an XDR public key is checked
// against SECRET_KEY.
type Both struct {
	HS256 HS256
	XDR   *XDR
}

// Verify implements Verifier.
func (b Both) Verify(r *http.Request) (Credentials, error) {
	raw, err := BearerToken(r)
	if err != nil {
		return Credentials{}, err
	}
	alg, err := headerAlg(raw)
	if err != nil {
		return Credentials{}, err
	}
	switch alg {
	case "HS256":
		return b.HS256.Verify(r)
	case "RS256":
		if b.XDR == nil {
			return Credentials{}, fail(ReasonRS256BadSignature)
		}
		return b.XDR.Verify(r)
	default:
		return Credentials{}, fail(ReasonBadSignature)
	}
}

// headerAlg returns the alg of a compact JWS without verifying anything.
func headerAlg(raw string) (string, error) {
	seg, _, ok := strings.Cut(raw, ".")
	if !ok {
		return "", fail(ReasonWrongStructure)
	}
	var h struct {
		Alg string `json:"alg"`
	}
	if err := decodeSegment(strings.TrimRight(seg, "="), maxHeaderSegment, &h); err != nil {
		return "", fail(ReasonWrongStructure)
	}
	return h.Alg, nil
}

// maxHeaderSegment caps a token's encoded JOSE header: alg, kid and typ.
const maxHeaderSegment = 1 << 10

// errSegment is a token part that is too long, not base64url or not JSON.
var errSegment = errors.New("bad token segment")

// decodeSegment decodes a base64url (unpadded) segment of at most max
// bytes as JSON into v, which should name only the fields wanted: the
// rest of the segment is scanned, not kept.
func decodeSegment(seg string, max int, v any) error {
	if len(seg) > max {
		return errSegment
	}
	b, err := base64.RawURLEncoding.DecodeString(seg)
	if err != nil || json.Unmarshal(b, v) != nil {
		return errSegment
	}
	return nil
}

// hashString writes s to h through a small buffer: converting a token to
// []byte for Write would copy all of it.
func hashString(h hash.Hash, s string) {
	var buf [512]byte
	for s != "" {
		n := copy(buf[:], s)
		h.Write(buf[:n])
		s = s[n:]
	}
}

// splitToken splits a compact JWS into its three parts.
func splitToken(raw string) (header, payload, sig string, ok bool) {
	header, rest, ok1 := strings.Cut(raw, ".")
	payload, sig, ok2 := strings.Cut(rest, ".")
	if !ok1 || !ok2 || strings.Contains(sig, ".") {
		return "", "", "", false
	}
	return header, payload, sig, true
}

// Secret is a setting such as SECRET_KEY that prints, logs and marshals as
// "[REDACTED]" (or "[unset]").
type Secret []byte

func (s Secret) String() string {
	if len(s) == 0 {
		return "[unset]"
	}
	return "[REDACTED]"
}

// Format implements fmt.Formatter for every verb (%#v and %x too).
func (s Secret) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, s.String()) }

// LogValue implements slog.LogValuer.
func (s Secret) LogValue() slog.Value { return slog.StringValue(s.String()) }

// MarshalJSON implements json.Marshaler.
func (s Secret) MarshalJSON() ([]byte, error) { return json.Marshal(s.String()) }
