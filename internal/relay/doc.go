// Package relay is the HTTP surface the relay offers Cisco XDR / Threat
// Response: one http.Handler, shared by the plain server, the Lambda
// function and the tests.
//
// Routes (POST with a JSON body unless noted; a trailing slash is tolerated):
//
//	/health                 verify the JWT, make one cheap upstream call
//	/deliberate/observables verdicts
//	/observe/observables    verdicts, judgements, sightings, indicators, relationships
//	/refer/observables      one Auth0 Signals pivot link per address
//	/respond/observables    no response actions: {"data": []}
//	/respond/trigger        no response actions: {"data": {"status": "failure"}}
//	/version                the release version, unauthenticated
//	GET /watchdog           echoes the Health-Check header, unauthenticated
//
// Every route but /version and /watchdog authenticates the caller through an
// auth.Verifier. Handled errors are answered with HTTP 200 and the contract's
// envelope, {"errors": [{"type", "code", "message"}], "data": …}, keeping in
// data everything gathered before the error.
package relay
