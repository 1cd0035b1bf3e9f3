package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/signals-relay/signals-relay/internal/awsops"
)

// cmdDeploy creates the function and its URL.
func (a *app) cmdDeploy(ctx context.Context, args []string) error {
	fs, c := a.newFlags("deploy", "STAGE [--create-role] [--zip FILE]")
	var bf buildFlags
	bf.register(fs)
	createRole := fs.Bool("create-role", false, "create a least-privilege execution role (it may only write the function's logs)")
	zipPath := fs.String("zip", "", "deploy this `package` (from relayctl package) instead of building one")
	name, s, cl, err := a.openStage(ctx, fs, c, args)
	if err != nil {
		return err
	}
	zipFile, err := a.artifact(ctx, s, *zipPath, bf)
	if err != nil {
		return err
	}
	res, err := cl.Deploy(ctx, s, zipFile, awsops.DeployOptions{CreateRole: *createRole})
	if err != nil {
		if res.RoleCreated {
			return fmt.Errorf("%w (role %s was created; `relayctl undeploy %s` removes it)", err, res.RoleARN, name)
		}
		return err
	}
	fmt.Fprintf(a.stdout, "Deployed %s to %s.\nURL: %s\n\n", s.FunctionName(), s.Region, res.URL)
	fmt.Fprintf(a.stdout, "Next: `relayctl jwt %s --set-secret` makes SECRET_KEY and the JWT; then create the Threat Response module with this URL and the JWT.\n", name)
	return nil
}

// cmdUpdate uploads new code and applies the stage's configuration.
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
	fmt.Fprintf(a.stdout, "Updated %s in %s: code %d bytes, CodeSha256 %s.\n", s.FunctionName(), s.Region, res.CodeSize, res.CodeSHA256)
	if res.URL != "" {
		fmt.Fprintf(a.stdout, "URL (unchanged): %s\n", res.URL)
	}
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
	fs, c := a.newFlags("tail", "STAGE [--since 10m] [--http] [--follow]")
	since := fs.Duration("since", 10*time.Minute, "show logs from this long ago (e.g. 30s, 10m, 4h)")
	httpOnly := fs.Bool("http", false, "show one line per relay request only")
	follow := fs.Bool("follow", false, "keep printing new log events until interrupted")
	_, s, cl, err := a.openStage(ctx, fs, c, args)
	if err != nil {
		return err
	}
	cl.Progress = nil
	return cl.Tail(ctx, s, awsops.TailOptions{Since: *since, HTTP: *httpOnly, Follow: *follow}, a.stdout)
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
	res, err := cl.Undeploy(ctx, s, awsops.UndeployOptions{RemoveLogs: *removeLogs})
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
