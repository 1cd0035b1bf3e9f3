// Package stage reads relayctl's stage settings: the checked-in JSON file
// (relay_settings.json; deploy/relay_settings.json is an example) that,
// like Zappa's zappa_settings.json, holds one object per deployment stage.
// Load validates every stage up front and reports problems as
// "<file>: stage "<name>": <field>: <problem>". Zero values take the defaults
// documented on Settings.
package stage

import (
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strings"
)

// Defaults applied to fields left out of a stage.
const (
	DefaultMemoryMB         = 128
	DefaultTimeoutSeconds   = 30
	DefaultArchitecture     = "arm64"
	DefaultLogRetentionDays = 30
	// DefaultKeepVersions is how many published versions a stage keeps
	// for rollback.
	DefaultKeepVersions = 10
	// MaxKeepVersions bounds num_retained_versions.
	MaxKeepVersions = 100
	// DefaultModuleLinkTemplate is where the Threat Response / XDR module
	// creation form lives for a region, as the JWT generator printed it.
	// {region} is us, eu or apjc; {module_type_id} is the module type id.
	DefaultModuleLinkTemplate = "https://securex.{region}.security.cisco.com/settings/modules/available/{module_type_id}/new"
)

// SecretKeyEnv is the environment variable holding the relay's JWT secret. It
// is never kept in the settings file: `relayctl jwt STAGE --set-secret`
// writes it to the function directly.
const SecretKeyEnv = "SECRET_KEY"

// Settings is one stage, with defaults applied.
type Settings struct {
	// Stage is the stage's name, the key of its object in the file.
	Stage string `json:"-"`
	// Profile is the AWS CLI profile (~/.aws/config, ~/.aws/credentials).
	// Empty means the SDK's default credential chain.
	Profile string `json:"profile_name"`
	// Region is the AWS region, e.g. us-east-1. Required.
	Region string `json:"aws_region"`
	// Project names the function as <project>-<stage> unless Function is set.
	Project string `json:"project_name"`
	// Function is the Lambda function's name. Default <project>-<stage>.
	Function string `json:"function_name"`
	// RoleName or RoleARN names an existing execution role; at most one may
	// be set. With neither, deploy needs --create-role, which creates
	// <function>-role. With RoleName and --create-role, that name is used.
	RoleName string `json:"role_name"`
	RoleARN  string `json:"role_arn"`
	// MemoryMB is the function's memory in MB (128–10240). Default 128.
	MemoryMB int32 `json:"memory_size"`
	// TimeoutSeconds is the function's timeout (1–900). Default 30.
	TimeoutSeconds int32 `json:"timeout_seconds"`
	// Architecture is arm64 (default) or amd64 (x86_64 is accepted too).
	Architecture string `json:"architecture"`
	// LogRetentionDays is the CloudWatch Logs retention of the function's
	// log group, one of the values CloudWatch accepts. Default 30.
	LogRetentionDays int32 `json:"log_retention_days"`
	// KeepVersions is how many published versions are kept (Zappa's
	// num_retained_versions): after each release the older ones are
	// deleted, so rollback reaches KeepVersions-1 versions back. 1–100,
	// default 10.
	KeepVersions int `json:"num_retained_versions"`
	// Environment holds the function's extra environment variables
	// (LOG_LEVEL, CTR_ENTITIES_LIMIT, SIGNALS_API_URL, ...). SECRET_KEY is
	// refused here.
	Environment Variables `json:"aws_environment_variables"`
	// ModuleLinkTemplate overrides DefaultModuleLinkTemplate.
	ModuleLinkTemplate string `json:"module_link_template"`
}

// FunctionName is the Lambda function's name.
func (s Settings) FunctionName() string {
	if s.Function != "" {
		return s.Function
	}
	return s.Project + "-" + s.Stage
}

// DefaultRoleName is the role --create-role makes when the stage names none.
func (s Settings) DefaultRoleName() string {
	if s.RoleName != "" {
		return s.RoleName
	}
	return s.FunctionName() + "-role"
}

// LogGroup is the CloudWatch Logs group Lambda writes the function's logs to.
func (s Settings) LogGroup() string { return "/aws/lambda/" + s.FunctionName() }

// GOARCH is the Go architecture to build the bootstrap for.
func (s Settings) GOARCH() string { return s.Architecture }

// LambdaArchitecture is the architecture's name in the Lambda API.
func (s Settings) LambdaArchitecture() string {
	if s.Architecture == "amd64" {
		return "x86_64"
	}
	return "arm64"
}

// ConsoleEnvironmentURL is the AWS console page where the function's
// environment variables are edited, as the JWT generator linked it.
func (s Settings) ConsoleEnvironmentURL() string {
	return "https://console.aws.amazon.com/lambda/home?region=" + url.QueryEscape(s.Region) +
		"#/functions/" + url.PathEscape(s.FunctionName()) + "/edit/environment-variables?tab=configuration"
}

// File is a parsed settings file.
type File struct {
	// Path is where the file was read from, for messages.
	Path   string
	stages map[string]Settings
}

// Stages lists the stage names in order.
func (f File) Stages() []string { return slices.Sorted(maps.Keys(f.stages)) }

// Stage returns the named stage.
func (f File) Stage(name string) (Settings, error) {
	s, ok := f.stages[name]
	if !ok {
		return Settings{}, fmt.Errorf("%s: no stage %q (stages: %s)", f.Path, name, strings.Join(f.Stages(), ", "))
	}
	return s, nil
}

// Load reads and validates the settings file at path.
func Load(path string) (File, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return File{}, fmt.Errorf("settings file %s not found: copy deploy/relay_settings.json and edit it, or pass --settings", path)
		}
		return File{}, fmt.Errorf("read settings: %w", err)
	}
	return Parse(path, b)
}

// Parse validates settings read from path.
func Parse(path string, data []byte) (File, error) {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(data, &raw); err != nil {
		return File{}, fmt.Errorf("%s: not a JSON object of stages: %w", path, err)
	}
	if len(raw) == 0 {
		return File{}, fmt.Errorf("%s: no stages defined", path)
	}
	f := File{Path: path, stages: make(map[string]Settings, len(raw))}
	for _, name := range slices.Sorted(maps.Keys(raw)) {
		s, err := parseStage(name, raw[name])
		if err != nil {
			return File{}, fmt.Errorf("%s: stage %q: %w", path, name, err)
		}
		f.stages[name] = s
	}
	return f, nil
}

func parseStage(name string, data json.RawMessage) (Settings, error) {
	var s Settings
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&s); err != nil {
		return Settings{}, describeDecodeError(err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return Settings{}, errors.New("trailing data after the stage object")
	}
	s.Stage = name
	if err := s.normalise(); err != nil {
		return Settings{}, err
	}
	return s, nil
}

// Variables are environment variables: names and string values.
type Variables map[string]string

// UnmarshalJSON takes an object of strings and names a value of another
// type by its key itself: encoding/json's error names the map alone in
// some Go releases and the map and key in others.
func (v *Variables) UnmarshalJSON(b []byte) error {
	var raw map[string]any
	if err := json.Unmarshal(b, &raw); err != nil {
		return fmt.Errorf("aws_environment_variables: must be an object of strings, not %s", jsonValueKind(b))
	}
	out := make(Variables, len(raw))
	for _, k := range slices.Sorted(maps.Keys(raw)) {
		s, ok := raw[k].(string)
		if !ok {
			return fmt.Errorf("aws_environment_variables.%s: must be a string, not %s", k, jsonValueKind(raw[k]))
		}
		out[k] = s
	}
	*v = out
	return nil
}

// jsonValueKind names the JSON kind of a decoded value (or of raw JSON
// bytes) as encoding/json's errors do.
func jsonValueKind(v any) string {
	if b, ok := v.([]byte); ok {
		if json.Unmarshal(b, &v) != nil {
			return "JSON"
		}
	}
	switch v.(type) {
	case string:
		return "string"
	case float64:
		return "number"
	case bool:
		return "bool"
	case []any:
		return "array"
	case map[string]any:
		return "object"
	}
	return "null"
}

// describeDecodeError names the field a JSON decoding error is about.
func describeDecodeError(err error) error {
	var typeErr *json.UnmarshalTypeError
	if errors.As(err, &typeErr) {
		if typeErr.Field == "" {
			return fmt.Errorf("must be a JSON object, not %s", typeErr.Value)
		}
		return fmt.Errorf("%s: must be %s, not %s", typeErr.Field, jsonKind(typeErr.Type.Kind().String()), typeErr.Value)
	}
	if f, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
		return fmt.Errorf("unknown field %s", f)
	}
	return err
}

func jsonKind(goKind string) string {
	switch goKind {
	case "int32", "int", "int64":
		return "a whole number"
	case "string":
		return "a string"
	case "map":
		return "an object of strings"
	}
	return goKind
}

var (
	stageName    = regexp.MustCompile(`^[A-Za-z0-9_-]{1,32}$`)
	regionName   = regexp.MustCompile(`^[a-z]{2}(-gov|-iso[a-z]*)?-[a-z]+-[0-9]$`)
	functionName = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)
	roleName     = regexp.MustCompile(`^[\w+=,.@-]{1,64}$`)
	roleARN      = regexp.MustCompile(`^arn:aws[a-z-]*:iam::[0-9]{12}:role/[\w+=,.@/-]{1,512}$`)
	envName      = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_]*$`)
	// retentionDays are the values CloudWatch Logs accepts.
	retentionDays = []int32{1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653}
)

// reservedEnv are variables Lambda sets itself and refuses in a function's
// configuration.
var reservedEnv = []string{"_HANDLER", "_X_AMZN_TRACE_ID", "AWS_DEFAULT_REGION", "AWS_REGION",
	"AWS_EXECUTION_ENV", "AWS_LAMBDA_FUNCTION_NAME", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
	"AWS_LAMBDA_FUNCTION_VERSION", "AWS_LAMBDA_INITIALIZATION_TYPE", "AWS_LAMBDA_LOG_GROUP_NAME",
	"AWS_LAMBDA_LOG_STREAM_NAME", "AWS_ACCESS_KEY", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY",
	"AWS_SESSION_TOKEN", "AWS_LAMBDA_RUNTIME_API", "LAMBDA_TASK_ROOT", "LAMBDA_RUNTIME_DIR"}

// normalise applies defaults and validates; errors name the field.
func (s *Settings) normalise() error {
	if !stageName.MatchString(s.Stage) {
		return errors.New("stage names use letters, digits, '-' and '_' (at most 32)")
	}
	if s.Region == "" {
		return errors.New("aws_region: required (e.g. us-east-1)")
	}
	if !regionName.MatchString(s.Region) {
		return fmt.Errorf("aws_region: %q is not an AWS region name (e.g. us-east-1, eu-west-1)", s.Region)
	}
	if s.Function == "" && s.Project == "" {
		return errors.New("project_name: required unless function_name is set")
	}
	if !functionName.MatchString(s.FunctionName()) {
		return fmt.Errorf("function_name: %q is not a valid Lambda function name (letters, digits, '-', '_'; at most 64)", s.FunctionName())
	}
	if s.RoleName != "" && s.RoleARN != "" {
		return errors.New("role_name, role_arn: set one or the other, not both")
	}
	if s.RoleName != "" && !roleName.MatchString(s.RoleName) {
		return fmt.Errorf("role_name: %q is not a valid IAM role name", s.RoleName)
	}
	if s.RoleARN != "" && !roleARN.MatchString(s.RoleARN) {
		return fmt.Errorf("role_arn: %q is not an IAM role ARN (arn:aws:iam::<account>:role/<name>)", s.RoleARN)
	}
	if s.RoleName == "" && s.RoleARN == "" && !roleName.MatchString(s.DefaultRoleName()) {
		return fmt.Errorf("role_name: the default %q is too long for IAM; set role_name", s.DefaultRoleName())
	}
	s.MemoryMB = cmp.Or(s.MemoryMB, DefaultMemoryMB)
	if s.MemoryMB < 128 || s.MemoryMB > 10240 {
		return fmt.Errorf("memory_size: %d MB is outside 128–10240", s.MemoryMB)
	}
	s.TimeoutSeconds = cmp.Or(s.TimeoutSeconds, DefaultTimeoutSeconds)
	if s.TimeoutSeconds < 1 || s.TimeoutSeconds > 900 {
		return fmt.Errorf("timeout_seconds: %d is outside 1–900", s.TimeoutSeconds)
	}
	switch s.Architecture {
	case "":
		s.Architecture = DefaultArchitecture
	case "arm64", "amd64":
	case "x86_64":
		s.Architecture = "amd64"
	default:
		return fmt.Errorf("architecture: %q is not arm64 or amd64", s.Architecture)
	}
	s.LogRetentionDays = cmp.Or(s.LogRetentionDays, DefaultLogRetentionDays)
	if !slices.Contains(retentionDays, s.LogRetentionDays) {
		return fmt.Errorf("log_retention_days: %d is not one CloudWatch Logs accepts (%s)", s.LogRetentionDays, joinInts(retentionDays))
	}
	s.KeepVersions = cmp.Or(s.KeepVersions, DefaultKeepVersions)
	if s.KeepVersions < 1 || s.KeepVersions > MaxKeepVersions {
		return fmt.Errorf("num_retained_versions: %d is outside 1–%d", s.KeepVersions, MaxKeepVersions)
	}
	for k := range s.Environment {
		switch {
		case k == SecretKeyEnv:
			return fmt.Errorf("aws_environment_variables.%s: keep the secret out of the settings file; run `relayctl jwt %s --set-secret`", k, s.Stage)
		case !envName.MatchString(k):
			return fmt.Errorf("aws_environment_variables.%s: not a valid variable name", k)
		case slices.Contains(reservedEnv, k):
			return fmt.Errorf("aws_environment_variables.%s: reserved by Lambda", k)
		}
	}
	s.ModuleLinkTemplate = cmp.Or(s.ModuleLinkTemplate, DefaultModuleLinkTemplate)
	if err := CheckModuleLinkTemplate(s.ModuleLinkTemplate); err != nil {
		return fmt.Errorf("module_link_template: %w", err)
	}
	return nil
}

// CheckModuleLinkTemplate reports whether t yields an https URL with the
// module type id in it once {region} and {module_type_id} are filled in.
func CheckModuleLinkTemplate(t string) error {
	if !strings.Contains(t, "{module_type_id}") {
		return fmt.Errorf("%q lacks {module_type_id}", t)
	}
	u, err := url.Parse(strings.NewReplacer("{region}", "us", "{module_type_id}", "00000000-0000-0000-0000-000000000000").Replace(t))
	if err != nil || u.Scheme != "https" || u.Host == "" {
		return fmt.Errorf("%q is not an https URL template", t)
	}
	return nil
}

func joinInts(v []int32) string {
	s := make([]string, len(v))
	for i, n := range v {
		s[i] = fmt.Sprint(n)
	}
	return strings.Join(s, ", ")
}
