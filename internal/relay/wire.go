package relay

import (
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/signals-relay/signals-relay/internal/auth"
	"github.com/signals-relay/signals-relay/internal/bufpool"
	"github.com/signals-relay/signals-relay/internal/ctim"
	"github.com/signals-relay/signals-relay/internal/enrich"
	"github.com/signals-relay/signals-relay/internal/signals"
)

// envelope is every enveloped answer: data, errors, or both.
type envelope struct {
	Data   any         `json:"data,omitempty"`
	Errors []wireError `json:"errors,omitempty"`
}

// writeJSON writes v with status in one Write; a failure to encode is a 500.
func writeJSON(w http.ResponseWriter, logger *slog.Logger, status int, v any) {
	buf := bufpool.Get()
	defer bufpool.Put(buf)
	if err := json.NewEncoder(buf).Encode(v); err != nil {
		logger.Error("encode response", "err", err)
		status = http.StatusInternalServerError
		buf.Reset()
		buf.WriteString(`{"errors":[{"type":"fatal","code":"unknown","message":"Something went wrong."}]}` + "\n")
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	if _, err := w.Write(buf.Bytes()); err != nil {
		logger.Debug("write response", "err", err)
	}
}

// writeEnvelope answers status with data (nil: none) and errs, which keeps
// what was gathered before an error; identical errors appear once. It
// records in ri each error's code, once, and what the caller is not shown: the
// causes of authorization failures (a key host down) and of upstream
// failures (addresses, Go error text), which hold no token or API key (the
// signals client redacts it).
func writeEnvelope(w http.ResponseWriter, logger *slog.Logger, ri *requestInfo, status int, data any, errs ...error) {
	var out []wireError
	for _, err := range errs {
		we, c := toWire(err)
		if !slices.Contains(ri.Errors, we.Code) {
			ri.Errors = append(ri.Errors, we.Code)
		}
		if c.auth != "" {
			ri.causes = addCause(ri.causes, c.auth)
		}
		if c.upstream != "" {
			ri.upstream = addCause(ri.upstream, c.upstream)
		}
		if !slices.Contains(out, we) {
			out = append(out, we)
		}
	}
	writeJSON(w, logger, status, envelope{Data: data, Errors: out})
}

// Bounds of a request body's JSON.
const (
	// maxValueLen caps a field; a longer value is no address, and is
	// rejected rather than echoed back.
	maxValueLen = 1024
	maxDepth    = 32 // JSON nesting
)

// jsonSpace is JSON's white space (RFC 8259); a form feed is not.
const jsonSpace = " \t\r\n"

// decodeObservables parses a JSON array of {"type": string, "value":
// string} objects, whatever the Content-Type, stopping at the first problem,
// which its error names and places.
func decodeObservables(body []byte) ([]ctim.Observable, error) {
	trimmed := bytes.Trim(body, jsonSpace)
	if len(trimmed) == 0 {
		return nil, invalidArgf("The request body is empty; expected a JSON array of observables.")
	}
	if !utf8.Valid(trimmed) {
		return nil, invalidArgf("The request body is not valid UTF-8.")
	}
	dec := json.NewDecoder(bytes.NewReader(trimmed))
	dec.UseNumber() // numbers are only scanned: 1e999 is valid JSON, if no observable
	// No position: where encoding/json stops on a syntax error differs
	// between Go releases, and a caller's answer must not depend on the
	// toolchain that built the relay.
	notJSON := func() error { return invalidArgf("The request body is not valid JSON.") }
	tok, err := dec.Token()
	if err != nil {
		return nil, notJSON()
	}
	if tok != json.Delim('[') {
		return nil, invalidArgf("Expected a JSON array of observables, got %s.", tokenKind(tok))
	}
	var out []ctim.Observable
	for i := 0; ; i++ {
		tok, err := dec.Token()
		if err != nil {
			return nil, notJSON()
		}
		if tok == json.Delim(']') {
			break
		}
		o, err := readObservable(dec, tok)
		switch {
		case errors.Is(err, errTooDeep):
			return nil, invalidArgf("The request body nests deeper than %d levels.", maxDepth)
		case errors.Is(err, errSyntax):
			return nil, notJSON()
		case err != nil:
			return nil, invalidArgf("Observable %d: %s", i, err)
		}
		out = append(out, o)
	}
	if dec.More() {
		return nil, invalidArgf("The request body holds more than one JSON value.")
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, notJSON()
	}
	return out, nil
}

// Errors of reading one element.
var (
	errSyntax  = errors.New("syntax error")
	errTooDeep = errors.New("too deep")
)

// field is an observable member's JSON kind and, for a string, its text.
type field struct{ kind, text string }

// readObservable reads the element that starts with first, then checks it.
// A field named twice is an error, not last-wins: whatever inspects the body
// in front of the relay must read the same observable ("v\u0061lue" is
// "value").
func readObservable(dec *json.Decoder, first json.Token) (ctim.Observable, error) {
	if first != json.Delim('{') {
		if err := skipValue(dec, first, 1); err != nil {
			return ctim.Observable{}, err
		}
		return ctim.Observable{}, fmt.Errorf("expected an object with \"type\" and \"value\", got %s.", tokenKind(first))
	}
	fields := make(map[string]field, 2)
	dup := ""
	for {
		tok, err := dec.Token()
		if err != nil {
			return ctim.Observable{}, errSyntax
		}
		if tok == json.Delim('}') {
			break
		}
		name, _ := tok.(string) // the decoder returns only strings as names
		if tok, err = dec.Token(); err != nil {
			return ctim.Observable{}, errSyntax
		}
		f := field{kind: tokenKind(tok)}
		if s, ok := tok.(string); ok {
			f.text = s
		} else if err := skipValue(dec, tok, 2); err != nil {
			return ctim.Observable{}, err
		}
		if _, seen := fields[name]; seen && dup == "" {
			dup = name
		}
		fields[name] = f
	}
	if dup != "" {
		return ctim.Observable{}, fmt.Errorf("field %q appears more than once.", truncateName(dup))
	}
	return checkObservable(fields)
}

// checkObservable checks the fields of an observable object.
func checkObservable(fields map[string]field) (ctim.Observable, error) {
	var o ctim.Observable
	for _, f := range []struct {
		name string
		dst  *string
	}{{"type", &o.Type}, {"value", &o.Value}} {
		v, ok := fields[f.name]
		if !ok {
			return o, fmt.Errorf("field %q is missing.", f.name)
		}
		if v.kind != "a string" {
			return o, fmt.Errorf("field %q must be a string, got %s.", f.name, v.kind)
		}
		*f.dst = v.text
		if strings.TrimSpace(*f.dst) == "" {
			return o, fmt.Errorf("field %q must not be blank.", f.name)
		}
		if len(*f.dst) > maxValueLen {
			return o, fmt.Errorf("field %q is longer than %d bytes.", f.name, maxValueLen)
		}
		if strings.ContainsRune(*f.dst, 0) {
			return o, fmt.Errorf("field %q contains a NUL character.", f.name)
		}
	}
	for name := range fields {
		if name != "type" && name != "value" {
			return o, fmt.Errorf("unknown field %q.", truncateName(name))
		}
	}
	return o, nil
}

// skipValue reads the rest of the value that starts with first, at depth.
func skipValue(dec *json.Decoder, first json.Token, depth int) error {
	base := depth
	for tok := first; ; {
		switch tok {
		case json.Delim('['), json.Delim('{'):
			if depth++; depth > maxDepth {
				return errTooDeep
			}
		case json.Delim(']'), json.Delim('}'):
			depth--
		}
		if depth == base {
			return nil
		}
		var err error
		if tok, err = dec.Token(); err != nil {
			return errSyntax
		}
	}
}

// tokenKind names the JSON type of the value a token starts.
func tokenKind(tok json.Token) string {
	switch tok {
	case json.Delim('{'):
		return "an object"
	case json.Delim('['):
		return "an array"
	case nil:
		return "null"
	}
	switch tok.(type) {
	case string:
		return "a string"
	case bool:
		return "a boolean"
	default:
		return "a number"
	}
}

func truncateName(s string) string {
	return ctim.Truncate(strings.ToValidUTF8(s, "?"), 64)
}

// Error codes of the relay contract.
const (
	CodeAuthorization      = "authorization error"
	CodeInvalidArgument    = "invalid argument"
	CodeTooManyRequests    = "too many requests"
	CodeUnknown            = "unknown"
	CodeHealthCheckFailed  = "health check failed"
	CodeRequestTimeout     = "request timeout"
	CodeServiceUnavailable = "service unavailable"  // shed at the concurrency cap (503)
	CodeTooManyObservables = "too many observables" // a warning: not every address was looked up
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

// invalidArgument is a request the relay cannot read; detail says why.
type invalidArgument struct{ detail string }

func (e *invalidArgument) Error() string { return "relay: invalid payload: " + e.detail }

func invalidArgf(format string, args ...any) error {
	return &invalidArgument{detail: fmt.Sprintf(format, args...)}
}

// cause is what the log records of an error and the caller is not shown.
type cause struct{ auth, upstream string }

// toWire is the one place where errors become the contract's error objects,
// whose messages never quote a key, token, secret, address or Go error text:
// only fixed reasons and messages, and an upstream's documented ones. It
// also gives the error's cause for the log.
func toWire(err error) (wireError, cause) {
	var (
		authErr   *auth.Error
		invalid   *invalidArgument
		apiErr    *signals.APIError
		tlsErr    *signals.TLSError
		transport *signals.TransportError
		deadline  *enrich.DeadlineError
		limit     *enrich.LimitError
	)
	upstream := func(we wireError) (wireError, cause) { return we, cause{upstream: err.Error()} }
	authorization := func(reason string) wireError { return fatal(CodeAuthorization, "Authorization failed: "+reason) }
	switch {
	case errors.Is(err, errBusy):
		return fatal(CodeServiceUnavailable, "The relay is busy with other requests. Please, try again in "+retryAfter+" seconds."), cause{}
	case errors.As(err, &deadline):
		within := ""
		if deadline.Timeout > 0 {
			within = " within " + deadline.Timeout.String()
		}
		return warning(CodeRequestTimeout, fmt.Sprintf("Auth0 Signals lookups did not finish%s; the answer is partial: "+
			"%d of %d observables and %d blocklists were not looked up.",
			within, deadline.Observables, deadline.Total, deadline.Lists)), cause{}
	case errors.As(err, &limit):
		return warning(CodeTooManyObservables, fmt.Sprintf("Only the first %d addresses of a request are looked up in "+
			"Auth0 Signals; the answer is partial: %d of %d observables were not looked up.",
			limit.Max, limit.Observables, limit.Total)), cause{}
	case errors.As(err, &authErr):
		c := cause{}
		if authErr.Err != nil {
			c.auth = authErr.Err.Error()
		}
		return authorization(authErr.Reason), c
	case errors.As(err, &invalid):
		return fatal(CodeInvalidArgument, "Invalid JSON payload received. "+invalid.detail), cause{}
	case errors.As(err, &apiErr):
		switch {
		case apiErr.Unauthorized():
			return upstream(authorization(upstreamText(apiErr)))
		case apiErr.RateLimited():
			return upstream(fatal(CodeTooManyRequests, "Auth0 Signals quota for this API key is used up (HTTP 429); further lookups were stopped. "+upstreamText(apiErr)))
		default:
			text := http.StatusText(apiErr.StatusCode)
			return upstream(fatal(cmp.Or(strings.ToLower(text), "unexpected response"),
				strings.TrimSpace(fmt.Sprintf("Unexpected response from Auth0 Signals: HTTP %d %s", apiErr.StatusCode, text))))
		}
	case errors.As(err, &tlsErr):
		return upstream(fatal(CodeUnknown, "Unable to verify SSL certificate: "+certReasons[tlsErr.Reason]))
	case errors.As(err, &transport):
		if transport.Kind == signals.KeyNotSendable {
			return upstream(authorization("The API key contains characters that cannot be sent to Auth0 Signals."))
		}
		return upstream(fatal(CodeUnknown, transportMessages[transport.Kind]))
	default:
		return fatal(CodeUnknown, "Something went wrong."), cause{}
	}
}

// transportMessages are fixed, so no address or Go error text reaches a caller.
var transportMessages = map[signals.Kind]string{
	signals.Unreachable:     "Auth0 Signals could not be reached. Please, try again later.",
	signals.TimedOut:        "Auth0 Signals did not answer in time. Please, try again later.",
	signals.Unreadable:      "Auth0 Signals sent an answer that could not be read.",
	signals.RedirectRefused: "Auth0 Signals redirected the request to another address, which the relay does not follow.",
}

// certReasons are OpenSSL's verify messages, capitalised, as the original
// relay reported them, but never naming a host.
var certReasons = map[signals.CertReason]string{
	signals.CertOther:            "Certificate verify failed",
	signals.CertUnknownAuthority: "Unable to get local issuer certificate",
	signals.CertHostnameMismatch: "Hostname mismatch",
	signals.CertExpired:          "Certificate has expired or is not yet valid",
}

// upstreamText is the upstream's documented message, or the status text.
func upstreamText(e *signals.APIError) string {
	if m := e.Message(); m != "" {
		return m
	}
	return http.StatusText(e.StatusCode) + "."
}
