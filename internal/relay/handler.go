package relay

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/signals-relay/signals-relay/internal/auth"
	"github.com/signals-relay/signals-relay/internal/ctim"
	"github.com/signals-relay/signals-relay/internal/enrich"
	"github.com/signals-relay/signals-relay/internal/routes"
)

// retryAfter is the seconds a 503 at the load cap asks the caller to wait.
const retryAfter = "5"

// Limits are the operator's bounds on a request.
type Limits struct {
	// EntitiesLimit caps blocklists per observable (CTR_ENTITIES_LIMIT). A
	// token may set its own, capped at EntitiesMax (CTR_ENTITIES_LIMIT_MAX),
	// which EntitiesLimit may not exceed.
	EntitiesLimit, EntitiesMax int
	MaxConcurrent              int   // calls of the body routes in progress (MAX_CONCURRENT_LOOKUPS)
	MaxBodyBytes               int64 // of a request body
	// MaxObservables caps the distinct addresses of a request that are
	// looked up; the rest are answered with a warning (MAX_OBSERVABLES).
	MaxObservables int
	// RequestTimeout bounds an observe or deliberate request's upstream
	// work; then the answer holds what is complete and a warning
	// (REQUEST_TIMEOUT).
	RequestTimeout time.Duration
}

// DefaultLimits returns the limits the operator's settings default to.
func DefaultLimits() Limits {
	return Limits{
		EntitiesLimit: 100, EntitiesMax: 1000, MaxConcurrent: 64, MaxBodyBytes: 1 << 20, MaxObservables: 1000,
		// Half of API Gateway's 29 s integration timeout (Threat
		// Response's own is not documented).
		RequestTimeout: 15 * time.Second,
	}
}

// Options configures the handler. Every field is required but Now, NewID
// and Observe.
type Options struct {
	Logger   *slog.Logger
	Verifier auth.Verifier
	Lookup   *enrich.Lookup // gathers what Auth0 Signals knows; /health pings it
	Limits   Limits
	Version  string              // of /version
	Now      func() time.Time    // nil: time.Now
	NewID    func() string       // nil: random UUIDs
	Observe  func(RequestRecord) // when set, called with each request's record (metrics)
}

// RequestRecord is what a request's log line records: no header, body,
// key, token or observable.
type RequestRecord struct {
	Route       string // a route of the relay, or "other"
	Status      int
	Duration    time.Duration
	Observables int
	Stats       enrich.Stats
	Errors      []string // the contract's error codes, each once
}

// New returns the relay's http.Handler, or which option is missing or out
// of range.
func New(o Options) (http.Handler, error) {
	l := o.Limits
	switch {
	case o.Logger == nil || o.Verifier == nil || o.Lookup == nil:
		return nil, errors.New("relay: Logger, Verifier and Lookup are required")
	case min(l.EntitiesLimit, l.EntitiesMax, l.MaxConcurrent, l.MaxObservables) < 1 || l.MaxBodyBytes < 1 || l.RequestTimeout <= 0:
		return nil, fmt.Errorf("relay: every limit must be positive: %+v", l)
	case l.EntitiesLimit > l.EntitiesMax:
		return nil, fmt.Errorf("relay: EntitiesLimit %d is above EntitiesMax %d", l.EntitiesLimit, l.EntitiesMax)
	case o.Version == "":
		return nil, errors.New("relay: Version is required")
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.NewID == nil {
		o.NewID = uuid.NewString
	}
	mux := http.NewServeMux()
	addRoutes(mux, o, enrich.Mapper{Now: o.Now, NewID: o.NewID})
	return withRequestLog(o.Logger, o.Observe, withRecovery(o.Logger, withoutTrailingSlash(mux))), nil
}

// addRoutes mounts a handler on every route of the routes table, each
// given only what it uses. Every route that reads a body shares one load
// cap, whose slot a call takes once authenticated and once its body has
// arrived (see withBody).
func addRoutes(mux *http.ServeMux, o Options, mapper enrich.Mapper) {
	l := o.Limits
	b := bodyBounds{work: &workCap{maxCalls: l.MaxConcurrent, maxBytes: workBytes * l.MaxBodyBytes}, maxBody: l.MaxBodyBytes}
	verified := func(onAuthFailure any, h endpoint) http.Handler {
		return authenticated(o.Logger, o.Verifier, onAuthFailure, h)
	}
	handlers := map[string]http.Handler{
		"/health":                 verified(nil, handleHealth(o.Lookup)),
		"/deliberate/observables": verified(struct{}{}, b.withBody(struct{}{}, handleEnrich(o.Lookup, mapper, l, false))),
		"/observe/observables":    verified(struct{}{}, b.withBody(struct{}{}, handleEnrich(o.Lookup, mapper, l, true))),
		"/refer/observables":      verified(nil, b.withBody([]referLink{}, handleRefer(l.MaxObservables))),
		"/respond/observables":    verified(nil, b.withBody([]struct{}{}, handleRespondObservables)),
		"/respond/trigger":        verified(nil, respondTrigger),
		"/version":                handleVersion(o.Logger, o.Version),
		"/watchdog":               Watchdog(o.Logger),
	}
	for _, rt := range routes.All() {
		mux.Handle(rt.Pattern(), handlers[rt.Path]) // a route without a handler panics here
		delete(handlers, rt.Path)
	}
	if len(handlers) > 0 {
		panic("relay: handlers for paths not in the routes table")
	}
}

// result is what an authenticated route's work gives: the data and errors
// to answer, and what the request's log line records of it.
type result struct {
	data        any
	errs        []error
	observables int // supported ones in the body
	stats       enrich.Stats
}

// endpoint is an authenticated route's work.
type endpoint func(r *http.Request, creds auth.Credentials) result

// authenticated verifies the caller, runs h, and answers the envelope and
// fills the request's record, in one place; a caller that fails
// verification gets onAuthFailure as data. A call shed at the load cap
// (errBusy) is answered 503 with Retry-After and that error alone.
func authenticated(logger *slog.Logger, verifier auth.Verifier, onAuthFailure any, h endpoint) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		creds, err := verifier.Verify(r)
		res := result{data: onAuthFailure, errs: []error{err}}
		if err == nil {
			res = h(r, creds)
		}
		status := http.StatusOK
		if slices.Contains(res.errs, errBusy) {
			res.errs, status = []error{errBusy}, http.StatusServiceUnavailable
			w.Header().Set("Retry-After", retryAfter)
		}
		ri := infoFrom(r.Context())
		ri.Observables, ri.Stats = res.observables, res.stats
		writeEnvelope(w, logger, ri, status, res.data, res.errs...)
	})
}

// errBusy sheds a call at the load cap, so a saturated relay neither
// queues nor grows.
var errBusy = errors.New("relay: busy, at the load cap")

// workBytes is how many bodies of the largest size may be decoded at once:
// decoding costs about 20 times a body's size in allocations.
const workBytes = 2

// bodyBounds bound the routes that read observables: the body's size, and
// the calls at work at once.
type bodyBounds struct {
	work    *workCap
	maxBody int64
}

// workCap is the load cap: at most maxCalls calls at work at once, whose
// bodies add up to at most maxBytes (a call alone may always work).
type workCap struct {
	mu              sync.Mutex
	calls, maxCalls int
	bytes, maxBytes int64
}

// take takes a place for a call with a body of n bytes, if there is one.
func (c *workCap) take(n int64) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.fits(n) {
		return false
	}
	c.calls++
	c.bytes += n
	return true
}

// could reports whether take(n) would succeed now.
func (c *workCap) could(n int64) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.fits(n)
}

// fits reports whether a call with a body of n bytes fits; c.mu is held.
func (c *workCap) fits(n int64) bool {
	return c.calls < c.maxCalls && (c.calls == 0 || c.bytes+n <= c.maxBytes)
}

// release gives back the place of a call with a body of n bytes.
func (c *workCap) release(n int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.calls--
	c.bytes -= n
}

// observablesEndpoint is the work of a route that reads observables.
type observablesEndpoint func(r *http.Request, creds auth.Credentials, observables []ctim.Observable) result

// withBody reads the body of an authenticated call, then takes a place in
// the load cap to decode it and run h: a body that trickles in holds no
// place (the server's read deadline ends it). With no place free the call
// is shed (errBusy), with onBusy as data, before its body is read when the
// cap is already full.
func (b bodyBounds) withBody(onBusy any, h observablesEndpoint) endpoint {
	return func(r *http.Request, creds auth.Credentials) result {
		if !b.work.could(max(r.ContentLength, 0)) {
			return result{data: onBusy, errs: []error{errBusy}} // no body read for nothing
		}
		body, err := readBody(r, b.maxBody)
		if err != nil {
			return result{data: onBusy, errs: []error{err}}
		}
		n := int64(len(body))
		if !b.work.take(n) {
			return result{data: onBusy, errs: []error{errBusy}}
		}
		defer b.work.release(n)
		all, err := decodeObservables(body)
		if err != nil {
			return result{data: onBusy, errs: []error{err}}
		}
		observables := enrich.Supported(all)
		res := h(r, creds, observables)
		res.observables = len(observables)
		return res
	}
}

// withoutTrailingSlash lets "/health/" reach "/health".
func withoutTrailingSlash(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if p := r.URL.Path; len(p) > 1 && strings.HasSuffix(p, "/") {
			r2 := r.Clone(r.Context())
			r2.URL.Path = strings.TrimRight(p, "/")
			if r2.URL.Path == "" {
				r2.URL.Path = "/"
			}
			r2.URL.RawPath = ""
			r = r2
		}
		next.ServeHTTP(w, r)
	})
}

// withRecovery turns a panic into a generic 500 envelope. Only the stack
// is logged: the panic value could quote request data.
func withRecovery(logger *slog.Logger, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler { //nolint:errorlint // a recovered panic value is never wrapped
					panic(v)
				}
				logger.Error("panic serving request", "route", routeName(r.URL.Path), "stack", string(debug.Stack()))
				writeJSON(w, logger, http.StatusInternalServerError,
					envelope{Errors: []wireError{fatal(CodeUnknown, "Something went wrong.")}})
			}
		}()
		next.ServeHTTP(w, r)
	})
}

// requestInfo is what the request's log line records: its RequestRecord
// (route, status and duration set by withRequestLog, the rest by the
// handlers) and the causes of its failures.
type requestInfo struct {
	RequestRecord
	causes   []string // of authorization failures
	upstream []string // of upstream failures, API key redacted
}

// Bounds on a log line's causes, whatever the caller sends.
const (
	maxLoggedText   = 300 // runes of each
	maxLoggedCauses = 5   // distinct ones per list
)

// addCause appends text, capped, unless list holds it or is full.
func addCause(list []string, text string) []string {
	if r := []rune(text); len(r) > maxLoggedText {
		text = string(r[:maxLoggedText]) + "…"
	}
	if len(list) >= maxLoggedCauses || slices.Contains(list, text) {
		return list
	}
	return append(list, text)
}

type infoKey struct{}

func infoFrom(ctx context.Context) *requestInfo {
	if ri, ok := ctx.Value(infoKey{}).(*requestInfo); ok {
		return ri
	}
	return &requestInfo{}
}

// statusRecorder remembers the status a handler wrote.
type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (s *statusRecorder) WriteHeader(code int) {
	if s.status == 0 {
		s.status = code
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusRecorder) Write(b []byte) (int, error) {
	if s.status == 0 {
		s.status = http.StatusOK
	}
	return s.ResponseWriter.Write(b)
}

func (s *statusRecorder) Unwrap() http.ResponseWriter { return s.ResponseWriter }

// withRequestLog logs one line per request. It never logs headers or
// bodies, so no token, key or secret can reach the log.
func withRequestLog(logger *slog.Logger, observe func(RequestRecord), next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		id := requestID(r)
		w.Header().Set("X-Request-Id", id)
		ri := &requestInfo{}
		rec := &statusRecorder{ResponseWriter: w}
		next.ServeHTTP(rec, r.WithContext(context.WithValue(r.Context(), infoKey{}, ri)))
		ri.Route, ri.Status, ri.Duration = routeName(r.URL.Path), rec.status, time.Since(start)
		attrs := []slog.Attr{
			slog.String("request_id", id),
			slog.String("method", methodName(r.Method)),
			slog.String("route", ri.Route),
			slog.Int("status", ri.Status),
			slog.Float64("duration_ms", float64(ri.Duration.Microseconds())/1000),
			slog.Int("observables", ri.Observables),
			slog.Int64("upstream_calls", ri.Stats.UpstreamCalls),
			slog.Float64("upstream_ms", float64(ri.Stats.UpstreamTime.Microseconds())/1000),
			slog.Int64("report_cache_hits", ri.Stats.ReportCacheHits),
			slog.Int64("list_cache_hits", ri.Stats.ListCacheHits),
		}
		for _, c := range []struct {
			key string
			n   int64
		}{
			{"coalesced", ri.Stats.Coalesced},
			{"observables_skipped", ri.Stats.ObservablesSkipped},
			{"lists_skipped", ri.Stats.ListsSkipped},
		} {
			if c.n > 0 {
				attrs = append(attrs, slog.Int64(c.key, c.n))
			}
		}
		for _, c := range []struct {
			key  string
			list []string
		}{{"errors", ri.Errors}, {"auth_causes", ri.causes}, {"upstream_causes", ri.upstream}} {
			if len(c.list) > 0 {
				attrs = append(attrs, slog.Any(c.key, c.list))
			}
		}
		// Straight to the handler: Logger.LogAttrs would also walk the stack
		// for a caller's address that no handler the relay uses prints.
		if h := logger.Handler(); h.Enabled(r.Context(), slog.LevelInfo) {
			line := slog.NewRecord(time.Now(), slog.LevelInfo, "request", 0)
			line.AddAttrs(attrs...)
			_ = h.Handle(r.Context(), line) // as Logger does, a failed write is not the caller's concern
		}
		if observe != nil {
			observe(ri.RequestRecord)
		}
	})
}

// requestID is the caller's X-Request-Id when short and plain, else new.
func requestID(r *http.Request) string {
	if id := r.Header.Get("X-Request-Id"); id != "" && len(id) <= 64 && plain(id) {
		return id
	}
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

func plain(s string) bool {
	for _, c := range s {
		if !(c == '-' || c == '_' || c == '.' || ('0' <= c && c <= '9') || ('a' <= c && c <= 'z') || ('A' <= c && c <= 'Z')) {
			return false
		}
	}
	return true
}

// methodName is a standard method's name, else "other" (it is caller text).
func methodName(m string) string {
	switch m {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
		http.MethodDelete, http.MethodConnect, http.MethodOptions, http.MethodTrace:
		return m
	}
	return "other"
}

// routeName is a route's path, else "other" (scanners write anything).
func routeName(p string) string {
	if routes.Known(p) {
		return strings.TrimRight(p, "/")
	}
	return "other"
}

// handleHealth serves POST /health: one cheap authenticated upstream call.
func handleHealth(lookup *enrich.Lookup) endpoint {
	return func(r *http.Request, creds auth.Credentials) result {
		start := time.Now()
		err := lookup.Ping(r.Context(), creds.APIKey)
		res := result{stats: enrich.Stats{UpstreamCalls: 1, UpstreamTime: time.Since(start)}}
		if err != nil {
			res.errs = []error{err}
		} else {
			res.data = map[string]string{"status": "ok"}
		}
		return res
	}
}

// handleEnrich serves observe (full) and deliberate (verdicts only).
func handleEnrich(lookup *enrich.Lookup, mapper enrich.Mapper, limits Limits, full bool) observablesEndpoint {
	return func(r *http.Request, creds auth.Credentials, observables []ctim.Observable) result {
		listLimit := limits.EntitiesLimit // or the token's own, never above the operator's maximum
		if creds.EntitiesLimit > 0 {
			listLimit = min(creds.EntitiesLimit, limits.EntitiesMax)
		}
		res := lookup.Run(r.Context(), enrich.Request{
			APIKey:      creds.APIKey,
			Observables: observables,
			Lists:       full,
			ListLimit:   listLimit,
			Timeout:     limits.RequestTimeout,
			MaxLookups:  limits.MaxObservables,
		})
		out := result{data: ctim.Bundle{Verdicts: ctim.NewDocs(mapper.Verdicts(res.Observations))}, errs: res.Errors, stats: res.Stats}
		if full {
			out.data = mapper.Bundle(res.Observations)
		}
		return out
	}
}

// readBody reads the request body, at most maxBody bytes, into a buffer of
// its announced length (a growing one would allocate twice as much).
func readBody(r *http.Request, maxBody int64) ([]byte, error) {
	var buf bytes.Buffer
	if n := r.ContentLength; n > 0 && n <= maxBody {
		buf.Grow(int(n) + 1) // the read of EOF needs a byte of room
	}
	_, err := buf.ReadFrom(http.MaxBytesReader(nil, r.Body, maxBody))
	body := buf.Bytes()
	var tooLarge *http.MaxBytesError
	switch {
	case errors.As(err, &tooLarge):
		return nil, invalidArgf("The request body is larger than %d bytes.", maxBody)
	case err != nil:
		return nil, invalidArgf("The request body could not be read.")
	}
	return body, nil
}

// referLink is one pivot back to Auth0 Signals.
type referLink struct {
	ID          string   `json:"id"`
	Title       string   `json:"title"`
	Description string   `json:"description"`
	URL         string   `json:"url"`
	Categories  []string `json:"categories"`
}

// handleRefer serves POST /refer/observables: one search link per
// address, for the first maxLinks addresses (then a warning, as lookups).
func handleRefer(maxLinks int) observablesEndpoint {
	return func(_ *http.Request, _ auth.Credentials, observables []ctim.Observable) result {
		var errs []error
		if n := len(observables); n > maxLinks {
			errs = append(errs, &enrich.LimitError{Max: maxLinks, Observables: n - maxLinks, Total: n})
			observables = observables[:maxLinks]
		}
		links := make([]referLink, 0, len(observables))
		seen := make(map[string]bool, len(observables))
		for _, ob := range observables {
			id := "ref-auth0-signals-search-ip-" + ob.Value // names the value as sent
			if seen[id] {
				continue // one value under "ip" and "ipv6": one link
			}
			seen[id] = true
			links = append(links, referLink{
				ID:          id,
				Title:       "Search for this IP",
				Description: "Lookup this IP on Auth0 Signals",
				URL:         enrich.ReportURL(enrich.Address(ob)), // the page of the address observe looks up
				Categories:  []string{"Search", "Auth0 Signals"},
			})
		}
		return result{data: links, errs: errs}
	}
}

// handleRespondObservables serves POST /respond/observables: no actions.
func handleRespondObservables(*http.Request, auth.Credentials, []ctim.Observable) result {
	return result{data: []struct{}{}}
}

// respondTrigger serves POST /respond/trigger: every call fails.
func respondTrigger(*http.Request, auth.Credentials) result {
	return result{data: map[string]string{"status": "failure"}}
}

// handleVersion serves POST /version, unauthenticated and not enveloped.
func handleVersion(logger *slog.Logger, version string) http.Handler {
	body := map[string]string{"version": version}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, logger, http.StatusOK, body)
	})
}

// Watchdog serves GET /watchdog: it echoes the Health-Check header. serve
// also mounts it on the admin listener (METRICS_ADDR), for probes.
func Watchdog(logger *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hc := r.Header.Get("Health-Check")
		if hc == "" {
			writeJSON(w, logger, http.StatusOK, envelope{Errors: []wireError{fatal(CodeHealthCheckFailed, "Invalid Health Check")}})
			return
		}
		writeJSON(w, logger, http.StatusOK, envelope{Data: ctim.Truncate(hc, 256)})
	})
}
