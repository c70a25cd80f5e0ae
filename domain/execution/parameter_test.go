package execution_test

import (
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/stratahq/strata/domain"
	"github.com/stratahq/strata/domain/execution"
)

func TestParameterDef_Validate(t *testing.T) {
	tests := []struct {
		name    string
		def     execution.ParameterDef
		values  []string
		want    []string // nil: omitted
		wantErr string
	}{
		{"integer", execution.ParameterDef{Name: "n", Type: execution.TypeInteger}, []string{"42"}, []string{"42"}, ""},
		{"integer canonical", execution.ParameterDef{Name: "n", Type: execution.TypeInteger}, []string{"+007"}, []string{"7"}, ""},
		{"integer not a float", execution.ParameterDef{Name: "n", Type: execution.TypeInteger}, []string{"5.0"}, nil, "not a base-10 integer"},
		{"integer overflow", execution.ParameterDef{Name: "n", Type: execution.TypeInteger}, []string{"99999999999999999999"}, nil, "not a base-10 integer"},
		{"integer below min", execution.ParameterDef{Name: "n", Type: execution.TypeInteger, Min: f64(1)}, []string{"0"}, nil, "below the minimum 1"},
		{"integer above max", execution.ParameterDef{Name: "n", Type: execution.TypeInteger, Max: f64(10)}, []string{"11"}, nil, "above the maximum 10"},
		{"integer at bounds", execution.ParameterDef{Name: "n", Type: execution.TypeInteger, Min: f64(1), Max: f64(1)}, []string{"1"}, []string{"1"}, ""},
		{"float", execution.ParameterDef{Name: "lr", Type: execution.TypeFloat}, []string{"1e-3"}, []string{"0.001"}, ""},
		{"float from integer text", execution.ParameterDef{Name: "lr", Type: execution.TypeFloat}, []string{"2"}, []string{"2"}, ""},
		{"float NaN", execution.ParameterDef{Name: "lr", Type: execution.TypeFloat}, []string{"NaN"}, nil, "not a finite"},
		{"float Inf", execution.ParameterDef{Name: "lr", Type: execution.TypeFloat}, []string{"inf"}, nil, "not a finite"},
		{"float hex", execution.ParameterDef{Name: "lr", Type: execution.TypeFloat}, []string{"0x1p-2"}, nil, "not a finite"},
		{"float range", execution.ParameterDef{Name: "lr", Type: execution.TypeFloat, Min: f64(0), Max: f64(1)}, []string{"1.5"}, nil, "above the maximum"},
		{"string", execution.ParameterDef{Name: "s"}, []string{"hello world\nline two"}, []string{"hello world\nline two"}, ""},
		{"string NUL", execution.ParameterDef{Name: "s"}, []string{"a\x00"}, nil, "NUL"},
		{"string bad utf8", execution.ParameterDef{Name: "s"}, []string{"\xff"}, nil, "UTF-8"},
		{"string too long", execution.ParameterDef{Name: "s"}, []string{strings.Repeat("x", execution.MaxParameterValueLen+1)}, nil, "longer than"},
		{"choices", execution.ParameterDef{Name: "opt", Choices: []string{"adam", "sgd"}}, []string{"sgd"}, []string{"sgd"}, ""},
		{"not a choice", execution.ParameterDef{Name: "opt", Choices: []string{"adam", "sgd"}}, []string{"Adam"}, nil, "not one of the choices"},
		{"integer choices compare canonically", execution.ParameterDef{Name: "k", Type: execution.TypeInteger, Choices: []string{"1", "2"}}, []string{"02"}, []string{"2"}, ""},
		{"flag true", execution.ParameterDef{Name: "v", Type: execution.TypeFlag}, []string{"Yes"}, []string{"true"}, ""},
		{"flag false", execution.ParameterDef{Name: "v", Type: execution.TypeFlag}, []string{"0"}, []string{"false"}, ""},
		{"flag defaults to false", execution.ParameterDef{Name: "v", Type: execution.TypeFlag}, nil, []string{"false"}, ""},
		{"flag bad", execution.ParameterDef{Name: "v", Type: execution.TypeFlag}, []string{"maybe"}, nil, "not a flag value"},
		{"default applies", execution.ParameterDef{Name: "n", Type: execution.TypeInteger, Default: []string{"3"}}, nil, []string{"3"}, ""},
		{"bad default", execution.ParameterDef{Name: "n", Type: execution.TypeInteger, Default: []string{"x"}}, nil, nil, `default "x"`},
		{"required", execution.ParameterDef{Name: "n"}, nil, nil, "required"},
		{"optional omitted", execution.ParameterDef{Name: "n", Optional: true}, nil, nil, ""},
		{"single refuses a list", execution.ParameterDef{Name: "n"}, []string{"a", "b"}, nil, "only a single value is allowed"},
		{"repeat takes a list", execution.ParameterDef{Name: "n", Multiple: execution.MultipleRepeat}, []string{"a", "b"}, []string{"a", "b"}, ""},
		{"multiple checks each value", execution.ParameterDef{Name: "n", Type: execution.TypeInteger, Multiple: execution.MultipleSeparate, Max: f64(5)}, []string{"1", "9"}, nil, "above the maximum"},
		{"multiple default list", execution.ParameterDef{Name: "n", Type: execution.TypeInteger, Multiple: execution.MultipleSeparate, Default: []string{"1000", "500"}}, nil, []string{"1000", "500"}, ""},
		{"unknown type", execution.ParameterDef{Name: "n", Type: "date"}, []string{"x"}, nil, "unknown type"},
		{"unknown multiple", execution.ParameterDef{Name: "n", Multiple: "many"}, []string{"x"}, nil, "unknown multiple"},
		{"min on string", execution.ParameterDef{Name: "n", Min: f64(1)}, []string{"x"}, nil, "min and max apply"},
		{"min above max", execution.ParameterDef{Name: "n", Type: execution.TypeFloat, Min: f64(2), Max: f64(1)}, []string{"1"}, nil, "above max"},
		{"NaN bound", execution.ParameterDef{Name: "n", Type: execution.TypeFloat, Min: f64(math.NaN())}, []string{"1"}, nil, "finite"},
		{"flag with choices", execution.ParameterDef{Name: "n", Type: execution.TypeFlag, Choices: []string{"true"}}, nil, nil, "no choices"},
		{"flag multiple", execution.ParameterDef{Name: "n", Type: execution.TypeFlag, Multiple: execution.MultipleRepeat}, nil, nil, "cannot be multiple"},
		{"choice of wrong type", execution.ParameterDef{Name: "n", Type: execution.TypeInteger, Choices: []string{"one"}}, []string{"1"}, nil, "choice"},
		{"blank name", execution.ParameterDef{Name: " "}, []string{"1"}, nil, "missing"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, ok, err := tt.def.Validate(tt.values)
			if tt.wantErr != "" {
				if !errors.Is(err, domain.ErrInvalid) || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Validate(%q) error = %v, want ErrInvalid mentioning %q", tt.values, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Validate(%q) error = %v", tt.values, err)
			}
			if ok != (tt.want != nil) {
				t.Fatalf("Validate(%q) ok = %v, want %v", tt.values, ok, tt.want != nil)
			}
			if ok {
				if diff := cmp.Diff(tt.want, p.Values); diff != "" {
					t.Errorf("Validate(%q) values (-want +got):\n%s", tt.values, diff)
				}
			}
		})
	}
}

func TestValidateParameters(t *testing.T) {
	defs := []execution.ParameterDef{{Name: "a", Type: execution.TypeInteger}, {Name: "b", Optional: true}}
	got, err := execution.ValidateParameters(defs, map[string][]string{"a": {"1"}})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]execution.Parameter{{Name: "a", Type: execution.TypeInteger, Values: []string{"1"}}}, got); diff != "" {
		t.Errorf("ValidateParameters() (-want +got):\n%s", diff)
	}
	if _, err := execution.ValidateParameters(defs, map[string][]string{"a": {"1"}, "zz": {"x"}}); !errors.Is(err, domain.ErrInvalid) || !strings.Contains(err.Error(), "zz") {
		t.Errorf("unknown parameter error = %v", err)
	}
	if _, err := execution.ValidateParameters(append(defs, defs[0]), map[string][]string{"a": {"1"}}); !errors.Is(err, domain.ErrInvalid) || !strings.Contains(err.Error(), "defined twice") {
		t.Errorf("duplicate definition error = %v", err)
	}
}

func TestParameter_Value(t *testing.T) {
	tests := []struct {
		p    execution.Parameter
		want any
	}{
		{execution.Parameter{Type: execution.TypeInteger, Values: []string{"42"}}, int64(42)},
		{execution.Parameter{Type: execution.TypeFloat, Values: []string{"0.5"}}, 0.5},
		{execution.Parameter{Type: execution.TypeFlag, Values: []string{"true"}}, true},
		{execution.Parameter{Type: execution.TypeString, Values: []string{"x"}}, "x"},
		{execution.Parameter{Type: execution.TypeString}, nil},
		{execution.Parameter{Type: execution.TypeInteger, Multiple: execution.MultipleRepeat, Values: []string{"1", "2"}}, []any{int64(1), int64(2)}},
	}
	for _, tt := range tests {
		if diff := cmp.Diff(tt.want, tt.p.Value()); diff != "" {
			t.Errorf("%+v.Value() (-want +got):\n%s", tt.p, diff)
		}
	}
}
