package pack_test

import (
	"archive/zip"
	"bytes"
	"debug/buildinfo"
	"debug/elf"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/signals-relay/signals-relay/internal/pack"
)

func TestZipIsReproducible(t *testing.T) {
	t.Parallel()
	bootstrap := bytes.Repeat([]byte("\x7fELF relay bytes "), 1000)
	a, err := pack.Zip(bootstrap)
	if err != nil {
		t.Fatal(err)
	}
	b, err := pack.Zip(append([]byte(nil), bootstrap...))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a, b) {
		t.Fatal("two zips of the same bootstrap differ")
	}
	if pack.CodeSHA256(a) != pack.CodeSHA256(b) {
		t.Fatal("CodeSHA256 differs for equal zips")
	}
	other, _ := pack.Zip([]byte("something else"))
	if bytes.Equal(a, other) {
		t.Fatal("different bootstraps give the same zip")
	}

	zr, err := zip.NewReader(bytes.NewReader(a), int64(len(a)))
	if err != nil {
		t.Fatal(err)
	}
	if len(zr.File) != 1 {
		t.Fatalf("zip has %d entries, want 1", len(zr.File))
	}
	f := zr.File[0]
	if f.Name != "bootstrap" {
		t.Errorf("entry name = %q, want bootstrap", f.Name)
	}
	if f.Mode() != 0o755 {
		t.Errorf("entry mode = %v, want -rwxr-xr-x", f.Mode())
	}
	if !f.Modified.Equal(pack.ZipTime) {
		t.Errorf("entry time = %v, want %v", f.Modified, pack.ZipTime)
	}
	if f.Method != zip.Deflate {
		t.Errorf("entry method = %d, want deflate", f.Method)
	}
	got, err := pack.ReadBootstrap(a)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, bootstrap) {
		t.Error("ReadBootstrap returned different bytes")
	}
}

func TestReadBootstrapRejects(t *testing.T) {
	t.Parallel()
	mk := func(name string, mode os.FileMode) []byte {
		var buf bytes.Buffer
		zw := zip.NewWriter(&buf)
		h := &zip.FileHeader{Name: name}
		h.SetMode(mode)
		w, _ := zw.CreateHeader(h)
		_, _ = w.Write([]byte("x"))
		_ = zw.Close()
		return buf.Bytes()
	}
	tests := []struct {
		name string
		zip  []byte
		want string
	}{
		{"not a zip", []byte("hello"), "not a zip file"},
		{"no bootstrap", mk("main", 0o755), "has no bootstrap"},
		{"not executable", mk("bootstrap", 0o644), "want an executable file"},
		{"nested", mk("bin/bootstrap", 0o755), "has no bootstrap"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := pack.ReadBootstrap(tc.zip)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("ReadBootstrap = %v, want error containing %q", err, tc.want)
			}
		})
	}
}

func TestArgs(t *testing.T) {
	t.Parallel()
	o := pack.BuildOptions{GOARCH: "arm64", Version: "1.2.3", Revision: "0123abc"}
	got := strings.Join(o.Args("out/bootstrap"), " ")
	want := "build -tags lambda.norpc,release -trimpath -buildvcs=false -ldflags -s -w -buildid= -X " +
		pack.VersionVar + "=1.2.3 -X " + pack.RevisionVar + "=0123abc -o out/bootstrap ./cmd/signals-relay"
	if got != want {
		t.Errorf("Args =\n%s\nwant\n%s", got, want)
	}
	env := strings.Join(o.Environ(), "\n")
	for _, kv := range []string{"GOOS=linux", "GOARCH=arm64", "CGO_ENABLED=0"} {
		if !strings.Contains(env, kv) {
			t.Errorf("Environ lacks %s", kv)
		}
	}
}

// moduleRoot is the absolute path of the module's root directory.
func moduleRoot(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		t.Fatalf("module root %s: %v", root, err)
	}
	return root
}

// buildHello builds testdata/hello for arch with the real go command.
func buildHello(t *testing.T, arch, version string) []byte {
	t.Helper()
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("go command not on PATH")
	}
	b, err := pack.Build(t.Context(), pack.BuildOptions{Package: "./testdata/hello", GOARCH: arch, Version: version})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestBuildStaticReproducible(t *testing.T) {
	t.Parallel()
	for _, arch := range []string{"arm64", "amd64"} {
		t.Run(arch, func(t *testing.T) {
			t.Parallel()
			first := buildHello(t, arch, "9.8.7-test")
			second := buildHello(t, arch, "9.8.7-test")
			if !bytes.Equal(first, second) {
				t.Fatal("two builds of the same source differ")
			}
			za, _ := pack.Zip(first)
			zb, _ := pack.Zip(second)
			if !bytes.Equal(za, zb) {
				t.Fatal("zips of two builds differ")
			}

			f, err := elf.NewFile(bytes.NewReader(first))
			if err != nil {
				t.Fatal(err)
			}
			wantMachine := map[string]elf.Machine{"arm64": elf.EM_AARCH64, "amd64": elf.EM_X86_64}[arch]
			if f.Machine != wantMachine {
				t.Errorf("ELF machine = %v, want %v", f.Machine, wantMachine)
			}
			for _, p := range f.Progs {
				if p.Type == elf.PT_INTERP {
					t.Error("binary has an ELF interpreter: not static")
				}
			}
			if f.Section(".symtab") != nil {
				t.Error("binary keeps its symbol table: -s not applied")
			}
			if !bytes.Contains(first, []byte("9.8.7-test")) {
				t.Error("version not stamped into the binary")
			}
			// Without -trimpath the binary's file table names every
			// source file by its absolute path under the module root.
			if bytes.Contains(first, []byte(moduleRoot(t))) {
				t.Errorf("binary contains the source root %s: -trimpath not applied", moduleRoot(t))
			}
			info, err := buildinfo.Read(bytes.NewReader(first))
			if err != nil {
				t.Fatal(err)
			}
			tags := ""
			for _, s := range info.Settings {
				if s.Key == "-tags" {
					tags = s.Value
				}
			}
			if tags != "lambda.norpc,release" {
				t.Errorf("build info -tags = %q, want lambda.norpc,release", tags)
			}
		})
	}
}

func TestBuildRunsOnHost(t *testing.T) {
	t.Parallel()
	if runtime.GOOS != "linux" || (runtime.GOARCH != "amd64" && runtime.GOARCH != "arm64") {
		t.Skip("needs linux/amd64 or linux/arm64")
	}
	bin := filepath.Join(t.TempDir(), "bootstrap")
	if err := os.WriteFile(bin, buildHello(t, runtime.GOARCH, "4.5.6"), 0o755); err != nil {
		t.Fatal(err)
	}
	out, err := exec.CommandContext(t.Context(), bin).Output()
	if err != nil {
		t.Fatal(err)
	}
	if got, want := string(out), "version=4.5.6 norpc=true\n"; got != want {
		t.Errorf("bootstrap printed %q, want %q", got, want)
	}
}

func TestBuildErrors(t *testing.T) {
	t.Parallel()
	if _, err := pack.Build(t.Context(), pack.BuildOptions{GOARCH: "386"}); err == nil || !strings.Contains(err.Error(), `architecture "386"`) {
		t.Errorf("bad arch: %v", err)
	}
	if _, err := pack.Build(t.Context(), pack.BuildOptions{GOARCH: "arm64", Version: "1 2"}); err == nil {
		t.Error("version with a space accepted")
	}
	_, err := pack.Build(t.Context(), pack.BuildOptions{GOARCH: "arm64", Dir: t.TempDir(), Env: append(os.Environ(), "GOFLAGS=", "GO111MODULE=on")})
	if err == nil || !strings.Contains(err.Error(), "source tree") {
		t.Errorf("outside the module: %v", err)
	}
}

// TestEnvironToolchain checks that a chosen toolchain reaches the go command
// and that none is forced otherwise.
func TestEnvironToolchain(t *testing.T) {
	for _, tc := range []struct {
		toolchain string
		want      string // the GOTOOLCHAIN entry expected, "" for none
	}{
		{toolchain: pack.ReleaseToolchain, want: "GOTOOLCHAIN=" + pack.ReleaseToolchain},
		{toolchain: "local", want: "GOTOOLCHAIN=local"},
		{toolchain: ""},
	} {
		env := pack.BuildOptions{GOARCH: "arm64", Toolchain: tc.toolchain, Env: []string{"HOME=/h"}}.Environ()
		var got string
		for _, kv := range env {
			if strings.HasPrefix(kv, "GOTOOLCHAIN=") {
				got = kv
			}
		}
		if got != tc.want {
			t.Errorf("Toolchain %q: GOTOOLCHAIN entry %q, want %q (env %v)", tc.toolchain, got, tc.want, env)
		}
	}
}
