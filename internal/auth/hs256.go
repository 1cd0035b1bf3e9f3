package auth

import (
	"errors"
	"net/http"
	"strings"

	"github.com/golang-jwt/jwt/v5"
)

// HS256 verifies tokens signed with the relay's SECRET_KEY, the self-hosted
// mode of the original relay. Only HS256 is accepted: "none" and every other
// algorithm are rejected before the signature is looked at.
type HS256 struct {
	// Secret is SECRET_KEY. When it is empty every call fails with
	// ReasonSecretKeyMissing, as in the original relay.
	Secret []byte
}

var _ Verifier = HS256{}

// Verify implements Verifier.
func (v HS256) Verify(r *http.Request) (Credentials, error) {
	raw, err := BearerToken(r)
	if err != nil {
		return Credentials{}, err
	}
	if len(v.Secret) == 0 {
		return Credentials{}, fail(ReasonSecretKeyMissing)
	}
	return ParseHS256(raw, v.Secret)
}

// ParseHS256 verifies raw with secret and returns the credentials in its
// payload ({"key": "<API key>"}).
func ParseHS256(raw string, secret []byte) (Credentials, error) {
	claims := jwt.MapClaims{}
	_, err := jwt.NewParser(jwt.WithValidMethods([]string{"HS256"})).
		ParseWithClaims(raw, claims, func(*jwt.Token) (any, error) { return secret, nil })
	if err != nil {
		return Credentials{}, classify(err, ReasonBadSignature)
	}
	return credentialsFrom(claims)
}

// classify maps a jwt parse error to the contract's reason; badKey is the
// reason for a signature that does not verify. The library's own message is
// never surfaced: it may quote token parts.
func classify(err error, badKey string) error {
	switch {
	case errors.Is(err, jwt.ErrTokenMalformed):
		return fail(ReasonWrongStructure)
	case errors.Is(err, jwt.ErrTokenExpired), errors.Is(err, jwt.ErrTokenNotValidYet),
		errors.Is(err, jwt.ErrTokenUsedBeforeIssued):
		return fail(ReasonExpired)
	case errors.Is(err, jwt.ErrTokenInvalidClaims):
		return fail(ReasonWrongPayload)
	default: // bad signature, disallowed algorithm, unverifiable token
		return fail(badKey)
	}
}

// credentialsFrom reads the "key" claim.
func credentialsFrom(claims jwt.MapClaims) (Credentials, error) {
	key, ok := claims["key"].(string)
	if !ok || strings.TrimSpace(key) == "" {
		return Credentials{}, fail(ReasonWrongPayload)
	}
	return Credentials{APIKey: key}, nil
}

// SignHS256 returns a token carrying claims signed with secret. It is what
// the JWT generator and the demo use.
func SignHS256(claims map[string]any, secret []byte) (string, error) {
	return jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims(claims)).SignedString(secret)
}
