package signals

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"unicode"
)

var errNotObject = errors.New("not a JSON object")

// invalidTokenText is what the API answers (with 400, sometimes 404) to a key
// that is not a UUID.
const invalidTokenText = "Token must be a valid RFC4122 UUID"

// APIError is a non-2xx answer from the API.
type APIError struct {
	// Op names the call: "ip report", "list details" or "health check".
	Op string
	// StatusCode is the HTTP status of the answer.
	StatusCode int
	// Body is the start of the answer's body, whitespace-folded, with the API
	// key redacted. It is for logs and for the auth-error message.
	Body string

	// invalidToken records that the body, as received, said the key is not
	// a UUID; Body may no longer show it (redaction, length cap).
	invalidToken bool
}

func (e *APIError) Error() string {
	msg := fmt.Sprintf("auth0 signals %s: status %d %s", e.Op, e.StatusCode, http.StatusText(e.StatusCode))
	if e.Body != "" {
		msg += ": " + e.Body
	}
	return msg
}

// Unauthorized reports whether the API rejected the key: a 401, or a 400/404
// saying the token is not a UUID.
func (e *APIError) Unauthorized() bool {
	return e.StatusCode == http.StatusUnauthorized ||
		((e.StatusCode == http.StatusBadRequest || e.StatusCode == http.StatusNotFound) &&
			(e.invalidToken || strings.Contains(e.Body, invalidTokenText)))
}

// RateLimited reports whether the key's quota is used up (429).
func (e *APIError) RateLimited() bool { return e.StatusCode == http.StatusTooManyRequests }

// NoData reports whether the answer means "nothing known about this
// resource": a 400 (bad address) or 404 that is not a key problem.
func (e *APIError) NoData() bool {
	return (e.StatusCode == http.StatusBadRequest || e.StatusCode == http.StatusNotFound) && !e.Unauthorized()
}

// TLSError is a failure to verify the API's certificate.
type TLSError struct {
	Err error
}

func (e *TLSError) Error() string {
	return "Unable to verify SSL certificate: " + capitalize(reason(e.Err))
}

func (e *TLSError) Unwrap() error { return e.Err }

// TransportError is any failure that prevented an answer: connection refused
// or reset, timeout, a body that could not be read or decoded, a redirect
// that was refused.
type TransportError struct {
	Op  string
	Err error
}

func (e *TransportError) Error() string { return "auth0 signals " + e.Op + ": " + e.Err.Error() }

func (e *TransportError) Unwrap() error { return e.Err }

// asTLSError returns a *TLSError when err is a certificate verification
// failure.
func asTLSError(err error) (*TLSError, bool) {
	var (
		unknown   x509.UnknownAuthorityError
		invalid   x509.CertificateInvalidError
		hostname  x509.HostnameError
		verifyErr *tls.CertificateVerificationError
	)
	switch {
	case errors.As(err, &verifyErr):
		return &TLSError{Err: verifyErr.Err}, true
	case errors.As(err, &unknown):
		return &TLSError{Err: unknown}, true
	case errors.As(err, &invalid):
		return &TLSError{Err: invalid}, true
	case errors.As(err, &hostname):
		return &TLSError{Err: hostname}, true
	}
	return nil, false
}

func reason(err error) string {
	if err == nil {
		return "unknown reason"
	}
	return err.Error()
}

func capitalize(s string) string {
	for i, r := range s {
		return string(unicode.ToUpper(r)) + s[i+len(string(r)):]
	}
	return s
}

// cleanBody folds whitespace in an error body, drops control characters,
// redacts secret, and caps the length.
func cleanBody(b []byte, secret string, max int) string {
	s := strings.ToValidUTF8(string(b), "\uFFFD")
	if secret != "" {
		s = strings.ReplaceAll(s, secret, "[REDACTED]")
	}
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || unicode.IsSpace(r) {
			return ' '
		}
		return r
	}, s)
	s = strings.Join(strings.Fields(s), " ")
	if secret != "" { // the fold may have joined a key split by whitespace; redact again
		s = strings.ReplaceAll(s, secret, "[REDACTED]")
	}
	if r := []rune(s); len(r) > max {
		s = string(r[:max]) + "…"
	}
	return s
}
