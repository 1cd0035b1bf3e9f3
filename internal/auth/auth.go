// Package auth authenticates Threat Response / XDR calls to the relay and
// recovers the Auth0 Signals credentials the caller's JWT carries.
//
// A Verifier is the seam between the HTTP surface and the token formats: the
// relay asks it for Credentials and turns an *Error into the contract's
// "authorization error". HS256 implements the self-hosted mode of the original
// relay: the operator signs {"key": "<API key>"} with SECRET_KEY. XDR
// implements Cisco XDR's configuration tokens: a fresh RS256 JWT per call,
// verified against the key set published by an allowlisted Cisco host. New
// picks one of them, or routes between both, from a Config.
package auth

import (
	"fmt"
	"log/slog"
	"net/http"
	"strings"
)

// Credentials are what a verified token yields.
type Credentials struct {
	// APIKey is the Auth0 Signals API key sent upstream as X-Auth-Token.
	APIKey string
	// EntitiesLimit is the per-observable entity cap the token asks for;
	// zero means the token does not set one and the relay default applies.
	EntitiesLimit int
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

// Verifier authenticates a request and returns the credentials it carries.
// Implementations return *Error for every authentication failure.
type Verifier interface {
	Verify(r *http.Request) (Credentials, error)
}

// Reasons reported after "Authorization failed: ". The wording is the relay
// contract's; operators and Threat Response support know these strings.
const (
	ReasonHeaderMissing    = "Authorization header is missing"
	ReasonWrongType        = "Wrong authorization type"
	ReasonWrongStructure   = "Wrong JWT structure"
	ReasonWrongPayload     = "Wrong JWT payload structure"
	ReasonBadSignature     = "Failed to decode JWT with provided key"
	ReasonSecretKeyMissing = "<SECRET_KEY> is missing"
	ReasonExpired          = "JWT is expired or not yet valid"
)

// Reasons specific to Cisco XDR configuration tokens (RS256 + JWKS), worded
// as in the relay contract.
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

// Error is an authentication failure. Its message is safe to return to the
// caller: it never contains the token or any part of it.
type Error struct {
	Reason string
	// Err, when set, is the underlying failure (for example why a key set
	// could not be fetched). It is for the operator's log only: it is not
	// part of Error's message, which the caller sees.
	Err error
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
