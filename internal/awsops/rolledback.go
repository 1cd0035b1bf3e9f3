package awsops

import (
	"context"
	"slices"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/signals-relay/signals-relay/internal/stage"
)

// RolledBack says that the alias serves a version whose code differs from
// $LATEST's, as after a rollback: publishing $LATEST without uploading code
// would serve $LATEST's code again.
type RolledBack struct {
	// Serving is the version the alias serves.
	Serving string
	// LatestFrom is the newest version holding $LATEST's code; "" when no
	// kept version does.
	LatestFrom string
}

// latestCode describes where $LATEST's code comes from, for messages.
func (r RolledBack) latestCode() string {
	if r.LatestFrom == "" {
		return "code no kept version holds"
	}
	return "newer code from version " + r.LatestFrom
}

// String is the one-line summary status prints.
func (r RolledBack) String() string {
	return "rolled back: " + Alias + " serves " + r.Serving + ", $LATEST has " + r.latestCode()
}

// rolledBack compares the code of $LATEST (latestSHA) with that of the
// version the alias serves, among versions (oldest first). It returns nil
// when they match, without the alias, or when the served version is not
// listed.
func rolledBack(latestSHA, serving string, versions []types.FunctionConfiguration) *RolledBack {
	i := slices.IndexFunc(versions, func(v types.FunctionConfiguration) bool { return aws.ToString(v.Version) == serving })
	if serving == "" || i < 0 || aws.ToString(versions[i].CodeSha256) == latestSHA {
		return nil
	}
	r := &RolledBack{Serving: serving}
	for _, v := range slices.Backward(versions) {
		if aws.ToString(v.CodeSha256) == latestSHA {
			r.LatestFrom = aws.ToString(v.Version)
			break
		}
	}
	return r
}

// checkRolledBack refuses to publish $LATEST (with code latestSHA) while
// the alias serves other code, unless rollForward accepts serving $LATEST's
// code again; then it says so.
func (c *Client) checkRolledBack(ctx context.Context, s stage.Settings, latestSHA string, rollForward bool) error {
	name := s.FunctionName()
	alias, err := c.getAlias(ctx, name)
	if err != nil || alias == nil {
		return err
	}
	versions, err := c.versions(ctx, name)
	if err != nil {
		return c.Explain(err)
	}
	r := rolledBack(latestSHA, aws.ToString(alias.FunctionVersion), versions)
	switch {
	case r == nil:
		return nil
	case rollForward:
		c.progressf("Rolling forward: %s; the new version serves $LATEST's code.", r)
		return nil
	}
	return &Error{Op: "lambda:PublishVersion",
		Msg: "alias " + Alias + " serves version " + r.Serving + " (rolled back) and $LATEST has " + r.latestCode() +
			": publishing now would serve that code again; nothing was changed",
		Fix: "run `relayctl update " + s.Stage + "` to roll forward first, or pass --roll-forward to publish $LATEST's code"}
}
