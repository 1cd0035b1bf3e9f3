// Package relayctl is the relayctl command: it packages the relay for AWS
// Lambda and deploys it as a function whose alias "live" serves a published
// version behind a Function URL, updates its code and configuration
// (finishing a deployment that stopped half-way), rolls the alias back,
// reports its status, calls it as XDR does, reads its logs, sets its
// SECRET_KEY and removes it again; it also makes the JWT, the module type
// and the container image.
//
// It calls only these AWS APIs, which the deployment policy shipped in
// deploy/iam/ allows:
//
//   - Lambda: GetFunction, ListTags (GetFunction returns tags only to a
//     caller allowed it), GetFunctionConfiguration, CreateFunction,
//     UpdateFunctionCode, UpdateFunctionConfiguration, DeleteFunction,
//     PublishVersion, ListVersionsByFunction, GetAlias, CreateAlias,
//     UpdateAlias, CreateFunctionUrlConfig, GetFunctionUrlConfig,
//     DeleteFunctionUrlConfig, GetPolicy, AddPermission (on alias live,
//     for principal "*" only) (plus TagResource, which CreateFunction needs
//     for tags);
//   - IAM: GetRole, CreateRole (with TagRole for its tags) and PutRolePolicy,
//     both only with the permissions boundary boundaryPolicyName,
//     ListRolePolicies, DeleteRolePolicy, DeleteRole, and PassRole when the
//     function is created;
//   - STS: GetCallerIdentity (which needs no permission), for the account a
//     role's boundary lives in;
//   - CloudWatch Logs: CreateLogGroup, PutRetentionPolicy, FilterLogEvents,
//     DeleteLogGroup.
//
// Setting SECRET_KEY after a rollback also downloads the served version's
// code from the presigned Code.Location of GetFunction, which needs no
// permission of its own.
//
// Every AWS error a command returns has gone through Explain, so it reads as
// one line naming the failed call, the fix when known, and AWS's own error
// code, message and request id.
package relayctl

import (
	"cmp"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"golang.org/x/term"

	"github.com/signals-relay/signals-relay/internal/pack"
	"github.com/signals-relay/signals-relay/internal/stage"
	"github.com/signals-relay/signals-relay/internal/version"
	"github.com/signals-relay/signals-relay/internal/xdrregion"
)

// command is one of relayctl's commands: its usage line and its run.
type command struct {
	name, synopsis string
	run            func(a *app, ctx context.Context, args []string) error
}

// commands are relayctl's commands, in the order help lists them: the one
// place run, the overview and each command's -h take them from.
func commands() []command {
	return []command{
		{"package", "STAGE [-o FILE] [--source DIR] [--relay-version V] [--toolchain GO]", (*app).cmdPackage},
		{"deploy", "STAGE [--create-role] [--zip FILE | --source DIR --relay-version V --toolchain GO]", (*app).cmdDeploy},
		{"update", "STAGE [--zip FILE | --source DIR --relay-version V --toolchain GO]", (*app).cmdUpdate},
		{"status", "STAGE", (*app).cmdStatus},
		{"rollback", "STAGE [-n N]", (*app).cmdRollback},
		{"invoke", "STAGE [--health | --observe FILE] [--jwt-file FILE | --jwt JWT]", (*app).cmdInvoke},
		{"tail", "STAGE [--since 10m] [--http | --non-http] [--filter PATTERN] [--follow]", (*app).cmdTail},
		{"undeploy", "STAGE [--yes] [--remove-logs]", (*app).cmdUndeploy},
		{"jwt", "STAGE [-f credentials.json] [--set-secret [--roll-forward]] [--module-link-template TEMPLATE]", (*app).cmdJWT},
		{"module-type", "--url URL [--region " + strings.Join(xdrregion.Names(), "|") + "]", (*app).cmdModuleType},
		{"image", "[--platform linux/amd64,linux/arm64] [--source DIR] [--relay-version V] [--toolchain GO] (--output FILE | --push REF)", (*app).cmdImage},
	}
}

// lookup returns the command called name.
func lookup(name string) (command, bool) {
	all := commands()
	i := slices.IndexFunc(all, func(c command) bool { return c.name == name })
	if i < 0 {
		return command{}, false
	}
	return all[i], true
}

// usage is relayctl's help.
func usage() string {
	var b strings.Builder
	b.WriteString("relayctl packages the signals-relay for AWS Lambda and manages its deployment.\n\nUsage:\n")
	for _, c := range commands() {
		fmt.Fprintf(&b, "  relayctl %-8s %s\n", c.name, c.synopsis)
	}
	b.WriteString(`  relayctl version

Every command with a STAGE also takes --settings FILE (default
relay_settings.json, or $RELAYCTL_SETTINGS) and --profile NAME (overrides
the stage's profile_name). Release builds use Go ` + pack.ReleaseToolchain + ` (go.mod's
toolchain) whatever GOTOOLCHAIN says; --toolchain local uses the installed Go.
Run "relayctl COMMAND -h" for a command's flags; docs/aws.md has the AWS setup.
`)
	return b.String()
}

// app is relayctl with its surroundings: the process's I/O and environment,
// and the seams tests replace.
type app struct {
	getenv         func(string) string
	stdin          io.Reader
	stdout, stderr io.Writer
	awsConfig      func(ctx context.Context, region, profile string) (aws.Config, error)
	build          func(ctx context.Context, o pack.BuildOptions) ([]byte, error)
	// terminal returns a reader of one hidden line when r is a terminal.
	terminal func(r io.Reader) (readHidden func() (string, error), ok bool)
	random   io.Reader     // the secret's randomness; nil means crypto/rand
	poll     time.Duration // zero keeps awsClient's default
	// httpClient calls Function URLs; nil keeps awsClient's default.
	httpClient *http.Client
}

// Run is relayctl: it parses args and runs one command.
func Run(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	a := &app{getenv: getenv, stdin: stdin, stdout: stdout, stderr: stderr,
		awsConfig: loadConfig, build: pack.Build, terminal: terminalReader}
	return a.run(ctx, args)
}

func (a *app) run(ctx context.Context, args []string) error {
	if len(args) == 0 {
		fmt.Fprint(a.stderr, usage())
		return flag.ErrHelp
	}
	switch cmd := args[0]; cmd {
	case "version", "--version":
		fmt.Fprintln(a.stdout, "relayctl", version.Version)
	case "help", "-h", "-help", "--help":
		fmt.Fprint(a.stdout, usage())
	default:
		if c, ok := lookup(cmd); ok {
			// A command's help, asked for with -h, is an answer, not an
			// error.
			if err := c.run(a, ctx, args[1:]); !errors.Is(err, flag.ErrHelp) {
				return err
			}
			return nil
		}
		fmt.Fprint(a.stderr, usage())
		return fmt.Errorf("unknown command %q", cmd)
	}
	return nil
}

// common are the flags every stage command takes.
type common struct {
	settings string
	profile  string
}

// newFlags returns a stage command's flag set with the common flags.
func (a *app) newFlags(name string) (*flag.FlagSet, *common) {
	fs := a.flagSet(name)
	c := &common{}
	fs.StringVar(&c.settings, "settings", cmp.Or(a.getenv("RELAYCTL_SETTINGS"), "relay_settings.json"), "stage settings `file`")
	fs.StringVar(&c.profile, "profile", "", "AWS `profile` to use instead of the stage's profile_name")
	return fs, c
}

// flagSet returns a command's flag set, whose usage is its synopsis and
// its flags.
func (a *app) flagSet(name string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(a.stderr)
	fs.Usage = func() {
		c, _ := lookup(name)
		fmt.Fprintf(a.stderr, "Usage: relayctl %s %s\n\nFlags:\n", name, c.synopsis)
		fs.PrintDefaults()
	}
	return fs
}

// load parses flags that may come before or after the one STAGE argument
// and loads that stage.
func (c *common) load(fs *flag.FlagSet, args []string) (stage.Settings, error) {
	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			return stage.Settings{}, err
		}
		if fs.NArg() == 0 {
			break
		}
		positional = append(positional, fs.Arg(0))
		args = fs.Args()[1:]
	}
	if len(positional) != 1 {
		fs.Usage()
		if len(positional) == 0 {
			return stage.Settings{}, errors.New("missing STAGE")
		}
		return stage.Settings{}, fmt.Errorf("unexpected arguments %s", strings.Join(positional[1:], " "))
	}
	f, err := stage.Load(c.settings)
	if err != nil {
		return stage.Settings{}, err
	}
	return f.Stage(positional[0])
}

// openStage loads the stage from a stage command's arguments and returns
// an AWS client for it.
func (a *app) openStage(ctx context.Context, fs *flag.FlagSet, c *common, args []string) (stage.Settings, *awsClient, error) {
	s, err := c.load(fs, args)
	if err != nil {
		return s, nil, err
	}
	cl, err := a.client(ctx, s, c)
	return s, cl, err
}

// client returns an AWS client for the stage after checking that
// credentials can be found.
func (a *app) client(ctx context.Context, s stage.Settings, c *common) (*awsClient, error) {
	profile := cmp.Or(c.profile, s.Profile)
	cfg, err := a.awsConfig(ctx, s.Region, profile)
	if err != nil {
		return nil, err
	}
	cl := newAWSClient(cfg)
	cl.Profile, cl.Progress, cl.HTTPClient = profile, a.stderr, a.httpClient
	cl.Poll = cmp.Or(a.poll, cl.Poll)
	return cl, cl.CheckCredentials(ctx, cfg)
}

// terminalReader reads hidden input when r is a terminal.
func terminalReader(r io.Reader) (func() (string, error), bool) {
	f, ok := r.(*os.File)
	if !ok || !term.IsTerminal(int(f.Fd())) {
		return nil, false
	}
	return func() (string, error) {
		b, err := term.ReadPassword(int(f.Fd()))
		return string(b), err
	}, true
}
