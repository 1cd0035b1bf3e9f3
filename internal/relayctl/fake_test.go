package relayctl

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
)

// Defaults for the account, region and caller the fake pretends to be.
const (
	fakeAccount = "123456789012"
	fakeRegion  = "us-east-1"
)

// fakeCall is one request the fake received.
type fakeCall struct {
	// Op is "<service>:<Operation>", the same as the IAM action that
	// authorises it, e.g. "lambda:CreateFunction", "iam:CreateRole",
	// "logs:FilterLogEvents".
	Op     string
	Method string
	Path   string
	Query  url.Values
	// Body is the decoded JSON body of Lambda and Logs calls.
	Body map[string]any
	// Form is the decoded form of IAM and STS calls.
	Form url.Values
}

type failure struct {
	status        int
	code, message string
}

// fakeAWS is a fake AWS endpoint for tests: one httptest server that
// answers the Lambda, IAM, STS, SSO and CloudWatch Logs operations relayctl
// uses, on their real wire protocols (Lambda's and SSO's REST JSON, IAM's
// and STS's query/XML, the Logs JSON 1.1 RPC), keeps the state those
// operations change, and records every call. It also answers the Function
// URLs it hands out, as Lambda's URL front end does, and the presigned
// Code.Location URLs of GetFunction, as S3 does. SDK clients reach it
// through aws.Config.BaseEndpoint, so tests exercise the real SDK
// serialisation, pagination, credential providers and error decoding
// without touching AWS.
//
// It behaves like AWS where relayctl's correctness depends on it: a new
// function is Pending for a few polls before it is Active, an update is
// InProgress for a few polls, refuses a second update meanwhile and may end
// Failed, a stale RevisionId fails, PublishVersion publishes nothing new for
// an unchanged function, a version an alias serves cannot be deleted, a
// Function URL answers 403 unless the resource policy has both public
// statements, a role with inline policies cannot be deleted, a new role may
// not be assumable at once, and names collide as they do on AWS. Failures
// carry AWS's error codes and messages, and every answer a request id.
//
// Every call is authorised as IAM does it, against the caller's identity
// policy: deploy/iam/deployment-policy.json as shipped (fake_policy_test.go
// evaluates its actions, resource patterns and condition keys), so a call
// the policy does not allow fails with AWS's access denied error, and
// GetFunction returns tags only when lambda:ListTags is allowed.
type fakeAWS struct {
	// URL is the endpoint to put in aws.Config.BaseEndpoint.
	URL string
	srv *httptest.Server
	t   testing.TB

	mu sync.Mutex
	// PendingPolls is how many reads of a new function report State
	// Pending (and of an updated one LastUpdateStatus InProgress) before it
	// settles. Default 2.
	PendingPolls int
	// RoleNotReady is how many CreateFunction calls are refused with "The
	// role defined for the function cannot be assumed by Lambda." before one
	// succeeds, as happens right after a role is created.
	RoleNotReady int
	// LogPageSize is how many events one FilterLogEvents page holds.
	// Default 2, so pagination is exercised.
	LogPageSize int
	// VersionPageSize is how many versions one ListVersionsByFunction page
	// holds. Default 3.
	VersionPageSize int
	// ListVersionsOfMissing makes ListVersionsByFunction answer an empty
	// list for a function that does not exist, as an AWS stand-in was seen
	// to do, where Lambda answers ResourceNotFoundException.
	ListVersionsOfMissing bool
	// Partition is the AWS partition of every ARN the fake makes and of
	// the caller's policy: "aws" (the default), "aws-cn", "aws-us-gov".
	Partition string
	// SSOToken is the access token the SSO portal accepts; any other gets
	// 401 UnauthorizedException.
	SSOToken string
	// FunctionHandler is the code every deployed function runs when its
	// Function URL is called. Nil answers 502.
	FunctionHandler http.Handler
	// CodeTamper, when set, changes the bytes a download of a
	// GetFunction Code.Location returns.
	CodeTamper func(zip []byte) []byte

	calls     []fakeCall
	functions map[string]*fakeFunction
	roles     map[string]*fakeRole
	policies  map[string]bool // managed policy ARNs
	logGroups map[string]*logGroup
	failures  map[string][]*failure // nil entries let a call through
	// changesBefore names, by op, the function someone else updates just
	// before the next call to op.
	changesBefore map[string]string
	denied        map[string]bool
	// policy is the caller's identity policy, evaluated for every call:
	// deploy/iam/deployment-policy.json unless a test changes it.
	policy iamPolicy
	seq    int               // request ids, URL ids, revision ids, event ids
	code   map[string][]byte // code snapshots by the signature of their Code.Location
}

// newFakeAWS starts a fake endpoint that is closed when the test ends.
func newFakeAWS(t testing.TB) *fakeAWS {
	s := &fakeAWS{
		t:               t,
		PendingPolls:    2,
		LogPageSize:     2,
		VersionPageSize: 3,
		functions:       map[string]*fakeFunction{},
		roles:           map[string]*fakeRole{},
		policies:        map[string]bool{},
		logGroups:       map[string]*logGroup{},
		failures:        map[string][]*failure{},
		changesBefore:   map[string]string{},
		denied:          map[string]bool{},
		Partition:       "aws",
	}
	s.policy = loadDeploymentPolicy(t, "aws", fakeAccount)
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	s.URL = s.srv.URL
	t.Cleanup(s.srv.Close)
	return s
}

// Config returns an SDK configuration whose clients talk to the fake with
// static credentials and no retries.
func (s *fakeAWS) Config() aws.Config {
	return aws.Config{
		Region:           fakeRegion,
		Credentials:      credentials.NewStaticCredentialsProvider("AKIAFAKEFAKEFAKE", "fake-secret-access-key", ""),
		BaseEndpoint:     aws.String(s.URL),
		HTTPClient:       s.srv.Client(),
		RetryMaxAttempts: 1,
	}
}

// HTTPClient returns a client that sends requests for the Function URLs
// the fake hands out (https://<id>.lambda-url.<region>.on.aws/) and for the
// Code.Location URLs of GetFunction to the fake, keeping their Host.
func (s *fakeAWS) HTTPClient() *http.Client {
	base := s.srv.Client().Transport
	return &http.Client{Transport: roundTripper(func(r *http.Request) (*http.Response, error) {
		if !isFunctionURLHost(r.URL.Host) && r.URL.Host != codeHost {
			return nil, fmt.Errorf("fake AWS: %s is not a Function URL or code location of the fake", r.URL.Host)
		}
		r = r.Clone(r.Context())
		r.Host = r.URL.Host
		r.URL.Scheme, r.URL.Host = "http", strings.TrimPrefix(s.URL, "http://")
		return base.RoundTrip(r)
	})}
}

type roundTripper func(*http.Request) (*http.Response, error)

func (f roundTripper) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// Calls returns every call received so far.
func (s *fakeAWS) Calls() []fakeCall {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.calls)
}

// Ops returns the operation of every call so far, in order.
func (s *fakeAWS) Ops() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	ops := make([]string, len(s.calls))
	for i, c := range s.calls {
		ops[i] = c.Op
	}
	return ops
}

// CallsTo returns the calls made to op.
func (s *fakeAWS) CallsTo(op string) []fakeCall {
	var out []fakeCall
	for _, c := range s.Calls() {
		if c.Op == op {
			out = append(out, c)
		}
	}
	return out
}

// Fail makes the next call to op fail with an AWS error.
func (s *fakeAWS) Fail(op string, status int, code, message string) {
	s.FailAfter(op, 0, status, code, message)
}

// ChangeBefore makes someone else update the named function just before
// the next call to op: its revision changes and its update is in progress,
// as Lambda shows an update begun a moment earlier.
func (s *fakeAWS) ChangeBefore(op, name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.changesBefore[op] = name
}

// FailAfter lets the next ok calls to op through and makes the one after
// them fail with an AWS error.
func (s *fakeAWS) FailAfter(op string, ok, status int, code, message string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for range ok {
		s.failures[op] = append(s.failures[op], nil)
	}
	s.failures[op] = append(s.failures[op], &failure{status, code, message})
}

// Deny makes the caller's policy lack actions whatever its statements
// say: every call that needs one of them (its own action, or one AWS
// checks along with it, such as iam:PassRole for lambda:CreateFunction) is
// refused with AWS's access denied error naming that action.
func (s *fakeAWS) Deny(actions ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, a := range actions {
		s.denied[a] = true
	}
}

// Allow lifts Deny for actions.
func (s *fakeAWS) Allow(actions ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, a := range actions {
		delete(s.denied, a)
	}
}

// callerARN is the ARN of the identity the fake's credentials belong to.
func (s *fakeAWS) callerARN() string {
	return "arn:" + s.Partition + ":iam::" + fakeAccount + ":user/serverless"
}

// accessDenied is AWS's message for an action no policy allows (IAM's
// "Troubleshoot access denied error messages": the identity-based policy
// form, the same in every service).
func (s *fakeAWS) accessDenied(action, resource string) string {
	return "User: " + s.callerARN() + " is not authorized to perform: " + action + " on resource: " + resource +
		" because no identity-based policy allows the " + action + " action"
}

// protocol writes one service's errors.
type protocol func(w http.ResponseWriter, status int, code, msg string)

// begin records the call and answers an injected failure or a denied
// action; it reports whether the call may go on. required are the
// actions the call needs, each with the resource and request context it
// is authorised on (the caller's policy is evaluated for each); denied
// writes AWS's access denied error.
func (s *fakeAWS) begin(w http.ResponseWriter, fail protocol, c fakeCall, denied func(w http.ResponseWriter, msg string), required ...authz) bool {
	s.calls = append(s.calls, c)
	if name, ok := s.changesBefore[c.Op]; ok {
		delete(s.changesBefore, c.Op)
		s.changed(s.functions[name])
	}
	if fs := s.failures[c.Op]; len(fs) > 0 {
		s.failures[c.Op] = fs[1:]
		if f := fs[0]; f != nil {
			fail(w, f.status, f.code, f.message)
			return false
		}
	}
	for _, r := range required {
		if !s.allowed(r) {
			denied(w, s.accessDenied(r.action, r.resource))
			return false
		}
	}
	return true
}

// arn is the ARN of a resource of the fake's account in its partition.
func (s *fakeAWS) arn(service, region, resource string) string {
	return "arn:" + s.Partition + ":" + service + ":" + region + ":" + fakeAccount + ":" + resource
}

func (s *fakeAWS) next() int {
	s.seq++
	return s.seq
}

// serve dispatches on the protocol: Function URL calls by their host, SSO
// portal calls by their path, Logs calls by X-Amz-Target, IAM and STS form
// posts by the service in their signature, everything else is Lambda's
// REST API.
func (s *fakeAWS) serve(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	s.mu.Lock()
	w.Header().Set("X-Amzn-RequestId", fmt.Sprintf("7f3c0000-fa4e-4000-8000-%012d", s.next()))
	s.mu.Unlock()
	if isFunctionURLHost(r.Host) {
		s.serveFunctionURL(w, r, body)
		return
	}
	if r.Host == codeHost {
		s.serveCode(w, r)
		return
	}
	if r.URL.Path == "/federation/credentials" {
		s.serveSSO(w, r)
		return
	}
	authz := r.Header.Get("Authorization")
	if !strings.HasPrefix(authz, "AWS4-HMAC-SHA256 Credential=AKIAFAKEFAKEFAKE/") {
		s.t.Errorf("fake AWS: %s %s without SigV4 signature of the fake credentials", r.Method, r.URL.Path)
	}
	switch {
	case r.Header.Get("X-Amz-Target") != "":
		s.serveLogs(w, r, body)
	case r.Method == http.MethodPost && r.URL.Path == "/" && strings.Contains(authz, "/sts/aws4_request"):
		s.serveSTS(w, r, body)
	case r.Method == http.MethodPost && r.URL.Path == "/":
		s.serveIAM(w, r, body)
	default:
		s.serveLambda(w, r, body)
	}
}

func requestID(w http.ResponseWriter) string { return w.Header().Get("X-Amzn-RequestId") }

// ---- JSON helpers ----

func str(v any) string {
	s, _ := v.(string)
	return s
}

func strs(v any) []string {
	a, _ := v.([]any)
	out := make([]string, 0, len(a))
	for _, x := range a {
		out = append(out, str(x))
	}
	return out
}

func strMap(v any) map[string]string {
	m, _ := v.(map[string]any)
	if m == nil {
		return nil
	}
	out := make(map[string]string, len(m))
	for k, x := range m {
		out[k] = str(x)
	}
	return out
}
