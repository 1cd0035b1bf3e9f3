package relayctl

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/signals-relay/signals-relay/internal/stage"
)

// cmdDeploy creates the function and its URL, or finishes a deploy that
// stopped half-way.
func (a *app) cmdDeploy(ctx context.Context, args []string) error {
	fs, c := a.newFlags("deploy", "STAGE [--create-role] [--zip FILE]")
	var bf buildFlags
	bf.register(fs)
	createRole := fs.Bool("create-role", false, "create a least-privilege execution role (it may only write the function's logs), bounded by "+BoundaryPolicyName)
	zipPath := fs.String("zip", "", "deploy this `package` (from relayctl package) instead of building one")
	name, s, cl, err := a.openStage(ctx, fs, c, args)
	if err != nil {
		return err
	}
	zipFile, err := a.artifact(ctx, s, *zipPath, bf)
	if err != nil {
		return err
	}
	res, err := cl.Deploy(ctx, s, zipFile, DeployOptions{CreateRole: *createRole})
	switch {
	case err != nil && res.Created:
		return fmt.Errorf("%w (function %s exists but is not finished: run `relayctl deploy %s` again to finish it)", err, s.FunctionName(), name)
	case err != nil && res.RoleCreated:
		return fmt.Errorf("%w (role %s was created: running the command again uses it, `relayctl undeploy %s` removes it)", err, res.RoleARN, name)
	case err != nil:
		return err
	}
	a.printResult("Deployed", s, res)
	fmt.Fprintf(a.stdout, "\nNext: `relayctl jwt %s --set-secret` makes SECRET_KEY and the JWT; then create the Threat Response module with this URL and the JWT.\n", name)
	return nil
}

// cmdUpdate uploads new code, applies the stage's configuration and
// repairs what the deployment lacks.
func (a *app) cmdUpdate(ctx context.Context, args []string) error {
	fs, c := a.newFlags("update", "STAGE [--zip FILE]")
	var bf buildFlags
	bf.register(fs)
	zipPath := fs.String("zip", "", "upload this `package` (from relayctl package) instead of building one")
	_, s, cl, err := a.openStage(ctx, fs, c, args)
	if err != nil {
		return err
	}
	zipFile, err := a.artifact(ctx, s, *zipPath, bf)
	if err != nil {
		return err
	}
	res, err := cl.Update(ctx, s, zipFile)
	if err != nil {
		return err
	}
	a.printResult("Updated", s, res)
	return nil
}

// printResult prints what a deploy, update or SECRET_KEY change left
// behind.
func (a *app) printResult(verb string, s stage.Settings, res Result) {
	fmt.Fprintf(a.stdout, "%s %s in %s: version %s (alias %s), code %d bytes, CodeSha256 %s.\n",
		verb, s.FunctionName(), s.Region, res.Version, Alias, res.CodeSize, res.CodeSHA256)
	for _, r := range res.Repaired {
		fmt.Fprintf(a.stdout, "Repaired: %s.\n", r)
	}
	fmt.Fprintf(a.stdout, "URL: %s\n", res.URL)
}

// cmdRollback moves the alias back to an earlier version.
func (a *app) cmdRollback(ctx context.Context, args []string) error {
	fs, c := a.newFlags("rollback", "STAGE [-n N]")
	n := fs.Int("n", 1, "go back this many versions")
	_, s, cl, err := a.openStage(ctx, fs, c, args)
	if err != nil {
		return err
	}
	if *n < 1 {
		return fmt.Errorf("rollback: -n %d: want 1 or more", *n)
	}
	res, err := cl.Rollback(ctx, s, *n)
	if err != nil {
		return err
	}
	fmt.Fprintf(a.stdout, "%s now serves version %s (was %s).\n", s.FunctionName(), res.To, res.From)
	return nil
}

// cmdStatus reports the function.
func (a *app) cmdStatus(ctx context.Context, args []string) error {
	fs, c := a.newFlags("status", "STAGE")
	_, s, cl, err := a.openStage(ctx, fs, c, args)
	if err != nil {
		return err
	}
	st, err := cl.Status(ctx, s)
	if err != nil {
		return err
	}
	return st.Write(a.stdout)
}

// cmdTail prints the function's logs.
func (a *app) cmdTail(ctx context.Context, args []string) error {
	fs, c := a.newFlags("tail", "STAGE [--since 10m] [--http | --non-http] [--filter PATTERN] [--follow]")
	var o TailOptions
	fs.DurationVar(&o.Since, "since", 10*time.Minute, "show logs from this long ago (e.g. 30s, 10m, 4h)")
	fs.BoolVar(&o.HTTP, "http", false, "show one line per relay request only")
	fs.BoolVar(&o.NonHTTP, "non-http", false, "show everything but the relay's request lines")
	fs.StringVar(&o.Filter, "filter", "", "CloudWatch Logs filter `pattern`, e.g. ERROR or '\"status\":500'")
	fs.BoolVar(&o.Follow, "follow", false, "keep printing new log events until interrupted")
	_, s, cl, err := a.openStage(ctx, fs, c, args)
	if err != nil {
		return err
	}
	cl.Progress = nil
	return cl.Tail(ctx, s, o, a.stdout)
}

// cmdUndeploy removes the function, its URL and the role relayctl made.
func (a *app) cmdUndeploy(ctx context.Context, args []string) error {
	fs, c := a.newFlags("undeploy", "STAGE [--yes] [--remove-logs]")
	yes := fs.Bool("yes", false, "do not ask for confirmation")
	removeLogs := fs.Bool("remove-logs", false, "delete the function's log group too")
	name, err := parse(fs, args)
	if err != nil {
		return err
	}
	s, err := c.stage(name)
	if err != nil {
		return err
	}
	if !*yes {
		fmt.Fprintf(a.stderr, "This removes function %s in %s, its URL (for good: a new deploy gets a new one) and the execution role if relayctl created it.\nAre you sure? [y/N] ", s.FunctionName(), s.Region)
		line, err := bufio.NewReader(a.stdin).ReadString('\n')
		answer := strings.ToLower(strings.TrimSpace(line))
		if answer != "y" && answer != "yes" {
			if err != nil && answer == "" {
				return errors.New("not confirmed (no answer on standard input): pass --yes to undeploy without asking")
			}
			return errors.New("not confirmed; nothing was removed")
		}
	}
	cl, err := a.client(ctx, s, c)
	if err != nil {
		return err
	}
	res, err := cl.Undeploy(ctx, s, UndeployOptions{RemoveLogs: *removeLogs})
	if err != nil {
		return err
	}
	if !res.FunctionRemoved && res.RoleRemoved == "" && !res.LogsRemoved {
		fmt.Fprintf(a.stdout, "Nothing to remove for stage %s in %s.\n", name, s.Region)
		return nil
	}
	fmt.Fprintf(a.stdout, "Undeployed %s from %s.\n", s.FunctionName(), s.Region)
	return nil
}
