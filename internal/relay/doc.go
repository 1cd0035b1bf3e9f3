// Package relay is the HTTP surface the relay offers Cisco XDR / Threat
// Response: one http.Handler, shared by the plain server, the Lambda
// function and the tests.
//
// The routes (POST with a JSON body, bar GET /watchdog; a trailing slash is
// tolerated) are the table in package routes: /health, the observe,
// deliberate, refer and respond endpoints, all authenticated through an
// auth.Verifier, and the unauthenticated /version and /watchdog. Each
// request passes, in order, the request log, panic recovery, trailing-slash
// trimming, the mux, load shedding (observe and deliberate) and
// authentication, then its endpoint. Handled errors are answered with HTTP
// 200 and the contract's envelope, {"errors": [{"type", "code",
// "message"}], "data": …}, keeping in data everything gathered before the
// error.
package relay
