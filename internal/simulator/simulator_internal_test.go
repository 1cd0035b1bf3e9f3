package simulator

import (
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
