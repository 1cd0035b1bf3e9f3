package ociimage

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os/exec"
	"strconv"
	"strings"
	"time"
)

// Source is what the image records of the source tree it was built from.
type Source struct {
	Revision string    // the commit; empty outside a git work tree
	Dirty    bool      // tracked files have uncommitted changes
	Created  time.Time // SOURCE_DATE_EPOCH when set, else the commit time
}

// ReadSource reads dir's git revision and commit time; $SOURCE_DATE_EPOCH
// (sourceDateEpoch) takes precedence, and with neither ReadSource fails.
func ReadSource(ctx context.Context, dir, sourceDateEpoch string) (Source, error) {
	var s Source
	if sourceDateEpoch != "" {
		sec, err := strconv.ParseInt(sourceDateEpoch, 10, 64)
		if err != nil || sec < 0 {
			return Source{}, fmt.Errorf("SOURCE_DATE_EPOCH %q is not a count of seconds", sourceDateEpoch)
		}
		s.Created = time.Unix(sec, 0).UTC()
	}
	out, err := git(ctx, dir, "log", "-1", "--format=%H %ct")
	if err != nil {
		if s.Created.IsZero() {
			return Source{}, fmt.Errorf("no image time: set SOURCE_DATE_EPOCH or build from a git work tree (%w)", err)
		}
		return s, nil
	}
	rev, ct, _ := strings.Cut(out, " ")
	s.Revision = rev
	if s.Created.IsZero() {
		sec, err := strconv.ParseInt(ct, 10, 64)
		if err != nil {
			return Source{}, fmt.Errorf("git commit time %q: %w", ct, err)
		}
		s.Created = time.Unix(sec, 0).UTC()
	}
	status, err := git(ctx, dir, "status", "--porcelain", "--untracked-files=no")
	if err != nil {
		return Source{}, err
	}
	s.Dirty = status != ""
	return s, nil
}

// git runs git in dir; a failure reads as the first line git printed.
func git(ctx context.Context, dir string, args ...string) (string, error) {
	out, err := exec.CommandContext(ctx, "git", append([]string{"-C", dir}, args...)...).Output() //nolint:gosec // git on the source directory the caller named
	var exit *exec.ExitError
	if errors.As(err, &exit) && len(bytes.TrimSpace(exit.Stderr)) > 0 {
		msg, _, _ := strings.Cut(strings.TrimSpace(string(exit.Stderr)), "\n")
		err = errors.New(msg)
	}
	if err != nil {
		return "", fmt.Errorf("git %s: %w", args[0], err)
	}
	return strings.TrimSpace(string(out)), nil
}
