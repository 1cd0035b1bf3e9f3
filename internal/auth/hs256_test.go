package auth_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/signals-relay/signals-relay/internal/auth"
	"github.com/signals-relay/signals-relay/internal/testsupport"
)

// TestHS256VerifiedTokens checks that a verifier which remembers verified
// tokens never accepts a token that would not verify at that moment: each
// case verifies tokens in turn, moving the clock between calls, and every
// answer must be the one a fresh verification gives.
func TestHS256VerifiedTokens(t *testing.T) {
	t.Parallel()
	secret := []byte(testSecret)
	other := []byte(testSecret[:len(testSecret)-1] + "!") // the same length
	start := testsupport.NewClock().Now()
	at := func(d time.Duration) int64 { return start.Add(d).Unix() }

	type step struct {
		advance time.Duration // clock move before the call (may be negative)
		token   string
		secret  []byte // the Secret of the verifier's copy; nil means secret
		wantErr string
	}
	good := signHS256(t, secret, "", jwt.MapClaims{"key": "k"})
	tests := []struct {
		name  string
		steps []step
	}{
		{name: "remembered token expires at its exp", steps: []step{
			{token: signHS256(t, secret, "", jwt.MapClaims{"key": "k", "exp": at(90 * time.Second)})},
			{advance: 89 * time.Second, token: signHS256(t, secret, "", jwt.MapClaims{"key": "k", "exp": at(90 * time.Second)})},
			{advance: time.Second, token: signHS256(t, secret, "", jwt.MapClaims{"key": "k", "exp": at(90 * time.Second)}),
				wantErr: auth.ReasonExpired},
		}},
		{name: "exp beyond the cache's TTL still ends it", steps: []step{
			{token: signHS256(t, secret, "", jwt.MapClaims{"key": "k", "exp": at(auth.VerifiedTokenTTL + time.Second)})},
			{advance: auth.VerifiedTokenTTL, token: signHS256(t, secret, "", jwt.MapClaims{"key": "k", "exp": at(auth.VerifiedTokenTTL + time.Second)})},
			{advance: time.Second, token: signHS256(t, secret, "", jwt.MapClaims{"key": "k", "exp": at(auth.VerifiedTokenTTL + time.Second)}),
				wantErr: auth.ReasonExpired},
		}},
		{name: "not valid before nbf, also when the clock steps back", steps: []step{
			{token: signHS256(t, secret, "", jwt.MapClaims{"key": "k", "nbf": at(time.Minute / 2)}), wantErr: auth.ReasonExpired},
			{advance: time.Minute / 2, token: signHS256(t, secret, "", jwt.MapClaims{"key": "k", "nbf": at(time.Minute / 2)})},
			{advance: -time.Second, token: signHS256(t, secret, "", jwt.MapClaims{"key": "k", "nbf": at(time.Minute / 2)}),
				wantErr: auth.ReasonExpired},
		}},
		{name: "a remembered token with another secret", steps: []step{
			{token: good},
			{token: good, secret: other, wantErr: auth.ReasonBadSignature},
			{token: good},
		}},
		{name: "a token signed with another secret after the right one", steps: []step{
			{token: good},
			{token: signHS256(t, other, "", jwt.MapClaims{"key": "k"}), wantErr: auth.ReasonBadSignature},
		}},
		{name: "a remembered token with its signature changed", steps: []step{
			{token: good},
			{token: good[:len(good)-2] + flip(good[len(good)-2]) + good[len(good)-1:], wantErr: auth.ReasonBadSignature},
			{token: good + "x", wantErr: auth.ReasonBadSignature},
		}},
		{name: "a token without exp stays valid past the TTL", steps: []step{
			{token: good},
			{advance: auth.VerifiedTokenTTL, token: good},
			{advance: 24 * time.Hour, token: good},
		}},
		{name: "failures are not remembered", steps: []step{
			{token: signHS256(t, secret, "", jwt.MapClaims{"sub": "x"}), wantErr: auth.ReasonWrongPayload},
			{token: signHS256(t, secret, "", jwt.MapClaims{"sub": "x"}), wantErr: auth.ReasonWrongPayload},
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			clock := testsupport.NewClock()
			v := auth.NewHS256(secret, clock.Now)
			for i, s := range tc.steps {
				clock.Advance(s.advance)
				vv := v
				if s.secret != nil {
					vv.Secret = s.secret
				}
				got, err := vv.Verify(request(s.token))
				if s.wantErr != "" {
					wantReason(t, err, s.wantErr, s.token, testSecret)
					continue
				}
				if err != nil || got.APIKey != "k" {
					t.Errorf("step %d: Verify = %v, %v; want key %q", i, got, err, "k")
				}
			}
		})
	}
}

// TestHS256VerifiedTokensManyCallers checks that many distinct tokens, more
// than are remembered at once, each yield their own credentials.
func TestHS256VerifiedTokensManyCallers(t *testing.T) {
	t.Parallel()
	secret := []byte(testSecret)
	v := auth.NewHS256(secret, testsupport.NewClock().Now)
	tokens := make([]string, 600)
	for i := range tokens {
		tokens[i] = signHS256(t, secret, "", jwt.MapClaims{"key": fmt.Sprintf("key-%d", i)})
	}
	for round := range 2 {
		for i, tok := range tokens {
			got, err := v.Verify(request(tok))
			if want := fmt.Sprintf("key-%d", i); err != nil || got.APIKey != want {
				t.Fatalf("round %d, token %d: Verify = %v, %v; want key %q", round, i, got, err, want)
			}
		}
	}
}

// flip returns another base64url character than c.
func flip(c byte) string {
	if c == 'A' {
		return "B"
	}
	return "A"
}

// TestHS256Unchanged pins the self-hosted mode's behaviour.
func TestHS256Unchanged(t *testing.T) {
	t.Parallel()
	secret := []byte(testSecret)
	tests := []struct {
		name    string
		v       auth.HS256
		token   string
		want    string
		wantErr string
	}{
		{name: "valid", v: auth.NewHS256(secret, nil), token: signHS256(t, secret, "", jwt.MapClaims{"key": "k"}), want: "k"},
		{name: "no secret", v: auth.HS256{}, token: signHS256(t, secret, "", jwt.MapClaims{"key": "k"}), wantErr: auth.ReasonSecretKeyMissing},
		{name: "wrong secret", v: auth.NewHS256([]byte("other"), nil), token: signHS256(t, secret, "", jwt.MapClaims{"key": "k"}), wantErr: auth.ReasonBadSignature},
		{name: "no key claim", v: auth.NewHS256(secret, nil), token: signHS256(t, secret, "", jwt.MapClaims{"sub": "x"}), wantErr: auth.ReasonWrongPayload},
		{name: "malformed", v: auth.NewHS256(secret, nil), token: "a.b", wantErr: auth.ReasonWrongStructure},
		{name: "expired", v: auth.NewHS256(secret, nil),
			token: signHS256(t, secret, "", jwt.MapClaims{"key": "k", "exp": time.Now().Add(-time.Hour).Unix()}), wantErr: auth.ReasonExpired},
		{name: "not yet valid", v: auth.NewHS256(secret, nil),
			token: signHS256(t, secret, "", jwt.MapClaims{"key": "k", "nbf": time.Now().Add(time.Hour).Unix()}), wantErr: auth.ReasonExpired},
		{name: "valid until later", v: auth.NewHS256(secret, nil),
			token: signHS256(t, secret, "", jwt.MapClaims{"key": "k", "exp": time.Now().Add(time.Hour).Unix()}), want: "k"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := tc.v.Verify(request(tc.token))
			if tc.wantErr != "" {
				wantReason(t, err, tc.wantErr, tc.token, testSecret)
				return
			}
			if err != nil || got.APIKey != tc.want {
				t.Errorf("Verify = %v, %v; want key %q", got, err, tc.want)
			}
		})
	}
}
