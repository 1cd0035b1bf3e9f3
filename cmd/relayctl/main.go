// Command relayctl packages the signals-relay for AWS Lambda and deploys,
// updates, watches and removes it, the way Zappa did for the original
// Python relay; its jwt command makes the SECRET_KEY and the JWT the Threat
// Response module needs, and its image command builds the container image.
//
// Usage:
//
//	relayctl package  STAGE [-o FILE] [--source DIR] [--relay-version V]
//	relayctl deploy   STAGE [--create-role] [--zip FILE]
//	relayctl update   STAGE [--zip FILE]
//	relayctl status   STAGE
//	relayctl rollback STAGE [-n N]
//	relayctl invoke   STAGE [--health | --observe FILE] [--jwt-file FILE]
//	relayctl tail     STAGE [--since 10m] [--http | --non-http] [--filter PATTERN] [--follow]
//	relayctl undeploy STAGE [--yes] [--remove-logs]
//	relayctl jwt      STAGE [-f credentials.json] [--set-secret]
//	relayctl image    [--platform linux/amd64,linux/arm64] (--output FILE | --push REF)
//	relayctl module-type --url URL [--region us|eu|apjc]
//	relayctl version
//
// Every command reads the stage from relay_settings.json (or --settings,
// or $RELAYCTL_SETTINGS); see deploy/relay_settings.json and docs/aws.md.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Getenv, os.Stdin, os.Stdout, os.Stderr)
	stop()
	switch {
	case errors.Is(err, flag.ErrHelp):
		os.Exit(2)
	case err != nil:
		fmt.Fprintln(os.Stderr, "relayctl:", err)
		os.Exit(1)
	}
}
