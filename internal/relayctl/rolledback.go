package relayctl

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/signals-relay/signals-relay/internal/pack"
	"github.com/signals-relay/signals-relay/internal/stage"
)

// rollbackState says that the alias serves a version whose code differs from
// $LATEST's, as after a rollback: publishing $LATEST without uploading code
// would serve $LATEST's code again (SetSecret puts the served code back
// first).
type rollbackState struct {
	Serving    string // the version the alias serves
	LatestFrom string // the newest version holding $LATEST's code; "" when no kept version does
}

// latestCode describes where $LATEST's code comes from, for messages.
func (r rollbackState) latestCode() string {
	if r.LatestFrom == "" {
		return "code no kept version holds"
	}
	return "newer code from version " + r.LatestFrom
}

// String is the one-line summary status prints.
func (r rollbackState) String() string {
	return "rolled back: " + aliasName + " serves " + r.Serving + ", $LATEST has " + r.latestCode()
}

// rolledBack compares the code of $LATEST (latestSHA) with that of the
// version the alias serves, among versions (oldest first). It returns nil
// when they match, without the alias, or when the served version is not
// listed.
func rolledBack(latestSHA, serving string, versions []types.FunctionConfiguration) *rollbackState {
	i := slices.IndexFunc(versions, func(v types.FunctionConfiguration) bool { return aws.ToString(v.Version) == serving })
	if serving == "" || i < 0 || aws.ToString(versions[i].CodeSha256) == latestSHA {
		return nil
	}
	r := &rollbackState{Serving: serving}
	for _, v := range slices.Backward(versions) {
		if aws.ToString(v.CodeSha256) == latestSHA {
			r.LatestFrom = aws.ToString(v.Version)
			break
		}
	}
	return r
}

// maxZip is the largest package UpdateFunctionCode takes as ZipFile.
const maxZip = 50 << 20

// keepServedCode makes sure that publishing $LATEST (read as cur) serves
// the code the alias (as read; nil when there is none) serves now. After a rollback $LATEST holds other
// code: unless rollForward accepts serving that code again, it puts the
// served version's code back on $LATEST, downloaded from the version's
// Code.Location (bounded by its CodeSize and checked against its
// CodeSha256), and returns $LATEST as it is then.
func (c *awsClient) keepServedCode(ctx context.Context, s stage.Settings, cur *lambda.GetFunctionConfigurationOutput, alias *lambda.GetAliasOutput, rollForward bool) (*lambda.GetFunctionConfigurationOutput, error) {
	name := s.FunctionName()
	if alias == nil {
		return cur, nil
	}
	versions, err := c.versions(ctx, name)
	if err != nil {
		return nil, c.Explain(err)
	}
	r := rolledBack(aws.ToString(cur.CodeSha256), aws.ToString(alias.FunctionVersion), versions)
	switch {
	case r == nil:
		return cur, nil
	case rollForward:
		c.progressf("Rolling forward: %s; the new version serves $LATEST's code.", r)
		return cur, nil
	}
	stuck := func(msg string, err error) error {
		return &opError{Op: "lambda:GetFunction", Err: err,
			Msg: "alias " + aliasName + " serves version " + r.Serving + " (rolled back) and $LATEST has " + r.latestCode() +
				"; putting version " + r.Serving + "'s code back on $LATEST failed: " + msg + "; nothing was changed",
			Fix: "run `relayctl update " + s.Stage + "` to roll forward first, or pass --roll-forward to publish $LATEST's code"}
	}
	out, err := c.Lambda.GetFunction(ctx, &lambda.GetFunctionInput{FunctionName: &name, Qualifier: &r.Serving})
	if err != nil {
		return nil, stuck("reading the version failed", err)
	}
	served := out.Configuration
	if out.Code == nil || aws.ToString(out.Code.Location) == "" {
		return nil, stuck("Lambda gave no location of its code", nil)
	}
	c.progressf("Alias %s serves version %s (rolled back) and $LATEST has %s: putting version %s's code (%d bytes) back on $LATEST, "+
		"so the new version serves it (`relayctl update %s` rolls forward)…", aliasName, r.Serving, r.latestCode(), r.Serving, served.CodeSize, s.Stage)
	zip, err := c.download(ctx, aws.ToString(out.Code.Location), served.CodeSize, aws.ToString(served.CodeSha256))
	if err != nil {
		return nil, stuck(err.Error(), nil)
	}
	if _, err := c.Lambda.UpdateFunctionCode(ctx, &lambda.UpdateFunctionCodeInput{
		FunctionName:  &name,
		ZipFile:       zip,
		Architectures: served.Architectures,
		RevisionId:    cur.RevisionId,
	}); err != nil {
		return nil, c.explainRevision(err, s)
	}
	return c.finished(ctx, s, "code update")
}

// download reads a version's code from its presigned Code.Location: at
// most size bytes (and never more than maxZip), which must hash to
// sha256 (base64, as CodeSha256). Its errors never show the URL, which
// carries a signature.
func (c *awsClient) download(ctx context.Context, location string, size int64, sha256 string) ([]byte, error) {
	if size <= 0 || size > maxZip {
		return nil, fmt.Errorf("its code is %d bytes, and relayctl uploads at most %d", size, maxZip)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, location, nil)
	if err != nil {
		return nil, errors.New("its code location is not a URL")
	}
	resp, err := c.httpClient(5 * time.Minute).Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return nil, fmt.Errorf("downloading its code: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("downloading its code: %s", resp.Status)
	}
	zip, err := io.ReadAll(io.LimitReader(resp.Body, size+1))
	switch {
	case err != nil:
		return nil, fmt.Errorf("downloading its code: %w", err)
	case int64(len(zip)) != size:
		return nil, fmt.Errorf("the code downloaded is not %d bytes (CodeSize)", size)
	case pack.CodeSHA256(zip) != sha256:
		return nil, errors.New("the code downloaded does not match its CodeSha256")
	}
	return zip, nil
}
