package relay

import (
	"cmp"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/signals-relay/signals-relay/internal/auth"
	"github.com/signals-relay/signals-relay/internal/enrich"
	"github.com/signals-relay/signals-relay/internal/signals"
)

// Error codes of the relay contract.
const (
	CodeAuthorization     = "authorization error"
	CodeInvalidArgument   = "invalid argument"
	CodeTooManyRequests   = "too many requests"
	CodeUnknown           = "unknown"
	CodeHealthCheckFailed = "health check failed"
	CodeRequestTimeout    = "request timeout"
	// CodeServiceUnavailable is a request shed at the concurrency cap (503).
	CodeServiceUnavailable = "service unavailable"
	// CodeTooManyObservables warns that not every address was looked up.
	CodeTooManyObservables = "too many observables"
)

// wireError is one entry of the envelope's "errors".
type wireError struct {
	Type    string `json:"type"`
	Code    string `json:"code"`
	Message string `json:"message"`
}

func fatal(code, message string) wireError {
	return wireError{Type: "fatal", Code: code, Message: message}
}

// warning is a non-fatal error: the data with it is usable but incomplete.
func warning(code, message string) wireError {
	return wireError{Type: "warning", Code: code, Message: message}
}

// invalidArgument is a request the relay cannot read.
type invalidArgument struct{ detail string }

func (e *invalidArgument) Error() string { return "Invalid JSON payload received. " + e.detail }

func invalidArgf(format string, args ...any) error {
	return &invalidArgument{detail: fmt.Sprintf(format, args...)}
}

// toWire is the one place where errors become the contract's error objects.
// Messages never quote the API key, the JWT or SECRET_KEY, an address or Go
// error text: auth errors carry fixed reasons, transport failures a fixed
// message per kind, and of an upstream body only a documented message.
func toWire(err error) wireError {
	var (
		authErr   *auth.Error
		invalid   *invalidArgument
		apiErr    *signals.APIError
		tlsErr    *signals.TLSError
		transport *signals.TransportError
		deadline  *enrich.DeadlineError
		limit     *enrich.LimitError
	)
	switch {
	case errors.As(err, &deadline):
		return warning(CodeRequestTimeout, deadline.Error())
	case errors.As(err, &limit):
		return warning(CodeTooManyObservables, limit.Error())
	case errors.As(err, &authErr):
		return fatal(CodeAuthorization, authErr.Error())
	case errors.As(err, &invalid):
		return fatal(CodeInvalidArgument, invalid.Error())
	case errors.As(err, &apiErr):
		switch {
		case apiErr.Unauthorized():
			return fatal(CodeAuthorization, "Authorization failed: "+upstreamText(apiErr))
		case apiErr.RateLimited():
			return fatal(CodeTooManyRequests, "Auth0 Signals quota for this API key is used up (HTTP 429); further lookups were stopped. "+upstreamText(apiErr))
		default:
			text := http.StatusText(apiErr.StatusCode)
			return fatal(cmp.Or(strings.ToLower(text), "unexpected response"),
				strings.TrimSpace(fmt.Sprintf("Unexpected response from Auth0 Signals: HTTP %d %s", apiErr.StatusCode, text)))
		}
	case errors.As(err, &tlsErr):
		return fatal(CodeUnknown, tlsErr.Error())
	case errors.As(err, &transport):
		if transport.Kind == signals.KeyNotSendable {
			return fatal(CodeAuthorization, "Authorization failed: The API key contains characters that cannot be sent to Auth0 Signals.")
		}
		return fatal(CodeUnknown, transportMessages[transport.Kind])
	default:
		return fatal(CodeUnknown, "Something went wrong.")
	}
}

// transportMessages are fixed per kind, so that no address or Go error
// text reaches the caller (the detail goes to the request log).
var transportMessages = map[signals.Kind]string{
	signals.Unreachable:     "Auth0 Signals could not be reached. Please, try again later.",
	signals.TimedOut:        "Auth0 Signals did not answer in time. Please, try again later.",
	signals.Unreadable:      "Auth0 Signals sent an answer that could not be read.",
	signals.RedirectRefused: "Auth0 Signals redirected the request to another address, which the relay does not follow.",
}

// upstreamText is the upstream's documented message, or the status text.
func upstreamText(e *signals.APIError) string {
	if m := e.Message(); m != "" {
		return m
	}
	return http.StatusText(e.StatusCode) + "."
}
