package relayctl

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"

	"github.com/signals-relay/signals-relay/internal/stage"
)

// cmdInvoke calls the deployed relay through its Function URL as XDR
// would and prints the answer. The JWT is sent and never printed.
func (a *app) cmdInvoke(ctx context.Context, args []string) error {
	fs, c := a.newFlags("invoke")
	health := fs.Bool("health", false, "call /health (the default)")
	observe := fs.String("observe", "", "call /observe/observables with the observables in this JSON `file`")
	jwtFile := fs.String("jwt-file", "", "read the JWT from this `file` (default: $JWT)")
	jwtFlag := fs.String("jwt", "", "the `JWT` itself (other users can see it in the process list: prefer $JWT or --jwt-file)")
	s, cl, err := a.openStage(ctx, fs, c, args)
	if err != nil {
		return err
	}
	req := invokeRequest{Route: "/health"}
	switch {
	case *health && *observe != "":
		return errors.New("invoke: --health and --observe exclude each other")
	case *observe != "":
		req.Route = "/observe/observables"
		if req.Body, err = os.ReadFile(*observe); err != nil {
			return err
		}
		if !json.Valid(req.Body) {
			return fmt.Errorf("invoke: %s is not JSON", *observe)
		}
	}
	if req.JWT, err = a.token(*jwtFlag, *jwtFile); err != nil {
		return err
	}
	res, err := cl.Invoke(ctx, s, req)
	if err != nil {
		return err
	}
	fmt.Fprintf(a.stderr, "POST %s → %d %s\n", res.URL, res.Status, http.StatusText(res.Status))
	var pretty bytes.Buffer
	if json.Indent(&pretty, res.Body, "", "  ") == nil {
		res.Body = pretty.Bytes()
	}
	fmt.Fprintf(a.stdout, "%s\n", bytes.TrimSpace(res.Body))
	if res.Status != http.StatusOK {
		return fmt.Errorf("invoke: the relay answered %d %s", res.Status, http.StatusText(res.Status))
	}
	if fatal := fatalErrors(res.Body); fatal != "" {
		return fmt.Errorf("invoke: the relay refused the call: %s", fatal)
	}
	return nil
}

// urlForbidden reports whether a 403 body is the Function URL's own
// refusal rather than the relay's: {"Message":"Forbidden"}, or today
// {"Message":"Forbidden. For troubleshooting Function URL authorization
// issues, see: …"} (https://docs.aws.amazon.com/lambda/latest/dg/urls-auth.html).
func urlForbidden(body []byte) bool {
	var answer struct{ Message string }
	return json.Unmarshal(body, &answer) == nil && (answer.Message == "Forbidden" || strings.HasPrefix(answer.Message, "Forbidden. "))
}

// fatalErrors returns the fatal errors of a relay answer as
// "code: message" joined by "; ", or "" when it has none. The relay
// answers a refused call (a wrong JWT, SECRET_KEY unset) with 200 and an
// "errors" list, as every XDR module does.
func fatalErrors(body []byte) string {
	var answer struct {
		Errors []struct{ Type, Code, Message string } `json:"errors"`
	}
	if json.Unmarshal(body, &answer) != nil {
		return ""
	}
	var fatal []string
	for _, e := range answer.Errors {
		if e.Type == "fatal" {
			fatal = append(fatal, e.Code+": "+e.Message)
		}
	}
	return strings.Join(fatal, "; ")
}

// token returns the JWT from the flag, the file or $JWT, in that order.
func (a *app) token(flagValue, file string) (string, error) {
	t := flagValue
	if t == "" && file != "" {
		b, err := os.ReadFile(file)
		if err != nil {
			return "", err
		}
		t = string(b)
	}
	if t == "" {
		t = a.getenv("JWT")
	}
	t = strings.TrimSpace(t)
	if t == "" {
		return "", errors.New("invoke: no JWT: set JWT, or pass --jwt-file FILE (`relayctl jwt` makes one)")
	}
	return t, nil
}

// invokeRequest is one call to the relay through its Function URL.
type invokeRequest struct {
	// Route is the relay's route, e.g. "/health" or "/observe/observables".
	Route string
	// Body is the JSON request body; nil sends none.
	Body []byte
	// JWT is the token XDR would send; it goes into the Authorization
	// header and nowhere else.
	JWT string
}

// invokeResult is the relay's answer.
type invokeResult struct {
	URL    string // the address called
	Status int
	Body   []byte
}

// maxAnswer bounds the answer read: Function URLs return at most 6 MB.
const maxAnswer = 6 << 20

// Invoke calls the stage's Function URL as XDR does: a POST with the JWT
// as bearer token. A 403 from the URL itself (its resource policy lacks a
// statement) is an error that says how to repair it; any answer of the
// relay is returned as it is.
func (c *awsClient) Invoke(ctx context.Context, s stage.Settings, req invokeRequest) (invokeResult, error) {
	name := s.FunctionName()
	base, _, err := c.functionURL(ctx, name, aws.String(aliasName))
	if err != nil {
		return invokeResult{}, err
	}
	if base == "" {
		// GetFunctionUrlConfig answers a missing function as it answers
		// one without a URL: which is it?
		if _, err := c.Lambda.GetFunctionConfiguration(ctx, &lambda.GetFunctionConfigurationInput{FunctionName: &name}); err != nil {
			return invokeResult{}, c.notDeployed(err, s)
		}
		return invokeResult{}, &opError{Op: "lambda:GetFunctionUrlConfig", Msg: name + " has no Function URL on alias " + aliasName,
			Fix: "`relayctl update " + s.Stage + "` creates it"}
	}
	res := invokeResult{URL: strings.TrimSuffix(base, "/") + req.Route}
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
	if resp.StatusCode == http.StatusForbidden && (resp.Header.Get("X-Amzn-ErrorType") == "AccessDeniedException" || urlForbidden(res.Body)) {
		return res, &opError{Msg: "the Function URL answered 403 Forbidden: its resource policy does not let anyone call it",
			Fix: "`relayctl update " + s.Stage + "` adds the missing permission statements (`relayctl status " + s.Stage + "` lists them)"}
	}
	return res, nil
}
