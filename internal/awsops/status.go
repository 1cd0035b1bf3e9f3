package awsops

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"

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
	LastModified     string
	CodeSize         int64
	CodeSHA256       string
	Runtime          string
	Handler          string
	Architecture     string
	MemoryMB         int32
	TimeoutSeconds   int32
	Role             string
	URL              string
	URLAuthType      string
	SecretKeySet     bool
	EnvNames         []string
}

// Status reads the function and its URL.
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
	if cfg.Environment != nil {
		for k, v := range cfg.Environment.Variables {
			st.EnvNames = append(st.EnvNames, k)
			if k == stage.SecretKeyEnv && v != "" {
				st.SecretKeySet = true
			}
		}
	}
	slices.Sort(st.EnvNames)
	u, err := c.Lambda.GetFunctionUrlConfig(ctx, &lambda.GetFunctionUrlConfigInput{FunctionName: &name})
	switch {
	case err == nil:
		st.URL, st.URLAuthType = aws.ToString(u.FunctionUrl), string(u.AuthType)
	case !isNotFound(err):
		return st, c.Explain(err)
	}
	return st, nil
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
	line("Last update", st.LastModified+" ("+st.LastUpdateStatus+")")
	line("Code", fmt.Sprintf("%d bytes, sha256 %s", st.CodeSize, st.CodeSHA256))
	line("Runtime", fmt.Sprintf("%s, handler %s, %s", st.Runtime, st.Handler, st.Architecture))
	line("Memory, timeout", fmt.Sprintf("%d MB, %d s", st.MemoryMB, st.TimeoutSeconds))
	line("Role", st.Role)
	if st.URL != "" {
		line("URL", st.URL+" (auth "+st.URLAuthType+")")
	} else {
		line("URL", "none — deploy creates it")
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
