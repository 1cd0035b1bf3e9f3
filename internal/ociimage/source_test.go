package ociimage

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// gitRepo returns a work tree with one commit made at commitTime.
func gitRepo(t *testing.T, commitTime time.Time) string {
	t.Helper()
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git is not installed")
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "main.go"), []byte("package main\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	date := commitTime.Format(time.RFC3339)
	for _, args := range [][]string{
		{"init", "-q"},
		{"add", "main.go"},
		{"-c", "user.name=relay", "-c", "user.email=relay@example.com", "commit", "-q", "-m", "one"},
	} {
		cmd := exec.Command("git", append([]string{"-C", dir}, args...)...)
		cmd.Env = append(os.Environ(), "GIT_COMMITTER_DATE="+date, "GIT_AUTHOR_DATE="+date,
			"GIT_CONFIG_GLOBAL=/dev/null", "GIT_CONFIG_SYSTEM=/dev/null")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
	}
	return dir
}

func TestReadSource(t *testing.T) {
	commit := time.Date(2026, 10, 1, 12, 0, 0, 0, time.UTC)
	repo := gitRepo(t, commit)
	plain := t.TempDir()

	tests := []struct {
		name, dir, epoch string
		dirty            bool
		wantCreated      time.Time
		wantRevision     bool
		wantErr          string
	}{
		{name: "commit time", dir: repo, wantCreated: commit, wantRevision: true},
		{name: "SOURCE_DATE_EPOCH first", dir: repo, epoch: "1700000000", wantCreated: time.Unix(1700000000, 0).UTC(), wantRevision: true},
		{name: "uncommitted change", dir: repo, dirty: true, wantCreated: commit, wantRevision: true},
		{name: "no git, SOURCE_DATE_EPOCH", dir: plain, epoch: "0", wantCreated: time.Unix(0, 0).UTC()},
		{name: "no git, no time", dir: plain, wantErr: "set SOURCE_DATE_EPOCH or build from a git work tree"},
		{name: "bad SOURCE_DATE_EPOCH", dir: repo, epoch: "2026-11-02", wantErr: "not a count of seconds"},
		{name: "negative SOURCE_DATE_EPOCH", dir: repo, epoch: "-5", wantErr: "not a count of seconds"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.dirty {
				if err := os.WriteFile(filepath.Join(repo, "main.go"), []byte("package main // changed\n"), 0o644); err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { _ = os.WriteFile(filepath.Join(repo, "main.go"), []byte("package main\n"), 0o644) })
			}
			got, err := ReadSource(t.Context(), tc.dir, tc.epoch)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("ReadSource = %+v, %v; want error with %q", got, err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !got.Created.Equal(tc.wantCreated) {
				t.Errorf("created %v, want %v", got.Created, tc.wantCreated)
			}
			if (len(got.Revision) == 40) != tc.wantRevision {
				t.Errorf("revision %q", got.Revision)
			}
			if got.Dirty != tc.dirty {
				t.Errorf("dirty %v, want %v", got.Dirty, tc.dirty)
			}
		})
	}
}
