package relayctl

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/signals-relay/signals-relay/internal/stage"
)

// result is what Deploy, Update and SetSecret left behind.
type result struct {
	FunctionARN, URL     string
	Version              string // the version the alias serves now
	CodeSHA256           string
	CodeSize             int64
	RoleARN              string
	RoleCreated, Created bool // Deploy created the execution role, the function
	// Repaired lists what an existing function lacked and now has: the
	// alias, the Function URL, permission statements.
	Repaired []string
	Pruned   []string // the old versions deleted
	// SecretSet says whether the version released has a SECRET_KEY.
	SecretSet bool
}

// release publishes $LATEST as a version, points the alias at it (alias
// is the alias as the caller read it, nil when the function has none;
// moving it is guarded by the revision read), makes sure the alias has a
// Function URL anyone may call (both permission statements), and deletes
// the versions beyond the stage's count. On a function it did not just
// create, it records in res what it had to add.
func (c *awsClient) release(ctx context.Context, s stage.Settings, cfg *lambda.GetFunctionConfigurationOutput, alias *lambda.GetAliasOutput, why string, res *result) error {
	name := s.FunctionName()
	res.FunctionARN = aws.ToString(cfg.FunctionArn)
	res.CodeSHA256, res.CodeSize = aws.ToString(cfg.CodeSha256), cfg.CodeSize
	res.SecretSet = cfg.Environment != nil && cfg.Environment.Variables[stage.SecretKeyEnv] != ""
	repaired := func(what string) {
		if !res.Created {
			res.Repaired = append(res.Repaired, what)
			c.progressf("Repaired: %s.", what)
		}
	}
	v, err := c.Lambda.PublishVersion(ctx, &lambda.PublishVersionInput{
		FunctionName: &name,
		RevisionId:   cfg.RevisionId,
		Description:  aws.String(why),
	})
	if err != nil {
		return c.explainRevision(err, s)
	}
	res.Version = aws.ToString(v.Version)

	if alias == nil {
		if err := c.whenIdle(ctx, s, func() error {
			_, err := c.Lambda.CreateAlias(ctx, &lambda.CreateAliasInput{FunctionName: &name, Name: aws.String(aliasName), FunctionVersion: &res.Version})
			return err
		}); err != nil {
			return c.explainRevision(err, s)
		}
		repaired("created alias " + aliasName)
	} else if err := c.moveAlias(ctx, s, alias, res.Version); err != nil {
		return err
	}
	c.progressf("Alias %s serves version %s.", aliasName, res.Version)

	if res.URL, _, err = c.functionURL(ctx, name, aws.String(aliasName)); err != nil {
		return err
	}
	if res.URL == "" {
		c.progressf("Creating the Function URL of alias %s (auth NONE; the relay verifies the JWT)…", aliasName)
		var u *lambda.CreateFunctionUrlConfigOutput
		err := c.whenIdle(ctx, s, func() (err error) {
			u, err = c.Lambda.CreateFunctionUrlConfig(ctx, &lambda.CreateFunctionUrlConfigInput{
				FunctionName: &name,
				Qualifier:    aws.String(aliasName),
				AuthType:     types.FunctionUrlAuthTypeNone,
				InvokeMode:   types.InvokeModeBuffered,
			})
			return err
		})
		if err != nil {
			return c.explainRevision(err, s)
		}
		res.URL = aws.ToString(u.FunctionUrl)
		repaired("created the Function URL " + res.URL)
		if !res.Created {
			if err := c.noteUnqualifiedURL(ctx, name); err != nil {
				return err
			}
		}
	}

	missing, err := c.missingStatements(ctx, name)
	if err != nil {
		return err
	}
	for _, in := range missing {
		if err := c.whenIdle(ctx, s, func() error { _, err := c.Lambda.AddPermission(ctx, in); return err }); err != nil {
			return c.explainStatement(err, s, in)
		}
		repaired("added permission statement " + aws.ToString(in.StatementId))
	}
	res.Pruned = c.prune(ctx, s, name, s.KeepVersions)
	return nil
}

// getAlias returns the alias, or nil when the function has none.
func (c *awsClient) getAlias(ctx context.Context, name string) (*lambda.GetAliasOutput, error) {
	a, err := c.Lambda.GetAlias(ctx, &lambda.GetAliasInput{FunctionName: &name, Name: aws.String(aliasName)})
	if isNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, c.Explain(err)
	}
	return a, nil
}

// moveAlias points the alias at version, guarded by the revision read.
func (c *awsClient) moveAlias(ctx context.Context, s stage.Settings, a *lambda.GetAliasOutput, version string) error {
	if aws.ToString(a.FunctionVersion) == version {
		return nil
	}
	err := c.whenIdle(ctx, s, func() error {
		_, err := c.Lambda.UpdateAlias(ctx, &lambda.UpdateAliasInput{
			FunctionName:    aws.String(s.FunctionName()),
			Name:            aws.String(aliasName),
			FunctionVersion: &version,
			RevisionId:      a.RevisionId,
		})
		return err
	})
	if err != nil {
		return c.explainRevision(err, s)
	}
	return nil
}

// noteUnqualifiedURL tells about a Function URL of the unqualified
// function, which relayctl made before it served an alias.
func (c *awsClient) noteUnqualifiedURL(ctx context.Context, name string) error {
	old, _, err := c.functionURL(ctx, name, nil)
	if old != "" {
		c.progressf("Note: %s also has the URL %s, made by an earlier relayctl: it serves $LATEST, not alias %s, and rollback does not move it. "+
			"Give XDR the new URL, then remove the old one with `aws lambda delete-function-url-config --function-name %s`.", name, old, aliasName, name)
	}
	return err
}

// functionURL returns the Function URL of the function (qualifier nil)
// or of an alias and its auth type, or "" when it has none.
func (c *awsClient) functionURL(ctx context.Context, name string, qualifier *string) (url, authType string, err error) {
	out, err := c.Lambda.GetFunctionUrlConfig(ctx, &lambda.GetFunctionUrlConfigInput{FunctionName: &name, Qualifier: qualifier})
	if isNotFound(err) {
		return "", "", nil
	}
	if err != nil {
		return "", "", c.Explain(err)
	}
	return aws.ToString(out.FunctionUrl), string(out.AuthType), nil
}

// publicStatements are the two resource-policy statements a Function URL
// with auth type NONE needs since October 2025: InvokeFunctionUrl for the
// URL, and InvokeFunction restricted to calls that come through the URL.
func publicStatements(name string) []*lambda.AddPermissionInput {
	return []*lambda.AddPermissionInput{{
		FunctionName:        &name,
		Qualifier:           aws.String(aliasName),
		StatementId:         aws.String(statementInvokeURL),
		Action:              aws.String("lambda:InvokeFunctionUrl"),
		Principal:           aws.String("*"),
		FunctionUrlAuthType: types.FunctionUrlAuthTypeNone,
	}, {
		FunctionName:          &name,
		Qualifier:             aws.String(aliasName),
		StatementId:           aws.String(statementInvokeFunction),
		Action:                aws.String("lambda:InvokeFunction"),
		Principal:             aws.String("*"),
		InvokedViaFunctionUrl: aws.Bool(true),
	}}
}

// policyStatement is one statement of a resource policy as GetPolicy
// returns it.
type policyStatement struct {
	Sid       string
	Effect    string
	Principal any
	Action    any
	Condition map[string]map[string]any
}

// grants reports whether st gives anyone what in asks for.
func (st policyStatement) grants(in *lambda.AddPermissionInput) bool {
	if st.Effect != "Allow" || !isAnyone(st.Principal) || !hasString(st.Action, aws.ToString(in.Action)) {
		return false
	}
	if in.FunctionUrlAuthType != "" {
		return fmt.Sprint(st.Condition["StringEquals"]["lambda:FunctionUrlAuthType"]) == string(in.FunctionUrlAuthType)
	}
	return fmt.Sprint(st.Condition["Bool"]["lambda:InvokedViaFunctionUrl"]) == "true"
}

func isAnyone(p any) bool {
	if m, ok := p.(map[string]any); ok {
		p = m["AWS"]
	}
	return hasString(p, "*")
}

// hasString reports whether v, a JSON string or list of strings, holds s.
func hasString(v any, s string) bool {
	switch x := v.(type) {
	case string:
		return x == s
	case []any:
		return slices.Contains(x, any(s))
	}
	return false
}

// missingStatements reads the alias's resource policy and returns the
// public statements it lacks.
func (c *awsClient) missingStatements(ctx context.Context, name string) ([]*lambda.AddPermissionInput, error) {
	var policy struct{ Statement []policyStatement }
	out, err := c.Lambda.GetPolicy(ctx, &lambda.GetPolicyInput{FunctionName: &name, Qualifier: aws.String(aliasName)})
	switch {
	case err == nil:
		if err := json.Unmarshal([]byte(aws.ToString(out.Policy)), &policy); err != nil {
			return nil, &opError{Op: "lambda:GetPolicy", Msg: "the resource policy is not JSON: " + err.Error()}
		}
	case !isNotFound(err): // no policy at all: every statement is missing
		return nil, c.Explain(err)
	}
	var missing []*lambda.AddPermissionInput
	for _, in := range publicStatements(name) {
		if !slices.ContainsFunc(policy.Statement, func(st policyStatement) bool { return st.grants(in) }) {
			missing = append(missing, in)
		}
	}
	return missing, nil
}

// explainStatement explains a failed AddPermission; a statement id taken
// by a statement that grants something else needs a person's decision.
func (c *awsClient) explainStatement(err error, s stage.Settings, in *lambda.AddPermissionInput) error {
	if !isCode(err, "ResourceConflictException") || isUpdateInProgress(err) {
		return c.Explain(err) // whenIdle explained one still in progress
	}
	sid := aws.ToString(in.StatementId)
	return &opError{Op: "lambda:AddPermission", Err: err,
		Msg: "the resource policy of " + s.FunctionName() + ":" + aliasName + " has a statement " + sid + " that does not allow public calls",
		Fix: "remove it (`aws lambda remove-permission --function-name " + s.FunctionName() + " --qualifier " + aliasName +
			" --statement-id " + sid + "`) and run `relayctl update " + s.Stage + "`"}
}

// versions lists the function's published versions, oldest first.
func (c *awsClient) versions(ctx context.Context, name string) ([]types.FunctionConfiguration, error) {
	var out []types.FunctionConfiguration
	p := lambda.NewListVersionsByFunctionPaginator(c.Lambda, &lambda.ListVersionsByFunctionInput{FunctionName: &name})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, err
		}
		for _, v := range page.Versions {
			if _, err := strconv.Atoi(aws.ToString(v.Version)); err == nil {
				out = append(out, v)
			}
		}
	}
	slices.SortFunc(out, func(a, b types.FunctionConfiguration) int { return versionNumber(a) - versionNumber(b) })
	return out, nil
}

func versionNumber(v types.FunctionConfiguration) int {
	n, _ := strconv.Atoi(aws.ToString(v.Version))
	return n
}

// prune deletes the versions older than the newest keep. A version an
// alias still serves stays (Lambda refuses to delete it). Failures are
// reported as progress: the release itself has succeeded.
func (c *awsClient) prune(ctx context.Context, s stage.Settings, name string, keep int) []string {
	all, err := c.versions(ctx, name)
	if err != nil {
		c.progressf("Old versions were not deleted: %v", c.Explain(err))
		return nil
	}
	var deleted []string
	for _, v := range all[:max(0, len(all)-keep)] {
		n := aws.ToString(v.Version)
		err := c.whenIdle(ctx, s, func() error {
			_, err := c.Lambda.DeleteFunction(ctx, &lambda.DeleteFunctionInput{FunctionName: &name, Qualifier: &n})
			return err
		})
		switch {
		case isCode(err, "ResourceConflictException") && !isUpdateInProgress(err):
			c.progressf("Keeping version %s: an alias serves it.", n)
		case err != nil:
			c.progressf("Old versions were not deleted: %v", c.Explain(err))
			return deleted
		default:
			deleted = append(deleted, n)
		}
	}
	if len(deleted) > 0 {
		c.progressf("Deleted old versions %s (keeping the newest %d).", strings.Join(deleted, ", "), keep)
	}
	return deleted
}

// cmdRollback moves the alias back to an earlier version.
func (a *app) cmdRollback(ctx context.Context, args []string) error {
	fs, c := a.newFlags("rollback")
	n := fs.Int("n", 1, "go back this many versions")
	s, cl, err := a.openStage(ctx, fs, c, args)
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

// rollbackResult says which version the alias served and serves now.
type rollbackResult struct {
	From, To string
}

// Rollback moves the alias n versions back from the one it serves, among
// the versions still kept.
func (c *awsClient) Rollback(ctx context.Context, s stage.Settings, n int) (rollbackResult, error) {
	name := s.FunctionName()
	all, err := c.versions(ctx, name)
	if err != nil {
		return rollbackResult{}, c.notDeployed(err, s)
	}
	alias, err := c.getAlias(ctx, name)
	if err != nil {
		return rollbackResult{}, err
	}
	if alias == nil {
		// GetAlias answers a missing function as it answers a missing
		// alias: which is it?
		if _, err := c.Lambda.GetFunctionConfiguration(ctx, &lambda.GetFunctionConfigurationInput{FunctionName: &name}); err != nil {
			return rollbackResult{}, c.notDeployed(err, s)
		}
		return rollbackResult{}, &opError{Op: "lambda:GetAlias", Msg: s.FunctionName() + " has no alias " + aliasName + " to roll back",
			Fix: "run `relayctl update " + s.Stage + "`, which publishes a version and creates it"}
	}
	from := aws.ToString(alias.FunctionVersion)
	i := slices.IndexFunc(all, func(v types.FunctionConfiguration) bool { return aws.ToString(v.Version) == from })
	if i < n {
		kept := make([]string, len(all))
		for j, v := range all {
			kept[j] = aws.ToString(v.Version)
		}
		e := &opError{Op: "lambda:UpdateAlias",
			Msg: fmt.Sprintf("cannot go back %d version(s) from version %s: the versions kept are %s", n, from, strings.Join(kept, ", ")),
			Fix: "it serves the oldest; num_retained_versions sets how many versions are kept"}
		if i > 0 {
			e.Fix = fmt.Sprintf("pass -n %d or less; num_retained_versions sets how many versions are kept", i)
		}
		return rollbackResult{}, e
	}
	to := aws.ToString(all[i-n].Version)
	if err := c.moveAlias(ctx, s, alias, to); err != nil {
		return rollbackResult{}, err
	}
	return rollbackResult{From: from, To: to}, nil
}
