package relayctl

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/signals-relay/signals-relay/internal/jwtgen"
	"github.com/signals-relay/signals-relay/internal/stage"
)

// cmdJWT is the JWT generator: it asks for the module's credentials (or
// reads them from a file), makes a SECRET_KEY, signs the JWT and prints both
// with the links that finish the deployment. With --set-secret it also
// writes SECRET_KEY into the function's environment and publishes a version
// that keeps the code alias live serves (after a rollback too, unless
// --roll-forward). SECRET_KEY is printed here and nowhere else.
func (a *app) cmdJWT(ctx context.Context, args []string) error {
	fs, c := a.newFlags("jwt")
	file := fs.String("f", "", "read the JWT fields from this JSON `file` instead of asking")
	setSecret := fs.Bool("set-secret", false, "write SECRET_KEY into the function's environment (other variables are kept)")
	rollForward := fs.Bool("roll-forward", false, "with --set-secret after a rollback: publish $LATEST's newer code with the new SECRET_KEY instead of the code alias live serves")
	linkTemplate := fs.String("module-link-template", "", "module-creation link `template` with {region} and {module_type_id} (default: the stage's module_link_template)")
	s, err := c.load(fs, args)
	if err != nil {
		return err
	}
	if *rollForward && !*setSecret {
		return errors.New("jwt: --roll-forward goes with --set-secret")
	}
	if *linkTemplate != "" {
		if err := stage.CheckModuleLinkTemplate(*linkTemplate); err != nil {
			return fmt.Errorf("--module-link-template: %w", err)
		}
		s.ModuleLinkTemplate = *linkTemplate
	}
	var cl *awsClient
	if *setSecret { // before the operator types the API key
		if cl, err = a.client(ctx, s, c); err != nil {
			return err
		}
	}

	fields := jwtgen.Structure()
	var values map[string]string
	if *file != "" {
		data, err := os.ReadFile(*file)
		if err != nil {
			return err
		}
		if values, err = jwtgen.FromJSON(data, fields); err != nil {
			return fmt.Errorf("%s: %w", *file, err)
		}
	} else {
		p := jwtgen.Prompter{In: bufio.NewReader(a.stdin), Out: a.stderr}
		if readHidden, ok := a.terminal(a.stdin); ok {
			p.ReadHidden = readHidden
		}
		if values, err = p.Ask(fields); err != nil {
			return err
		}
	}

	secret, err := jwtgen.NewSecret(a.random)
	if err != nil {
		return err
	}
	token, err := jwtgen.Sign(values, secret)
	if err != nil {
		return err
	}
	out := jwtgen.Output{
		Stage:      s.Stage,
		SecretKey:  secret,
		JWT:        token,
		ConsoleURL: s.ConsoleEnvironmentURL(),
		Links:      jwtgen.ModuleLinks(s.ModuleLinkTemplate),
		Function:   s.FunctionName(),
	}
	if cl != nil {
		res, err := cl.SetSecret(ctx, s, secret, *rollForward)
		if err != nil {
			return err
		}
		out.SecretSet, out.FunctionURL = true, res.URL
	}
	return out.Write(a.stdout)
}
