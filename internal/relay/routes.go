package relay

import (
	"errors"
	"net/http"

	"github.com/signals-relay/signals-relay/internal/auth"
	"github.com/signals-relay/signals-relay/internal/ctim"
	"github.com/signals-relay/signals-relay/internal/enrich"
)

// handleHealth serves POST /health: verify the JWT, then one cheap
// authenticated upstream call.
func handleHealth(o Options) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		creds, err := o.Verifier.Verify(r)
		if err != nil {
			record(r, err)
			writeErrors(w, o.Logger, nil, err)
			return
		}
		ri := infoFrom(r.Context())
		ri.stats.UpstreamCalls = 1
		if err := o.Signals.Ping(r.Context(), creds.APIKey); err != nil {
			record(r, err)
			writeErrors(w, o.Logger, nil, err)
			return
		}
		writeData(w, o.Logger, map[string]string{"status": "ok"})
	})
}

// handleEnrich serves POST /observe/observables (full) and
// POST /deliberate/observables (verdicts only).
func handleEnrich(o Options, lookup *enrich.Lookup, mapper enrich.Mapper, full bool) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		empty := struct{}{}
		creds, err := o.Verifier.Verify(r)
		if err != nil {
			record(r, err)
			writeErrors(w, o.Logger, empty, err)
			return
		}
		observables, err := readObservables(r, o)
		if err != nil {
			record(r, err)
			writeErrors(w, o.Logger, empty, err)
			return
		}
		res := lookup.Run(r.Context(), enrich.Request{
			APIKey:      creds.APIKey,
			Observables: observables,
			Lists:       full,
			ListLimit:   entitiesLimit(o, creds.EntitiesLimit),
			Timeout:     o.RequestTimeout,
			MaxLookups:  o.MaxObservables,
		})
		infoFrom(r.Context()).stats = res.Stats

		var data any
		if full {
			data = mapper.Bundle(res.Observations)
		} else {
			data = ctim.Bundle{Verdicts: ctim.NewDocs(mapper.Verdicts(res.Observations))}
		}
		if len(res.Errors) > 0 {
			record(r, res.Errors...)
			writeErrors(w, o.Logger, data, res.Errors...)
			return
		}
		writeData(w, o.Logger, data)
	})
}

// readObservables reads the body and returns the supported observables,
// however many: only the body's size is limited here.
func readObservables(r *http.Request, o Options) ([]ctim.Observable, error) {
	body, err := readBody(r, o.MaxBodyBytes)
	if err != nil {
		return nil, err
	}
	all, err := decodeObservables(body)
	if err != nil {
		return nil, err
	}
	supported := enrich.Supported(all)
	infoFrom(r.Context()).observables = len(supported)
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
func handleRefer(o Options) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, err := o.Verifier.Verify(r); err != nil {
			record(r, err)
			writeErrors(w, o.Logger, nil, err)
			return
		}
		observables, err := readObservables(r, o)
		if err != nil {
			record(r, err)
			writeErrors(w, o.Logger, nil, err)
			return
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
		writeData(w, o.Logger, links)
	})
}

// handleRespondObservables serves POST /respond/observables: the relay
// offers no response actions.
func handleRespondObservables(o Options) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, err := o.Verifier.Verify(r); err != nil {
			record(r, err)
			writeErrors(w, o.Logger, nil, err)
			return
		}
		if _, err := readObservables(r, o); err != nil {
			record(r, err)
			writeErrors(w, o.Logger, nil, err)
			return
		}
		writeData(w, o.Logger, []struct{}{})
	})
}

// handleRespondTrigger serves POST /respond/trigger: there is no action to
// trigger, so every call fails.
func handleRespondTrigger(o Options) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, err := o.Verifier.Verify(r); err != nil {
			record(r, err)
			writeErrors(w, o.Logger, nil, err)
			return
		}
		writeData(w, o.Logger, map[string]string{"status": "failure"})
	})
}

// handleVersion serves POST /version, unauthenticated and not enveloped.
func handleVersion(o Options) http.Handler {
	body := map[string]string{"version": o.Version}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, o.Logger, http.StatusOK, body)
	})
}

// handleWatchdog serves GET /watchdog: it echoes the Health-Check header.
func handleWatchdog(o Options) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hc := r.Header.Get("Health-Check")
		if hc == "" {
			writeJSON(w, o.Logger, http.StatusOK, envelope{Errors: []wireError{fatal(CodeHealthCheckFailed, "Invalid Health Check")}})
			return
		}
		writeData(w, o.Logger, ctim.Truncate(hc, 256))
	})
}

// record notes the wire codes of errs for the request's log line, and the
// causes behind authorization failures that the caller is not shown (such
// as an unreachable key host): they never hold the token or the API key.
func record(r *http.Request, errs ...error) {
	ri := infoFrom(r.Context())
	for _, err := range errs {
		ri.errors = append(ri.errors, toWire(err).Code)
		var authErr *auth.Error
		if errors.As(err, &authErr) && authErr.Err != nil {
			ri.causes = addCause(ri.causes, authErr.Err.Error())
		}
		recordUpstream(ri, err)
	}
}
