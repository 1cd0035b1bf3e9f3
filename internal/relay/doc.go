// Package relay is the one http.Handler the relay offers Cisco XDR, shared
// by the server, the Lambda function and the tests. A request passes the
// request log, panic recovery, slash trimming, the mux, load shedding and
// authentication. Handled errors are answered HTTP 200 in the contract's
// envelope, whose data keeps what was gathered before the error.
package relay
