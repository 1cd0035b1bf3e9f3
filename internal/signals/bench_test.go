package signals

import (
	"os"
	"path/filepath"
	"testing"
)

// BenchmarkDecodeReport decodes one report body the way the client does:
// a realistic report with lists in every part, and one with every quirk.
func BenchmarkDecodeReport(b *testing.B) {
	for _, name := range []string{
		"reports/ip-report_malicious_203.0.113.66_score-3.json",
		"special/192.0.2.4_quirky-types.json",
	} {
		body, err := os.ReadFile(filepath.Join("..", "simulator", "data", filepath.FromSlash(name)))
		if err != nil {
			b.Fatal(err)
		}
		b.Run(filepath.Base(name), func(b *testing.B) {
			b.SetBytes(int64(len(body)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := decodeReport(body); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
