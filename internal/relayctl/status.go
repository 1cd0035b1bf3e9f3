package relayctl

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/signals-relay/signals-relay/internal/stage"
)

// Status is what `relayctl status` reports. It holds whether SECRET_KEY is
// set, never its value, and only the names of the other variables.
type Status struct {
	Stage            string
	Function         string
	Region           string
	State            string
	StateReason      string
	LastUpdateStatus string
	// UpdateReason is why the last update failed.
	UpdateReason   string
	LastModified   string
	CodeSize       int64
	CodeSHA256     string
	Runtime        string
	Handler        string
	Architecture   string
	MemoryMB       int32
	TimeoutSeconds int32
	Role           string
	URL            string
	URLAuthType    string
	// URLForbidden lists the permission statements the alias's resource
	// policy lacks: with any missing, the URL answers 403 Forbidden.
	URLForbidden []string
	// Serving is the version the alias serves; "" without the alias.
	Serving string
	// RolledBack is set when $LATEST holds other code than the version
	// the alias serves.
	RolledBack *RolledBack
	// Versions are the newest published versions, newest first.
	Versions []VersionInfo
	// SecretKeySet says whether the served version (or, without the
	// alias, $LATEST) has SECRET_KEY.
	SecretKeySet bool
	EnvNames     []string
}

// VersionInfo is one published version.
type VersionInfo struct {
	Version      string
	LastModified string
	Description  string
	CodeSHA256   string
}

// statusVersions is how many versions status lists.
const statusVersions = 5

// Status reads the function, its alias and versions, the alias's URL and
// the URL's resource policy.
func (c *Client) Status(ctx context.Context, s stage.Settings) (Status, error) {
	name := s.FunctionName()
	out, err := c.Lambda.GetFunction(ctx, &lambda.GetFunctionInput{FunctionName: &name})
	if err != nil {
		return Status{}, c.notDeployed(err, s)
	}
	cfg := out.Configuration
	st := Status{
		Stage:            s.Stage,
		Function:         name,
		Region:           c.Region,
		State:            string(cfg.State),
		StateReason:      aws.ToString(cfg.StateReason),
		LastUpdateStatus: string(cfg.LastUpdateStatus),
		UpdateReason:     aws.ToString(cfg.LastUpdateStatusReason),
		LastModified:     aws.ToString(cfg.LastModified),
		CodeSize:         cfg.CodeSize,
		CodeSHA256:       aws.ToString(cfg.CodeSha256),
		Runtime:          string(cfg.Runtime),
		Handler:          aws.ToString(cfg.Handler),
		MemoryMB:         aws.ToInt32(cfg.MemorySize),
		TimeoutSeconds:   aws.ToInt32(cfg.Timeout),
		Role:             aws.ToString(cfg.Role),
	}
	for _, a := range cfg.Architectures {
		st.Architecture = string(a)
	}
	served := cfg.Environment
	alias, err := c.getAlias(ctx, name)
	if err != nil {
		return st, err
	}
	versions, err := c.versions(ctx, name)
	if err != nil {
		return st, c.Explain(err)
	}
	if alias != nil {
		st.Serving = aws.ToString(alias.FunctionVersion)
		st.RolledBack = rolledBack(st.CodeSHA256, st.Serving, versions)
	}
	for _, v := range slices.Backward(versions) {
		if aws.ToString(v.Version) == st.Serving {
			served = v.Environment
		}
		if len(st.Versions) < statusVersions {
			st.Versions = append(st.Versions, VersionInfo{Version: aws.ToString(v.Version), LastModified: aws.ToString(v.LastModified),
				Description: aws.ToString(v.Description), CodeSHA256: aws.ToString(v.CodeSha256)})
		}
	}
	if served != nil {
		for k, v := range served.Variables {
			st.EnvNames = append(st.EnvNames, k)
			if k == stage.SecretKeyEnv && v != "" {
				st.SecretKeySet = true
			}
		}
	}
	slices.Sort(st.EnvNames)
	if alias == nil {
		return st, nil
	}
	u, err := c.Lambda.GetFunctionUrlConfig(ctx, &lambda.GetFunctionUrlConfigInput{FunctionName: &name, Qualifier: aws.String(Alias)})
	switch {
	case isNotFound(err):
		return st, nil
	case err != nil:
		return st, c.Explain(err)
	}
	st.URL, st.URLAuthType = aws.ToString(u.FunctionUrl), string(u.AuthType)
	missing, err := c.missingStatements(ctx, name)
	for _, in := range missing {
		st.URLForbidden = append(st.URLForbidden, aws.ToString(in.StatementId)+" ("+aws.ToString(in.Action)+")")
	}
	return st, err
}

// Write prints the status as aligned "field: value" lines, with a warning
// when SECRET_KEY is missing.
func (st Status) Write(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 1, ' ', 0)
	line := func(k, v string) { fmt.Fprintf(tw, "%s:\t%s\n", k, v) }
	line("Function", st.Function+" ("+st.Region+", stage "+st.Stage+")")
	state := st.State
	if st.StateReason != "" && st.State != "Active" {
		state += " — " + st.StateReason
	}
	line("State", state)
	update := st.LastModified + " (" + st.LastUpdateStatus + ")"
	if st.LastUpdateStatus == string(types.LastUpdateStatusFailed) {
		update += " — " + st.UpdateReason + "; the next update or `relayctl jwt " + st.Stage + " --set-secret` replaces it"
	}
	line("Last update", update)
	line("Code", fmt.Sprintf("%d bytes, sha256 %s", st.CodeSize, st.CodeSHA256))
	line("Runtime", fmt.Sprintf("%s, handler %s, %s", st.Runtime, st.Handler, st.Architecture))
	line("Memory, timeout", fmt.Sprintf("%d MB, %d s", st.MemoryMB, st.TimeoutSeconds))
	line("Role", st.Role)
	serving := "none — `relayctl update " + st.Stage + "` publishes a version and creates alias " + Alias
	if st.Serving != "" {
		serving = "version " + st.Serving + " (alias " + Alias + ")"
	}
	line("Serving", serving)
	if st.RolledBack != nil {
		line("Note", st.RolledBack.String()+"; `relayctl update "+st.Stage+"` rolls forward, and `relayctl jwt "+st.Stage+
			" --set-secret` puts version "+st.RolledBack.Serving+"'s code back on $LATEST first")
	}
	for i, v := range st.Versions {
		k := ""
		if i == 0 {
			k = "Versions"
		}
		desc := v.LastModified + ", sha256 " + v.CodeSHA256
		if v.Description != "" {
			desc += ", " + v.Description
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\n", k+colon(k), v.Version, desc)
	}
	if st.URL == "" {
		line("URL", "none — `relayctl update "+st.Stage+"` creates it")
	} else {
		line("URL", st.URL+" (auth "+st.URLAuthType+")")
	}
	if len(st.URLForbidden) > 0 {
		line("WARNING", "the URL answers 403 Forbidden: its resource policy lacks "+strings.Join(st.URLForbidden, " and ")+
			"; `relayctl update "+st.Stage+"` adds what is missing")
	}
	if st.SecretKeySet {
		line(stage.SecretKeyEnv, "set")
	} else {
		line(stage.SecretKeyEnv, "NOT SET — every call fails with \"<SECRET_KEY> is missing\"; run `relayctl jwt "+st.Stage+" --set-secret`")
	}
	env := "none"
	if len(st.EnvNames) > 0 {
		env = strings.Join(st.EnvNames, ", ")
	}
	line("Environment", env)
	return tw.Flush()
}

func colon(k string) string {
	if k == "" {
		return ""
	}
	return ":"
}
