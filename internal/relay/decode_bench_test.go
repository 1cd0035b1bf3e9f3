//go:build unix

package relay_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/signals-relay/signals-relay/internal/relay"
	"github.com/signals-relay/signals-relay/internal/simulator"
)

// BenchmarkLargeBody measures the cost of an authenticated observe call
// whose body is close to the 1 MiB cap: bodies refused at their first wrong
// element (target: under 20 ms of CPU each) and a body of 1 MiB of
// unsupported observables, which is answered and costs no upstream call.
// cpu-ms/op is the process's CPU time (user and system, garbage collection
// included) per call, which a busy machine distorts far less than ns/op.
//
//	go test ./internal/relay -run '^$' -bench LargeBody -benchmem -cpu 1
func BenchmarkLargeBody(b *testing.B) {
	domains := func() string {
		var sb strings.Builder
		sb.WriteString("[")
		for i := 0; sb.Len() < int(defaults.MaxBodyBytes)-64; i++ {
			if i > 0 {
				sb.WriteString(",")
			}
			fmt.Fprintf(&sb, `{"type":"domain","value":"d%d.example"}`, i)
		}
		return sb.String() + "]"
	}()
	for _, bc := range []struct {
		name, body string
		refused    bool
	}{
		{"refused/numbers", repeat(`1`, int(defaults.MaxBodyBytes)/2-1), true},
		{"refused/empty objects", repeat(`{}`, int(defaults.MaxBodyBytes)/3-1), true},
		{"refused/nested arrays", repeat(`[1]`, int(defaults.MaxBodyBytes)/4-1), true},
		{"answered/unsupported observables", domains, false},
	} {
		if len(bc.body) > int(defaults.MaxBodyBytes) {
			b.Fatalf("%s: body of %d bytes is over the cap", bc.name, len(bc.body))
		}
		b.Run(bc.name, func(b *testing.B) {
			e := newEnv(b, envOptions{secret: testSecret})
			authz := bearer(b, simulator.DemoKey)
			b.SetBytes(int64(len(bc.body)))
			b.ReportAllocs()
			start := processCPU(b)
			for b.Loop() {
				r := httptest.NewRequest(http.MethodPost, "/observe/observables", strings.NewReader(bc.body))
				r.Header.Set("Authorization", authz)
				w := httptest.NewRecorder()
				e.handler.ServeHTTP(w, r)
				if refused := strings.Contains(w.Body.String(), relay.CodeInvalidArgument); refused != bc.refused {
					b.Fatalf("answer %.200s", w.Body.String())
				}
			}
			cpu := processCPU(b) - start
			b.ReportMetric(float64(cpu)/float64(time.Millisecond)/float64(b.N), "cpu-ms/op")
		})
	}
}

// processCPU is the CPU time the process has used so far.
func processCPU(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
