package cmdflag_test

import (
	"flag"
	"io"
	"strings"
	"testing"

	"github.com/signals-relay/signals-relay/internal/cmdflag"
)

func TestParse(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name     string
		args     []string
		wantHelp bool
		wantErr  string
		wantAddr string
	}{
		{name: "flags", args: []string{"-addr", ":1"}, wantAddr: ":1"},
		{name: "none", wantAddr: "default"},
		{name: "help", args: []string{"-h"}, wantHelp: true, wantAddr: "default"},
		{name: "unknown flag", args: []string{"-nope"}, wantErr: "not defined", wantAddr: "default"},
		{name: "argument", args: []string{"-addr", ":2", "extra"}, wantErr: `cmd: unexpected argument "extra"`, wantAddr: ":2"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			fs := flag.NewFlagSet("cmd", flag.ContinueOnError)
			fs.SetOutput(io.Discard)
			addr := fs.String("addr", "default", "")
			help, err := cmdflag.Parse(fs, tc.args)
			if help != tc.wantHelp || *addr != tc.wantAddr {
				t.Errorf("help %t, addr %q; want %t, %q", help, *addr, tc.wantHelp, tc.wantAddr)
			}
			if tc.wantErr == "" && err != nil || tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)) {
				t.Errorf("err = %v, want %q", err, tc.wantErr)
			}
		})
	}
}
