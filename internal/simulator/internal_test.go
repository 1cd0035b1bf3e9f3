package simulator

import (
	"net/netip"
	"strings"
	"testing"
)

func TestIsUUID(t *testing.T) {
	tests := []struct {
		in   string
		want bool
	}{
		{DemoKey, true},
		{strings.ToUpper(DemoKey), true},
		{"123e4567-e89b-12d3-a456-426614174000", true},  // version 1
		{"00000000-0000-0000-0000-000000000000", false}, // nil UUID: no version
		{"123e4567-e89b-62d3-a456-426614174000", false}, // version 6 is not RFC 4122
		{"123e4567-e89b-42d3-c456-426614174000", false}, // Microsoft variant
		{"123e4567e89b42d3a456426614174000", false},
		{"{123e4567-e89b-42d3-a456-426614174000}", false},
		{"123e4567-e89b-42d3-a456-42661417400g", false},
		{"123e4567-e89b-42d3-a456_426614174000", false},
		{"", false},
		{"not-a-key", false},
	}
	for _, tt := range tests {
		if got := isUUID(tt.in); got != tt.want {
			t.Errorf("isUUID(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

func TestLastAddr(t *testing.T) {
	tests := map[string]string{
		"10.1.2.0/24":      "10.1.2.255",
		"2001:db8:1::/48":  "2001:db8:1:ffff:ffff:ffff:ffff:ffff",
		"192.0.2.128/25":   "192.0.2.255",
		"198.51.100.7/32":  "198.51.100.7",
		"203.0.113.64/26":  "203.0.113.127",
		"2001:db8::5/128":  "2001:db8::5",
		"2001:db8::/32":    "2001:db8:ffff:ffff:ffff:ffff:ffff:ffff",
		"198.51.100.23/16": "198.51.255.255",
	}
	for in, want := range tests {
		if got := lastAddr(netip.MustParsePrefix(in)).String(); got != want {
			t.Errorf("lastAddr(%s) = %s, want %s", in, got, want)
		}
	}
}
