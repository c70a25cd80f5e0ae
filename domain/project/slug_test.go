package project_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/stratahq/strata/domain"
	"github.com/stratahq/strata/domain/project"
)

var update = flag.Bool("update", false, "write testdata/events golden files from the samples")

func TestDecideSlug(t *testing.T) {
	at := time.Date(2025, 1, 2, 0, 0, 0, 0, time.UTC)
	other := domain.ProjectID("0190f5a2-0000-7000-8000-0000000000aa")
	claimed := project.SlugClaimed{Slug: "vision", Project: projID, At: at}
	tests := []struct {
		name    string
		given   []project.SlugEvent
		when    project.ClaimSlug
		want    []project.SlugEvent
		wantErr error
	}{
		{"free slug is claimed", nil, project.ClaimSlug{Slug: "vision", Project: projID, At: at}, []project.SlugEvent{claimed}, nil},
		{"same project again is a no-op", []project.SlugEvent{claimed}, project.ClaimSlug{Slug: "vision", Project: projID, At: at}, nil, nil},
		{"another project is refused", []project.SlugEvent{claimed}, project.ClaimSlug{Slug: "vision", Project: other, At: at}, nil, project.ErrSlugTaken},
		{"malformed slug is invalid", nil, project.ClaimSlug{Slug: "Bad Slug", Project: projID, At: at}, nil, domain.ErrInvalid},
		{"missing time is invalid", nil, project.ClaimSlug{Slug: "vision", Project: projID}, nil, domain.ErrInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var s project.SlugState
			for _, e := range tt.given {
				s = project.EvolveSlug(s, e)
			}
			got, err := project.DecideSlug(s, tt.when)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("DecideSlug() error = %v, want %v", err, tt.wantErr)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("DecideSlug() events (-want +got):\n%s", diff)
			}
		})
	}
	if s := project.EvolveSlug(project.SlugState{}, claimed); !s.Claimed() || s.Project() != projID {
		t.Errorf("EvolveSlug(SlugClaimed) = claimed %v by %q, want %s", s.Claimed(), s.Project(), projID)
	}
}

// TestSlugGolden keeps one sample of every slug event type as it is stored, forever: each
// must still decode to the sample.
func TestSlugGolden(t *testing.T) {
	samples := []project.SlugEvent{
		project.SlugClaimed{Slug: "vision", Project: projID, At: time.Date(2025, 1, 2, 3, 4, 5, 123456789, time.UTC)},
	}
	if len(samples) != len(project.SlugEvents()) {
		t.Fatalf("%d samples for %d slug event types", len(samples), len(project.SlugEvents()))
	}
	for _, e := range samples {
		name := filepath.Join("testdata", "events", e.EventType()+".v"+strconv.Itoa(e.EventSchema())+".json")
		b, err := json.MarshalIndent(e, "", "  ")
		if err != nil {
			t.Fatal(err)
		}
		if *update {
			if err := os.WriteFile(name, append(b, '\n'), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		stored, err := os.ReadFile(name)
		if err != nil {
			t.Fatalf("read golden %s: %v (run with -update)", name, err)
		}
		if !bytes.Equal(bytes.TrimSpace(stored), b) {
			t.Errorf("%s differs from the sample:\n%s", name, b)
		}
		var got project.SlugClaimed
		if err := json.Unmarshal(stored, &got); err != nil {
			t.Fatalf("decode %s: %v", name, err)
		}
		if diff := cmp.Diff(e, project.SlugEvent(got)); diff != "" {
			t.Errorf("decode %s (-want +got):\n%s", name, diff)
		}
	}
}
