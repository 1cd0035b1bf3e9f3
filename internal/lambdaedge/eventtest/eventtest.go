// Package eventtest builds the Lambda event payloads that Function URLs and
// API Gateway deliver to a function, and reads the responses a function
// returns for them. It is for tests, in the way net/http/httptest is: both
// the adapter's unit tests and the end-to-end tests against the Lambda
// Runtime Interface Emulator use it, so they speak exactly the same shapes.
package eventtest

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/aws/aws-lambda-go/events"
)

// Fixed identities used in every event. They look like real ones so that an
// adapter that checks for their presence (REST events need an account id)
// sees what Lambda sends.
const (
	AccountID = "123456789012"
	URLID     = "abcdefghijklmnopqrstuvwxyz012345"
	APIID     = "a1b2c3d4e5"
	SourceIP  = "198.51.100.7"
	RequestID = "c6af9ac6-7b61-11e6-9a41-93e8deadbeef"
	timeText  = "26/Nov/2026:03:49:00 +0000"
	timeEpoch = 1795664940000
)

// Request is the HTTP request an event describes.
type Request struct {
	Method   string
	Path     string // as the client sent it, without a stage prefix
	RawQuery string
	Header   http.Header
	Body     []byte
	// Base64 sends the body base64-encoded with isBase64Encoded set, as
	// Function URLs and API Gateway do for bodies they treat as binary.
	Base64 bool
}

func (r Request) body() string {
	if r.Base64 {
		return base64.StdEncoding.EncodeToString(r.Body)
	}
	return string(r.Body)
}

// singleHeaders joins repeated header values with commas and lower-cases the
// names, as payload format 2.0 does.
func (r Request) singleHeaders(host string) map[string]string {
	h := map[string]string{"host": host}
	for k, vs := range r.Header {
		h[strings.ToLower(k)] = strings.Join(vs, ",")
	}
	return h
}

func (r Request) queryMaps() (map[string]string, map[string][]string) {
	if r.RawQuery == "" {
		return nil, nil
	}
	q, _ := url.ParseQuery(r.RawQuery)
	single := make(map[string]string, len(q))
	for k, vs := range q {
		single[k] = strings.Join(vs, ",")
	}
	return single, q
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("eventtest: %v", err))
	}
	return b
}

// FunctionURL returns the event a Lambda Function URL delivers for r
// (payload format 2.0, route and stage "$default", no stage prefix in the
// path).
func FunctionURL(r Request) []byte {
	host := URLID + ".lambda-url.us-east-1.on.aws"
	return v2Event(r, host, URLID, "anonymous", "$default", "$default", r.Path, nil)
}

// HTTPAPI returns the event an API Gateway HTTP API delivers for r through a
// "ANY /{proxy+}" route (payload format 2.0). On a named stage the rawPath
// carries the "/<stage>" prefix, as API Gateway sends it; stage "" means
// "$default".
func HTTPAPI(stage string, r Request) []byte {
	host := APIID + ".execute-api.us-east-1.amazonaws.com"
	raw := r.Path
	if stage == "" {
		stage = "$default"
	} else if stage != "$default" {
		raw = "/" + stage + r.Path
	}
	proxy := map[string]string{"proxy": strings.TrimPrefix(r.Path, "/")}
	return v2Event(r, host, APIID, AccountID, "ANY /{proxy+}", stage, raw, proxy)
}

// v2Event builds a payload format 2.0 event.
func v2Event(r Request, host, apiID, account, routeKey, stage, rawPath string, pathParams map[string]string) []byte {
	single, _ := r.queryMaps()
	m := map[string]any{
		"version":               "2.0",
		"routeKey":              routeKey,
		"rawPath":               rawPath,
		"rawQueryString":        r.RawQuery,
		"headers":               r.singleHeaders(host),
		"queryStringParameters": single,
		"pathParameters":        pathParams,
		"requestContext": map[string]any{
			"accountId":    account,
			"apiId":        apiID,
			"domainName":   host,
			"domainPrefix": apiID,
			"http": map[string]any{
				"method":    r.Method,
				"path":      rawPath,
				"protocol":  "HTTP/1.1",
				"sourceIp":  SourceIP,
				"userAgent": r.Header.Get("User-Agent"),
			},
			"requestId": RequestID,
			"routeKey":  routeKey,
			"stage":     stage,
			"time":      timeText,
			"timeEpoch": timeEpoch,
		},
		"body":            r.body(),
		"isBase64Encoded": r.Base64,
	}
	return mustJSON(m)
}

// REST returns the event an API Gateway REST API delivers for r through a
// "/{proxy+}" resource with Lambda proxy integration (payload format 1.0).
// The event's path has no stage; requestContext.path has it.
func REST(stage string, r Request) []byte {
	host := APIID + ".execute-api.us-east-1.amazonaws.com"
	if stage == "" {
		stage = "dev"
	}
	single, multi := r.queryMaps()
	headers := map[string]string{"Host": host}
	multiHeaders := map[string][]string{"Host": {host}}
	for k, vs := range r.Header {
		headers[k] = vs[len(vs)-1]
		multiHeaders[k] = vs
	}
	return mustJSON(events.APIGatewayProxyRequest{
		Resource:                        "/{proxy+}",
		Path:                            r.Path,
		HTTPMethod:                      r.Method,
		Headers:                         headers,
		MultiValueHeaders:               multiHeaders,
		QueryStringParameters:           single,
		MultiValueQueryStringParameters: multi,
		PathParameters:                  map[string]string{"proxy": strings.TrimPrefix(r.Path, "/")},
		RequestContext: events.APIGatewayProxyRequestContext{
			AccountID:        AccountID,
			ResourceID:       "abc123",
			Stage:            stage,
			RequestID:        RequestID,
			ResourcePath:     "/{proxy+}",
			HTTPMethod:       r.Method,
			APIID:            APIID,
			Path:             "/" + stage + r.Path,
			Protocol:         "HTTP/1.1",
			RequestTime:      timeText,
			RequestTimeEpoch: timeEpoch,
			DomainName:       host,
			DomainPrefix:     APIID,
			Identity:         events.APIGatewayRequestIdentity{SourceIP: SourceIP, UserAgent: r.Header.Get("User-Agent")},
		},
		Body:            r.body(),
		IsBase64Encoded: r.Base64,
	})
}

// Response is what a function answered, in HTTP terms.
type Response struct {
	StatusCode int
	Header     http.Header
	Body       []byte
}

// ParseResponse reads a function's answer to any of the events above: the
// single-value headers of payload format 2.0 and the multi-value headers of
// format 1.0 are both collected, and a base64 body is decoded.
func ParseResponse(payload []byte) (Response, error) {
	var raw struct {
		StatusCode        int                 `json:"statusCode"`
		Headers           map[string]string   `json:"headers"`
		MultiValueHeaders map[string][]string `json:"multiValueHeaders"`
		Cookies           []string            `json:"cookies"`
		Body              string              `json:"body"`
		IsBase64Encoded   bool                `json:"isBase64Encoded"`
	}
	if err := json.Unmarshal(payload, &raw); err != nil {
		return Response{}, fmt.Errorf("decode function response: %w", err)
	}
	if raw.StatusCode == 0 {
		return Response{}, fmt.Errorf("function response has no statusCode: %.200s", payload)
	}
	resp := Response{StatusCode: raw.StatusCode, Header: http.Header{}, Body: []byte(raw.Body)}
	for k, v := range raw.Headers {
		resp.Header.Add(k, v)
	}
	for k, vs := range raw.MultiValueHeaders {
		for _, v := range vs {
			resp.Header.Add(k, v)
		}
	}
	for _, c := range raw.Cookies {
		resp.Header.Add("Set-Cookie", c)
	}
	if raw.IsBase64Encoded {
		b, err := base64.StdEncoding.DecodeString(raw.Body)
		if err != nil {
			return Response{}, fmt.Errorf("decode base64 body: %w", err)
		}
		resp.Body = b
	}
	return resp, nil
}
