package relayctl

import (
	"io"
	"log"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

var archiveLine = regexp.MustCompile(`^(\S+)\t(\d+) bytes\tindex (sha256:[0-9a-f]{64})\n$`)

func TestImageArchive(t *testing.T) {
	e := newEnv(t)
	out := filepath.Join(e.dir, "dist", "relay.tar")
	stdout, stderr := e.mustRun("", "image", "--output", out, "--relay-version", "2.0.0+rc1")
	m := archiveLine.FindStringSubmatch(stdout)
	if m == nil {
		t.Fatalf("output %q", stdout)
	}
	info, err := os.Stat(out)
	if err != nil || m[1] != out || m[2] != strconv.FormatInt(info.Size(), 10) {
		t.Errorf("output %q, file %v, %v", stdout, info, err)
	}
	var arches []string
	for _, b := range e.builds {
		arches = append(arches, b.GOARCH)
		if b.Version != "2.0.0+rc1" { // the release tag is pack's own (see internal/pack)
			t.Errorf("build %+v: want the version", b)
		}
	}
	if !slices.Equal(arches, []string{"amd64", "arm64"}) {
		t.Errorf("built for %v, want amd64 and arm64", arches)
	}
	if !strings.Contains(stderr, "for linux/arm64/v8") {
		t.Errorf("stderr %q", stderr)
	}

	// The same source builds the same index again.
	e.builds = nil
	again, _ := e.mustRun("", "image", "--output", filepath.Join(e.dir, "again.tar"), "--relay-version", "2.0.0+rc1")
	if m2 := archiveLine.FindStringSubmatch(again); m2 == nil || m2[3] != m[3] {
		t.Errorf("second build: %q, first index %s", again, m[3])
	}
}

func TestImagePush(t *testing.T) {
	reg := httptest.NewServer(registry.New(registry.Logger(log.New(io.Discard, "", 0))))
	defer reg.Close()
	ref := strings.TrimPrefix(reg.URL, "http://") + "/relay/signals-relay:test"
	e := newEnv(t)
	stdout, _ := e.mustRun("", "image", "--platform", "linux/amd64", "--push", ref)
	repo, digest, ok := strings.Cut(strings.TrimSpace(stdout), "@")
	if !ok || repo != strings.TrimSuffix(ref, ":test") {
		t.Fatalf("output %q", stdout)
	}
	r, err := name.ParseReference(ref)
	if err != nil {
		t.Fatal(err)
	}
	idx, err := remote.Index(r, remote.WithContext(t.Context()))
	if err != nil {
		t.Fatal(err)
	}
	if d, _ := idx.Digest(); d.String() != digest {
		t.Errorf("registry holds %s, relayctl printed %s", d, digest)
	}
	if im, _ := idx.IndexManifest(); len(im.Manifests) != 1 || im.Manifests[0].Platform.Architecture != "amd64" {
		t.Errorf("index %+v, want linux/amd64 only", im)
	}
}

func TestImageUsageErrors(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"image"}, "exactly one of --output FILE and --push REF"},
		{[]string{"image", "--output", "a.tar", "--push", "localhost/relay"}, "exactly one of"},
		{[]string{"image", "--output", "a.tar", "--platform", "linux/s390x"}, `platform "linux/s390x"`},
		{[]string{"image", "--output", "a.tar", "extra"}, `unexpected argument "extra"`},
	}
	for _, tc := range tests {
		e := newEnv(t)
		_, _, err := e.run("", tc.args...)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("relayctl %v: %v, want %q", tc.args, err, tc.want)
		}
		if len(e.builds) > 0 {
			t.Errorf("relayctl %v built %d binaries", tc.args, len(e.builds))
		}
	}
}
