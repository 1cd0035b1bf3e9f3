package auth

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// HS256 verifies tokens signed with SECRET_KEY; "none" and every other
// algorithm are rejected before the signature is looked at.
type HS256 struct {
	Secret   []byte          // without it every call fails, as in the original
	verified *verifiedTokens // set by NewHS256
}

// Bounds of the verified-token cache of NewHS256.
const (
	VerifiedTokenTTL  = time.Minute // a token's own exp ends it sooner
	maxVerifiedTokens = 256
)

// NewHS256 returns an HS256 verifier that remembers verified tokens (a
// module sends the same one each call) while they would verify again: for
// VerifiedTokenTTL at most, within exp and nbf by now, with the same secret.
func NewHS256(secret []byte, now func() time.Time) HS256 {
	if now == nil {
		now = time.Now
	}
	return HS256{Secret: secret, verified: &verifiedTokens{now: now, entries: make(map[[sha256.Size]byte]verifiedToken)}}
}

// Verify implements Verifier.
func (v HS256) Verify(r *http.Request) (Credentials, error) {
	raw, err := BearerToken(r)
	if err != nil {
		return Credentials{}, err
	}
	if len(v.Secret) == 0 {
		return Credentials{}, fail(ReasonSecretKeyMissing)
	}
	if v.verified == nil {
		return ParseHS256(raw, v.Secret)
	}
	return v.verified.verify(raw, v.Secret)
}

// ParseHS256 verifies raw with secret and returns the credentials in its
// payload ({"key": "<API key>"}).
func ParseHS256(raw string, secret []byte) (Credentials, error) {
	creds, _, err := parseHS256(raw, secret, time.Now)
	return creds, err
}

// parseHS256 is ParseHS256 by the clock now, also returning the claims.
// The HMAC is checked before the claims are decoded: a forged token costs
// one hash, whatever its payload holds.
func parseHS256(raw string, secret []byte, now func() time.Time) (Credentials, jwt.MapClaims, error) {
	if err := checkHMAC(raw, secret); err != nil {
		return Credentials{}, nil, err
	}
	claims, err := signedClaims(raw, jwt.WithTimeFunc(now))
	if err != nil {
		return Credentials{}, nil, classify(err, ReasonBadSignature)
	}
	creds, err := credentialsFrom(claims)
	return creds, claims, err
}

// signedClaims decodes the claims of raw, whose signature the caller has
// checked (it is not checked again), and validates exp, nbf and iat with
// opts; claims that fail carry jwt.ErrTokenInvalidClaims, as jwt's parser
// reports them.
func signedClaims(raw string, opts ...jwt.ParserOption) (jwt.MapClaims, error) {
	claims := jwt.MapClaims{}
	if _, _, err := jwt.NewParser().ParseUnverified(raw, claims); err != nil {
		return nil, err
	}
	if err := jwt.NewValidator(opts...).Validate(claims); err != nil {
		return nil, fmt.Errorf("%w: %w", jwt.ErrTokenInvalidClaims, err)
	}
	return claims, nil
}

// checkHMAC checks raw's structure, its header's alg (HS256 only) and its
// HMAC-SHA256 by secret, decoding neither the claims nor more than a
// bounded header.
func checkHMAC(raw string, secret []byte) error {
	if len(raw) > MaxTokenBytes {
		return fail(ReasonWrongStructure)
	}
	header, payload, sig, ok := splitToken(raw)
	if !ok {
		return fail(ReasonWrongStructure)
	}
	var h struct {
		Alg any `json:"alg"`
	}
	if decodeSegment(header, maxHeaderSegment, &h) != nil {
		return fail(ReasonWrongStructure)
	}
	if h.Alg != "HS256" {
		return fail(ReasonBadSignature)
	}
	got, err := base64.RawURLEncoding.DecodeString(sig)
	if err != nil {
		return fail(ReasonWrongStructure)
	}
	m := hmac.New(sha256.New, secret)
	hashString(m, raw[:len(header)+1+len(payload)])
	if !hmac.Equal(m.Sum(nil), got) {
		return fail(ReasonBadSignature)
	}
	return nil
}

// verifiedTokens remembers recently verified HS256 tokens (see NewHS256).
type verifiedTokens struct {
	now     func() time.Time
	mu      sync.Mutex
	entries map[[sha256.Size]byte]verifiedToken
}

// verifiedToken is a verified token's credentials and when it verifies.
type verifiedToken struct {
	creds     Credentials
	until     time.Time // the end of VerifiedTokenTTL
	notBefore time.Time // the token's nbf
	expires   time.Time // the token's exp
}

// valid reports whether the token would verify at now.
func (t verifiedToken) valid(now time.Time) bool {
	return now.Before(t.until) &&
		(t.expires.IsZero() || now.Before(t.expires)) &&
		(t.notBefore.IsZero() || !now.Before(t.notBefore))
}

// verify returns raw's credentials, remembered or verified now.
func (c *verifiedTokens) verify(raw string, secret []byte) (Credentials, error) {
	key := tokenKey(raw, secret)
	now := c.now()
	c.mu.Lock()
	t, ok := c.entries[key]
	c.mu.Unlock()
	if ok && t.valid(now) {
		return t.creds, nil
	}
	creds, claims, err := parseHS256(raw, secret, func() time.Time { return now })
	if err != nil {
		return Credentials{}, err
	}
	t = verifiedToken{creds: creds, until: now.Add(VerifiedTokenTTL)}
	if exp, err := claims.GetExpirationTime(); err == nil && exp != nil {
		t.expires = exp.Time
	}
	if nbf, err := claims.GetNotBefore(); err == nil && nbf != nil {
		t.notBefore = nbf.Time
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for k, old := range c.entries { // no credentials stay once they no longer verify
		if !old.valid(now) {
			delete(c.entries, k)
		}
	}
	if len(c.entries) >= maxVerifiedTokens {
		for k := range c.entries { // full of live tokens: drop any one
			delete(c.entries, k)
			break
		}
	}
	c.entries[key] = t
	return creds, nil
}

// tokenKey is the SHA-256 of the secret's length, the secret and the token.
func tokenKey(raw string, secret []byte) [sha256.Size]byte {
	h := sha256.New()
	var n [8]byte
	binary.BigEndian.PutUint64(n[:], uint64(len(secret)))
	h.Write(n[:])
	h.Write(secret)
	hashString(h, raw)
	var key [sha256.Size]byte
	h.Sum(key[:0])
	return key
}

// classify maps a jwt error to a reason, never showing its text (it may
// quote the token); badKey is a bad signature's.
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

// SignHS256 returns a token carrying claims signed with secret.
func SignHS256(claims map[string]any, secret []byte) (string, error) {
	return jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims(claims)).SignedString(secret)
}
