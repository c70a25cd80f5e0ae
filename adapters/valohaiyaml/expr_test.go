package valohaiyaml_test

import (
	"testing"
	"time"

	"github.com/stratahq/strata/adapters/valohaiyaml"
)

func TestCheckExpression(t *testing.T) {
	tests := []struct {
		expr string
		ok   bool
	}{
		{"stop > 1", true},
		{"metadata.accuracy < .8", true},
		{"metadata.accuracy <= .8", true},
		{"a", true},
		{"loss < 0.1 and epoch >= 10", true},
		{"not (a or b)", true},
		{"x in [1, 2, 3]", true},
		{"x not in ('a', \"b\")", true},
		{"x is not None", true},
		{"1 < x < 5", true},
		{"max(a, b) ** 2 - -1e-3 // 4 % 2", true},
		{"metadata['val-loss'] < 1", true},
		{"a if b else c", true},
		{"items[1:2]", true},
		{"0x1f & 3 | 1 ^ 2 << 1", true},
		{"stop me if you can", false},
		{"can't stop me now", false},
		{"", false},
		{"a <", false},
		{"(a", false},
		{"a)", false},
		{"a = 1", false},
		{"import os", false},
		{"a.", false},
		{"a.if", false},
		{"1abc", false},
		{"a ? b", false},
		{"a if b", false},
		{"f(a,,b)", false},
	}
	for _, tt := range tests {
		t.Run(tt.expr, func(t *testing.T) {
			err := valohaiyaml.CheckExpression(tt.expr)
			if (err == nil) != tt.ok {
				t.Errorf("CheckExpression(%q) = %v, want ok = %v", tt.expr, err, tt.ok)
			}
		})
	}
}

func TestCheckExpression_deep(t *testing.T) {
	deep := ""
	for range 5000 {
		deep += "("
	}
	if err := valohaiyaml.CheckExpression(deep + "a"); err == nil {
		t.Error("CheckExpression(deep) = nil, want an error")
	}
}

func TestParseDuration(t *testing.T) {
	tests := []struct {
		in      string
		want    time.Duration
		wantErr bool
	}{
		{"1h 30m 5s", time.Hour + 30*time.Minute + 5*time.Second, false},
		{"48h", 48 * time.Hour, false},
		{"6h", 6 * time.Hour, false},
		{"90s", 90 * time.Second, false},
		{"2d", 48 * time.Hour, false},
		{"1w", 7 * 24 * time.Hour, false},
		{"1.5 hours", 90 * time.Minute, false},
		{"10 minutes, 5 seconds", 10*time.Minute + 5*time.Second, false},
		{"1H", time.Hour, false},
		{"0s", 0, true},
		{"300", 0, true},
		{"5 fortnights", 0, true},
		{"abc", 0, true},
		{"", 0, true},
		{"99999999w", 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := valohaiyaml.ParseDuration(tt.in)
			if (err != nil) != tt.wantErr {
				t.Fatalf("ParseDuration(%q) error = %v, wantErr %v", tt.in, err, tt.wantErr)
			}
			if got != tt.want {
				t.Errorf("ParseDuration(%q) = %v, want %v", tt.in, got, tt.want)
			}
		})
	}
}
