package auth

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

// TestVerifiedTokensBounds checks that a remembered token is verified again
// once VerifiedTokenTTL has passed, that it is dropped when not used again,
// and that no more than maxVerifiedTokens are kept.
func TestVerifiedTokensBounds(t *testing.T) {
	t.Parallel()
	secret := []byte("0123456789abcdefghijklmnopqrstuvwxyzABCDEF")
	now := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	v := NewHS256(secret, func() time.Time { return now })
	token, err := SignHS256(map[string]any{"key": "k"}, secret)
	if err != nil {
		t.Fatal(err)
	}
	entry := func() verifiedToken {
		t.Helper()
		if _, err := v.Verify(bearerRequest(token)); err != nil {
			t.Fatalf("Verify: %v", err)
		}
		return v.verified.entries[tokenKey(token, secret)]
	}
	first := entry()
	if want := now.Add(VerifiedTokenTTL); !first.until.Equal(want) {
		t.Fatalf("remembered until %v, want %v", first.until, want)
	}
	now = now.Add(VerifiedTokenTTL - time.Nanosecond)
	if got := entry(); !got.until.Equal(first.until) {
		t.Errorf("within the TTL the token was verified again (until %v)", got.until)
	}
	now = now.Add(time.Nanosecond)
	if got := entry(); !got.until.Equal(now.Add(VerifiedTokenTTL)) {
		t.Errorf("after the TTL the token was not verified again (until %v)", got.until)
	}

	// A token not used again is dropped at the next verification after
	// its TTL, rather than kept until the cache is full.
	now = now.Add(VerifiedTokenTTL)
	other, err := SignHS256(map[string]any{"key": "another"}, secret)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := v.Verify(bearerRequest(other)); err != nil {
		t.Fatalf("Verify: %v", err)
	}
	if _, kept := v.verified.entries[tokenKey(token, secret)]; kept || len(v.verified.entries) != 1 {
		t.Errorf("%d tokens remembered (the expired one: %v), want only the new one", len(v.verified.entries), kept)
	}

	for i := range 2 * maxVerifiedTokens {
		tok, err := SignHS256(map[string]any{"key": "k", "n": i}, secret)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := v.Verify(bearerRequest(tok)); err != nil {
			t.Fatalf("Verify: %v", err)
		}
		if n := len(v.verified.entries); n > maxVerifiedTokens {
			t.Fatalf("%d tokens remembered, at most %d allowed", n, maxVerifiedTokens)
		}
	}
}

func bearerRequest(token string) *http.Request {
	r := httptest.NewRequest(http.MethodPost, "/health", nil)
	r.Header.Set("Authorization", "Bearer "+token)
	return r
}
