package alias_test

import (
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/stratahq/strata/domain"
	"github.com/stratahq/strata/domain/alias"
)

const (
	projID domain.ProjectID = "0190f5a2-0000-7000-8000-000000000002"
	other  domain.ProjectID = "0190f5a2-0000-7000-8000-000000000009"
	datumA domain.DatumID   = "0190f5a2-0000-7000-8000-00000000000a"
	datumB domain.DatumID   = "0190f5a2-0000-7000-8000-00000000000b"
	name                    = "model-prod"
)

var at = time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)

func fold(events []alias.Event) alias.State {
	var s alias.State
	for _, e := range events {
		s = alias.Evolve(s, e)
	}
	return s
}

func set(d domain.DatumID) alias.Set { return alias.Set{Project: projID, Name: name, Datum: d, At: at} }

func TestDecide(t *testing.T) {
	movedA := alias.Moved{Project: projID, Alias: name, Datum: datumA, At: at}
	deleted := alias.Deleted{Project: projID, Alias: name, Previous: datumA, At: at}
	tests := []struct {
		name    string
		given   []alias.Event
		when    alias.Command
		want    []alias.Event
		wantErr error
	}{
		{"set a new alias", nil, set(datumA), []alias.Event{movedA}, nil},
		{"move records the previous target", []alias.Event{movedA}, set(datumB),
			[]alias.Event{alias.Moved{Project: projID, Alias: name, Datum: datumB, Previous: datumA, At: at}}, nil},
		{"set to the current target is a no-op", []alias.Event{movedA}, set(datumA), nil, nil},
		{"set to the current target is a no-op even if purged since", []alias.Event{movedA}, alias.Set{Project: projID, Name: name, Datum: datumA, DatumPurged: true, At: at}, nil, nil},
		{"cannot point at a purged datum", []alias.Event{movedA}, alias.Set{Project: projID, Name: name, Datum: datumB, DatumPurged: true, At: at}, nil, alias.ErrPurgedTarget},
		{"cannot create pointing at a purged datum", nil, alias.Set{Project: projID, Name: name, Datum: datumB, DatumPurged: true, At: at}, nil, domain.ErrConflict},
		{"name that looks like a datum id", nil, alias.Set{Project: projID, Name: string(datumB), Datum: datumA, At: at}, nil, domain.ErrInvalid},
		{"name with a slash", nil, alias.Set{Project: projID, Name: "a/b", Datum: datumA, At: at}, nil, domain.ErrInvalid},
		{"empty name", nil, alias.Set{Project: projID, Datum: datumA, At: at}, nil, domain.ErrInvalid},
		{"bad datum id", nil, alias.Set{Project: projID, Name: name, Datum: "x", At: at}, nil, domain.ErrInvalid},
		{"bad project id", nil, alias.Set{Project: "p", Name: name, Datum: datumA, At: at}, nil, domain.ErrInvalid},
		{"missing time", nil, alias.Set{Project: projID, Name: name, Datum: datumA}, nil, domain.ErrInvalid},
		{"another project's stream", []alias.Event{movedA}, alias.Set{Project: other, Name: name, Datum: datumB, At: at}, nil, domain.ErrInvalid},
		{"another alias's stream", []alias.Event{movedA}, alias.Set{Project: projID, Name: "other", Datum: datumB, At: at}, nil, domain.ErrInvalid},
		{"delete", []alias.Event{movedA}, alias.Delete{At: at}, []alias.Event{deleted}, nil},
		{"delete a deleted alias", []alias.Event{movedA, deleted}, alias.Delete{At: at}, nil, alias.ErrNotFound},
		{"delete an alias never set", nil, alias.Delete{At: at}, nil, domain.ErrNotFound},
		{"set after delete starts afresh", []alias.Event{movedA, deleted}, set(datumA), []alias.Event{movedA}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := alias.Decide(fold(tt.given), tt.when)
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
	s := fold([]alias.Event{
		alias.Moved{Project: projID, Alias: name, Datum: datumA, At: at},
		alias.Moved{Project: projID, Alias: name, Datum: datumB, Previous: datumA, At: at},
	})
	if d, ok := s.Target(); !ok || d != datumB || s.Moves() != 2 || s.Name() != name || s.Project() != projID {
		t.Errorf("state = %v %v %d %q %q", d, ok, s.Moves(), s.Name(), s.Project())
	}
	s = alias.Evolve(s, alias.Deleted{Project: projID, Alias: name, Previous: datumB, At: at})
	if _, ok := s.Target(); ok || s.Exists() {
		t.Error("deleted alias still has a target")
	}
}
