package relayctl

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/lambda"

	"github.com/signals-relay/signals-relay/internal/stage"
)

// InvokeRequest is one call to the relay through its Function URL.
type InvokeRequest struct {
	// Route is the relay's route, e.g. "/health" or "/observe/observables".
	Route string
	// Body is the JSON request body; nil sends none.
	Body []byte
	// JWT is the token XDR would send; it goes into the Authorization
	// header and nowhere else.
	JWT string
}

// InvokeResult is the relay's answer.
type InvokeResult struct {
	// URL is the address called.
	URL    string
	Status int
	Body   []byte
}

// maxAnswer bounds the answer read: Function URLs return at most 6 MB.
const maxAnswer = 6 << 20

// Invoke calls the stage's Function URL as XDR does: a POST with the JWT
// as bearer token. A 403 from the URL itself (its resource policy lacks a
// statement) is an error that says how to repair it; any answer of the
// relay is returned as it is.
func (c *Client) Invoke(ctx context.Context, s stage.Settings, req InvokeRequest) (InvokeResult, error) {
	name := s.FunctionName()
	base, err := c.aliasURL(ctx, name)
	if err != nil {
		return InvokeResult{}, err
	}
	if base == "" {
		// GetFunctionUrlConfig answers a missing function as it answers
		// one without a URL: which is it?
		if _, err := c.Lambda.GetFunctionConfiguration(ctx, &lambda.GetFunctionConfigurationInput{FunctionName: &name}); err != nil {
			return InvokeResult{}, c.notDeployed(err, s)
		}
		return InvokeResult{}, &Error{Op: "lambda:GetFunctionUrlConfig", Msg: name + " has no Function URL on alias " + Alias,
			Fix: "`relayctl update " + s.Stage + "` creates it"}
	}
	res := InvokeResult{URL: strings.TrimSuffix(base, "/") + req.Route}
	var body io.Reader
	if req.Body != nil {
		body = bytes.NewReader(req.Body)
	}
	hreq, err := http.NewRequestWithContext(ctx, http.MethodPost, res.URL, body)
	if err != nil {
		return res, err
	}
	hreq.Header.Set("Authorization", "Bearer "+req.JWT)
	hreq.Header.Set("Content-Type", "application/json")
	hreq.Header.Set("Accept", "application/json")
	resp, err := c.httpClient(time.Minute).Do(hreq)
	if err != nil {
		return res, fmt.Errorf("call %s: %w", res.URL, err)
	}
	defer resp.Body.Close()
	res.Status = resp.StatusCode
	if res.Body, err = io.ReadAll(io.LimitReader(resp.Body, maxAnswer)); err != nil {
		return res, fmt.Errorf("read the answer of %s: %w", res.URL, err)
	}
	if resp.StatusCode == http.StatusForbidden && (resp.Header.Get("X-Amzn-ErrorType") == "AccessDeniedException" ||
		bytes.Equal(bytes.TrimSpace(res.Body), []byte(`{"Message":"Forbidden"}`))) {
		return res, &Error{Msg: "the Function URL answered 403 Forbidden: its resource policy does not let anyone call it",
			Fix: "`relayctl update " + s.Stage + "` adds the missing permission statements (`relayctl status " + s.Stage + "` lists them)"}
	}
	return res, nil
}
