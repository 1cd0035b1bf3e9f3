// Package cmdflag parses a subcommand's flags the way the project's
// commands share: -h is success, and positional arguments are refused.
package cmdflag

import (
	"errors"
	"flag"
	"fmt"
)

// Parse parses args into fs, reporting help when asked (fs printed its usage)
// and failing on a flag error or an argument left after the flags.
func Parse(fs *flag.FlagSet, args []string) (help bool, err error) {
	err = fs.Parse(args)
	if errors.Is(err, flag.ErrHelp) {
		return true, nil
	}
	if err == nil && fs.NArg() > 0 {
		err = fmt.Errorf("%s: unexpected argument %q", fs.Name(), fs.Arg(0))
	}
	return false, err
}
