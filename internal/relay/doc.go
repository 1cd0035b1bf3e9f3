// Package relay is the HTTP surface the relay offers Cisco XDR / Threat
// Response: one http.Handler, shared by the server, the Lambda function and
// the tests. Its routes are package routes' table. A request passes the
// request log, panic recovery, trailing-slash trimming, the mux, load
// shedding (observe, deliberate) and authentication, then its endpoint.
// Handled errors are answered HTTP 200 in the contract's envelope,
// {"errors": [{"type", "code", "message"}], "data": …}, whose data keeps
// what was gathered before the error.
package relay
