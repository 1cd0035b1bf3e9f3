//go:build release

package main

import (
	"context"
	"fmt"
	"io"
)

// A release build (-tags release), what production runs, leaves out the
// simulator and JWT generator; the commands built on them answer this error.
func errNotInRelease(cmd string) error {
	return fmt.Errorf("%s is not in release builds; run it from a development build: go run ./cmd/signals-relay %s", cmd, cmd)
}

func runDemo(context.Context, []string, func(string) string, io.Writer, io.Writer) error {
	return errNotInRelease("demo")
}

func runSimulate(context.Context, []string, io.Writer, io.Writer) error {
	return errNotInRelease("simulate")
}
