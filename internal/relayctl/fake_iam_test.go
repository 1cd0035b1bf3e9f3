package relayctl

import (
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
)

// Role is an IAM role as the fake holds it.
type fakeRole struct {
	Name     string
	ARN      string
	Trust    string
	Tags     map[string]string
	Policies map[string]string
	// Boundary is the ARN of the role's permissions boundary.
	Boundary string
	Created  time.Time
}

// Role returns a copy of the named role.
func (s *fakeAWS) Role(name string) (fakeRole, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.roles[name]
	if !ok {
		return fakeRole{}, false
	}
	c := *r
	c.Tags = maps.Clone(r.Tags)
	c.Policies = maps.Clone(r.Policies)
	return c, true
}

// AddRole creates a role as if it had been made a year before the test.
func (s *fakeAWS) AddRole(name string, tags map[string]string) string {
	return s.AddRoleCreated(name, tags, time.Now().AddDate(-1, 0, 0))
}

// AddRoleCreated creates a role made at created.
func (s *fakeAWS) AddRoleCreated(name string, tags map[string]string, created time.Time) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	arn := s.arn("iam", "", "role/"+name)
	s.roles[name] = &fakeRole{Name: name, ARN: arn, Tags: maps.Clone(tags), Policies: map[string]string{}, Created: created,
		Trust: `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}`}
	return arn
}

// AddPolicy creates a customer managed policy and returns its ARN.
func (s *fakeAWS) AddPolicy(name string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	arn := s.arn("iam", "", "policy/"+name)
	s.policies[arn] = true
	return arn
}

func iamErrorWriter(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "text/xml")
	w.WriteHeader(status)
	fmt.Fprintf(w, `<ErrorResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/"><Error><Type>Sender</Type><Code>%s</Code><Message>%s</Message></Error><RequestId>%s</RequestId></ErrorResponse>`,
		code, xmlEscape(msg), requestID(w))
}

// iamDenied is IAM's (and STS's) answer to a call the caller's policy
// does not allow: 403 with error code AccessDenied in the query
// protocol's XML error.
func iamDenied(w http.ResponseWriter, msg string) {
	iamErrorWriter(w, http.StatusForbidden, "AccessDenied", msg)
}

func xmlEscape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&quot;").Replace(s)
}

func queryOK(w http.ResponseWriter, namespace, action, result string) {
	w.Header().Set("Content-Type", "text/xml")
	fmt.Fprintf(w, `<%sResponse xmlns="%s"><%sResult>%s</%sResult><ResponseMetadata><RequestId>%s</RequestId></ResponseMetadata></%sResponse>`,
		action, namespace, action, result, action, requestID(w), action)
}

func roleXML(r *fakeRole) string {
	var tags strings.Builder
	for _, k := range slices.Sorted(maps.Keys(r.Tags)) {
		fmt.Fprintf(&tags, "<member><Key>%s</Key><Value>%s</Value></member>", xmlEscape(k), xmlEscape(r.Tags[k]))
	}
	boundary := ""
	if r.Boundary != "" {
		boundary = "<PermissionsBoundary><PermissionsBoundaryType>Policy</PermissionsBoundaryType><PermissionsBoundaryArn>" +
			xmlEscape(r.Boundary) + "</PermissionsBoundaryArn></PermissionsBoundary>"
	}
	return fmt.Sprintf(`<Role><Path>/</Path><RoleName>%s</RoleName><RoleId>AROAFAKE%s</RoleId><Arn>%s</Arn><CreateDate>%s</CreateDate><AssumeRolePolicyDocument>%s</AssumeRolePolicyDocument>%s<Tags>%s</Tags></Role>`,
		xmlEscape(r.Name), strings.ToUpper(r.Name[:min(len(r.Name), 8)]), xmlEscape(r.ARN), r.Created.UTC().Format(time.RFC3339),
		xmlEscape(url.QueryEscape(r.Trust)), boundary, tags.String())
}

func (s *fakeAWS) serveIAM(w http.ResponseWriter, r *http.Request, body []byte) {
	form, err := url.ParseQuery(string(body))
	if err != nil {
		s.t.Errorf("fake AWS: IAM body is not a form: %v", err)
	}
	action := form.Get("Action")
	name := form.Get("RoleName")
	roleARN := s.arn("iam", "", "role/"+name)
	s.mu.Lock()
	defer s.mu.Unlock()
	role, exists := s.roles[name]
	// iam:PermissionsBoundary is the boundary a new role would get
	// (CreateRole) or the role has (PutRolePolicy, DeleteRolePolicy).
	ctx := map[string]string{}
	switch boundary := form.Get("PermissionsBoundary"); {
	case action == "CreateRole" && boundary != "":
		ctx["iam:permissionsboundary"] = boundary
	case action != "CreateRole" && exists && role.Boundary != "":
		ctx["iam:permissionsboundary"] = role.Boundary
	}
	required := []authz{{"iam:" + action, roleARN, ctx}}
	if action == "CreateRole" && form.Has("Tags.member.1.Key") {
		required = append(required, authz{"iam:TagRole", roleARN, nil})
	}
	if !s.begin(w, iamErrorWriter, fakeCall{Op: "iam:" + action, Method: r.Method, Path: r.URL.Path, Form: form}, iamDenied, required...) {
		return
	}
	notFound := func() {
		iamErrorWriter(w, http.StatusNotFound, "NoSuchEntity", "The role with name "+name+" cannot be found.")
	}
	const ns = "https://iam.amazonaws.com/doc/2010-05-08/"
	switch action {
	case "CreateRole":
		boundary := form.Get("PermissionsBoundary")
		switch {
		case exists:
			iamErrorWriter(w, http.StatusConflict, "EntityAlreadyExists", "Role with name "+name+" already exists.")
			return
		case boundary != "" && !s.policies[boundary]:
			iamErrorWriter(w, http.StatusNotFound, "NoSuchEntity", "Scope ARN: "+boundary+" does not exist or is not attachable.")
			return
		}
		role = &fakeRole{Name: name, ARN: roleARN, Trust: form.Get("AssumeRolePolicyDocument"),
			Tags: map[string]string{}, Policies: map[string]string{}, Boundary: boundary, Created: time.Now()}
		for i := 1; form.Has(fmt.Sprintf("Tags.member.%d.Key", i)); i++ {
			role.Tags[form.Get(fmt.Sprintf("Tags.member.%d.Key", i))] = form.Get(fmt.Sprintf("Tags.member.%d.Value", i))
		}
		s.roles[name] = role
		queryOK(w, ns, action, roleXML(role))
	case "GetRole":
		if !exists {
			notFound()
			return
		}
		queryOK(w, ns, action, roleXML(role))
	case "PutRolePolicy":
		if !exists {
			notFound()
			return
		}
		role.Policies[form.Get("PolicyName")] = form.Get("PolicyDocument")
		queryOK(w, ns, action, "")
	case "DeleteRolePolicy":
		if !exists {
			notFound()
			return
		}
		if _, ok := role.Policies[form.Get("PolicyName")]; !ok {
			iamErrorWriter(w, http.StatusNotFound, "NoSuchEntity", "The role policy with name "+form.Get("PolicyName")+" cannot be found.")
			return
		}
		delete(role.Policies, form.Get("PolicyName"))
		queryOK(w, ns, action, "")
	case "ListRolePolicies":
		if !exists {
			notFound()
			return
		}
		var names strings.Builder
		for _, n := range slices.Sorted(maps.Keys(role.Policies)) {
			fmt.Fprintf(&names, "<member>%s</member>", xmlEscape(n))
		}
		queryOK(w, ns, action, "<PolicyNames>"+names.String()+"</PolicyNames><IsTruncated>false</IsTruncated>")
	case "DeleteRole":
		if !exists {
			notFound()
			return
		}
		if len(role.Policies) > 0 {
			iamErrorWriter(w, http.StatusConflict, "DeleteConflict", "Cannot delete entity, must delete policies first.")
			return
		}
		delete(s.roles, name)
		queryOK(w, ns, action, "")
	default:
		s.t.Errorf("fake AWS: unexpected IAM action %q", action)
		iamErrorWriter(w, http.StatusBadRequest, "InvalidAction", "unknown action "+action)
	}
}

// serveSTS answers GetCallerIdentity for callerARN, which needs no
// permission.
func (s *fakeAWS) serveSTS(w http.ResponseWriter, r *http.Request, body []byte) {
	form, err := url.ParseQuery(string(body))
	if err != nil {
		s.t.Errorf("fake AWS: STS body is not a form: %v", err)
	}
	action := form.Get("Action")
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.begin(w, iamErrorWriter, fakeCall{Op: "sts:" + action, Method: r.Method, Path: r.URL.Path, Form: form}, iamDenied) {
		return
	}
	if action != "GetCallerIdentity" {
		s.t.Errorf("fake AWS: unexpected STS action %q", action)
		iamErrorWriter(w, http.StatusBadRequest, "InvalidAction", "unknown action "+action)
		return
	}
	queryOK(w, "https://sts.amazonaws.com/doc/2011-06-15/", action,
		"<Arn>"+s.callerARN()+"</Arn><UserId>AIDAFAKEFAKEFAKE</UserId><Account>"+fakeAccount+"</Account>")
}

// serveSSO answers the SSO portal's GetRoleCredentials: the fake's
// credentials for SSOToken, 401 UnauthorizedException for any other token
// (an SSO session that has ended).
func (s *fakeAWS) serveSSO(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := fakeCall{Op: "sso:GetRoleCredentials", Method: r.Method, Path: r.URL.Path, Query: r.URL.Query()}
	if !s.begin(w, lambdaError, c, nil) {
		return
	}
	if tok := r.Header.Get("X-Amz-Sso_bearer_token"); tok == "" || tok != s.SSOToken {
		lambdaError(w, http.StatusUnauthorized, "UnauthorizedException", "Session token not found or invalid")
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"roleCredentials": map[string]any{
		"accessKeyId": "AKIAFAKEFAKEFAKE", "secretAccessKey": "fake-secret-access-key", "sessionToken": "fake-session",
		"expiration": time.Now().Add(time.Hour).UnixMilli(),
	}})
}
