package relayctl

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"golang.org/x/term"

	"github.com/signals-relay/signals-relay/internal/pack"
	"github.com/signals-relay/signals-relay/internal/stage"
	"github.com/signals-relay/signals-relay/internal/version"
)

const usage = `relayctl packages the signals-relay for AWS Lambda and manages its deployment.

Usage:
  relayctl package  STAGE [-o FILE] [--source DIR] [--relay-version V]
  relayctl deploy   STAGE [--create-role] [--zip FILE]
  relayctl update   STAGE [--zip FILE]
  relayctl status   STAGE
  relayctl rollback STAGE [-n N]
  relayctl invoke   STAGE [--health | --observe FILE] [--jwt-file FILE]
  relayctl tail     STAGE [--since 10m] [--http | --non-http] [--filter PATTERN] [--follow]
  relayctl undeploy STAGE [--yes] [--remove-logs]
  relayctl jwt      STAGE [-f credentials.json] [--set-secret [--roll-forward]]
  relayctl module-type --url URL [--region us|eu|apjc]
  relayctl image    [--platform linux/amd64,linux/arm64] (--output FILE | --push REF)
  relayctl version

Every command takes --settings FILE (default relay_settings.json, or
$RELAYCTL_SETTINGS) and --profile NAME (overrides the stage's profile_name).
Run "relayctl COMMAND -h" for a command's flags; docs/aws.md has the AWS setup.
`

// app is relayctl with its surroundings: the process's I/O and environment,
// and the seams tests replace (AWS configuration, build, terminal, clock).
type app struct {
	getenv func(string) string
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer
	// awsConfig loads the SDK configuration for a stage.
	awsConfig func(ctx context.Context, s stage.Settings, profile string) (aws.Config, error)
	// build compiles the bootstrap.
	build func(ctx context.Context, o pack.BuildOptions) ([]byte, error)
	// terminal reports whether r is an interactive terminal and, if so,
	// returns a reader of one hidden line from it.
	terminal func(r io.Reader) (readHidden func() (string, error), ok bool)
	// random is the secret's randomness; nil means crypto/rand.
	random io.Reader
	// poll is the delay between AWS polls; zero means awsops' default.
	poll time.Duration
	// httpClient calls Function URLs; nil means awsops' default.
	httpClient *http.Client
}

// Run is relayctl: it parses args and runs one command.
func Run(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	a := &app{
		getenv:    getenv,
		stdin:     stdin,
		stdout:    stdout,
		stderr:    stderr,
		awsConfig: LoadConfig,
		build:     pack.Build,
		terminal:  terminalReader,
	}
	return a.run(ctx, args)
}

func (a *app) run(ctx context.Context, args []string) error {
	if len(args) == 0 {
		fmt.Fprint(a.stderr, usage)
		return flag.ErrHelp
	}
	cmd, rest := args[0], args[1:]
	switch cmd {
	case "package":
		return a.cmdPackage(ctx, rest)
	case "deploy":
		return a.cmdDeploy(ctx, rest)
	case "update":
		return a.cmdUpdate(ctx, rest)
	case "status":
		return a.cmdStatus(ctx, rest)
	case "tail":
		return a.cmdTail(ctx, rest)
	case "undeploy":
		return a.cmdUndeploy(ctx, rest)
	case "rollback":
		return a.cmdRollback(ctx, rest)
	case "invoke":
		return a.cmdInvoke(ctx, rest)
	case "jwt":
		return a.cmdJWT(ctx, rest)
	case "module-type":
		return a.cmdModuleType(rest)
	case "image":
		return a.cmdImage(ctx, rest)
	case "version", "--version":
		fmt.Fprintln(a.stdout, "relayctl", version.Version)
		return nil
	case "help", "-h", "-help", "--help":
		fmt.Fprint(a.stdout, usage)
		return nil
	}
	fmt.Fprint(a.stderr, usage)
	return fmt.Errorf("unknown command %q", cmd)
}

// common are the flags every stage command takes.
type common struct {
	settings string
	profile  string
}

// newFlags returns a command's flag set with the common flags.
func (a *app) newFlags(name, synopsis string) (*flag.FlagSet, *common) {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(a.stderr)
	c := &common{}
	def := a.getenv("RELAYCTL_SETTINGS")
	if def == "" {
		def = "relay_settings.json"
	}
	fs.StringVar(&c.settings, "settings", def, "stage settings `file`")
	fs.StringVar(&c.profile, "profile", "", "AWS `profile` to use instead of the stage's profile_name")
	fs.Usage = func() {
		fmt.Fprintf(a.stderr, "Usage: relayctl %s %s\n\nFlags:\n", name, synopsis)
		fs.PrintDefaults()
	}
	return fs, c
}

// parse parses flags that may come before or after the one STAGE argument.
func parse(fs *flag.FlagSet, args []string) (string, error) {
	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			return "", err
		}
		if fs.NArg() == 0 {
			break
		}
		positional = append(positional, fs.Arg(0))
		args = fs.Args()[1:]
	}
	switch len(positional) {
	case 0:
		fs.Usage()
		return "", errors.New("missing STAGE")
	case 1:
		return positional[0], nil
	}
	fs.Usage()
	return "", fmt.Errorf("unexpected arguments %s", strings.Join(positional[1:], " "))
}

// stage loads the named stage.
func (c *common) stage(name string) (stage.Settings, error) {
	f, err := stage.Load(c.settings)
	if err != nil {
		return stage.Settings{}, err
	}
	return f.Stage(name)
}

// openStage parses a stage command's arguments and returns the stage's
// name, its settings and an AWS client for it.
func (a *app) openStage(ctx context.Context, fs *flag.FlagSet, c *common, args []string) (string, stage.Settings, *Client, error) {
	name, err := parse(fs, args)
	if err != nil {
		return "", stage.Settings{}, nil, err
	}
	s, err := c.stage(name)
	if err != nil {
		return "", stage.Settings{}, nil, err
	}
	cl, err := a.client(ctx, s, c)
	return name, s, cl, err
}

// client returns an AWS client for the stage after checking that
// credentials can be found.
func (a *app) client(ctx context.Context, s stage.Settings, c *common) (*Client, error) {
	cfg, err := a.awsConfig(ctx, s, c.profile)
	if err != nil {
		return nil, err
	}
	cl := New(cfg)
	cl.Profile = c.profile
	if cl.Profile == "" {
		cl.Profile = s.Profile
	}
	cl.Progress = a.stderr
	cl.Poll = a.poll
	cl.HTTPClient = a.httpClient
	if err := cl.CheckCredentials(ctx, cfg); err != nil {
		return nil, err
	}
	return cl, nil
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
