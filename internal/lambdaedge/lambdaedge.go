// Package lambdaedge serves the relay's http.Handler as an AWS Lambda
// function.
//
// The relay itself knows nothing about Lambda: this package adapts the events
// Lambda delivers into *http.Request values and the handler's responses back
// into the event response shapes, using github.com/akrylysov/algnhsa over
// github.com/aws/aws-lambda-go. Three event sources are understood, chosen
// per invocation from the payload:
//
//   - Lambda Function URLs (payload format 2.0, stage "$default");
//   - API Gateway HTTP APIs (payload format 2.0); on a named stage the
//     "/<stage>" prefix API Gateway leaves in rawPath is removed, so
//     /dev/health reaches the relay as /health;
//   - API Gateway REST APIs (payload format 1.0, proxy integration), whose
//     path already comes without the stage.
//
// Base64-encoded request bodies are decoded, headers and query strings are
// carried over, and the handler's status code, headers and body are returned
// unchanged (bodies as text: the relay only speaks JSON). A request that
// comes without an X-Request-Id header gets the Lambda request id in it, so
// the relay's request log lines match Lambda's own START/END/REPORT lines.
package lambdaedge

import (
	"errors"
	"net/http"
	"strings"

	"github.com/akrylysov/algnhsa"
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"
)

// RuntimeAPIEnv is the environment variable through which Lambda tells a
// custom runtime where its Runtime API listens. Its presence is how a binary
// knows it runs inside Lambda (or the Runtime Interface Emulator).
const RuntimeAPIEnv = "AWS_LAMBDA_RUNTIME_API"

// ErrNotLambda is returned by Serve outside a Lambda execution environment.
var ErrNotLambda = errors.New("lambdaedge: " + RuntimeAPIEnv + " is not set; not running inside AWS Lambda")

// Handler returns the Lambda handler that serves h for Function URL, HTTP API
// (v2) and REST API (v1) events. It needs no Lambda runtime, so tests can
// feed it events directly through Invoke.
func Handler(h http.Handler) lambda.Handler {
	return algnhsa.New(withRequestID(stripStage(h)), &algnhsa.Options{RequestType: algnhsa.RequestTypeAuto})
}

// Serve runs h as the function's handler: it polls the Lambda Runtime API
// for invocations and answers each through h. It only returns, with
// ErrNotLambda, when getenv (the process environment) shows that the process
// does not run inside Lambda; once started, the Lambda runtime owns the
// process until the execution environment ends it, and a failure to talk to
// the Runtime API exits the process.
func Serve(getenv func(string) string, h http.Handler) error {
	if getenv(RuntimeAPIEnv) == "" {
		return ErrNotLambda
	}
	lambda.Start(Handler(h))
	return nil
}

// stripStage removes the "/<stage>" prefix that API Gateway HTTP APIs keep
// in rawPath for a named stage. Function URLs and the "$default" stage have
// no such prefix; REST API (v1) events carry the path without the stage.
func stripStage(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ev, ok := algnhsa.APIGatewayV2RequestFromContext(r.Context())
		if !ok {
			h.ServeHTTP(w, r)
			return
		}
		stage := ev.RequestContext.Stage
		if stage == "" || stage == "$default" {
			h.ServeHTTP(w, r)
			return
		}
		prefix := "/" + stage
		p := r.URL.Path
		if p != prefix && !strings.HasPrefix(p, prefix+"/") {
			h.ServeHTTP(w, r)
			return
		}
		r2 := r.Clone(r.Context())
		r2.URL.Path = strings.TrimPrefix(p, prefix)
		if r2.URL.Path == "" {
			r2.URL.Path = "/"
		}
		r2.URL.RawPath = ""
		r2.RequestURI = r2.URL.RequestURI()
		h.ServeHTTP(w, r2)
	})
}

// withRequestID sets X-Request-Id to the Lambda request id when the caller
// sent none.
func withRequestID(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("X-Request-Id") == "" {
			if lc, ok := lambdacontext.FromContext(r.Context()); ok && lc.AwsRequestID != "" {
				r.Header.Set("X-Request-Id", lc.AwsRequestID)
			}
		}
		h.ServeHTTP(w, r)
	})
}
