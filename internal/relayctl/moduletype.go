package relayctl

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/signals-relay/signals-relay/internal/moduletype"
	"github.com/signals-relay/signals-relay/internal/xdrregion"
)

// cmdModuleType prints the module_type.json that registers the relay with
// Cisco XDR (configuration-token auth, RS256). It needs no stage or AWS
// access: only the relay's public URL and the XDR region.
func (a *app) cmdModuleType(_ context.Context, args []string) error {
	fs := a.flagSet("module-type")
	url := fs.String("url", "", "the relay's public https `URL` (the same as its RELAY_URL)")
	region := fs.String("region", xdrregion.Names()[0], "XDR `region`: "+strings.Join(xdrregion.Names(), ", "))
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("module-type: unexpected argument %q", fs.Arg(0))
	}
	if *url == "" {
		return errors.New("module-type: --url is required (the relay's public https URL)")
	}
	out, err := moduletype.Render(moduletype.Options{RelayURL: *url, Region: *region})
	if err != nil {
		return fmt.Errorf("module-type: %w", err)
	}
	_, err = a.stdout.Write(out)
	return err
}
