// Package signalsrelay holds the files of the repository that the commands
// embed.
package signalsrelay

import _ "embed"

// DemoObservables is observables.json: the sample request the demo runs
// through /observe/observables, the same file the README's curl lines use.
//
//go:embed observables.json
var DemoObservables []byte
