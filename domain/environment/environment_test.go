package environment_test

import (
	"errors"
	"math"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/stratahq/strata/domain"
	"github.com/stratahq/strata/domain/environment"
)

const envID domain.EnvironmentID = "0190f5a2-0000-7000-8000-000000000003"

var (
	at   = time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	spec = environment.Spec{Name: "A100 x1", CPUs: 12, MemoryBytes: 85 << 30, GPUs: 1, GPUModel: "NVIDIA A100", PricePerHour: 3_670_000, MaxScale: 4, PerUserQuota: 2}
)

func specWith(edit func(*environment.Spec)) environment.Spec {
	s := spec
	edit(&s)
	return s
}

func fold(events []environment.Event) environment.State {
	var s environment.State
	for _, e := range events {
		s = environment.Evolve(s, e)
	}
	return s
}

func TestDecide(t *testing.T) {
	created := environment.Created{Environment: envID, Slug: "gpu-a100-x1", Spec: spec, At: at}
	cheaper := specWith(func(s *environment.Spec) { s.PricePerHour = 2_000_000 })
	create := func(sp environment.Spec) environment.Create {
		return environment.Create{Environment: envID, Slug: "gpu-a100-x1", Spec: sp, At: at}
	}
	tests := []struct {
		name    string
		given   []environment.Event
		when    environment.Command
		want    []environment.Event
		wantErr error
	}{
		{"create", nil, create(spec), []environment.Event{created}, nil},
		{"create twice", []environment.Event{created}, create(spec), nil, environment.ErrExists},
		{"create with a bad slug", nil, environment.Create{Environment: envID, Slug: "GPU A100", Spec: spec, At: at}, nil, domain.ErrInvalid},
		{"create with a bad id", nil, environment.Create{Environment: "gpu", Slug: "gpu", Spec: spec, At: at}, nil, domain.ErrInvalid},
		{"create without a time", nil, environment.Create{Environment: envID, Slug: "gpu", Spec: spec}, nil, domain.ErrInvalid},
		{"no name", nil, create(specWith(func(s *environment.Spec) { s.Name = "" })), nil, domain.ErrInvalid},
		{"no cpus", nil, create(specWith(func(s *environment.Spec) { s.CPUs = 0 })), nil, domain.ErrInvalid},
		{"NaN cpus", nil, create(specWith(func(s *environment.Spec) { s.CPUs = math.NaN() })), nil, domain.ErrInvalid},
		{"no memory", nil, create(specWith(func(s *environment.Spec) { s.MemoryBytes = 0 })), nil, domain.ErrInvalid},
		{"negative gpus", nil, create(specWith(func(s *environment.Spec) { s.GPUs = -1 })), nil, domain.ErrInvalid},
		{"gpus without a model", nil, create(specWith(func(s *environment.Spec) { s.GPUModel = "" })), nil, domain.ErrInvalid},
		{"model without gpus", nil, create(specWith(func(s *environment.Spec) { s.GPUs = 0 })), nil, domain.ErrInvalid},
		{"negative price", nil, create(specWith(func(s *environment.Spec) { s.PricePerHour = -1 })), nil, domain.ErrInvalid},
		{"negative scale", nil, create(specWith(func(s *environment.Spec) { s.MaxScale = -1 })), nil, domain.ErrInvalid},
		{"negative quota", nil, create(specWith(func(s *environment.Spec) { s.PerUserQuota = -1 })), nil, domain.ErrInvalid},
		{"free cpu machine", nil, create(environment.Spec{Name: "small", CPUs: 0.5, MemoryBytes: 1 << 30}),
			[]environment.Event{environment.Created{Environment: envID, Slug: "gpu-a100-x1", Spec: environment.Spec{Name: "small", CPUs: 0.5, MemoryBytes: 1 << 30}, At: at}}, nil},
		{"update", []environment.Event{created}, environment.Update{Spec: cheaper, At: at}, []environment.Event{environment.Updated{Environment: envID, Spec: cheaper, At: at}}, nil},
		{"update to the same spec is a no-op", []environment.Event{created}, environment.Update{Spec: spec, At: at}, nil, nil},
		{"update a missing environment", nil, environment.Update{Spec: spec, At: at}, nil, environment.ErrNotFound},
		{"update with a bad spec", []environment.Event{created}, environment.Update{Spec: specWith(func(s *environment.Spec) { s.CPUs = -1 }), At: at}, nil, domain.ErrInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := environment.Decide(fold(tt.given), tt.when)
			if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil) != (err == nil) {
				t.Fatalf("Decide() error = %v, want %v", err, tt.wantErr)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Decide() events (-want +got):\n%s", diff)
			}
		})
	}
}

func TestState(t *testing.T) {
	s := fold([]environment.Event{
		environment.Created{Environment: envID, Slug: "gpu-a100-x1", Spec: spec, At: at},
		environment.Updated{Environment: envID, Spec: specWith(func(s *environment.Spec) { s.PricePerHour = 1_000_000 }), At: at},
	})
	if !s.Exists() || s.ID() != envID || s.Slug() != "gpu-a100-x1" || s.PricePerHour() != 1_000_000 || s.Spec().GPUs != 1 {
		t.Errorf("state = %v %v %v %v", s.ID(), s.Slug(), s.PricePerHour(), s.Spec())
	}
}
