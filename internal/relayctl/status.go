package relayctl

import (
	"cmp"
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

// cmdStatus reports the function.
func (a *app) cmdStatus(ctx context.Context, args []string) error {
	fs, c := a.newFlags("status")
	s, cl, err := a.openStage(ctx, fs, c, args)
	if err != nil {
		return err
	}
	return cl.Status(ctx, s, a.stdout)
}

// statusVersions is how many versions status lists.
const statusVersions = 5

// Status reads the function, its alias and versions, the alias's URL and
// the URL's resource policy, and writes them as aligned "field: value"
// lines. It says whether SECRET_KEY is set, never its value, and names the
// other variables only; it warns about what makes calls fail.
func (c *awsClient) Status(ctx context.Context, s stage.Settings, w io.Writer) error {
	name := s.FunctionName()
	out, err := c.Lambda.GetFunction(ctx, &lambda.GetFunctionInput{FunctionName: &name})
	if err != nil {
		return c.notDeployed(err, s)
	}
	alias, err := c.getAlias(ctx, name)
	if err != nil {
		return err
	}
	versions, err := c.versions(ctx, name)
	if err != nil {
		return c.Explain(err)
	}
	var url, authType string
	var forbidden []string
	if alias != nil {
		if url, authType, err = c.functionURL(ctx, name, aws.String(aliasName)); err != nil {
			return err
		}
		if url != "" {
			missing, err := c.missingStatements(ctx, name)
			if err != nil {
				return err
			}
			for _, in := range missing {
				forbidden = append(forbidden, aws.ToString(in.StatementId)+" ("+aws.ToString(in.Action)+")")
			}
		}
	}

	cfg := out.Configuration
	tw := tabwriter.NewWriter(w, 0, 0, 1, ' ', 0)
	line := func(k, v string) { fmt.Fprintf(tw, "%s:\t%s\n", k, v) }
	line("Function", name+" ("+c.Region+", stage "+s.Stage+")")
	state := string(cfg.State)
	if reason := aws.ToString(cfg.StateReason); reason != "" && cfg.State != types.StateActive {
		state += " — " + reason
	}
	line("State", state)
	update := aws.ToString(cfg.LastModified) + " (" + string(cfg.LastUpdateStatus) + ")"
	if cfg.LastUpdateStatus == types.LastUpdateStatusFailed {
		update += " — " + aws.ToString(cfg.LastUpdateStatusReason) + "; the next update or `relayctl jwt " + s.Stage + " --set-secret` replaces it"
	}
	line("Last update", update)
	line("Code", fmt.Sprintf("%d bytes, sha256 %s", cfg.CodeSize, aws.ToString(cfg.CodeSha256)))
	arch := ""
	if len(cfg.Architectures) > 0 {
		arch = string(cfg.Architectures[len(cfg.Architectures)-1])
	}
	line("Runtime", fmt.Sprintf("%s, handler %s, %s", cfg.Runtime, aws.ToString(cfg.Handler), arch))
	line("Memory, timeout", fmt.Sprintf("%d MB, %d s", aws.ToInt32(cfg.MemorySize), aws.ToInt32(cfg.Timeout)))
	line("Role", aws.ToString(cfg.Role))
	serving, env := "", cfg.Environment
	if alias == nil {
		line("Serving", "none — `relayctl update "+s.Stage+"` publishes a version and creates alias "+aliasName)
	} else {
		serving = aws.ToString(alias.FunctionVersion)
		line("Serving", "version "+serving+" (alias "+aliasName+")")
	}
	if r := rolledBack(aws.ToString(cfg.CodeSha256), serving, versions); r != nil {
		line("Note", r.String()+"; `relayctl update "+s.Stage+"` rolls forward, and `relayctl jwt "+s.Stage+
			" --set-secret` puts version "+r.Serving+"'s code back on $LATEST first")
	}
	for i, v := range slices.Backward(versions) {
		if aws.ToString(v.Version) == serving {
			env = v.Environment
		}
		if i < len(versions)-statusVersions {
			continue
		}
		k := ""
		if i == len(versions)-1 {
			k = "Versions:"
		}
		desc := aws.ToString(v.LastModified) + ", sha256 " + aws.ToString(v.CodeSha256)
		if aws.ToString(v.Description) != "" {
			desc += ", " + aws.ToString(v.Description)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\n", k, aws.ToString(v.Version), desc)
	}
	if n := len(versions) - statusVersions; n == 1 {
		fmt.Fprintln(tw, "\t1 older version not listed")
	} else if n > 1 {
		fmt.Fprintf(tw, "\t%d older versions not listed\n", n)
	}
	if url == "" {
		line("URL", "none — `relayctl update "+s.Stage+"` creates it")
	} else {
		line("URL", url+" (auth "+authType+")")
	}
	if len(forbidden) > 0 {
		line("WARNING", "the URL answers 403 Forbidden: its resource policy lacks "+strings.Join(forbidden, " and ")+
			"; `relayctl update "+s.Stage+"` adds what is missing")
	}
	var names []string
	secretSet := false
	if env != nil {
		for k, v := range env.Variables {
			names = append(names, k)
			secretSet = secretSet || (k == stage.SecretKeyEnv && v != "")
		}
	}
	if secretSet {
		line(stage.SecretKeyEnv, "set")
	} else {
		line(stage.SecretKeyEnv, "NOT SET — every call fails with \"<SECRET_KEY> is missing\"; run `relayctl jwt "+s.Stage+" --set-secret`")
	}
	slices.Sort(names)
	line("Environment", cmp.Or(strings.Join(names, ", "), "none"))
	return tw.Flush()
}
