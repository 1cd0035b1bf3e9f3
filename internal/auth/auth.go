// Package auth verifies the caller's JWT and recovers the Auth0 Signals
// credentials it carries. HS256 is the original relay's self-hosted mode
// ({"key": "<API key>"} signed with SECRET_KEY); XDR checks Cisco XDR's
// per-call RS256 configuration tokens against the key set of an allowlisted
// Cisco host. New picks one, or routes between both, from a Config.
package auth

import (
	"fmt"
	"log/slog"
	"net/http"
	"strings"
)

// Credentials are what a verified token yields.
type Credentials struct {
	APIKey        string // sent upstream as X-Auth-Token
	EntitiesLimit int    // the token's cap on entities per observable; 0: none
}

// String redacts the API key so that Credentials never leak through %v.
func (c Credentials) String() string {
	return fmt.Sprintf("auth.Credentials{APIKey:[REDACTED] EntitiesLimit:%d}", c.EntitiesLimit)
}

// GoString redacts the API key for %#v as well.
func (c Credentials) GoString() string { return c.String() }

// LogValue redacts the API key in structured logs.
func (c Credentials) LogValue() slog.Value {
	return slog.GroupValue(slog.String("api_key", "[REDACTED]"), slog.Int("entities_limit", c.EntitiesLimit))
}

// Verifier authenticates a request; every failure is an *Error.
type Verifier interface {
	Verify(r *http.Request) (Credentials, error)
}

// Reasons reported after "Authorization failed: ", worded as in the relay
// contract: operators and Threat Response support know these strings.
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

// Error is an authentication failure. Its message, which the caller sees,
// never holds any part of the token.
type Error struct {
	Reason string
	Err    error // the underlying failure (a key-set fetch), for the log only
}

func (e *Error) Error() string { return "Authorization failed: " + e.Reason }

// Unwrap returns the underlying failure, if any.
func (e *Error) Unwrap() error { return e.Err }

func fail(reason string) error { return &Error{Reason: reason} }

// BearerToken extracts the token from "Authorization: Bearer <token>".
func BearerToken(r *http.Request) (string, error) {
	h := r.Header.Get("Authorization")
	if strings.TrimSpace(h) == "" {
		return "", fail(ReasonHeaderMissing)
	}
	scheme, token, _ := strings.Cut(strings.TrimSpace(h), " ")
	if !strings.EqualFold(scheme, "bearer") {
		return "", fail(ReasonWrongType)
	}
	token = strings.TrimSpace(token)
	if token == "" || strings.ContainsAny(token, " \t") {
		return "", fail(ReasonWrongStructure)
	}
	return token, nil
}
