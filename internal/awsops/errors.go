package awsops

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"

	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/smithy-go"
)

// Error is an AWS failure explained for the operator: which call failed,
// what AWS said, and how to fix it when that is known. It prints as one
// line.
type Error struct {
	// Op is the failed call as an IAM action, e.g. "lambda:CreateFunction".
	Op string
	// Msg says what went wrong.
	Msg string
	// Fix says what to do about it; empty when unknown.
	Fix string
	// Err is the SDK error.
	Err error
}

func (e *Error) Error() string {
	var b strings.Builder
	if e.Op != "" {
		b.WriteString(e.Op + ": ")
	}
	b.WriteString(e.Msg)
	if e.Fix != "" {
		b.WriteString(" — " + e.Fix)
	}
	return oneLine(b.String())
}

func (e *Error) Unwrap() error { return e.Err }

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
	for _, c := range codes {
		if code == c {
			return true
		}
	}
	return false
}

func isNotFound(err error) bool {
	return isCode(err, "ResourceNotFoundException", "NoSuchEntity", "NoSuchEntityException")
}

// Explain turns an SDK error into an *Error with the fix when known. It
// leaves nil, context cancellation and errors already explained alone.
func (c *Client) Explain(err error) error {
	if err == nil {
		return nil
	}
	var done *Error
	if errors.As(err, &done) {
		return err
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	op := opName(err)
	code, msg := apiCode(err)
	profile := c.profileText()
	e := &Error{Op: op, Err: err}
	switch {
	case strings.Contains(err.Error(), "get identity: get credentials") ||
		strings.Contains(err.Error(), "failed to refresh cached credentials"):
		return c.noCredentials(err)
	case code == "AccessDenied" || code == "AccessDeniedException" || code == "UnauthorizedOperation":
		e.Msg = "access denied to " + profile + ": " + msg
		e.Fix = "attach deploy/iam/deployment-policy.json to the deploying user or role (see docs/aws.md)"
		if op != "" {
			e.Msg = "AWS denied " + op + " to " + profile
			e.Fix = "allow " + op + " by attaching deploy/iam/deployment-policy.json to the deploying user or role (see docs/aws.md)"
		}
	case code == "UnrecognizedClientException" || code == "InvalidClientTokenId" ||
		code == "InvalidSignatureException" || code == "SignatureDoesNotMatch":
		e.Msg = "AWS rejected the credentials of " + profile + " (" + code + ")"
		e.Fix = "check the access key in ~/.aws/credentials, or run `aws configure" + c.profileFlag() + "`"
	case code == "ExpiredToken" || code == "ExpiredTokenException" || code == "RequestExpired":
		e.Msg = "the AWS session of " + profile + " has expired"
		e.Fix = "sign in again (e.g. `aws sso login" + c.profileFlag() + "`) or refresh the temporary credentials"
	case code == "ThrottlingException" || code == "TooManyRequestsException" || code == "Throttling":
		e.Msg = "AWS throttled the call: " + msg
		e.Fix = "wait a moment and run the command again"
	case code != "":
		e.Msg = code + ": " + msg
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

func (c *Client) profileText() string {
	if c.Profile == "" {
		return "the default AWS credentials"
	}
	return "AWS profile " + fmt.Sprintf("%q", c.Profile)
}

func (c *Client) profileFlag() string {
	if c.Profile == "" {
		return ""
	}
	return " --profile " + c.Profile
}

func (c *Client) noCredentials(err error) error {
	where := "the AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY environment variables, ~/.aws/credentials and ~/.aws/config"
	fix := "run `aws configure` or set the AWS_* environment variables"
	if c.Profile != "" {
		where = "profile \"" + c.Profile + "\" in ~/.aws/credentials and ~/.aws/config"
		fix = "run `aws configure --profile " + c.Profile + "`, or change profile_name in the settings file"
	}
	return &Error{Msg: "no AWS credentials found (looked at " + where + ")", Fix: fix, Err: err}
}

// explainConfig explains a failure to load the SDK configuration.
func explainConfig(err error, profile string) error {
	var notExist config.SharedConfigProfileNotExistError
	if errors.As(err, &notExist) {
		return &Error{
			Msg: fmt.Sprintf("AWS profile %q not found in ~/.aws/config or ~/.aws/credentials", profile),
			Fix: "create it with `aws configure --profile " + profile + "`, or change profile_name in the settings file (or pass --profile)",
			Err: err,
		}
	}
	return &Error{Msg: "load AWS configuration: " + err.Error(), Err: err}
}
