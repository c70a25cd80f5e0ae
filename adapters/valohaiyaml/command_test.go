package valohaiyaml_test

import (
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/stratahq/strata/adapters/valohaiyaml"
	"github.com/stratahq/strata/runner"
)

func f64(f float64) *float64 { return &f }

func TestParameter_FormatCLI(t *testing.T) {
	tests := []struct {
		name  string
		param valohaiyaml.Parameter
		value any
		want  []string
	}{
		{"default pass-as", valohaiyaml.Parameter{Name: "lr", Type: valohaiyaml.TypeFloat}, 0.001, []string{"--lr=0.001"}},
		{"python float repr", valohaiyaml.Parameter{Name: "x", Type: valohaiyaml.TypeFloat}, 1000.0, []string{"--x=1000.0"}},
		{"python small float repr", valohaiyaml.Parameter{Name: "x", Type: valohaiyaml.TypeFloat}, 0.00001, []string{"--x=1e-05"}},
		{"integer", valohaiyaml.Parameter{Name: "n", Type: valohaiyaml.TypeInteger}, int64(3), []string{"--n=3"}},
		{"nil is omitted", valohaiyaml.Parameter{Name: "n"}, nil, nil},
		{"pass-as split on whitespace", valohaiyaml.Parameter{Name: "decoder-spec", PassAs: "--decoder-spec {v}"}, "gauss", []string{"--decoder-spec", "gauss"}},
		{"pass-as with name", valohaiyaml.Parameter{Name: "a", PassAs: "-{name} {value}"}, "x y", []string{"-a", "x y"}},
		{"pass-as escaped braces", valohaiyaml.Parameter{Name: "a", PassAs: "{{{v}}}"}, "x", []string{"{x}"}},
		{"pass-as repr", valohaiyaml.Parameter{Name: "a", PassAs: "{v!r}"}, "x", []string{"'x'"}},
		{"flag true", valohaiyaml.Parameter{Name: "case-insensitive", Type: valohaiyaml.TypeFlag}, true, []string{"--case-insensitive"}},
		{"flag false", valohaiyaml.Parameter{Name: "case-insensitive", Type: valohaiyaml.TypeFlag}, false, nil},
		{"flag custom pass-as", valohaiyaml.Parameter{Name: "v", Type: valohaiyaml.TypeFlag, PassAs: "-v"}, true, []string{"-v"}},
		{"flag pass-true-as", valohaiyaml.Parameter{Name: "c", Type: valohaiyaml.TypeFlag, PassTrueAs: "--ignore-case", PassFalseAs: "--case-sensitive"}, true, []string{"--ignore-case"}},
		{"flag pass-false-as", valohaiyaml.Parameter{Name: "c", Type: valohaiyaml.TypeFlag, PassTrueAs: "--ignore-case", PassFalseAs: "--case-sensitive"}, false, []string{"--case-sensitive"}},
		{"flag pass-false-as with name", valohaiyaml.Parameter{Name: "naughty", Type: valohaiyaml.TypeFlag, PassFalseAs: "--{name}=not-naughty"}, false, []string{"--naughty=not-naughty"}},
		{"flag only pass-false-as, true", valohaiyaml.Parameter{Name: "naughty", Type: valohaiyaml.TypeFlag, PassFalseAs: "--no"}, true, nil},
		{"flag pass-true-as ignores pass-as", valohaiyaml.Parameter{Name: "n", Type: valohaiyaml.TypeFlag, PassAs: "--x", PassTrueAs: "--nice"}, true, []string{"--nice"}},
		{"separate", valohaiyaml.Parameter{Name: "encoder-layers", Type: valohaiyaml.TypeInteger, Multiple: valohaiyaml.MultipleSeparate, MultipleSeparator: "-"},
			[]any{int64(1000), int64(500), int64(250)}, []string{"--encoder-layers=1000-500-250"}},
		{"separate default comma", valohaiyaml.Parameter{Name: "c", Type: valohaiyaml.TypeFloat, Multiple: valohaiyaml.MultipleSeparate},
			[]any{int64(1000), int64(1), 0.01}, []string{"--c=1000,1,0.01"}},
		{"separate empty list omitted", valohaiyaml.Parameter{Name: "c", Multiple: valohaiyaml.MultipleSeparate}, []any{}, nil},
		{"separate single value listified", valohaiyaml.Parameter{Name: "c", Multiple: valohaiyaml.MultipleSeparate}, "a", []string{"--c=a"}},
		{"repeat", valohaiyaml.Parameter{Name: "decoder-spec", PassAs: "--decoder-spec {v}", Multiple: valohaiyaml.MultipleRepeat},
			[]any{"gauss", "railgun"}, []string{"--decoder-spec", "gauss", "--decoder-spec", "railgun"}},
		{"repeat empty", valohaiyaml.Parameter{Name: "d", Multiple: valohaiyaml.MultipleRepeat}, []any{}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.param.FormatCLI(tt.value)
			if err != nil {
				t.Fatalf("FormatCLI() error = %v", err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("FormatCLI() (-want +got):\n%s", diff)
			}
		})
	}
}

func TestParameter_FormatCLI_errors(t *testing.T) {
	tests := []struct {
		name  string
		param valohaiyaml.Parameter
		value any
	}{
		{"list for single", valohaiyaml.Parameter{Name: "a"}, []any{"x", "y"}},
		{"nested list for repeat", valohaiyaml.Parameter{Name: "a", Multiple: valohaiyaml.MultipleRepeat}, []any{[]any{"x"}}},
		{"unknown placeholder", valohaiyaml.Parameter{Name: "a", PassAs: "--{nope}"}, "x"},
		{"unbalanced brace", valohaiyaml.Parameter{Name: "a", PassAs: "--{value"}, "x"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got, err := tt.param.FormatCLI(tt.value); err == nil {
				t.Errorf("FormatCLI() = %q, want an error", got)
			}
		})
	}
}

func TestBuildCommand(t *testing.T) {
	params := []*valohaiyaml.Parameter{
		{Name: "epochs", Type: valohaiyaml.TypeInteger},
		{Name: "label", Type: valohaiyaml.TypeString},
		{Name: "verbose", Type: valohaiyaml.TypeFlag},
		{Name: "spec", PassAs: "--spec {v}", Multiple: valohaiyaml.MultipleRepeat},
	}
	values := map[string]any{"epochs": int64(5), "label": "it's big", "verbose": true, "spec": []any{"a b", "c"}}
	tests := []struct {
		name    string
		command string
		values  map[string]any
		special map[string]string
		want    string
	}{
		{"parameters", "python train.py {parameters}", values, nil,
			`python train.py --epochs=5 '--label=it'"'"'s big' --verbose --spec 'a b' --spec c`},
		{"params alias", "run {params}", map[string]any{"epochs": int64(1)}, nil, "run --epochs=1"},
		{"parameter by name", "echo {parameter:label} {parameter:epochs}", values, nil, `echo '--label=it'"'"'s big' --epochs=5`},
		{"parameter-value", "echo {parameter-value:label} {parameter-value:epochs}", values, nil, `echo 'it'"'"'s big' 5`},
		{"parameter-value of flag", "echo {parameter-value:verbose}", values, nil, "echo True"},
		{"unknown parameter left alone", "echo {parameter:nope} {parameter-value:nope}", values, nil, "echo {parameter:nope} {parameter-value:nope}"},
		{"parameter-value without value left alone", "echo {parameter-value:label}", map[string]any{}, nil, "echo {parameter-value:label}"},
		{"shell braces left alone", "echo ${HOME} {} {foo} && awk '{print $1}'", values, nil, "echo ${HOME} {} {foo} && awk '{print $1}'"},
		{"special interpolation quoted", "python {source-path}", nil, map[string]string{"source-path": "my dir/train.py"}, "python 'my dir/train.py'"},
		{"no values", "run {parameters}", nil, nil, "run"},
		{"stripped", "  run  \n", nil, nil, "run"},
		{"separate in parameters", "x {parameters}", map[string]any{"label": "a"}, nil, "x --label=a"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := valohaiyaml.BuildCommand([]string{tt.command}, params, tt.values, tt.special)
			if err != nil {
				t.Fatalf("BuildCommand() error = %v", err)
			}
			if diff := cmp.Diff([]string{tt.want}, got); diff != "" {
				t.Errorf("BuildCommand() (-want +got):\n%s", diff)
			}
		})
	}
}

func TestStep_BuildCommand(t *testing.T) {
	data := []byte(`
- step:
    name: train
    image: busybox
    command:
      - "python run.py train {params} -- mnist_all_full"
      - echo {parameter:decoder-spec}
    parameters:
      - name: num-epochs
        type: integer
        optional: true
      - name: encoder-layers
        type: integer
        multiple: separate
        multiple-separator: "-"
        default: [1000, 500, 250]
      - name: decoder-spec
        pass-as: --decoder-spec {v}
        multiple: repeat
        default: [gauss, railgun]
      - name: fast
        type: flag
        default: true
`)
	cfg, _, err := valohaiyaml.Parse("valohai.yaml", data)
	if err != nil {
		t.Fatal(err)
	}
	step := cfg.Step("train")
	tests := []struct {
		name   string
		values map[string]any
		want   []string
	}{
		{"defaults; flag defaults stay unset", nil, []string{
			"python run.py train --encoder-layers=1000-500-250 --decoder-spec gauss --decoder-spec railgun -- mnist_all_full",
			"echo --decoder-spec gauss --decoder-spec railgun",
		}},
		{"values override defaults", map[string]any{"num-epochs": int64(3), "fast": true, "decoder-spec": []any{"x"}}, []string{
			"python run.py train --num-epochs=3 --encoder-layers=1000-500-250 --decoder-spec x --fast -- mnist_all_full",
			"echo --decoder-spec x",
		}},
		{"nil value omits a default", map[string]any{"encoder-layers": nil}, []string{
			"python run.py train --decoder-spec gauss --decoder-spec railgun -- mnist_all_full",
			"echo --decoder-spec gauss --decoder-spec railgun",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := step.BuildCommand(tt.values)
			if err != nil {
				t.Fatalf("BuildCommand() error = %v", err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("BuildCommand() (-want +got):\n%s", diff)
			}
		})
	}
	if diff := cmp.Diff(map[string]any{"encoder-layers": []any{int64(1000), int64(500), int64(250)}, "decoder-spec": []any{"gauss", "railgun"}, "fast": true}, step.DefaultValues()); diff != "" {
		t.Errorf("DefaultValues() (-want +got):\n%s", diff)
	}
}

func TestBuildCommand_shebang(t *testing.T) {
	data, err := osReadFile("testdata/valid/shebang-example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	cfg, _, err := valohaiyaml.Parse("shebang-example.yaml", data)
	if err != nil {
		t.Fatal(err)
	}
	values := map[string]any{"wibble": int64(42)}
	tests := []struct {
		step string
		want string
	}{
		{"Do a thing", "#!/bin/bash\necho \"The wibble is --wibble=42 today.\"\nif [[ -z \"$1\" ]]; then echo \"No arguments provided\"; fi"},
		{"Do the same thing in another way", "#!/bin/bash\necho \"The wibble is --wibble=42 today.\" && if [[ -z \"$1\" ]]; then echo \"No arguments provided\"; fi"},
	}
	for _, tt := range tests {
		t.Run(tt.step, func(t *testing.T) {
			cmds, err := cfg.Step(tt.step).BuildCommand(values)
			if err != nil {
				t.Fatal(err)
			}
			if got := runner.JoinCommand(cmds, " && "); got != tt.want {
				t.Errorf("JoinCommand() = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestQuote(t *testing.T) {
	tests := map[string]string{
		"":              "''",
		"plain":         "plain",
		"--a=b,c:d/e.f": "--a=b,c:d/e.f",
		"@%+_-":         "@%+_-",
		"a b":           "'a b'",
		"it's":          `'it'"'"'s'`,
		"$HOME":         "'$HOME'",
		"ünï":           "'ünï'",
	}
	for in, want := range tests {
		if got := valohaiyaml.Quote(in); got != want {
			t.Errorf("Quote(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestParameter_Validate(t *testing.T) {
	tests := []struct {
		name    string
		param   valohaiyaml.Parameter
		value   any
		want    any
		wantErr bool
	}{
		{"integer from string", valohaiyaml.Parameter{Name: "n", Type: valohaiyaml.TypeInteger}, "42", int64(42), false},
		{"integer rejects float", valohaiyaml.Parameter{Name: "n", Type: valohaiyaml.TypeInteger}, 1.5, nil, true},
		{"float from int", valohaiyaml.Parameter{Name: "x", Type: valohaiyaml.TypeFloat}, int64(2), 2.0, false},
		{"float rejects text", valohaiyaml.Parameter{Name: "x", Type: valohaiyaml.TypeFloat}, "zoom", nil, true},
		{"min", valohaiyaml.Parameter{Name: "n", Type: valohaiyaml.TypeInteger, Min: f64(1)}, int64(0), nil, true},
		{"max", valohaiyaml.Parameter{Name: "n", Type: valohaiyaml.TypeInteger, Max: f64(100)}, int64(1337), nil, true},
		{"in range", valohaiyaml.Parameter{Name: "n", Type: valohaiyaml.TypeInteger, Min: f64(1), Max: f64(100)}, int64(7), int64(7), false},
		{"choices", valohaiyaml.Parameter{Name: "s", Choices: []any{"a", "b"}}, "c", nil, true},
		{"choice ok", valohaiyaml.Parameter{Name: "s", Choices: []any{"a", "b"}}, "b", "b", false},
		{"numeric choice", valohaiyaml.Parameter{Name: "n", Type: valohaiyaml.TypeInteger, Choices: []any{int64(1), int64(2)}}, "2", int64(2), false},
		{"single only", valohaiyaml.Parameter{Name: "s"}, []any{"a"}, nil, true},
		{"multiple", valohaiyaml.Parameter{Name: "s", Multiple: valohaiyaml.MultipleRepeat, Type: valohaiyaml.TypeInteger}, []any{"1", int64(2)}, []any{int64(1), int64(2)}, false},
		{"nil", valohaiyaml.Parameter{Name: "s"}, nil, nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.param.Validate(tt.value)
			if tt.wantErr {
				if !errors.Is(err, valohaiyaml.ErrInvalid) {
					t.Fatalf("Validate() error = %v, want ErrInvalid", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Validate() error = %v", err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Validate() (-want +got):\n%s", diff)
			}
		})
	}
}
