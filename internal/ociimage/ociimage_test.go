package ociimage

import (
	"archive/tar"
	"bytes"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"io"
	"log"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"github.com/google/go-containerregistry/pkg/v1/validate"
	"golang.org/x/crypto/x509roots/fallback/bundle"
)

var (
	testTime = time.Date(2026, 11, 2, 10, 30, 0, 0, time.UTC)
	testMeta = Metadata{
		Created:  testTime,
		Source:   "https://github.com/signals-relay/signals-relay",
		Version:  "1.2.3",
		Revision: "0123456789abcdef0123456789abcdef01234567",
	}
	amd64 = Platform{OS: "linux", Architecture: "amd64"}
	arm64 = Platform{OS: "linux", Architecture: "arm64", Variant: "v8"}
)

func testBinaries() []Binary {
	return []Binary{
		{Platform: amd64, Executable: []byte("\x7fELF amd64 relay")},
		{Platform: arm64, Executable: []byte("\x7fELF arm64 relay")},
	}
}

func mustIndex(t *testing.T, bins []Binary, m Metadata) v1.ImageIndex {
	t.Helper()
	idx, err := Index(bins, m)
	if err != nil {
		t.Fatal(err)
	}
	return idx
}

func digest(t *testing.T, idx v1.ImageIndex) v1.Hash {
	t.Helper()
	d, err := idx.Digest()
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func TestIndexIsReproducible(t *testing.T) {
	want := digest(t, mustIndex(t, testBinaries(), testMeta))
	if got := digest(t, mustIndex(t, testBinaries(), testMeta)); got != want {
		t.Fatalf("second build: index %s, first %s", got, want)
	}
	// A sub-second part of the time is dropped, so it cannot make builds differ.
	m := testMeta
	m.Created = testTime.Add(300 * time.Millisecond)
	if got := digest(t, mustIndex(t, testBinaries(), m)); got != want {
		t.Errorf("sub-second time changed the index: %s, want %s", got, want)
	}

	changed := map[string]func() ([]Binary, Metadata){
		"time": func() ([]Binary, Metadata) {
			m := testMeta
			m.Created = testTime.Add(time.Second)
			return testBinaries(), m
		},
		"binary": func() ([]Binary, Metadata) {
			b := testBinaries()
			b[1].Executable = []byte("\x7fELF arm64 relay, rebuilt")
			return b, testMeta
		},
		"revision": func() ([]Binary, Metadata) {
			m := testMeta
			m.Revision = "fedcba"
			return testBinaries(), m
		},
	}
	for what, input := range changed {
		b, m := input()
		if got := digest(t, mustIndex(t, b, m)); got == want {
			t.Errorf("a different %s gave the same index %s", what, got)
		}
	}
}

// entry is what a test checks of a layer's tar entry.
type entry struct {
	Name     string
	Type     byte
	Mode     int64
	UID, GID int
}

func TestIndexContents(t *testing.T) {
	idx := mustIndex(t, testBinaries(), testMeta)
	if err := validate.Index(idx); err != nil {
		t.Fatalf("go-containerregistry's validation: %v", err)
	}
	if mt, _ := idx.MediaType(); mt != types.OCIImageIndex {
		t.Errorf("index media type %s", mt)
	}
	im, err := idx.IndexManifest()
	if err != nil {
		t.Fatal(err)
	}
	wantLabels := map[string]string{
		"org.opencontainers.image.source":   testMeta.Source,
		"org.opencontainers.image.version":  "1.2.3",
		"org.opencontainers.image.revision": testMeta.Revision,
		"org.opencontainers.image.created":  "2026-11-02T10:30:00Z",
		"org.opencontainers.image.title":    "signals-relay",
	}
	if diff := cmp.Diff(wantLabels, im.Annotations); diff != "" {
		t.Errorf("index annotations (-want +got):\n%s", diff)
	}
	if len(im.Manifests) != 2 {
		t.Fatalf("%d manifests, want 2", len(im.Manifests))
	}
	var baseDigest v1.Hash
	for i, bin := range testBinaries() {
		desc := im.Manifests[i]
		t.Run(bin.Platform.String(), func(t *testing.T) {
			want := v1.Platform{OS: bin.Platform.OS, Architecture: bin.Platform.Architecture, Variant: bin.Platform.Variant}
			if desc.Platform == nil || !desc.Platform.Equals(want) {
				t.Errorf("platform %+v, want %+v", desc.Platform, want)
			}
			img, err := idx.Image(desc.Digest)
			if err != nil {
				t.Fatal(err)
			}
			if mt, _ := img.MediaType(); mt != types.OCIManifestSchema1 {
				t.Errorf("manifest media type %s", mt)
			}
			cf, err := img.ConfigFile()
			if err != nil {
				t.Fatal(err)
			}
			wantConfig := v1.Config{
				User:         "65532:65532",
				Entrypoint:   []string{"/signals-relay"},
				Cmd:          []string{"serve"},
				ExposedPorts: map[string]struct{}{"9090/tcp": {}},
				WorkingDir:   "/",
				Labels:       wantLabels,
			}
			if diff := cmp.Diff(wantConfig, cf.Config); diff != "" {
				t.Errorf("config (-want +got):\n%s", diff)
			}
			if !cf.Created.Equal(testTime) || cf.RootFS.Type != "layers" || cf.OS != "linux" || cf.Architecture != bin.Platform.Architecture {
				t.Errorf("created %v, rootfs %q, platform %s/%s", cf.Created, cf.RootFS.Type, cf.OS, cf.Architecture)
			}
			for _, h := range cf.History {
				if !h.Created.Equal(testTime) {
					t.Errorf("history %q created %v, want %v", h.CreatedBy, h.Created, testTime)
				}
			}
			layers, err := img.Layers()
			if err != nil {
				t.Fatal(err)
			}
			if len(layers) != 2 {
				t.Fatalf("%d layers, want base and binary", len(layers))
			}
			d, _ := layers[0].Digest()
			if i == 0 {
				baseDigest = d
			} else if d != baseDigest {
				t.Errorf("base layer %s differs from the first platform's %s", d, baseDigest)
			}
			var got []entry
			files := map[string][]byte{}
			for _, l := range layers {
				if mt, _ := l.MediaType(); mt != types.OCILayer {
					t.Errorf("layer media type %s", mt)
				}
				for h, data := range tarEntries(t, l) {
					got = append(got, entry{h.Name, h.Typeflag, h.Mode, h.Uid, h.Gid})
					files[h.Name] = data
					if !h.ModTime.Equal(testTime) {
						t.Errorf("%s: time %v, want %v", h.Name, h.ModTime, testTime)
					}
				}
			}
			wantEntries := []entry{
				{"etc/", tar.TypeDir, 0o755, 0, 0},
				{"etc/group", tar.TypeReg, 0o644, 0, 0},
				{"etc/passwd", tar.TypeReg, 0o644, 0, 0},
				{"etc/ssl/", tar.TypeDir, 0o755, 0, 0},
				{"etc/ssl/certs/", tar.TypeDir, 0o755, 0, 0},
				{"etc/ssl/certs/ca-certificates.crt", tar.TypeReg, 0o644, 0, 0},
				{"home/", tar.TypeDir, 0o755, 0, 0},
				{"home/nonroot/", tar.TypeDir, 0o700, 65532, 65532},
				{"tmp/", tar.TypeDir, 0o1777, 0, 0},
				{"signals-relay", tar.TypeReg, 0o755, 0, 0},
			}
			if diff := cmp.Diff(wantEntries, got); diff != "" {
				t.Errorf("files (-want +got):\n%s", diff)
			}
			if !bytes.Equal(files["signals-relay"], bin.Executable) {
				t.Errorf("the binary in the image is not the one built")
			}
			if !strings.Contains(string(files["etc/passwd"]), "nonroot:x:65532:65532:") ||
				!strings.Contains(string(files["etc/group"]), "nonroot:x:65532:") {
				t.Errorf("user database:\n%s%s", files["etc/passwd"], files["etc/group"])
			}
			if !bytes.Equal(files["etc/ssl/certs/ca-certificates.crt"], Certificates()) {
				t.Errorf("the CA bundle in the image is not Certificates()")
			}
		})
	}
}

// tarEntries returns a layer's entries and their contents, in order.
func tarEntries(t *testing.T, l v1.Layer) func(func(*tar.Header, []byte) bool) {
	t.Helper()
	rc, err := l.Uncompressed()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rc.Close() })
	tr := tar.NewReader(rc)
	return func(yield func(*tar.Header, []byte) bool) {
		for {
			h, err := tr.Next()
			if errors.Is(err, io.EOF) {
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			data, err := io.ReadAll(tr)
			if err != nil {
				t.Fatal(err)
			}
			if !yield(h, data) {
				return
			}
		}
	}
}

func TestIndexNeedsBinaries(t *testing.T) {
	if _, err := Index(nil, testMeta); err == nil {
		t.Error("an index of no platform was built")
	}
	if _, err := Index([]Binary{{Platform: amd64}}, testMeta); err == nil {
		t.Error("an image without a binary was built")
	}
}

func TestParsePlatforms(t *testing.T) {
	tests := []struct {
		in      string
		want    []Platform
		wantErr string
	}{
		{in: DefaultPlatforms, want: []Platform{amd64, arm64}},
		{in: "linux/arm64, linux/amd64", want: []Platform{arm64, amd64}},
		{in: "linux/arm64/v8", want: []Platform{arm64}},
		{in: "linux/amd64", want: []Platform{amd64}},
		{in: "linux/amd64,linux/amd64", wantErr: "given twice"},
		{in: "linux/arm64,linux/arm64/v8", wantErr: "given twice"},
		{in: "linux/386", wantErr: `"linux/386"`},
		{in: "windows/amd64", wantErr: "want linux/amd64 or linux/arm64"},
		{in: "", wantErr: `platform ""`},
		{in: "linux/amd64,", wantErr: `platform ""`},
	}
	for _, tc := range tests {
		got, err := ParsePlatforms(tc.in)
		if tc.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("ParsePlatforms(%q) = %v, %v; want error with %q", tc.in, got, err, tc.wantErr)
			}
			continue
		}
		if err != nil || !slices.Equal(got, tc.want) {
			t.Errorf("ParsePlatforms(%q) = %v, %v; want %v", tc.in, got, err, tc.want)
		}
	}
}

func TestCertificates(t *testing.T) {
	pemBytes := Certificates()
	constrained := map[string]bool{}
	unconstrained := 0
	for r := range bundle.Roots() {
		if r.Constraint != nil {
			constrained[string(r.Certificate)] = true
		} else {
			unconstrained++
		}
	}
	var n int
	for rest := pemBytes; ; n++ {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			if len(bytes.TrimSpace(rest)) > 0 {
				t.Fatalf("trailing bytes after %d certificates", n)
			}
			break
		}
		if b.Type != "CERTIFICATE" {
			t.Errorf("block %d is %s", n, b.Type)
		}
		c, err := x509.ParseCertificate(b.Bytes)
		if err != nil {
			t.Fatalf("certificate %d: %v", n, err)
		}
		if !c.IsCA {
			t.Errorf("%s is not a CA", c.Subject)
		}
		if constrained[string(b.Bytes)] {
			t.Errorf("%s is trusted with a constraint PEM cannot carry, but is in the bundle", c.Subject)
		}
	}
	if n != unconstrained || n < 100 {
		t.Errorf("%d certificates, want the %d unconstrained roots of the NSS store", n, unconstrained)
	}
	if len(constrained) == 0 {
		t.Log("the pinned NSS store has no constrained root")
	}
	if pool := x509.NewCertPool(); !pool.AppendCertsFromPEM(pemBytes) {
		t.Error("crypto/x509 reads no certificate from the bundle")
	}
}

func TestWriteArchive(t *testing.T) {
	idx := mustIndex(t, testBinaries(), testMeta)
	var a, b bytes.Buffer
	if err := WriteArchive(&a, idx, "signals-relay:1.2.3", testTime); err != nil {
		t.Fatal(err)
	}
	if err := WriteArchive(&b, mustIndex(t, testBinaries(), testMeta), "signals-relay:1.2.3", testTime); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a.Bytes(), b.Bytes()) {
		t.Error("two archives of the same index differ")
	}

	// Unpack it the way an OCI tool would and read the layout back.
	dir := t.TempDir()
	tr := tar.NewReader(bytes.NewReader(a.Bytes()))
	var names []string
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, h.Name)
		if !h.ModTime.Equal(testTime) || h.Uid != 0 || h.Gid != 0 || h.Uname != "" {
			t.Errorf("%s: time %v, owner %d:%d %q", h.Name, h.ModTime, h.Uid, h.Gid, h.Uname)
		}
		path := filepath.Join(dir, filepath.FromSlash(h.Name))
		if h.Typeflag == tar.TypeDir {
			if err := os.MkdirAll(path, 0o755); err != nil {
				t.Fatal(err)
			}
			continue
		}
		data, err := io.ReadAll(tr)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if !slices.IsSorted(names) || !slices.Contains(names, "oci-layout") || !slices.Contains(names, "index.json") {
		t.Errorf("archive entries %v: want a sorted OCI layout", names)
	}
	lp, err := layout.FromPath(dir)
	if err != nil {
		t.Fatal(err)
	}
	top, err := lp.ImageIndex()
	if err != nil {
		t.Fatal(err)
	}
	tm, err := top.IndexManifest()
	if err != nil {
		t.Fatal(err)
	}
	if len(tm.Manifests) != 1 {
		t.Fatalf("index.json has %d entries, want the image index", len(tm.Manifests))
	}
	d := tm.Manifests[0]
	if d.MediaType != types.OCIImageIndex || d.Digest != digest(t, idx) || d.Annotations[RefNameAnnotation] != "signals-relay:1.2.3" {
		t.Errorf("index.json entry %+v, want the image index %s named signals-relay:1.2.3", d, digest(t, idx))
	}
	read, err := top.ImageIndex(d.Digest)
	if err != nil {
		t.Fatal(err)
	}
	if err := validate.Index(read); err != nil {
		t.Errorf("the index read back from the archive: %v", err)
	}
}

func TestPush(t *testing.T) {
	reg := httptest.NewServer(registry.New(registry.Logger(log.New(io.Discard, "", 0))))
	defer reg.Close()
	host := strings.TrimPrefix(reg.URL, "http://")
	idx := mustIndex(t, testBinaries(), testMeta)

	ref, err := Push(t.Context(), idx, host+"/signals-relay:1.2.3")
	if err != nil {
		t.Fatal(err)
	}
	if ref.String() != host+"/signals-relay:1.2.3" {
		t.Errorf("pushed as %s", ref)
	}
	pulled, err := remote.Index(ref, remote.WithContext(t.Context()))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := digest(t, pulled), digest(t, idx); got != want {
		t.Errorf("registry holds index %s, pushed %s", got, want)
	}
	for _, p := range []v1.Platform{{OS: "linux", Architecture: "amd64"}, {OS: "linux", Architecture: "arm64", Variant: "v8"}} {
		img, err := remote.Image(ref, remote.WithContext(t.Context()), remote.WithPlatform(p))
		if err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		if err := validate.Image(img); err != nil {
			t.Errorf("%s image in the registry: %v", p, err)
		}
	}

	if _, err := Push(t.Context(), idx, "Not A Reference"); err == nil || !strings.Contains(err.Error(), "image reference") {
		t.Errorf("bad reference: %v", err)
	}
	u, _ := url.Parse(reg.URL)
	reg.Close()
	if _, err := Push(t.Context(), idx, u.Host+"/signals-relay:gone"); err == nil {
		t.Error("push to a stopped registry succeeded")
	}
}
