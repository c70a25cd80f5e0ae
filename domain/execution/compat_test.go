package execution_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/stratahq/strata/domain"
	"github.com/stratahq/strata/domain/execution"
)

// TestEvents_DecodeBeforeResources: events recorded before Finished.Resources,
// GPUSample.UUID and Created.Network existed (the v1 golden samples of that time) decode
// into the current types, strictly, with the new fields zero.
func TestEvents_DecodeBeforeResources(t *testing.T) {
	for _, tt := range []struct {
		file string
		into any
	}{
		{"execution.Created.v1.json", &execution.Created{}},
		{"execution.Finished.v1.json", &execution.Finished{}},
		{"execution.ResourcesSampled.v1.json", &execution.ResourcesSampled{}},
	} {
		b, err := os.ReadFile(filepath.Join("testdata", "v1-before-resources", tt.file))
		if err != nil {
			t.Fatal(err)
		}
		dec := json.NewDecoder(bytes.NewReader(b))
		dec.DisallowUnknownFields()
		if err := dec.Decode(tt.into); err != nil {
			t.Errorf("decode %s into %T: %v", tt.file, tt.into, err)
			continue
		}
		switch e := reflect.ValueOf(tt.into).Elem().Interface().(type) {
		case execution.Created:
			if e.Network || e.Execution == "" {
				t.Errorf("%s: %+v, want network false", tt.file, e)
			}
			for _, in := range e.Inputs {
				if in.Filename != "" || in.KeepDirectories != "" {
					t.Errorf("%s: input %+v, want no filename and flat placement", tt.file, in)
				}
			}
		case execution.Finished:
			if e.Resources != nil || e.Execution == "" {
				t.Errorf("%s: %+v, want no resources", tt.file, e)
			}
		case execution.ResourcesSampled:
			if len(e.GPUs) == 0 || e.GPUs[0].UUID != "" {
				t.Errorf("%s: %+v, want GPUs without uuid", tt.file, e)
			}
		}
	}
}

func TestDecide_ResourcesAndNetwork(t *testing.T) {
	c := create()
	c.Network = true
	evs, err := execution.Decide(execution.State{}, c)
	if err != nil {
		t.Fatalf("Decide(Create) error = %v", err)
	}
	s := execution.Evolve(execution.State{}, evs[0])
	if cr := evs[0].(execution.Created); !cr.Network || !s.Network() {
		t.Errorf("Created.Network = %v, State.Network() = %v, want true", cr.Network, s.Network())
	}
	for _, cmd := range []execution.Command{execution.Queue{At: at}, execution.Start{Host: "w1", At: at}} {
		evs, err := execution.Decide(s, cmd)
		if err != nil {
			t.Fatalf("Decide(%T) error = %v", cmd, err)
		}
		for _, e := range evs {
			s = execution.Evolve(s, e)
		}
	}
	sample := execution.SampleResources{CPUPercent: 10, MemoryBytes: 1, GPUs: []execution.GPUSample{{Index: 0, UUID: "GPU-5f2c", UtilizationPercent: 50}}, At: at}
	evs, err = execution.Decide(s, sample)
	if err != nil || evs[0].(execution.ResourcesSampled).GPUs[0].UUID != "GPU-5f2c" {
		t.Errorf("Decide(SampleResources) = %+v, %v, want the GPU uuid kept", evs, err)
	}
	sample.GPUs[0].UUID = "GPU-\n"
	if _, err := execution.Decide(s, sample); !errors.Is(err, domain.ErrInvalid) {
		t.Errorf("Decide(SampleResources) with a control character in the uuid error = %v, want ErrInvalid", err)
	}
	if _, err := execution.Decide(s, execution.Finish{Resources: &execution.ResourceSummary{PeakCPUPercent: -1}, At: at}); !errors.Is(err, domain.ErrInvalid) {
		t.Errorf("Decide(Finish) with a negative peak error = %v, want ErrInvalid", err)
	}
	sum := &execution.ResourceSummary{Samples: 3, PeakCPUPercent: 180, AvgCPUPercent: 90, PeakMemoryBytes: 3 << 20, AvgMemoryBytes: 2 << 20}
	evs, err = execution.Decide(s, execution.Finish{Resources: sum, At: at})
	if err != nil {
		t.Fatalf("Decide(Finish) error = %v", err)
	}
	fin := evs[0].(execution.Finished)
	sum.Samples = 99 // the event owns its copy
	if fin.Resources == nil || fin.Resources.Samples != 3 || fin.Resources.PeakCPUPercent != 180 {
		t.Errorf("Finished.Resources = %+v", fin.Resources)
	}
	if got := execution.Evolve(s, fin).Resources(); got == nil || got.AvgMemoryBytes != 2<<20 {
		t.Errorf("State.Resources() = %+v", got)
	}
}

// TestDecide_InputPlacement: filename and keep-directories are validated and recorded on
// Created; "none" is recorded as "".
func TestDecide_InputPlacement(t *testing.T) {
	for _, tt := range []struct {
		name, filename, keep string
		wantKeep             string
		wantErr              string
	}{
		{name: "defaults"},
		{name: "none", keep: "none"},
		{name: "full", keep: "full", wantKeep: "full"},
		{name: "suffix and filename", filename: "train.csv", keep: "suffix", wantKeep: "suffix"},
		{name: "unknown mode", keep: "true", wantErr: `input "images": keep-directories "true": want "none", "full" or "suffix"`},
		{name: "dot-dot filename", filename: "..", wantErr: `input "images": filename ".."`},
		{name: "filename with a slash", filename: "a/b.csv", wantErr: `input "images": filename "a/b.csv": want one file name`},
		{name: "absolute filename", filename: "/etc/passwd", wantErr: `input "images": filename "/etc/passwd"`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c := create()
			for i := range c.Step.Inputs {
				if c.Step.Inputs[i].Name == "images" {
					c.Step.Inputs[i].Filename, c.Step.Inputs[i].KeepDirectories = tt.filename, tt.keep
				}
			}
			evs, err := execution.Decide(execution.State{}, c)
			if tt.wantErr != "" {
				if !errors.Is(err, domain.ErrInvalid) || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Decide(Create) error = %v, want ErrInvalid containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Decide(Create) error = %v", err)
			}
			for _, in := range evs[0].(execution.Created).Inputs {
				if in.Name != "images" {
					continue
				}
				if in.Filename != tt.filename || in.KeepDirectories != tt.wantKeep {
					t.Errorf("Created input = filename %q keep %q, want %q %q", in.Filename, in.KeepDirectories, tt.filename, tt.wantKeep)
				}
			}
		})
	}
}
