package domain_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/stratahq/strata/domain"
)

func TestParseExecutionID(t *testing.T) {
	tests := []struct {
		name, in string
		want     domain.ExecutionID
		wantErr  string
	}{
		{"canonical", "0190f5a2-7b3c-7d4e-8f60-0123456789ab", "0190f5a2-7b3c-7d4e-8f60-0123456789ab", ""},
		{"uppercase is normalised", "0190F5A2-7B3C-7D4E-8F60-0123456789AB", "0190f5a2-7b3c-7d4e-8f60-0123456789ab", ""},
		{"empty", "", "", "empty"},
		{"spaces", " 0190f5a2-7b3c-7d4e-8f60-0123456789a", "", "not a hex digit"},
		{"no dashes", "0190f5a27b3c7d4e8f600123456789abcdef", "", "want '-'"},
		{"short", "0190f5a2", "", "want 36 characters"},
		{"overlong", strings.Repeat("a", 1000), "", "want 36 characters"},
		{"not hex", "0190f5a2-7b3c-7d4e-8f60-0123456789xz", "", "not a hex digit"},
		{"control char", "0190f5a2-7b3c-7d4e-8f60-0123456789a\x00", "", "not a hex digit"},
		{"dot dot", "../../etc/passwd-0000-0000-000000000", "", "not a hex digit"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := domain.ParseExecutionID(tt.in)
			if tt.wantErr != "" {
				if !errors.Is(err, domain.ErrInvalid) || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("ParseExecutionID(%q) error = %v, want ErrInvalid mentioning %q", tt.in, err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("ParseExecutionID(%q) = %q, %v, want %q", tt.in, got, err, tt.want)
			}
		})
	}
}

func TestCheckID(t *testing.T) {
	if err := domain.CheckID("datum", domain.DatumID("0190f5a2-7b3c-7d4e-8f60-0123456789ab")); err != nil {
		t.Errorf("CheckID(canonical) = %v, want nil", err)
	}
	for _, bad := range []string{"", "0190F5A2-7B3C-7D4E-8F60-0123456789AB", "x"} {
		if err := domain.CheckID("datum", domain.DatumID(bad)); !errors.Is(err, domain.ErrInvalid) {
			t.Errorf("CheckID(%q) = %v, want ErrInvalid", bad, err)
		}
	}
}

func TestParseIDs_AllKinds(t *testing.T) {
	const id = "0190f5a2-7b3c-7d4e-8f60-0123456789ab"
	parsers := map[string]func(string) error{
		"project":     func(s string) error { _, err := domain.ParseProjectID(s); return err },
		"datum":       func(s string) error { _, err := domain.ParseDatumID(s); return err },
		"dataset":     func(s string) error { _, err := domain.ParseDatasetID(s); return err },
		"task":        func(s string) error { _, err := domain.ParseTaskID(s); return err },
		"pipeline":    func(s string) error { _, err := domain.ParsePipelineID(s); return err },
		"deployment":  func(s string) error { _, err := domain.ParseDeploymentID(s); return err },
		"environment": func(s string) error { _, err := domain.ParseEnvironmentID(s); return err },
	}
	for kind, parse := range parsers {
		if err := parse(id); err != nil {
			t.Errorf("parse %s id: %v", kind, err)
		}
		if err := parse("nope"); !errors.Is(err, domain.ErrInvalid) || !strings.Contains(err.Error(), kind) {
			t.Errorf("parse %s id %q = %v, want ErrInvalid naming %q", kind, "nope", err, kind)
		}
	}
}
