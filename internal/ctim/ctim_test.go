package ctim

import (
	"strings"
	"testing"
	"unicode/utf16"
)

func TestTruncateCountsUTF16Units(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   string
		max  int
		want string
	}{
		{"ascii fits", "abc", 3, "abc"},
		{"ascii cut", "abcd", 3, "ab…"},
		{"emoji fit in units", strings.Repeat("😀", 2), 4, strings.Repeat("😀", 2)},
		{"emoji over the limit in units", strings.Repeat("😀", 3), 4, "😀…"},
		{"1,024 emoji as a title", strings.Repeat("😀", 1024), ShortStringMax, strings.Repeat("😀", 511) + "…"},
		{"pair never split", "a😀b", 3, "a…"},
		{"nothing allowed", "abc", 0, ""},
		{"invalid UTF-8 replaced", "a\xffb", 5, "a\uFFFDb"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := Truncate(tc.in, tc.max)
			if got != tc.want {
				t.Errorf("Truncate(%q, %d) = %q, want %q", tc.in, tc.max, got, tc.want)
			}
			if n := len(utf16.Encode([]rune(got))); n > max(tc.max, 0) {
				t.Errorf("result has %d UTF-16 units, limit %d", n, tc.max)
			}
		})
	}
}
