// Package lambdaedge serves the relay's http.Handler as an AWS Lambda
// function through github.com/akrylysov/algnhsa, for Function URL, API
// Gateway HTTP API (payload 2.0) and REST API (1.0) events.
package lambdaedge

import (
	"errors"
	"net/http"
	"strings"

	"github.com/akrylysov/algnhsa"
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"
)

// RuntimeAPIEnv is where Lambda tells a custom runtime its Runtime API
// listens; its presence means the binary runs inside Lambda (or the RIE).
const RuntimeAPIEnv = "AWS_LAMBDA_RUNTIME_API"

// ErrNotLambda is returned by Serve outside a Lambda execution environment.
var ErrNotLambda = errors.New("lambdaedge: " + RuntimeAPIEnv + " is not set; not running inside AWS Lambda")

// Handler returns the Lambda handler that serves h; tests can feed it
// events through Invoke, without a Lambda runtime.
func Handler(h http.Handler) lambda.Handler {
	return algnhsa.New(withRequestID(stripStage(h)), &algnhsa.Options{RequestType: algnhsa.RequestTypeAuto})
}

// Serve runs h as the function's handler; it returns only ErrNotLambda, as
// otherwise the Lambda runtime owns the process.
func Serve(getenv func(string) string, h http.Handler) error {
	if getenv(RuntimeAPIEnv) == "" {
		return ErrNotLambda
	}
	lambda.Start(Handler(h))
	return nil
}

// stripStage removes the "/<stage>" prefix that API Gateway HTTP APIs keep
// in rawPath for a named stage (not "$default").
func stripStage(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ev, ok := algnhsa.APIGatewayV2RequestFromContext(r.Context())
		stage, p := ev.RequestContext.Stage, r.URL.Path
		prefix := "/" + stage
		if !ok || stage == "" || stage == "$default" || p != prefix && !strings.HasPrefix(p, prefix+"/") {
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

// withRequestID sets a missing X-Request-Id to the Lambda request id, so
// the log lines match Lambda's own.
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
