package relayctl

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// fakeConfig is a function's configuration and code: $LATEST's, or a
// published version's.
type fakeConfig struct {
	Runtime       string
	Handler       string
	Role          string
	Architectures []string
	MemorySize    int
	Timeout       int
	Env           map[string]string
	Zip           []byte
	Description   string
}

func (c fakeConfig) clone() fakeConfig {
	c.Architectures = slices.Clone(c.Architectures)
	c.Env = maps.Clone(c.Env)
	return c
}

// apply sets the settings a CreateFunction or UpdateFunctionConfiguration
// request carries.
func (c *fakeConfig) apply(in map[string]any) {
	if env, ok := in["Environment"].(map[string]any); ok {
		c.Env = strMap(env["Variables"])
	}
	if v, ok := in["MemorySize"].(float64); ok {
		c.MemorySize = int(v)
	}
	if v, ok := in["Timeout"].(float64); ok {
		c.Timeout = int(v)
	}
	for key, field := range map[string]*string{"Role": &c.Role, "Runtime": &c.Runtime, "Handler": &c.Handler, "Description": &c.Description} {
		if v, ok := in[key]; ok {
			*field = str(v)
		}
	}
}

// fingerprint is what PublishVersion compares to decide whether anything
// changed since the last version.
func (c fakeConfig) fingerprint() string {
	b, _ := json.Marshal(c)
	sum := sha256.Sum256(b)
	return string(sum[:])
}

// Version is a published version.
type fakeVersion struct {
	Number       int
	Config       fakeConfig
	Description  string
	LastModified string
}

// Alias points a name at a version.
type fakeAlias struct {
	Version  string
	Revision int
}

// fakeURL is a Function URL.
type fakeURL struct {
	URL      string
	AuthType string
}

// Function is a Lambda function as the fake holds it.
type fakeFunction struct {
	Name string
	// fakeConfig is $LATEST.
	fakeConfig
	Tags         map[string]string
	State        string // Pending, Active
	UpdateStatus string // InProgress, Successful, Failed
	// UpdateReason and UpdateReasonCode explain a Failed update.
	UpdateReason     string
	UpdateReasonCode string
	Revision         int
	LastModified     string
	// URLs holds the Function URLs by qualifier ("" for the unqualified
	// function).
	URLs map[string]fakeURL
	// Statements holds the resource-policy statements by qualifier, as
	// GetPolicy returns them.
	Statements map[string][]map[string]any
	// Versions are the published versions, oldest first.
	Versions []fakeVersion
	Aliases  map[string]fakeAlias

	pendingPolls int
	updatePolls  int
	failUpdate   [2]string // code and reason the next update fails with
	published    string    // fingerprint of the last published version
	lastVersion  int
}

func (f *fakeFunction) clone() fakeFunction {
	c := *f
	c.fakeConfig = f.fakeConfig.clone()
	c.Tags = maps.Clone(f.Tags)
	c.URLs = maps.Clone(f.URLs)
	c.Statements = map[string][]map[string]any{}
	for q, st := range f.Statements {
		c.Statements[q] = slices.Clone(st)
	}
	c.Versions = slices.Clone(f.Versions)
	c.Aliases = maps.Clone(f.Aliases)
	return c
}

// Function returns a copy of the named function.
func (s *fakeAWS) Function(name string) (fakeFunction, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f, ok := s.functions[name]
	if !ok {
		return fakeFunction{}, false
	}
	return f.clone(), true
}

// AddFunction creates an Active function as if it existed before the test.
func (s *fakeAWS) AddFunction(f fakeFunction) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := f.clone()
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
	for _, v := range c.Versions {
		c.lastVersion = max(c.lastVersion, v.Number)
	}
	if c.Aliases == nil {
		c.Aliases = map[string]fakeAlias{}
	}
	s.functions[f.Name] = &c
}

// FailUpdate makes the function's next update end with LastUpdateStatus
// Failed and this reason code and reason.
func (s *fakeAWS) FailUpdate(name, code, reason string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.functions[name].failUpdate = [2]string{code, reason}
}

// RemoveStatement deletes a resource-policy statement, as
// `aws lambda remove-permission` would.
func (s *fakeAWS) RemoveStatement(name, qualifier, sid string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	fn := s.functions[name]
	fn.Statements[qualifier] = slices.DeleteFunc(fn.Statements[qualifier], func(st map[string]any) bool { return st["Sid"] == sid })
}

func lambdaTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000-0700") }

func lambdaError(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Amzn-ErrorType", code)
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"Type": "User", "message": msg})
}

// lambdaDenied is Lambda's answer to a call the caller's policy does not
// allow: 403, the error type in X-Amzn-ErrorType, and a body with only
// "Message".
func lambdaDenied(w http.ResponseWriter, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Amzn-ErrorType", "AccessDeniedException")
	w.WriteHeader(http.StatusForbidden)
	_ = json.NewEncoder(w).Encode(map[string]string{"Message": msg})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func (s *fakeAWS) functionARN(name string) string {
	return s.arn("lambda", fakeRegion, "function:"+name)
}

func (s *fakeAWS) qualifiedARN(name, qualifier string) string {
	if qualifier == "" {
		return s.functionARN(name)
	}
	return s.functionARN(name) + ":" + qualifier
}

// lambdaAuthz is what AWS authorises for a Lambda call: the action on
// the function (or its version or alias), with the condition keys Lambda
// sets for it (the service authorization reference's "Actions defined by
// AWS Lambda").
func (s *fakeAWS) lambdaAuthz(op, name, qualifier string, in map[string]any) authz {
	a := authz{action: "lambda:" + op, resource: s.qualifiedARN(name, qualifier), context: map[string]string{}}
	switch op {
	case "AddPermission":
		a.context["lambda:principal"] = str(in["Principal"])
		if t, ok := in["FunctionUrlAuthType"]; ok {
			a.context["lambda:functionurlauthtype"] = str(t)
		}
	case "CreateFunctionUrlConfig":
		a.context["lambda:functionurlauthtype"] = str(in["AuthType"])
	}
	return a
}

// lambdaOp maps a request to its operation, function and sub-resource
// (an alias name).
func lambdaOp(r *http.Request) (op, name, sub string) {
	p := r.URL.Path
	if p == "/2015-03-31/functions" && r.Method == http.MethodPost {
		return "CreateFunction", "", ""
	}
	if rest, ok := strings.CutPrefix(p, "/2015-03-31/functions/"); ok {
		name, rest, _ := strings.Cut(rest, "/")
		kind, sub, _ := strings.Cut(rest, "/")
		ops := map[string]string{
			"GET ": "GetFunction", "DELETE ": "DeleteFunction",
			"GET configuration": "GetFunctionConfiguration", "PUT configuration": "UpdateFunctionConfiguration",
			"PUT code": "UpdateFunctionCode", "POST policy": "AddPermission", "GET policy": "GetPolicy",
			"POST versions": "PublishVersion", "GET versions": "ListVersionsByFunction",
			"POST aliases": "CreateAlias", "GET aliases": "GetAlias", "PUT aliases": "UpdateAlias",
		}
		return ops[r.Method+" "+kind], name, sub
	}
	if arn, ok := strings.CutPrefix(p, "/2017-03-31/tags/"); ok && r.Method == http.MethodGet {
		return "ListTags", arn[strings.LastIndex(arn, ":")+1:], ""
	}
	if rest, ok := strings.CutPrefix(p, "/2021-10-31/functions/"); ok {
		if name, ok := strings.CutSuffix(rest, "/url"); ok {
			ops := map[string]string{"POST": "CreateFunctionUrlConfig", "GET": "GetFunctionUrlConfig", "DELETE": "DeleteFunctionUrlConfig"}
			return ops[r.Method], name, ""
		}
	}
	return "", "", ""
}

func (s *fakeAWS) serveLambda(w http.ResponseWriter, r *http.Request, body []byte) {
	op, name, sub := lambdaOp(r)
	var in map[string]any
	if len(body) > 0 {
		if err := json.Unmarshal(body, &in); err != nil {
			s.t.Errorf("fake AWS: lambda %s: body is not JSON: %v", op, err)
		}
	}
	if op == "CreateFunction" {
		name = str(in["FunctionName"])
	}
	qualifier := r.URL.Query().Get("Qualifier")
	s.mu.Lock()
	defer s.mu.Unlock()
	required := []authz{s.lambdaAuthz(op, name, qualifier, in)}
	if op == "CreateFunction" {
		required = append(required, authz{"iam:PassRole", str(in["Role"]), map[string]string{"iam:passedtoservice": "lambda.amazonaws.com"}})
		if in["Tags"] != nil {
			required = append(required, authz{"lambda:TagResource", s.functionARN(name), nil})
		}
	}
	c := fakeCall{Op: "lambda:" + op, Method: r.Method, Path: r.URL.Path, Query: r.URL.Query(), Body: in}
	if !s.begin(w, lambdaError, c, lambdaDenied, required...) {
		return
	}
	if op == "" {
		s.t.Errorf("fake AWS: unexpected Lambda request %s %s", r.Method, r.URL.Path)
		lambdaError(w, http.StatusBadRequest, "UnknownOperationException", "unknown operation")
		return
	}
	if op == "CreateFunction" {
		s.createFunction(w, in)
		return
	}
	fn, ok := s.functions[name]
	if !ok && op == "ListVersionsByFunction" && s.ListVersionsOfMissing {
		writeJSON(w, http.StatusOK, map[string]any{"Versions": []any{}})
		return
	}
	if !ok {
		lambdaError(w, http.StatusNotFound, "ResourceNotFoundException", "Function not found: "+s.functionARN(name))
		return
	}
	if qualifier != "" && op != "DeleteFunction" && !s.qualifierExists(fn, qualifier) {
		lambdaError(w, http.StatusNotFound, "ResourceNotFoundException", "Function not found: "+s.qualifiedARN(name, qualifier))
		return
	}
	switch op {
	case "GetFunction":
		s.poll(fn)
		cfg, zip := s.qualified(fn, qualifier)
		out := map[string]any{
			"Configuration": cfg,
			"Code":          map[string]any{"RepositoryType": "S3", "Location": s.codeLocation(fn.Name, zip)},
		}
		// Since July 2024 GetFunction returns the tags only to a caller
		// allowed lambda:ListTags; others get none, and no error.
		if s.allowed(authz{"lambda:ListTags", s.functionARN(fn.Name), nil}) {
			out["Tags"] = fn.Tags
		}
		writeJSON(w, http.StatusOK, out)
	case "ListTags":
		writeJSON(w, http.StatusOK, map[string]any{"Tags": fn.Tags})
	case "GetFunctionConfiguration":
		s.poll(fn)
		cfg, _ := s.qualified(fn, qualifier)
		writeJSON(w, http.StatusOK, cfg)
	case "UpdateFunctionCode":
		s.updateCode(w, fn, in)
	case "UpdateFunctionConfiguration":
		s.updateConfiguration(w, fn, in)
	case "DeleteFunction":
		s.deleteFunction(w, fn, qualifier)
	case "AddPermission":
		s.addPermission(w, fn, qualifier, in)
	case "GetPolicy":
		if len(fn.Statements[qualifier]) == 0 {
			lambdaError(w, http.StatusNotFound, "ResourceNotFoundException", "The resource you requested does not exist.")
			return
		}
		policy, _ := json.Marshal(map[string]any{"Version": "2012-10-17", "Id": "default", "Statement": fn.Statements[qualifier]})
		writeJSON(w, http.StatusOK, map[string]any{"Policy": string(policy), "RevisionId": strconv.Itoa(fn.Revision)})
	case "PublishVersion":
		s.publishVersion(w, fn, in)
	case "ListVersionsByFunction":
		s.listVersions(w, r, fn)
	case "CreateAlias", "GetAlias", "UpdateAlias":
		s.alias(w, op, fn, sub, in)
	case "CreateFunctionUrlConfig", "GetFunctionUrlConfig", "DeleteFunctionUrlConfig":
		s.functionURL(w, op, fn, qualifier, in)
	}
}

func (s *fakeAWS) qualifierExists(fn *fakeFunction, q string) bool {
	if _, ok := fn.Aliases[q]; ok || q == "$LATEST" {
		return true
	}
	return fn.version(q) != nil
}

// qualified returns the configuration and code of $LATEST (qualifier ""
// or "$LATEST"), a version, or the version an alias points at.
func (s *fakeAWS) qualified(fn *fakeFunction, qualifier string) (map[string]any, []byte) {
	if a, ok := fn.Aliases[qualifier]; ok {
		qualifier = a.Version
	}
	if v := fn.version(qualifier); v != nil {
		return s.versionConfiguration(fn, *v), v.Config.Zip
	}
	return s.configuration(fn), fn.Zip
}

func (f *fakeFunction) version(q string) *fakeVersion {
	for i := range f.Versions {
		if strconv.Itoa(f.Versions[i].Number) == q {
			return &f.Versions[i]
		}
	}
	return nil
}

func (s *fakeAWS) createFunction(w http.ResponseWriter, in map[string]any) {
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
	fn := &fakeFunction{
		Name:       name,
		fakeConfig: fakeConfig{Architectures: strs(in["Architectures"]), Zip: zip, MemorySize: 128, Timeout: 3},
		Tags:       strMap(in["Tags"]),
		State:      "Pending", UpdateStatus: "Successful", Revision: s.next(), LastModified: lambdaTime(time.Now()),
		Aliases: map[string]fakeAlias{}, URLs: map[string]fakeURL{}, Statements: map[string][]map[string]any{},
		pendingPolls: s.PendingPolls,
	}
	if len(fn.Architectures) == 0 {
		fn.Architectures = []string{"x86_64"}
	}
	fn.apply(in)
	s.functions[name] = fn
	writeJSON(w, http.StatusCreated, s.configuration(fn))
}

func (s *fakeAWS) updateCode(w http.ResponseWriter, fn *fakeFunction, in map[string]any) {
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
}

func (s *fakeAWS) updateConfiguration(w http.ResponseWriter, fn *fakeFunction, in map[string]any) {
	if !s.idle(w, fn) || !s.revisionMatches(w, fn.Revision, in) {
		return
	}
	fn.apply(in)
	s.changed(fn)
	writeJSON(w, http.StatusOK, s.configuration(fn))
}

func (s *fakeAWS) revisionMatches(w http.ResponseWriter, current int, in map[string]any) bool {
	if rev, ok := in["RevisionId"]; ok && str(rev) != strconv.Itoa(current) {
		lambdaError(w, http.StatusPreconditionFailed, "PreconditionFailedException",
			"The Revision Id provided does not match the latest Revision Id. fakeCall the GetFunction/GetAlias API to retrieve the latest Revision Id")
		return false
	}
	return true
}

func (s *fakeAWS) deleteFunction(w http.ResponseWriter, fn *fakeFunction, qualifier string) {
	if qualifier == "" {
		delete(s.functions, fn.Name)
		w.WriteHeader(http.StatusNoContent)
		return
	}
	v := fn.version(qualifier)
	if v == nil {
		lambdaError(w, http.StatusNotFound, "ResourceNotFoundException", "Function not found: "+s.qualifiedARN(fn.Name, qualifier))
		return
	}
	var refs []string
	for a, al := range fn.Aliases {
		if al.Version == qualifier {
			refs = append(refs, a)
		}
	}
	if len(refs) > 0 {
		slices.Sort(refs)
		lambdaError(w, http.StatusConflict, "ResourceConflictException",
			"Unable to delete version because the following aliases reference it: ["+strings.Join(refs, ", ")+"]")
		return
	}
	fn.Versions = slices.DeleteFunc(fn.Versions, func(x fakeVersion) bool { return strconv.Itoa(x.Number) == qualifier })
	w.WriteHeader(http.StatusNoContent)
}

func (s *fakeAWS) addPermission(w http.ResponseWriter, fn *fakeFunction, qualifier string, in map[string]any) {
	sid := str(in["StatementId"])
	for _, p := range fn.Statements[qualifier] {
		if p["Sid"] == sid {
			lambdaError(w, http.StatusConflict, "ResourceConflictException", "The statement id ("+sid+") provided already exists. Please provide a new statement id, or remove the existing statement.")
			return
		}
	}
	stmt := map[string]any{"Sid": sid, "Effect": "Allow", "Principal": in["Principal"], "Action": in["Action"],
		"Resource": s.qualifiedARN(fn.Name, qualifier)}
	switch {
	case in["FunctionUrlAuthType"] != nil:
		stmt["Condition"] = map[string]any{"StringEquals": map[string]any{"lambda:FunctionUrlAuthType": in["FunctionUrlAuthType"]}}
	case in["InvokedViaFunctionUrl"] == true:
		stmt["Condition"] = map[string]any{"Bool": map[string]any{"lambda:InvokedViaFunctionUrl": "true"}}
	}
	if fn.Statements == nil {
		fn.Statements = map[string][]map[string]any{}
	}
	fn.Statements[qualifier] = append(fn.Statements[qualifier], stmt)
	b, _ := json.Marshal(stmt)
	writeJSON(w, http.StatusCreated, map[string]string{"Statement": string(b)})
}

// publishVersion publishes $LATEST, or answers the newest version when
// nothing changed since it was published, as Lambda does.
func (s *fakeAWS) publishVersion(w http.ResponseWriter, fn *fakeFunction, in map[string]any) {
	if !s.idle(w, fn) || !s.revisionMatches(w, fn.Revision, in) {
		return
	}
	if fp := fn.fingerprint(); fp != fn.published || len(fn.Versions) == 0 {
		fn.lastVersion++
		fn.Versions = append(fn.Versions, fakeVersion{Number: fn.lastVersion, Config: fn.fakeConfig.clone(),
			Description: str(in["Description"]), LastModified: lambdaTime(time.Now())})
		fn.published = fp
	}
	writeJSON(w, http.StatusCreated, s.versionConfiguration(fn, fn.Versions[len(fn.Versions)-1]))
}

func (s *fakeAWS) listVersions(w http.ResponseWriter, r *http.Request, fn *fakeFunction) {
	all := []map[string]any{s.configuration(fn)}
	for _, v := range fn.Versions {
		all = append(all, s.versionConfiguration(fn, v))
	}
	from, _ := strconv.Atoi(r.URL.Query().Get("Marker"))
	to := min(from+s.VersionPageSize, len(all))
	out := map[string]any{"Versions": all[from:to]}
	if to < len(all) {
		out["NextMarker"] = strconv.Itoa(to)
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *fakeAWS) alias(w http.ResponseWriter, op string, fn *fakeFunction, name string, in map[string]any) {
	if op == "CreateAlias" {
		name = str(in["Name"])
	}
	a, exists := fn.Aliases[name]
	arn := s.qualifiedARN(fn.Name, name)
	switch {
	case op == "CreateAlias" && exists:
		lambdaError(w, http.StatusConflict, "ResourceConflictException", "Alias already exists: "+arn)
		return
	case op != "CreateAlias" && !exists:
		lambdaError(w, http.StatusNotFound, "ResourceNotFoundException", "Cannot find alias arn: "+arn)
		return
	case op == "UpdateAlias" && !s.revisionMatches(w, a.Revision, in):
		return
	}
	if op != "GetAlias" {
		v := str(in["FunctionVersion"])
		if fn.version(v) == nil {
			lambdaError(w, http.StatusNotFound, "ResourceNotFoundException", "Function not found: "+s.qualifiedARN(fn.Name, v))
			return
		}
		a = fakeAlias{Version: v, Revision: s.next()}
		fn.Aliases[name] = a
	}
	status := http.StatusOK
	if op == "CreateAlias" {
		status = http.StatusCreated
	}
	writeJSON(w, status, map[string]any{"AliasArn": arn, "Name": name, "FunctionVersion": a.Version,
		"Description": "", "RevisionId": strconv.Itoa(a.Revision)})
}

func (s *fakeAWS) functionURL(w http.ResponseWriter, op string, fn *fakeFunction, qualifier string, in map[string]any) {
	u, exists := fn.URLs[qualifier]
	switch {
	case op == "CreateFunctionUrlConfig" && exists:
		lambdaError(w, http.StatusConflict, "ResourceConflictException", "Failed to create function url config for [functionArn = "+
			s.qualifiedARN(fn.Name, qualifier)+"]. Error message:  FunctionUrlConfig exists for this Lambda function")
	case op == "CreateFunctionUrlConfig":
		u = fakeURL{URL: fmt.Sprintf("https://%032d.lambda-url.%s.on.aws/", s.next(), fakeRegion), AuthType: str(in["AuthType"])}
		if fn.URLs == nil {
			fn.URLs = map[string]fakeURL{}
		}
		fn.URLs[qualifier] = u
		writeJSON(w, http.StatusCreated, s.urlConfig(fn, qualifier, u))
	case !exists:
		lambdaError(w, http.StatusNotFound, "ResourceNotFoundException", "The resource you requested does not exist.")
	case op == "GetFunctionUrlConfig":
		writeJSON(w, http.StatusOK, s.urlConfig(fn, qualifier, u))
	default:
		delete(fn.URLs, qualifier)
		w.WriteHeader(http.StatusNoContent)
	}
}

// idle refuses a change while the function is still being created or
// updated, as Lambda does.
func (s *fakeAWS) idle(w http.ResponseWriter, fn *fakeFunction) bool {
	if fn.State == "Pending" || fn.UpdateStatus == "InProgress" {
		lambdaError(w, http.StatusConflict, "ResourceConflictException",
			"The operation cannot be performed at this time. An update is in progress for resource: "+s.functionARN(fn.Name))
		return false
	}
	return true
}

func (s *fakeAWS) changed(fn *fakeFunction) {
	fn.Revision = s.next()
	fn.LastModified = lambdaTime(time.Now())
	fn.UpdateStatus = "InProgress"
	fn.UpdateReason, fn.UpdateReasonCode = "", ""
	fn.updatePolls = s.PendingPolls
}

// poll advances a settling function by one read.
func (s *fakeAWS) poll(fn *fakeFunction) {
	if fn.State == "Pending" {
		if fn.pendingPolls > 0 {
			fn.pendingPolls--
		} else {
			fn.State = "Active"
		}
	}
	if fn.UpdateStatus == "InProgress" {
		switch {
		case fn.updatePolls > 0:
			fn.updatePolls--
		case fn.failUpdate[0] != "":
			fn.UpdateStatus, fn.UpdateReasonCode, fn.UpdateReason = "Failed", fn.failUpdate[0], fn.failUpdate[1]
			fn.failUpdate = [2]string{}
		default:
			fn.UpdateStatus = "Successful"
		}
	}
}

func configJSON(name, arn, version string, c fakeConfig) map[string]any {
	sum := sha256.Sum256(c.Zip)
	out := map[string]any{
		"FunctionName":  name,
		"FunctionArn":   arn,
		"Runtime":       c.Runtime,
		"Role":          c.Role,
		"Handler":       c.Handler,
		"CodeSize":      len(c.Zip),
		"CodeSha256":    base64.StdEncoding.EncodeToString(sum[:]),
		"Timeout":       c.Timeout,
		"MemorySize":    c.MemorySize,
		"Version":       version,
		"PackageType":   "Zip",
		"Architectures": c.Architectures,
		"Description":   c.Description,
	}
	if c.Env != nil {
		out["Environment"] = map[string]any{"Variables": c.Env}
	}
	return out
}

func (s *fakeAWS) configuration(fn *fakeFunction) map[string]any {
	c := configJSON(fn.Name, s.functionARN(fn.Name), "$LATEST", fn.fakeConfig)
	c["LastModified"] = fn.LastModified
	c["State"] = fn.State
	c["LastUpdateStatus"] = fn.UpdateStatus
	c["RevisionId"] = strconv.Itoa(fn.Revision)
	if fn.State == "Pending" {
		c["StateReason"] = "The function is being created."
		c["StateReasonCode"] = "Creating"
	}
	if fn.UpdateStatus == "Failed" {
		c["LastUpdateStatusReason"] = fn.UpdateReason
		c["LastUpdateStatusReasonCode"] = fn.UpdateReasonCode
	}
	return c
}

func (s *fakeAWS) versionConfiguration(fn *fakeFunction, v fakeVersion) map[string]any {
	n := strconv.Itoa(v.Number)
	c := configJSON(fn.Name, s.qualifiedARN(fn.Name, n), n, v.Config)
	c["Description"] = v.Description
	c["LastModified"] = v.LastModified
	c["State"] = "Active"
	c["LastUpdateStatus"] = "Successful"
	c["RevisionId"] = strconv.Itoa(v.Number)
	return c
}

func (s *fakeAWS) urlConfig(fn *fakeFunction, qualifier string, u fakeURL) map[string]any {
	return map[string]any{
		"FunctionUrl":  u.URL,
		"FunctionArn":  s.qualifiedARN(fn.Name, qualifier),
		"AuthType":     u.AuthType,
		"CreationTime": time.Now().UTC().Format(time.RFC3339),
		"InvokeMode":   "BUFFERED",
	}
}
