package lambdaedge_test

// The tests replay the sample events that AWS publishes with
// github.com/aws/aws-lambda-go (its events/testdata directory, Apache
// License 2.0), read from the module cache at test time, and read a
// function's answers with that module's response types. A test picks a
// sample and the HTTP request to carry in it: the method, path, query,
// headers and body are written into the fields the sample already has (a
// sample that lacks one of them fails the test), so the event's shape is
// always AWS's own, never one this project made up.

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-lambda-go/events"
)

// awsSample is one of AWS's sample request events.
type awsSample struct {
	name string // for messages
	file string // in events/testdata
	kind kind
}

type kind int

const (
	functionURL kind = iota // payload format 2.0, no stage
	httpAPI                 // payload format 2.0
	restAPI                 // payload format 1.0 (proxy integration)
)

// The samples the relay's Lambda adapter understands.
var (
	// urlSample is a Lambda Function URL request (payload format 2.0);
	// its client address is 123.123.123.123.
	urlSample = awsSample{name: "Function URL", file: "lambda-urls-request.json", kind: functionURL}
	// httpAPISample is an API Gateway HTTP API request (payload format 2.0) on
	// the "$default" stage; its client address is 1.2.3.4.
	httpAPISample = awsSample{name: "HTTP API", file: "apigw-v2-request-no-authorizer.json", kind: httpAPI}
	// restSample is an API Gateway REST API proxy request (payload format 1.0)
	// on the stage "testStage"; its client address is 192.168.196.186.
	restSample = awsSample{name: "REST API", file: "apigw-request.json", kind: restAPI}
)

func (s awsSample) String() string { return s.name }

// eventRequest is the HTTP request an event carries.
type eventRequest struct {
	Method   string
	Path     string // as the client sent it, without a stage prefix
	RawQuery string
	Header   http.Header
	Body     []byte
	// Base64 sends the body base64-encoded with isBase64Encoded set, as
	// Function URLs and API Gateway do for bodies they treat as binary.
	Base64 bool
	// Stage replaces the sample's stage (HTTP API and REST API only). An
	// HTTP API on a named stage keeps "/<stage>" in the path it sends.
	Stage string
}

// testdataDir finds events/testdata of the aws-lambda-go module this
// module requires.
var testdataDir = sync.OnceValues(func() (string, error) {
	cmd := exec.CommandContext(context.Background(), "go", "list", "-m", "-f", "{{.Dir}}", "github.com/aws/aws-lambda-go")
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("locate github.com/aws/aws-lambda-go: %w", err)
	}
	return filepath.Join(strings.TrimSpace(string(out)), "events", "testdata"), nil
})

// awsEvent returns the sample event s carrying r.
func awsEvent(t testing.TB, s awsSample, r eventRequest) []byte {
	t.Helper()
	dir, err := testdataDir()
	if err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(filepath.Join(dir, s.file))
	if err != nil {
		t.Fatalf("read AWS's sample %s event: %v", s, err)
	}
	var ev map[string]any
	if err := json.Unmarshal(raw, &ev); err != nil {
		t.Fatalf("decode %s: %v", s.file, err)
	}
	e := event{t: t, sample: s}
	body := string(r.Body)
	if r.Base64 {
		body = base64.StdEncoding.EncodeToString(r.Body)
	}
	ev["body"], ev["isBase64Encoded"] = body, r.Base64
	if s.kind == restAPI {
		e.setREST(ev, r)
	} else {
		e.setV2(ev, r)
	}
	out, err := json.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

type event struct {
	t      testing.TB
	sample awsSample
}

// object returns the member name of m, which must be an object.
func (e event) object(m map[string]any, name string) map[string]any {
	e.t.Helper()
	v, ok := m[name].(map[string]any)
	if !ok {
		e.t.Fatalf("AWS's %s sample has no object %q", e.sample, name)
	}
	return v
}

// set replaces the member name of m, which must be in the sample.
func (e event) set(m map[string]any, name string, v any) {
	e.t.Helper()
	if _, ok := m[name]; !ok {
		e.t.Fatalf("AWS's %s sample has no %q", e.sample, name)
	}
	m[name] = v
}

// setV2 writes r into a payload format 2.0 event: lower-case header names
// with repeated values joined by commas, the stage prefix in rawPath.
func (e event) setV2(ev map[string]any, r eventRequest) {
	e.t.Helper()
	ctx := e.object(ev, "requestContext")
	path := r.Path
	if r.Stage != "" {
		if e.sample.kind != httpAPI {
			e.t.Fatalf("a %s has no stage", e.sample)
		}
		e.set(ctx, "stage", r.Stage)
		if r.Stage != "$default" {
			path = "/" + r.Stage + r.Path
		}
	}
	e.set(ev, "rawPath", path)
	e.set(ev, "rawQueryString", r.RawQuery)
	httpCtx := e.object(ctx, "http")
	e.set(httpCtx, "method", r.Method)
	e.set(httpCtx, "path", path)
	headers := e.object(ev, "headers")
	if _, ok := headers["content-length"]; ok {
		headers["content-length"] = strconv.Itoa(len(r.Body))
	}
	for k, vs := range r.Header {
		headers[strings.ToLower(k)] = strings.Join(vs, ",")
	}
	delete(ev, "queryStringParameters")
	if q, _ := url.ParseQuery(r.RawQuery); len(q) > 0 {
		single := map[string]string{}
		for k, vs := range q {
			single[k] = strings.Join(vs, ",")
		}
		ev["queryStringParameters"] = single
	}
}

// setREST writes r into a payload format 1.0 event: single- and
// multi-value headers and query, the path without the stage and the
// request context's path with it.
func (e event) setREST(ev map[string]any, r eventRequest) {
	e.t.Helper()
	ctx := e.object(ev, "requestContext")
	if r.Stage != "" {
		e.set(ctx, "stage", r.Stage)
	}
	stage, _ := ctx["stage"].(string)
	e.set(ev, "path", r.Path)
	e.set(ev, "httpMethod", r.Method)
	e.set(ctx, "httpMethod", r.Method)
	e.set(ctx, "path", "/"+stage+r.Path)
	e.set(e.object(ev, "pathParameters"), "proxy", strings.TrimPrefix(r.Path, "/"))
	headers, multi := e.object(ev, "headers"), e.object(ev, "multiValueHeaders")
	for k, vs := range r.Header {
		headers[k], multi[k] = vs[len(vs)-1], vs
	}
	q, _ := url.ParseQuery(r.RawQuery)
	single := map[string]string{}
	for k, vs := range q {
		single[k] = vs[len(vs)-1]
	}
	e.set(ev, "queryStringParameters", single)
	e.set(ev, "multiValueQueryStringParameters", q)
	if len(q) == 0 {
		ev["queryStringParameters"], ev["multiValueQueryStringParameters"] = nil, nil
	}
}

// eventResponse is what a function answered, in HTTP terms.
type eventResponse struct {
	StatusCode int
	Header     http.Header
	Body       []byte
}

// parseEventResponse reads a function's answer to an event of sample s with the
// response type aws-lambda-go defines for it.
func parseEventResponse(s awsSample, payload []byte) (eventResponse, error) {
	var (
		status  int
		headers map[string]string
		multi   map[string][]string
		cookies []string
		body    string
		base64d bool
		err     error
	)
	switch s.kind {
	case functionURL:
		var r events.LambdaFunctionURLResponse
		err = json.Unmarshal(payload, &r)
		status, headers, cookies, body, base64d = r.StatusCode, r.Headers, r.Cookies, r.Body, r.IsBase64Encoded
	case httpAPI:
		var r events.APIGatewayV2HTTPResponse
		err = json.Unmarshal(payload, &r)
		status, headers, multi, cookies, body, base64d = r.StatusCode, r.Headers, r.MultiValueHeaders, r.Cookies, r.Body, r.IsBase64Encoded
	default:
		var r events.APIGatewayProxyResponse
		err = json.Unmarshal(payload, &r)
		status, headers, multi, body, base64d = r.StatusCode, r.Headers, r.MultiValueHeaders, r.Body, r.IsBase64Encoded
	}
	if err != nil {
		return eventResponse{}, fmt.Errorf("decode %s response: %w", s, err)
	}
	if status == 0 {
		return eventResponse{}, fmt.Errorf("%s response has no statusCode: %.200s", s, payload)
	}
	resp := eventResponse{StatusCode: status, Header: http.Header{}, Body: []byte(body)}
	for k, v := range headers {
		resp.Header.Add(k, v)
	}
	for k, vs := range multi {
		for _, v := range vs {
			resp.Header.Add(k, v)
		}
	}
	for _, c := range cookies {
		resp.Header.Add("Set-Cookie", c)
	}
	if base64d {
		b, err := base64.StdEncoding.DecodeString(body)
		if err != nil {
			return eventResponse{}, fmt.Errorf("decode base64 body: %w", err)
		}
		resp.Body = b
	}
	return resp, nil
}
