package runner_test

import (
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/stratahq/strata/domain"
	"github.com/stratahq/strata/runner"
)

func TestParseNvidiaSMI(t *testing.T) {
	tests := []struct {
		file string
		want []runner.GPU
	}{
		{"a100x2.csv", []runner.GPU{
			{Index: 0, UUID: "GPU-5a1b2c3d-1111-2222-3333-444455556666", Name: "NVIDIA A100-SXM4-40GB", UtilizationPercent: 87, MemoryUsedBytes: 30517 << 20, MemoryTotalBytes: 40960 << 20},
			{Index: 1, UUID: "GPU-6b2c3d4e-7777-8888-9999-000011112222", Name: "NVIDIA A100-SXM4-40GB", UtilizationPercent: 0, MemoryUsedBytes: 4 << 20, MemoryTotalBytes: 40960 << 20},
		}},
		{"na.csv", []runner.GPU{
			{Index: 0, UUID: "GPU-1f2e3d4c-aaaa-bbbb-cccc-ddddeeeeffff", Name: "Tesla T4", UtilizationPercent: -1, MemoryUsedBytes: -1, MemoryTotalBytes: 15360 << 20},
			{Index: 1, UUID: "GPU-2f2e3d4c-aaaa-bbbb-cccc-ddddeeeeffff", Name: "NVIDIA GeForce GTX 1080", UtilizationPercent: -1, MemoryUsedBytes: 512 << 20, MemoryTotalBytes: 8192 << 20},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			f, err := os.Open("testdata/nvidia-smi/" + tt.file)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close() //nolint:errcheck // read only
			got, err := runner.ParseNvidiaSMI(f)
			if err != nil {
				t.Fatalf("ParseNvidiaSMI() error = %v", err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("ParseNvidiaSMI() (-want +got):\n%s", diff)
			}
		})
	}
	for _, bad := range []string{"0, GPU-x, T4, 5\n", "x, GPU-x, T4, 1, 2, 3\n", "0, GPU-x, T4, lots, 2, 3\n"} {
		if _, err := runner.ParseNvidiaSMI(strings.NewReader(bad)); !errors.Is(err, domain.ErrInvalid) {
			t.Errorf("ParseNvidiaSMI(%q) error = %v, want ErrInvalid", bad, err)
		}
	}
	if got, err := runner.ParseNvidiaSMI(strings.NewReader("")); err != nil || len(got) != 0 {
		t.Errorf("ParseNvidiaSMI(\"\") = %v, %v, want no GPUs", got, err)
	}
}

func TestParseMetadata(t *testing.T) {
	at := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	tests := []struct {
		line string
		ok   bool
		want map[string]string
	}{
		{`{"step": 190, "accuracy": 0.92}`, true, map[string]string{"step": "190", "accuracy": "0.92"}},
		{`  {"nested": {"a": [1, 2]}}  `, true, map[string]string{"nested": `{"a":[1,2]}`}},
		{`{}`, false, nil},
		{`[1, 2]`, false, nil},
		{`{"broken": `, false, nil},
		{`epoch 1 {"loss": 1}`, false, nil},
		{`"text"`, false, nil},
	}
	for _, tt := range tests {
		p, ok := runner.ParseMetadata(tt.line, at)
		if ok != tt.ok {
			t.Errorf("ParseMetadata(%q) ok = %v, want %v", tt.line, ok, tt.ok)
			continue
		}
		if !ok {
			continue
		}
		got := map[string]string{}
		for k, v := range p.Values {
			got[k] = string(v)
		}
		if diff := cmp.Diff(tt.want, got); diff != "" || !p.Time.Equal(at) {
			t.Errorf("ParseMetadata(%q) (-want +got):\n%s time %v", tt.line, diff, p.Time)
		}
	}
}

func TestLogs_Subscribe(t *testing.T) {
	var l runner.Logs
	id := domain.ExecutionID("e1")
	l.Append(id, runner.Line{Message: "one"})
	past, live := l.Subscribe(t.Context(), id)
	l.Append(id, runner.Line{Message: "two"})
	if len(past) != 1 || past[0].Message != "one" {
		t.Errorf("past = %v", past)
	}
	select {
	case ln := <-live:
		if ln.Message != "two" {
			t.Errorf("live line = %v", ln)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no live line")
	}
	if got := l.Lines(id); len(got) != 2 {
		t.Errorf("Lines() = %v", got)
	}
}
