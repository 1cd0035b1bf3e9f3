package relayctl

import (
	"bytes"
	"cmp"
	"context"
	"debug/buildinfo"
	"debug/elf"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/signals-relay/signals-relay/internal/ociimage"
	"github.com/signals-relay/signals-relay/internal/pack"
	"github.com/signals-relay/signals-relay/internal/stage"
	"github.com/signals-relay/signals-relay/internal/version"
)

// buildFlags are the flags of the commands that build the package.
type buildFlags struct {
	source    string
	version   string
	toolchain string
}

func (b *buildFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&b.source, "source", ".", "signals-relay source `directory` (the module root) to build from")
	fs.StringVar(&b.version, "relay-version", version.Version, "release `version` stamped into the relay")
	fs.StringVar(&b.toolchain, "toolchain", pack.ReleaseToolchain, "Go `toolchain` to build with (\"local\": the installed Go)")
}

// cmdPackage builds the bootstrap and writes the zip.
func (a *app) cmdPackage(ctx context.Context, args []string) error {
	fs, c := a.newFlags("package")
	var bf buildFlags
	bf.register(fs)
	out := fs.String("o", "", "zip `file` to write (default dist/<function>-<arch>.zip)")
	s, err := c.load(fs, args)
	if err != nil {
		return err
	}
	zipFile, err := a.buildZip(ctx, s, bf)
	if err != nil {
		return err
	}
	path := cmp.Or(*out, filepath.Join("dist", s.FunctionName()+"-"+s.GOARCH()+".zip"))
	if err := writeArtifact(path, zipFile); err != nil {
		return err
	}
	fmt.Fprintf(a.stdout, "%s\t%d bytes\tCodeSha256 %s\n", path, len(zipFile), pack.CodeSHA256(zipFile))
	return nil
}

// readSource reads the revision of the source built from, warning when
// its tracked files have uncommitted changes: what is built (what) is then
// not what the revision holds.
func (a *app) readSource(ctx context.Context, bf buildFlags, what string) (ociimage.Source, error) {
	src, err := ociimage.ReadSource(ctx, bf.source, a.getenv("SOURCE_DATE_EPOCH"))
	if err == nil && src.Dirty {
		fmt.Fprintf(a.stderr, "Warning: %s has uncommitted changes; the %s is not what revision %s holds.\n", bf.source, what, src.Revision)
	}
	return src, err
}

// writeArtifact writes a release artifact (a package, an image archive),
// making its directory.
func writeArtifact(path string, b []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		return err
	}
	//nolint:gosec // a release artifact, meant to be readable by whoever deploys or loads it
	return os.WriteFile(path, b, 0o644)
}

// buildZip builds the bootstrap for the stage's architecture and zips it.
func (a *app) buildZip(ctx context.Context, s stage.Settings, bf buildFlags) ([]byte, error) {
	fmt.Fprintf(a.stderr, "Building bootstrap %s for linux/%s from %s…\n", bf.version, s.GOARCH(), bf.source)
	start := time.Now()
	// The commit, stamped into the relay for its build_info metric; none
	// outside a git work tree.
	src, _ := a.readSource(ctx, bf, "package")
	bootstrap, err := a.buildChecked(ctx, bf, s.GOARCH(), src.Revision)
	if err != nil {
		return nil, err
	}
	zipFile, err := pack.Zip(bootstrap)
	if err != nil {
		return nil, err
	}
	goVersion := "unknown Go"
	if info, err := buildinfo.Read(bytes.NewReader(bootstrap)); err == nil {
		goVersion = info.GoVersion
	}
	fmt.Fprintf(a.stderr, "Packaged: bootstrap %d bytes (%s), zip %d bytes (%.1fs).\n",
		len(bootstrap), goVersion, len(zipFile), time.Since(start).Seconds())
	return zipFile, nil
}

// buildChecked builds the relay from bf for linux/goarch, stamped with the
// source revision, and checks that it is a static executable for it.
func (a *app) buildChecked(ctx context.Context, bf buildFlags, goarch, revision string) ([]byte, error) {
	exe, err := a.build(ctx, pack.BuildOptions{Dir: bf.source, GOARCH: goarch, Version: bf.version, Revision: revision,
		Toolchain: bf.toolchain, Stderr: a.stderr})
	if err == nil {
		err = checkBootstrap(exe, goarch)
	}
	if err != nil {
		return nil, err
	}
	return exe, nil
}

// packageFlags registers --zip and the build flags of deploy and update.
// What it returns opens the stage named in args (openStage) and yields the
// package to upload: the --zip file, checked, or a fresh build.
func (a *app) packageFlags(fs *flag.FlagSet, c *common) func(context.Context, []string) (stage.Settings, *awsClient, []byte, error) {
	var bf buildFlags
	bf.register(fs)
	zipPath := fs.String("zip", "", "upload this `package` (from relayctl package) instead of building one")
	return func(ctx context.Context, args []string) (stage.Settings, *awsClient, []byte, error) {
		s, cl, err := a.openStage(ctx, fs, c, args)
		if err != nil {
			return s, nil, nil, err
		}
		var zipFile []byte
		if *zipPath == "" {
			zipFile, err = a.buildZip(ctx, s, bf)
		} else {
			zipFile, err = readZip(*zipPath, s.GOARCH())
		}
		if err == nil && len(zipFile) > pack.MaxDirectUpload {
			err = fmt.Errorf("the package is %d bytes; Lambda takes at most %d bytes uploaded directly", len(zipFile), pack.MaxDirectUpload)
		}
		return s, cl, zipFile, err
	}
}

// readZip reads a package and checks its bootstrap.
func readZip(path, goarch string) ([]byte, error) {
	zipFile, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	bootstrap, err := pack.ReadBootstrap(zipFile)
	if err == nil {
		err = checkBootstrap(bootstrap, goarch)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return zipFile, nil
}

// checkBootstrap makes sure the bootstrap is a static linux executable for
// the stage's architecture, so a package built for the wrong stage is not
// uploaded.
func checkBootstrap(b []byte, goarch string) error {
	f, err := elf.NewFile(bytes.NewReader(b))
	if err != nil {
		return fmt.Errorf("bootstrap is not a linux executable: %w", err)
	}
	want := map[string]elf.Machine{"arm64": elf.EM_AARCH64, "amd64": elf.EM_X86_64}[goarch]
	if f.Machine != want {
		return fmt.Errorf("bootstrap is built for %v, but the stage's architecture is %s", f.Machine, goarch)
	}
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			return fmt.Errorf("bootstrap is dynamically linked; build it with CGO_ENABLED=0 (relayctl package does)")
		}
	}
	return nil
}
