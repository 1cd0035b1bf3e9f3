// Command hello stands in for the relay in the packaging tests: it prints
// the stamped version and whether it was built with the lambda.norpc tag.
package main

import (
	"fmt"

	"github.com/signals-relay/signals-relay/internal/version"
)

func main() { fmt.Printf("version=%s norpc=%v\n", version.Version, norpc) }
