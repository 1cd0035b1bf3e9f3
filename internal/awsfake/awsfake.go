// Package awsfake is a fake AWS endpoint for tests: one httptest server that
// answers the Lambda, IAM and CloudWatch Logs operations relayctl uses, on
// their real wire protocols (Lambda's REST JSON, IAM's query/XML, the Logs
// JSON 1.1 RPC), keeps the state those operations change, and records every
// call. SDK clients reach it through aws.Config.BaseEndpoint with static
// credentials, so tests exercise the real SDK serialisation, waiters and
// error decoding without touching AWS.
//
// It behaves like AWS where relayctl's correctness depends on it: a new
// function is Pending for a few polls before it is Active, an update is
// InProgress for a few polls and refuses a second update meanwhile, a stale
// RevisionId fails, a role with inline policies cannot be deleted, a new
// role may not be assumable at once, and names collide as they do on AWS.
package awsfake

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
)

// Defaults for the account and region the fake pretends to be.
const (
	Account = "123456789012"
	Region  = "us-east-1"
)

// Call is one request the fake received.
type Call struct {
	// Op is "<service>:<Operation>", the same as the IAM action that
	// authorises it, e.g. "lambda:CreateFunction", "iam:CreateRole",
	// "logs:FilterLogEvents".
	Op     string
	Method string
	Path   string
	Query  url.Values
	// Body is the decoded JSON body of Lambda and Logs calls.
	Body map[string]any
	// Form is the decoded form of IAM calls.
	Form url.Values
}

// Function is a Lambda function as the fake holds it.
type Function struct {
	Name          string
	Runtime       string
	Handler       string
	Role          string
	Architectures []string
	MemorySize    int
	Timeout       int
	Env           map[string]string
	Zip           []byte
	Tags          map[string]string
	State         string // Pending, Active
	UpdateStatus  string // InProgress, Successful
	Revision      int
	LastModified  string
	URL           string // empty without a Function URL config
	URLAuthType   string
	Permissions   []map[string]any

	pendingPolls int
	updatePolls  int
}

// Role is an IAM role as the fake holds it.
type Role struct {
	Name     string
	ARN      string
	Trust    string
	Tags     map[string]string
	Policies map[string]string
}

// LogEvent is one CloudWatch Logs event.
type LogEvent struct {
	Timestamp int64 // milliseconds since the epoch
	Message   string
	Stream    string
}

type logGroup struct {
	retention int
	events    []LogEvent
}

type failure struct {
	status        int
	code, message string
}

// Server is the fake endpoint.
type Server struct {
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
	calls       []Call
	functions   map[string]*Function
	roles       map[string]*Role
	logGroups   map[string]*logGroup
	failures    map[string][]failure
	urlSeq      int
}

// New starts a fake endpoint that is closed when the test ends.
func New(t testing.TB) *Server {
	s := &Server{
		t:            t,
		PendingPolls: 2,
		LogPageSize:  2,
		functions:    map[string]*Function{},
		roles:        map[string]*Role{},
		logGroups:    map[string]*logGroup{},
		failures:     map[string][]failure{},
	}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	s.URL = s.srv.URL
	t.Cleanup(s.srv.Close)
	return s
}

// Config returns an SDK configuration whose clients talk to the fake with
// static credentials and no retries.
func (s *Server) Config() aws.Config {
	return aws.Config{
		Region:           Region,
		Credentials:      credentials.NewStaticCredentialsProvider("AKIAFAKEFAKEFAKE", "fake-secret-access-key", ""),
		BaseEndpoint:     aws.String(s.URL),
		HTTPClient:       s.srv.Client(),
		RetryMaxAttempts: 1,
	}
}

// Calls returns every call received so far.
func (s *Server) Calls() []Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.calls)
}

// Ops returns the operation of every call so far, in order.
func (s *Server) Ops() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	ops := make([]string, len(s.calls))
	for i, c := range s.calls {
		ops[i] = c.Op
	}
	return ops
}

// CallsTo returns the calls made to op.
func (s *Server) CallsTo(op string) []Call {
	var out []Call
	for _, c := range s.Calls() {
		if c.Op == op {
			out = append(out, c)
		}
	}
	return out
}

// Fail makes the next call to op fail with an AWS error.
func (s *Server) Fail(op string, status int, code, message string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failures[op] = append(s.failures[op], failure{status, code, message})
}

// Function returns a copy of the named function.
func (s *Server) Function(name string) (Function, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f, ok := s.functions[name]
	if !ok {
		return Function{}, false
	}
	c := *f
	c.Env = maps.Clone(f.Env)
	c.Tags = maps.Clone(f.Tags)
	c.Permissions = slices.Clone(f.Permissions)
	return c, true
}

// Role returns a copy of the named role.
func (s *Server) Role(name string) (Role, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.roles[name]
	if !ok {
		return Role{}, false
	}
	c := *r
	c.Tags = maps.Clone(r.Tags)
	c.Policies = maps.Clone(r.Policies)
	return c, true
}

// AddRole creates a role as if it existed before the test.
func (s *Server) AddRole(name string, tags map[string]string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	arn := "arn:aws:iam::" + Account + ":role/" + name
	s.roles[name] = &Role{Name: name, ARN: arn, Tags: maps.Clone(tags), Policies: map[string]string{},
		Trust: `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}`}
	return arn
}

// AddFunction creates an Active function as if it existed before the test.
func (s *Server) AddFunction(f Function) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := f
	if c.State == "" {
		c.State = "Active"
	}
	if c.UpdateStatus == "" {
		c.UpdateStatus = "Successful"
	}
	if c.Revision == 0 {
		c.Revision = 1
	}
	if c.LastModified == "" {
		c.LastModified = lambdaTime(time.Now())
	}
	c.Env = maps.Clone(f.Env)
	s.functions[f.Name] = &c
}

// LogGroup returns whether the log group exists and its retention.
func (s *Server) LogGroup(name string) (retentionDays int, ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	g, ok := s.logGroups[name]
	if !ok {
		return 0, false
	}
	return g.retention, true
}

// AddLogEvents appends events to a log group, creating it if needed.
func (s *Server) AddLogEvents(group string, events ...LogEvent) {
	s.mu.Lock()
	defer s.mu.Unlock()
	g, ok := s.logGroups[group]
	if !ok {
		g = &logGroup{}
		s.logGroups[group] = g
	}
	g.events = append(g.events, events...)
	sort.SliceStable(g.events, func(i, j int) bool { return g.events[i].Timestamp < g.events[j].Timestamp })
}

func lambdaTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000-0700") }

// serve dispatches on the protocol: Logs calls carry X-Amz-Target, IAM
// calls are form posts to "/", everything else is Lambda's REST API.
func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	if !strings.HasPrefix(r.Header.Get("Authorization"), "AWS4-HMAC-SHA256 Credential=AKIAFAKEFAKEFAKE/") {
		s.t.Errorf("awsfake: %s %s without SigV4 signature of the fake credentials", r.Method, r.URL.Path)
	}
	switch {
	case r.Header.Get("X-Amz-Target") != "":
		s.serveLogs(w, r, body)
	case r.Method == http.MethodPost && r.URL.Path == "/":
		s.serveIAM(w, r, body)
	default:
		s.serveLambda(w, r, body)
	}
}

// record stores the call and returns a pending injected failure for it.
func (s *Server) record(c Call) *failure {
	s.calls = append(s.calls, c)
	if fs := s.failures[c.Op]; len(fs) > 0 {
		s.failures[c.Op] = fs[1:]
		return &fs[0]
	}
	return nil
}

// ---- Lambda (REST JSON) ----

func lambdaError(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Amzn-ErrorType", code)
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"Type": "User", "message": msg})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func (s *Server) functionARN(name string) string {
	return "arn:aws:lambda:" + Region + ":" + Account + ":function:" + name
}

func (s *Server) lambdaOp(r *http.Request) (op, name string) {
	p := r.URL.Path
	switch {
	case p == "/2015-03-31/functions" && r.Method == http.MethodPost:
		return "CreateFunction", ""
	case strings.HasPrefix(p, "/2015-03-31/functions/"):
		rest := strings.TrimPrefix(p, "/2015-03-31/functions/")
		name, sub, _ := strings.Cut(rest, "/")
		switch r.Method + " " + sub {
		case "GET ":
			return "GetFunction", name
		case "DELETE ":
			return "DeleteFunction", name
		case "GET configuration":
			return "GetFunctionConfiguration", name
		case "PUT configuration":
			return "UpdateFunctionConfiguration", name
		case "PUT code":
			return "UpdateFunctionCode", name
		case "POST policy":
			return "AddPermission", name
		case "GET policy":
			return "GetPolicy", name
		}
	case strings.HasPrefix(p, "/2021-10-31/functions/") && strings.HasSuffix(p, "/url"):
		name := strings.TrimSuffix(strings.TrimPrefix(p, "/2021-10-31/functions/"), "/url")
		switch r.Method {
		case http.MethodPost:
			return "CreateFunctionUrlConfig", name
		case http.MethodGet:
			return "GetFunctionUrlConfig", name
		case http.MethodDelete:
			return "DeleteFunctionUrlConfig", name
		}
	}
	return "", ""
}

func (s *Server) serveLambda(w http.ResponseWriter, r *http.Request, body []byte) {
	op, name := s.lambdaOp(r)
	var in map[string]any
	if len(body) > 0 {
		if err := json.Unmarshal(body, &in); err != nil {
			s.t.Errorf("awsfake: lambda %s: body is not JSON: %v", op, err)
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if f := s.record(Call{Op: "lambda:" + op, Method: r.Method, Path: r.URL.Path, Query: r.URL.Query(), Body: in}); f != nil {
		lambdaError(w, f.status, f.code, f.message)
		return
	}
	if op == "" {
		s.t.Errorf("awsfake: unexpected Lambda request %s %s", r.Method, r.URL.Path)
		lambdaError(w, http.StatusBadRequest, "UnknownOperationException", "unknown operation")
		return
	}
	if op == "CreateFunction" {
		s.createFunction(w, in)
		return
	}
	fn, ok := s.functions[name]
	if !ok {
		lambdaError(w, http.StatusNotFound, "ResourceNotFoundException", "Function not found: "+s.functionARN(name))
		return
	}
	switch op {
	case "GetFunction":
		s.poll(fn)
		writeJSON(w, http.StatusOK, map[string]any{
			"Configuration": s.configuration(fn),
			"Code":          map[string]any{"RepositoryType": "S3", "Location": "https://awslambda-" + Region + "-tasks.s3.example/snapshots/" + name},
			"Tags":          fn.Tags,
		})
	case "GetFunctionConfiguration":
		s.poll(fn)
		writeJSON(w, http.StatusOK, s.configuration(fn))
	case "UpdateFunctionCode":
		if !s.idle(w, fn) {
			return
		}
		zip, err := base64.StdEncoding.DecodeString(str(in["ZipFile"]))
		if err != nil || len(zip) == 0 {
			lambdaError(w, http.StatusBadRequest, "InvalidParameterValueException", "ZipFile is missing or not base64")
			return
		}
		fn.Zip = zip
		if a := strs(in["Architectures"]); len(a) > 0 {
			fn.Architectures = a
		}
		s.changed(fn)
		writeJSON(w, http.StatusOK, s.configuration(fn))
	case "UpdateFunctionConfiguration":
		if !s.idle(w, fn) {
			return
		}
		if rev, ok := in["RevisionId"]; ok && str(rev) != strconv.Itoa(fn.Revision) {
			lambdaError(w, http.StatusPreconditionFailed, "PreconditionFailedException", "The Revision Id provided does not match the latest Revision Id. Call the GetFunction/GetAlias API to retrieve the latest Revision Id")
			return
		}
		if env, ok := in["Environment"].(map[string]any); ok {
			fn.Env = strMap(env["Variables"])
		}
		if v, ok := in["MemorySize"]; ok {
			fn.MemorySize = int(v.(float64))
		}
		if v, ok := in["Timeout"]; ok {
			fn.Timeout = int(v.(float64))
		}
		if v, ok := in["Role"]; ok {
			fn.Role = str(v)
		}
		if v, ok := in["Runtime"]; ok {
			fn.Runtime = str(v)
		}
		if v, ok := in["Handler"]; ok {
			fn.Handler = str(v)
		}
		s.changed(fn)
		writeJSON(w, http.StatusOK, s.configuration(fn))
	case "DeleteFunction":
		delete(s.functions, name)
		w.WriteHeader(http.StatusNoContent)
	case "AddPermission":
		sid := str(in["StatementId"])
		for _, p := range fn.Permissions {
			if p["StatementId"] == sid {
				lambdaError(w, http.StatusConflict, "ResourceConflictException", "The statement id ("+sid+") provided already exists. Please provide a new statement id, or remove the existing statement.")
				return
			}
		}
		fn.Permissions = append(fn.Permissions, in)
		stmt, _ := json.Marshal(map[string]any{"Sid": sid, "Effect": "Allow", "Principal": in["Principal"], "Action": in["Action"], "Resource": s.functionARN(name)})
		writeJSON(w, http.StatusCreated, map[string]string{"Statement": string(stmt)})
	case "GetPolicy":
		writeJSON(w, http.StatusOK, map[string]any{"Policy": "{}", "RevisionId": strconv.Itoa(fn.Revision)})
	case "CreateFunctionUrlConfig":
		if fn.URL != "" {
			lambdaError(w, http.StatusConflict, "ResourceConflictException", "Failed to create function url config for [functionArn = "+s.functionARN(name)+"]. Error message:  FunctionUrlConfig exists for this Lambda function")
			return
		}
		s.urlSeq++
		fn.URL = fmt.Sprintf("https://%032d.lambda-url.%s.on.aws/", s.urlSeq, Region)
		fn.URLAuthType = str(in["AuthType"])
		writeJSON(w, http.StatusCreated, s.urlConfig(fn))
	case "GetFunctionUrlConfig":
		if fn.URL == "" {
			lambdaError(w, http.StatusNotFound, "ResourceNotFoundException", "The resource you requested does not exist.")
			return
		}
		writeJSON(w, http.StatusOK, s.urlConfig(fn))
	case "DeleteFunctionUrlConfig":
		if fn.URL == "" {
			lambdaError(w, http.StatusNotFound, "ResourceNotFoundException", "The resource you requested does not exist.")
			return
		}
		fn.URL, fn.URLAuthType = "", ""
		w.WriteHeader(http.StatusNoContent)
	}
}

func (s *Server) createFunction(w http.ResponseWriter, in map[string]any) {
	name := str(in["FunctionName"])
	if _, exists := s.functions[name]; exists {
		lambdaError(w, http.StatusConflict, "ResourceConflictException", "Function already exist: "+name)
		return
	}
	role := str(in["Role"])
	known := false
	for _, r := range s.roles {
		known = known || r.ARN == role
	}
	if !known || s.RoleNotReady > 0 {
		if known {
			s.RoleNotReady--
		}
		lambdaError(w, http.StatusBadRequest, "InvalidParameterValueException", "The role defined for the function cannot be assumed by Lambda.")
		return
	}
	code, _ := in["Code"].(map[string]any)
	zip, err := base64.StdEncoding.DecodeString(str(code["ZipFile"]))
	if err != nil || len(zip) == 0 {
		lambdaError(w, http.StatusBadRequest, "InvalidParameterValueException", "Code.ZipFile is missing or not base64")
		return
	}
	fn := &Function{
		Name: name, Runtime: str(in["Runtime"]), Handler: str(in["Handler"]), Role: role,
		Architectures: strs(in["Architectures"]), Zip: zip, Tags: strMap(in["Tags"]),
		State: "Pending", UpdateStatus: "Successful", Revision: 1, LastModified: lambdaTime(time.Now()),
		pendingPolls: s.PendingPolls,
	}
	if len(fn.Architectures) == 0 {
		fn.Architectures = []string{"x86_64"}
	}
	if env, ok := in["Environment"].(map[string]any); ok {
		fn.Env = strMap(env["Variables"])
	}
	fn.MemorySize, fn.Timeout = 128, 3
	if v, ok := in["MemorySize"].(float64); ok {
		fn.MemorySize = int(v)
	}
	if v, ok := in["Timeout"].(float64); ok {
		fn.Timeout = int(v)
	}
	s.functions[name] = fn
	writeJSON(w, http.StatusCreated, s.configuration(fn))
}

// idle refuses a change while the function is still being created or
// updated, as Lambda does.
func (s *Server) idle(w http.ResponseWriter, fn *Function) bool {
	if fn.State == "Pending" || fn.UpdateStatus == "InProgress" {
		lambdaError(w, http.StatusConflict, "ResourceConflictException",
			"The operation cannot be performed at this time. An update is in progress for resource: "+s.functionARN(fn.Name))
		return false
	}
	return true
}

func (s *Server) changed(fn *Function) {
	fn.Revision++
	fn.LastModified = lambdaTime(time.Now())
	fn.UpdateStatus = "InProgress"
	fn.updatePolls = s.PendingPolls
}

// poll advances a settling function by one read.
func (s *Server) poll(fn *Function) {
	if fn.State == "Pending" {
		if fn.pendingPolls > 0 {
			fn.pendingPolls--
		} else {
			fn.State = "Active"
		}
	}
	if fn.UpdateStatus == "InProgress" {
		if fn.updatePolls > 0 {
			fn.updatePolls--
		} else {
			fn.UpdateStatus = "Successful"
		}
	}
}

func (s *Server) configuration(fn *Function) map[string]any {
	sum := sha256.Sum256(fn.Zip)
	c := map[string]any{
		"FunctionName":     fn.Name,
		"FunctionArn":      s.functionARN(fn.Name),
		"Runtime":          fn.Runtime,
		"Role":             fn.Role,
		"Handler":          fn.Handler,
		"CodeSize":         len(fn.Zip),
		"CodeSha256":       base64.StdEncoding.EncodeToString(sum[:]),
		"Timeout":          fn.Timeout,
		"MemorySize":       fn.MemorySize,
		"LastModified":     fn.LastModified,
		"Version":          "$LATEST",
		"State":            fn.State,
		"LastUpdateStatus": fn.UpdateStatus,
		"RevisionId":       strconv.Itoa(fn.Revision),
		"PackageType":      "Zip",
		"Architectures":    fn.Architectures,
	}
	if fn.State == "Pending" {
		c["StateReason"] = "The function is being created."
		c["StateReasonCode"] = "Creating"
	}
	if fn.Env != nil {
		c["Environment"] = map[string]any{"Variables": fn.Env}
	}
	return c
}

func (s *Server) urlConfig(fn *Function) map[string]any {
	return map[string]any{
		"FunctionUrl":  fn.URL,
		"FunctionArn":  s.functionARN(fn.Name),
		"AuthType":     fn.URLAuthType,
		"CreationTime": time.Now().UTC().Format(time.RFC3339),
		"InvokeMode":   "BUFFERED",
	}
}

// ---- IAM (query protocol, XML) ----

func iamError(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "text/xml")
	w.WriteHeader(status)
	fmt.Fprintf(w, `<ErrorResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/"><Error><Type>Sender</Type><Code>%s</Code><Message>%s</Message></Error><RequestId>fake</RequestId></ErrorResponse>`, code, xmlEscape(msg))
}

func xmlEscape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&quot;").Replace(s)
}

func iamOK(w http.ResponseWriter, action, result string) {
	w.Header().Set("Content-Type", "text/xml")
	fmt.Fprintf(w, `<%sResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/"><%sResult>%s</%sResult><ResponseMetadata><RequestId>fake</RequestId></ResponseMetadata></%sResponse>`,
		action, action, result, action, action)
}

func roleXML(r *Role) string {
	var tags strings.Builder
	keys := slices.Sorted(maps.Keys(r.Tags))
	for _, k := range keys {
		fmt.Fprintf(&tags, "<member><Key>%s</Key><Value>%s</Value></member>", xmlEscape(k), xmlEscape(r.Tags[k]))
	}
	return fmt.Sprintf(`<Role><Path>/</Path><RoleName>%s</RoleName><RoleId>AROAFAKE%s</RoleId><Arn>%s</Arn><CreateDate>2026-11-26T03:49:00Z</CreateDate><AssumeRolePolicyDocument>%s</AssumeRolePolicyDocument><Tags>%s</Tags></Role>`,
		xmlEscape(r.Name), strings.ToUpper(r.Name[:min(len(r.Name), 8)]), xmlEscape(r.ARN), xmlEscape(url.QueryEscape(r.Trust)), tags.String())
}

func (s *Server) serveIAM(w http.ResponseWriter, r *http.Request, body []byte) {
	form, err := url.ParseQuery(string(body))
	if err != nil {
		s.t.Errorf("awsfake: IAM body is not a form: %v", err)
	}
	action := form.Get("Action")
	s.mu.Lock()
	defer s.mu.Unlock()
	if f := s.record(Call{Op: "iam:" + action, Method: r.Method, Path: r.URL.Path, Form: form}); f != nil {
		iamError(w, f.status, f.code, f.message)
		return
	}
	name := form.Get("RoleName")
	role, exists := s.roles[name]
	notFound := func() {
		iamError(w, http.StatusNotFound, "NoSuchEntity", "The role with name "+name+" cannot be found.")
	}
	switch action {
	case "CreateRole":
		if exists {
			iamError(w, http.StatusConflict, "EntityAlreadyExists", "Role with name "+name+" already exists.")
			return
		}
		role = &Role{Name: name, ARN: "arn:aws:iam::" + Account + ":role/" + name, Trust: form.Get("AssumeRolePolicyDocument"),
			Tags: map[string]string{}, Policies: map[string]string{}}
		for i := 1; form.Has(fmt.Sprintf("Tags.member.%d.Key", i)); i++ {
			role.Tags[form.Get(fmt.Sprintf("Tags.member.%d.Key", i))] = form.Get(fmt.Sprintf("Tags.member.%d.Value", i))
		}
		s.roles[name] = role
		iamOK(w, action, roleXML(role))
	case "GetRole":
		if !exists {
			notFound()
			return
		}
		iamOK(w, action, roleXML(role))
	case "PutRolePolicy":
		if !exists {
			notFound()
			return
		}
		role.Policies[form.Get("PolicyName")] = form.Get("PolicyDocument")
		iamOK(w, action, "")
	case "DeleteRolePolicy":
		if !exists {
			notFound()
			return
		}
		if _, ok := role.Policies[form.Get("PolicyName")]; !ok {
			iamError(w, http.StatusNotFound, "NoSuchEntity", "The role policy with name "+form.Get("PolicyName")+" cannot be found.")
			return
		}
		delete(role.Policies, form.Get("PolicyName"))
		iamOK(w, action, "")
	case "ListRolePolicies":
		if !exists {
			notFound()
			return
		}
		var names strings.Builder
		for _, n := range slices.Sorted(maps.Keys(role.Policies)) {
			fmt.Fprintf(&names, "<member>%s</member>", xmlEscape(n))
		}
		iamOK(w, action, "<PolicyNames>"+names.String()+"</PolicyNames><IsTruncated>false</IsTruncated>")
	case "DeleteRole":
		if !exists {
			notFound()
			return
		}
		if len(role.Policies) > 0 {
			iamError(w, http.StatusConflict, "DeleteConflict", "Cannot delete entity, must delete policies first.")
			return
		}
		delete(s.roles, name)
		iamOK(w, action, "")
	default:
		s.t.Errorf("awsfake: unexpected IAM action %q", action)
		iamError(w, http.StatusBadRequest, "InvalidAction", "unknown action "+action)
	}
}

// ---- CloudWatch Logs (JSON 1.1) ----

func logsError(w http.ResponseWriter, code, msg string) {
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	w.WriteHeader(http.StatusBadRequest)
	_ = json.NewEncoder(w).Encode(map[string]string{"__type": code, "message": msg})
}

func (s *Server) serveLogs(w http.ResponseWriter, r *http.Request, body []byte) {
	target := r.Header.Get("X-Amz-Target")
	op, ok := strings.CutPrefix(target, "Logs_20140328.")
	if !ok {
		s.t.Errorf("awsfake: unexpected X-Amz-Target %q", target)
	}
	var in map[string]any
	if err := json.Unmarshal(body, &in); err != nil {
		s.t.Errorf("awsfake: logs %s: body is not JSON: %v", op, err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if f := s.record(Call{Op: "logs:" + op, Method: r.Method, Path: r.URL.Path, Body: in}); f != nil {
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		w.WriteHeader(f.status)
		_ = json.NewEncoder(w).Encode(map[string]string{"__type": f.code, "message": f.message})
		return
	}
	name := str(in["logGroupName"])
	g, exists := s.logGroups[name]
	ok200 := func(v any) {
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		_ = json.NewEncoder(w).Encode(v)
	}
	switch op {
	case "CreateLogGroup":
		if exists {
			logsError(w, "ResourceAlreadyExistsException", "The specified log group already exists")
			return
		}
		s.logGroups[name] = &logGroup{}
		ok200(map[string]any{})
	case "PutRetentionPolicy":
		if !exists {
			logsError(w, "ResourceNotFoundException", "The specified log group does not exist.")
			return
		}
		g.retention = int(in["retentionInDays"].(float64))
		ok200(map[string]any{})
	case "DeleteLogGroup":
		if !exists {
			logsError(w, "ResourceNotFoundException", "The specified log group does not exist.")
			return
		}
		delete(s.logGroups, name)
		ok200(map[string]any{})
	case "FilterLogEvents":
		if !exists {
			logsError(w, "ResourceNotFoundException", "The specified log group does not exist.")
			return
		}
		start, _ := in["startTime"].(float64)
		end, hasEnd := in["endTime"].(float64)
		var match []int // indexes into g.events, which also make the event ids
		for i, e := range g.events {
			if e.Timestamp >= int64(start) && (!hasEnd || e.Timestamp <= int64(end)) {
				match = append(match, i)
			}
		}
		from := 0
		if tok := str(in["nextToken"]); tok != "" {
			from, _ = strconv.Atoi(strings.TrimPrefix(tok, "page-"))
		}
		to := min(from+s.LogPageSize, len(match))
		out := map[string]any{}
		var evs []map[string]any
		for _, i := range match[from:to] {
			e := g.events[i]
			evs = append(evs, map[string]any{"eventId": fmt.Sprintf("%020d%06d", e.Timestamp, i), "timestamp": e.Timestamp,
				"ingestionTime": e.Timestamp + 50, "logStreamName": e.Stream, "message": e.Message})
		}
		out["events"] = evs
		if to < len(match) {
			out["nextToken"] = "page-" + strconv.Itoa(to)
		}
		ok200(out)
	default:
		s.t.Errorf("awsfake: unexpected Logs operation %q", op)
		logsError(w, "InvalidOperationException", "unknown operation "+op)
	}
}

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
