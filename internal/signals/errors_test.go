package signals

import (
	"context"
	"errors"
	"strings"
	"testing"
	"unicode/utf8"
)

// The classification rules of the original relay (API docs §9): 400 and
// 404 mean no data unless the body says the token is malformed; 401 is a
// key problem; 429 is the quota.
func TestAPIErrorPredicates(t *testing.T) {
	t.Parallel()
	tests := []struct {
		status                            int
		body                              string
		unauthorized, rateLimited, noData bool
	}{
		{400, "Bad IP format:192.0.2.999", false, false, true},
		{400, "", false, false, true},
		{404, "Resource not found", false, false, true},
		{400, "Token must be a valid RFC4122 UUID", true, false, false},
		{404, "Token must be a valid RFC4122 UUID", true, false, false},
		{400, "token must be a valid rfc4122 uuid", false, false, true},
		{401, "Unauthorized. API Key not found.", true, false, false},
		{401, "", true, false, false},
		{401, "Token must be a valid RFC4122 UUID", true, false, false},
		{429, "429: Too Many Requests", false, true, false},
		{429, "Token must be a valid RFC4122 UUID", false, true, false},
		{403, "Forbidden", false, false, false},
		{500, "Token must be a valid RFC4122 UUID", false, false, false},
		{502, "<html>Bad Gateway</html>", false, false, false},
		{503, "", false, false, false},
		{302, "", false, false, false},
	}
	for _, tc := range tests {
		e := &APIError{Op: "ip report", StatusCode: tc.status, Body: tc.body}
		if got := e.Unauthorized(); got != tc.unauthorized {
			t.Errorf("%d %q: Unauthorized() = %v, want %v", tc.status, tc.body, got, tc.unauthorized)
		}
		if got := e.RateLimited(); got != tc.rateLimited {
			t.Errorf("%d %q: RateLimited() = %v, want %v", tc.status, tc.body, got, tc.rateLimited)
		}
		if got := e.NoData(); got != tc.noData {
			t.Errorf("%d %q: NoData() = %v, want %v", tc.status, tc.body, got, tc.noData)
		}
	}
}

func TestAPIErrorMessage(t *testing.T) {
	t.Parallel()
	e := &APIError{Op: "ip report", StatusCode: 401, Body: "Unauthorized. API Key not found."}
	msg := e.Error()
	for _, want := range []string{"ip report", "401", "Unauthorized. API Key not found."} {
		if !strings.Contains(msg, want) {
			t.Errorf("Error() = %q, want it to contain %q", msg, want)
		}
	}
}

// The original relay reported certificate failures as "Unable to verify
// SSL certificate: <reason, capitalised>" (relay contract §3).
func TestTLSErrorMessage(t *testing.T) {
	t.Parallel()
	inner := errors.New("x509: certificate signed by unknown authority")
	e := &TLSError{Err: inner}
	if got, want := e.Error(), "Unable to verify SSL certificate: X509: certificate signed by unknown authority"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
	if !errors.Is(e, inner) {
		t.Error("TLSError does not unwrap to its cause")
	}
	if got := (&TLSError{}).Error(); !strings.HasPrefix(got, "Unable to verify SSL certificate: ") || len(got) == len("Unable to verify SSL certificate: ") {
		t.Errorf("Error() without a cause = %q, want the prefix and a reason", got)
	}
}

func TestTransportErrorUnwraps(t *testing.T) {
	t.Parallel()
	e := &TransportError{Op: "list details", Err: context.DeadlineExceeded}
	if !errors.Is(e, context.DeadlineExceeded) {
		t.Error("TransportError does not unwrap to its cause")
	}
	if msg := e.Error(); !strings.Contains(msg, "list details") || !strings.Contains(msg, context.DeadlineExceeded.Error()) {
		t.Errorf("Error() = %q, want the call and the cause", msg)
	}
}

func TestCleanBody(t *testing.T) {
	t.Parallel()
	const key = "6f1c9a2e-3b7d-4c58-9e21-0a4b8c7d5e3f"
	tests := []struct {
		name   string
		body   string
		secret string
		want   string
	}{
		{"plain", "Resource not found", key, "Resource not found"},
		{"empty", "", key, ""},
		{"whitespace folded", "  a\r\n\tb   c \n", key, "a b c"},
		{"control characters", "a\x00b\x1bc\x7fd", key, "a b c d"},
		{"unicode spaces", "a\u00a0b\u2028c", key, "a b c"},
		{"key redacted", "key " + key + " unknown", key, "key [REDACTED] unknown"},
		{"key redacted twice", key + key, key, "[REDACTED][REDACTED]"},
		{"key with a space, split by a tab", "x a\tb y", "a b", "x [REDACTED] y"},
		{"no secret", "Unauthorized", "", "Unauthorized"},
		{"unicode kept", "Zugriff verweigert – 401", key, "Zugriff verweigert – 401"},
	}
	for _, tc := range tests {
		if got := cleanBody([]byte(tc.body), tc.secret, 300); got != tc.want {
			t.Errorf("%s: cleanBody(%q) = %q, want %q", tc.name, tc.body, got, tc.want)
		}
	}
}

func TestCleanBodyInvalidUTF8AndLength(t *testing.T) {
	t.Parallel()
	got := cleanBody([]byte("ok \xff\xfe then "+strings.Repeat("€", 1000)), "", 50)
	if !utf8.ValidString(got) {
		t.Errorf("cleanBody kept invalid UTF-8: %q", got)
	}
	if !strings.HasPrefix(got, "ok ") {
		t.Errorf("cleanBody = %q, want the start of the body", got)
	}
	if n := utf8.RuneCountInString(got); n > 51 {
		t.Errorf("cleanBody returned %d characters for a cap of 50", n)
	}
}
