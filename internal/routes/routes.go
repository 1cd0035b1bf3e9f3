// Package routes is the relay's route table, from which its mux, request
// log and XDR module type are built.
package routes

import (
	"net/http"
	"slices"
	"strings"
)

// Route is one endpoint of the relay.
type Route struct {
	Method string
	Path   string // "/health"; the relay tolerates a trailing slash
	Auth   bool   // verifies the JWT; listed in the module type's supported-apis
}

// Name is the route's name in supported-apis: its path without the "/".
func (r Route) Name() string { return strings.TrimPrefix(r.Path, "/") }

// Pattern is the route's http.ServeMux pattern.
func (r Route) Pattern() string { return r.Method + " " + r.Path }

// All returns every route, in the module type's order.
func All() []Route { return slices.Clone(all) }

var all = []Route{
	{http.MethodPost, "/health", true},                 // verify the JWT, make one cheap upstream call
	{http.MethodPost, "/deliberate/observables", true}, // verdicts
	{http.MethodPost, "/observe/observables", true},    // verdicts, judgements, sightings, indicators, relationships
	{http.MethodPost, "/refer/observables", true},      // one Auth0 Signals pivot link per address
	{http.MethodPost, "/respond/observables", true},    // no response actions: {"data": []}
	{http.MethodPost, "/respond/trigger", true},        // no response actions: {"data": {"status": "failure"}}
	{http.MethodPost, "/version", false},               // the release version, unauthenticated, not enveloped
	{http.MethodGet, "/watchdog", false},               // echoes the Health-Check header, unauthenticated
}

// Known reports whether path, without trailing slashes, is a route's path.
func Known(path string) bool {
	path = strings.TrimRight(path, "/")
	for _, r := range all {
		if r.Path == path {
			return true
		}
	}
	return false
}
