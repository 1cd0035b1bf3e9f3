package relayctl

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strings"
)

// cmdInvoke calls the deployed relay through its Function URL as XDR
// would and prints the answer. The JWT is sent and never printed.
func (a *app) cmdInvoke(ctx context.Context, args []string) error {
	fs, c := a.newFlags("invoke", "STAGE [--health | --observe FILE] [--jwt-file FILE]")
	health := fs.Bool("health", false, "call /health (the default)")
	observe := fs.String("observe", "", "call /observe/observables with the observables in this JSON `file`")
	jwtFile := fs.String("jwt-file", "", "read the JWT from this `file` (default: $JWT)")
	jwtFlag := fs.String("jwt", "", "the `JWT` itself (other users can see it in the process list: prefer $JWT or --jwt-file)")
	_, s, cl, err := a.openStage(ctx, fs, c, args)
	if err != nil {
		return err
	}
	req := InvokeRequest{Route: "/health"}
	switch {
	case *health && *observe != "":
		return errors.New("invoke: --health and --observe exclude each other")
	case *observe != "":
		req.Route = "/observe/observables"
		if req.Body, err = os.ReadFile(*observe); err != nil {
			return err
		}
		if !json.Valid(req.Body) {
			return fmt.Errorf("invoke: %s is not JSON", *observe)
		}
	}
	if req.JWT, err = a.token(*jwtFlag, *jwtFile); err != nil {
		return err
	}
	res, err := cl.Invoke(ctx, s, req)
	if err != nil {
		return err
	}
	fmt.Fprintf(a.stderr, "POST %s → %d %s\n", res.URL, res.Status, http.StatusText(res.Status))
	var pretty bytes.Buffer
	if json.Indent(&pretty, res.Body, "", "  ") == nil {
		res.Body = pretty.Bytes()
	}
	fmt.Fprintf(a.stdout, "%s\n", bytes.TrimSpace(res.Body))
	if res.Status != http.StatusOK {
		return fmt.Errorf("invoke: the relay answered %d %s", res.Status, http.StatusText(res.Status))
	}
	return nil
}

// token returns the JWT from the flag, the file or $JWT, in that order.
func (a *app) token(flagValue, file string) (string, error) {
	t := flagValue
	if t == "" && file != "" {
		b, err := os.ReadFile(file)
		if err != nil {
			return "", err
		}
		t = string(b)
	}
	if t == "" {
		t = a.getenv("JWT")
	}
	t = strings.TrimSpace(t)
	if t == "" {
		return "", errors.New("invoke: no JWT: set JWT, or pass --jwt-file FILE (`relayctl jwt` makes one)")
	}
	return t, nil
}
