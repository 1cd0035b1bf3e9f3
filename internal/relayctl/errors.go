package relayctl

import (
	"context"
	"errors"
	"fmt"
	"net"
	"regexp"
	"slices"
	"strings"

	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials/ssocreds"
	"github.com/aws/smithy-go"
)

// opError is an AWS failure explained for the operator: which call failed,
// what went wrong, how to fix it when that is known, and what AWS itself
// answered (error code, message and request id). It prints as one line.
type opError struct {
	Op  string // the failed call as an IAM action, e.g. "lambda:CreateFunction"
	Msg string // what went wrong
	Fix string // what to do about it; empty when unknown
	Err error  // the SDK error
}

func (e *opError) Error() string {
	var b strings.Builder
	if e.Op != "" {
		b.WriteString(e.Op + ": ")
	}
	b.WriteString(e.Msg)
	if e.Fix != "" {
		b.WriteString(" — " + e.Fix)
	}
	if d := awsDetail(e.Err); d != "" {
		b.WriteString(" [" + d + "]")
	}
	return oneLine(b.String())
}

func (e *opError) Unwrap() error { return e.Err }

// awsDetail is AWS's own answer in err: "AWS <code>: <message>; request id
// <id>", or "" when err carries none.
func awsDetail(err error) string {
	code, msg := apiCode(err)
	if code == "" {
		return ""
	}
	d := "AWS " + code
	if msg != "" {
		d += ": " + msg
	}
	var re *awshttp.ResponseError
	if errors.As(err, &re) && re.ServiceRequestID() != "" {
		d += "; request id " + re.ServiceRequestID()
	}
	return d
}

func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

// serviceNames maps SDK service ids to IAM action prefixes.
var serviceNames = map[string]string{"Lambda": "lambda", "IAM": "iam", "CloudWatch Logs": "logs", "STS": "sts"}

// opName returns "lambda:CreateFunction" for an SDK operation error.
func opName(err error) string {
	var oe *smithy.OperationError
	if !errors.As(err, &oe) {
		return ""
	}
	svc, ok := serviceNames[oe.ServiceID]
	if !ok {
		svc = strings.ToLower(oe.ServiceID)
	}
	return svc + ":" + oe.OperationName
}

// apiCode returns the AWS error code and message, if err carries one.
func apiCode(err error) (code, msg string) {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode(), ae.ErrorMessage()
	}
	return "", ""
}

// isCode reports whether err is an AWS error with one of codes.
func isCode(err error, codes ...string) bool {
	code, _ := apiCode(err)
	return slices.Contains(codes, code)
}

func isNotFound(err error) bool {
	return isCode(err, "ResourceNotFoundException", "NoSuchEntity", "NoSuchEntityException")
}

// deniedActionRE finds the action in AWS's access denied message, e.g.
// "User: arn:... is not authorized to perform: iam:PassRole on resource: ...".
var deniedActionRE = regexp.MustCompile(`not authorized to perform: ([a-z0-9-]+:[A-Za-z0-9*]+)`)

// Explain turns an SDK error into an *opError with the fix when known. It
// leaves nil, context cancellation and errors already explained alone.
func (c *awsClient) Explain(err error) error {
	if err == nil {
		return nil
	}
	var done *opError
	if errors.As(err, &done) {
		return err
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	op := opName(err)
	code, msg := apiCode(err)
	profile := c.profileText()
	e := &opError{Op: op, Err: err}
	switch {
	case isCredentialsError(err):
		return c.credentialsError(err)
	case code == "AccessDenied" || code == "AccessDeniedException" || code == "UnauthorizedOperation":
		c.explainDenied(e, msg)
	case code == "UnrecognizedClientException" || code == "InvalidClientTokenId" ||
		code == "InvalidSignatureException" || code == "SignatureDoesNotMatch":
		e.Msg = "AWS rejected the credentials of " + profile
		e.Fix = "check the access key in ~/.aws/credentials, or run `aws configure" + c.profileFlag() + "`"
	case code == "ExpiredToken" || code == "ExpiredTokenException" || code == "RequestExpired":
		e.Msg = "the AWS session of " + profile + " has expired"
		e.Fix = "sign in again (`aws sso login" + c.profileFlag() + "` for an SSO profile) or refresh the temporary credentials"
	case code == "ThrottlingException" || code == "TooManyRequestsException" || code == "Throttling":
		e.Msg = "AWS throttled the call"
		e.Fix = "wait a moment and run the command again"
	case code != "":
		e.Msg = "AWS refused the call"
	default:
		var dnsErr *net.DNSError
		if errors.As(err, &dnsErr) {
			e.Msg = "cannot reach the AWS endpoint " + dnsErr.Name
			e.Fix = "check aws_region (" + c.Region + ") in the settings file and your network"
			break
		}
		e.Msg = err.Error()
		var oe *smithy.OperationError
		if errors.As(err, &oe) {
			e.Msg = oe.Err.Error()
		}
	}
	return e
}

// explainDenied names the action AWS denied, which is not always the call
// made (lambda:CreateFunction needs iam:PassRole too), and advises only
// what can help: more policy does not lift an explicit deny.
func (c *awsClient) explainDenied(e *opError, msg string) {
	action := e.Op
	if m := deniedActionRE.FindStringSubmatch(msg); m != nil {
		action = m[1]
	}
	if action == "" {
		action = "the call"
	}
	e.Msg = "AWS denied " + action + " to " + c.profileText()
	if e.Op != "" && action != e.Op {
		e.Msg += " (" + e.Op + " needs it)"
	}
	switch {
	case strings.Contains(msg, "explicit deny"):
		e.Fix = "an explicit deny (a service control policy, a permissions boundary or another policy) blocks it; only your AWS administrator can lift it"
	case strings.Contains(msg, "no permissions boundary allows"):
		e.Fix = "the permissions boundary of the deploying identity does not allow it; ask your AWS administrator"
	case action == "iam:PassRole":
		e.Fix = "allow iam:PassRole on the execution role by attaching deploy/iam/deployment-policy.json to the deploying user or role, with a role name pattern that matches the role (see docs/aws.md)"
	default:
		e.Fix = "allow " + action + " by attaching deploy/iam/deployment-policy.json to the deploying user or role (see docs/aws.md)"
	}
}

// isCredentialsError reports whether err happened while the SDK looked
// for credentials, before any call reached AWS.
func isCredentialsError(err error) bool {
	s := err.Error()
	return isSSOSessionError(err) || strings.Contains(s, "get identity: get credentials") ||
		strings.Contains(s, "failed to refresh cached credentials")
}

// isSSOSessionError reports whether err comes from an SSO session that has
// expired, was never started, or was revoked: a cached token the SDK
// refuses or cannot find, or the SSO portal refusing the token. A profile
// in the sso_session format (what `aws configure sso` writes) reads its
// token through the SDK's SSO token provider, whose errors name "cached
// SSO token" ("failed to read cached SSO token file" when `aws sso login`
// never ran, "refresh cached SSO token failed" when it expired); the
// legacy format's are InvalidTokenError.
func isSSOSessionError(err error) bool {
	var invalid *ssocreds.InvalidTokenError
	if errors.As(err, &invalid) || strings.Contains(err.Error(), "cached SSO token") {
		return true
	}
	// The SSO call's error sits inside the error of the call that needed
	// credentials: walk the operation errors down to it.
	var oe *smithy.OperationError
	for e := err; errors.As(e, &oe); e = oe.Err {
		if strings.HasPrefix(oe.ServiceID, "SSO") {
			return isCode(oe, "UnauthorizedException", "InvalidGrantException", "ExpiredTokenException")
		}
	}
	return false
}

// credentialsError explains a failure to get credentials: an SSO session
// to renew, or credentials to set up.
func (c *awsClient) credentialsError(err error) error {
	if err != nil && isSSOSessionError(err) {
		return &opError{Msg: "the AWS SSO session of " + c.profileText() + " has expired or was never started",
			Fix: "run `aws sso login" + c.profileFlag() + "`", Err: err}
	}
	return c.noCredentials(err)
}

func (c *awsClient) profileText() string {
	if c.Profile == "" {
		return "the default AWS credentials"
	}
	return "AWS profile " + fmt.Sprintf("%q", c.Profile)
}

func (c *awsClient) profileFlag() string {
	if c.Profile == "" {
		return ""
	}
	return " --profile " + c.Profile
}

func (c *awsClient) noCredentials(err error) error {
	where := "the AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY environment variables, ~/.aws/credentials and ~/.aws/config"
	fix := "run `aws configure` or set the AWS_* environment variables"
	if c.Profile != "" {
		where = "profile \"" + c.Profile + "\" in ~/.aws/credentials and ~/.aws/config"
		fix = "run `aws configure --profile " + c.Profile + "`, or change profile_name in the settings file"
	}
	return &opError{Msg: "no AWS credentials found (looked at " + where + ")", Fix: fix, Err: err}
}

// explainConfig explains a failure to load the SDK configuration.
func explainConfig(err error, profile string) error {
	var notExist config.SharedConfigProfileNotExistError
	if errors.As(err, &notExist) {
		return &opError{
			Msg: fmt.Sprintf("AWS profile %q not found in ~/.aws/config or ~/.aws/credentials", profile),
			Fix: "create it with `aws configure --profile " + profile + "`, or change profile_name in the settings file (or pass --profile)",
			Err: err,
		}
	}
	return &opError{Msg: "load AWS configuration: " + err.Error(), Err: err}
}
