package relay

import (
	"errors"
	"io"
	"log/slog"
	"net/http"
	"time"

	"github.com/signals-relay/signals-relay/internal/auth"
	"github.com/signals-relay/signals-relay/internal/ctim"
	"github.com/signals-relay/signals-relay/internal/enrich"
	"github.com/signals-relay/signals-relay/internal/signals"
)

// handleHealth serves POST /health: one cheap authenticated upstream call.
func handleHealth(client *signals.Client) endpoint {
	return func(r *http.Request, creds auth.Credentials) (any, []error) {
		infoFrom(r.Context()).Stats.UpstreamCalls = 1
		if err := client.Ping(r.Context(), creds.APIKey); err != nil {
			return nil, []error{err}
		}
		return map[string]string{"status": "ok"}, nil
	}
}

// enrichLimits bound one observe or deliberate request.
type enrichLimits struct {
	maxBody               int64
	timeout               time.Duration
	maxLookups            int
	entities, entitiesMax int
}

// handleEnrich serves POST /observe/observables (full) and
// POST /deliberate/observables (verdicts only).
func handleEnrich(lookup *enrich.Lookup, mapper enrich.Mapper, limits enrichLimits, full bool) endpoint {
	return func(r *http.Request, creds auth.Credentials) (any, []error) {
		observables, err := readObservables(r, limits.maxBody)
		if err != nil {
			return struct{}{}, []error{err}
		}
		listLimit := limits.entities // or the token's own, never above the operator's maximum
		if creds.EntitiesLimit > 0 {
			listLimit = min(creds.EntitiesLimit, limits.entitiesMax)
		}
		res := lookup.Run(r.Context(), enrich.Request{
			APIKey:      creds.APIKey,
			Observables: observables,
			Lists:       full,
			ListLimit:   listLimit,
			Timeout:     limits.timeout,
			MaxLookups:  limits.maxLookups,
		})
		infoFrom(r.Context()).Stats = res.Stats
		if full {
			return mapper.Bundle(res.Observations), res.Errors
		}
		return ctim.Bundle{Verdicts: ctim.NewDocs(mapper.Verdicts(res.Observations))}, res.Errors
	}
}

// readObservables returns the supported observables of a body of at most
// maxBody bytes.
func readObservables(r *http.Request, maxBody int64) ([]ctim.Observable, error) {
	body, err := io.ReadAll(http.MaxBytesReader(nil, r.Body, maxBody))
	var tooLarge *http.MaxBytesError
	switch {
	case errors.As(err, &tooLarge):
		return nil, invalidArgf("The request body is larger than %d bytes.", maxBody)
	case err != nil:
		return nil, invalidArgf("The request body could not be read.")
	}
	all, err := decodeObservables(body)
	if err != nil {
		return nil, err
	}
	supported := enrich.Supported(all)
	infoFrom(r.Context()).Observables = len(supported)
	return supported, nil
}

// referLink is one pivot back to Auth0 Signals.
type referLink struct {
	ID          string   `json:"id"`
	Title       string   `json:"title"`
	Description string   `json:"description"`
	URL         string   `json:"url"`
	Categories  []string `json:"categories"`
}

// handleRefer serves POST /refer/observables: one search link per address.
func handleRefer(maxBody int64) endpoint {
	return func(r *http.Request, _ auth.Credentials) (any, []error) {
		observables, err := readObservables(r, maxBody)
		if err != nil {
			return nil, []error{err}
		}
		links := make([]referLink, 0, len(observables))
		for _, ob := range observables {
			links = append(links, referLink{
				ID:          "ref-auth0-signals-search-ip-" + ob.Value,
				Title:       "Search for this IP",
				Description: "Lookup this IP on Auth0 Signals",
				URL:         enrich.ReportURL(ob.Value),
				Categories:  []string{"Search", "Auth0 Signals"},
			})
		}
		return links, nil
	}
}

// handleRespondObservables serves POST /respond/observables: no actions.
func handleRespondObservables(maxBody int64) endpoint {
	return func(r *http.Request, _ auth.Credentials) (any, []error) {
		if _, err := readObservables(r, maxBody); err != nil {
			return nil, []error{err}
		}
		return []struct{}{}, nil
	}
}

// handleRespondTrigger serves POST /respond/trigger: with no action to
// trigger, every call fails.
func handleRespondTrigger() endpoint {
	return func(*http.Request, auth.Credentials) (any, []error) {
		return map[string]string{"status": "failure"}, nil
	}
}

// handleVersion serves POST /version, unauthenticated and not enveloped.
func handleVersion(logger *slog.Logger, version string) http.Handler {
	body := map[string]string{"version": version}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, logger, http.StatusOK, body)
	})
}

// handleWatchdog serves GET /watchdog: it echoes the Health-Check header.
func handleWatchdog(logger *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hc := r.Header.Get("Health-Check")
		if hc == "" {
			writeJSON(w, logger, http.StatusOK, envelope{Errors: []wireError{fatal(CodeHealthCheckFailed, "Invalid Health Check")}})
			return
		}
		writeEnvelope(w, logger, ctim.Truncate(hc, 256))
	})
}

// record notes for the request's log line the wire codes of errs and the
// detail the caller is not shown: the cause of an authorization failure (an
// unreachable key host) and of an upstream failure (addresses, Go error
// text, undocumented bodies). Neither holds the token or the API key, which
// the signals client redacts.
func record(r *http.Request, errs ...error) {
	ri := infoFrom(r.Context())
	for _, err := range errs {
		ri.Errors = append(ri.Errors, toWire(err).Code)
		var (
			authErr   *auth.Error
			apiErr    *signals.APIError
			tlsErr    *signals.TLSError
			transport *signals.TransportError
		)
		if errors.As(err, &authErr) && authErr.Err != nil {
			ri.causes = addCause(ri.causes, authErr.Err.Error())
		}
		if errors.As(err, &apiErr) || errors.As(err, &tlsErr) || errors.As(err, &transport) {
			ri.upstream = addCause(ri.upstream, err.Error())
		}
	}
}
