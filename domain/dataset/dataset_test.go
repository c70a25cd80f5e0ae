package dataset_test

import (
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/stratahq/strata/domain"
	"github.com/stratahq/strata/domain/dataset"
)

const (
	dsID   domain.DatasetID = "0190f5a2-0000-7000-8000-000000000005"
	projID domain.ProjectID = "0190f5a2-0000-7000-8000-000000000002"
	a      domain.DatumID   = "0190f5a2-0000-7000-8000-00000000000a"
	b      domain.DatumID   = "0190f5a2-0000-7000-8000-00000000000b"
	c      domain.DatumID   = "0190f5a2-0000-7000-8000-00000000000c"
)

var (
	at      = time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	created = dataset.Created{Dataset: dsID, Project: projID, Name: "mnist", At: at}
	v1      = dataset.VersionCreated{Dataset: dsID, Version: "v1", Added: ids(a, b), Files: ids(a, b), At: at}
	prod    = dataset.AliasMoved{Dataset: dsID, Alias: "production", Version: "v1", At: at}
)

func ids(d ...domain.DatumID) []domain.DatumID { return d }

func fold(events []dataset.Event) dataset.State {
	var s dataset.State
	for _, e := range events {
		s = dataset.Evolve(s, e)
	}
	return s
}

func TestDecide(t *testing.T) {
	v2 := dataset.VersionCreated{Dataset: dsID, Version: "v2", Base: "v1", Added: ids(c), Excluded: ids(a), Files: ids(b, c), At: at}
	tests := []struct {
		name    string
		given   []dataset.Event
		when    dataset.Command
		want    []dataset.Event
		wantErr error
	}{
		{"create", nil, dataset.Create{Dataset: dsID, Project: projID, Name: "mnist", At: at}, []dataset.Event{created}, nil},
		{"create twice", []dataset.Event{created}, dataset.Create{Dataset: dsID, Project: projID, Name: "mnist", At: at}, nil, dataset.ErrExists},
		{"create with a bad name", nil, dataset.Create{Dataset: dsID, Project: projID, Name: "mn ist", At: at}, nil, domain.ErrInvalid},
		{"create with a bad id", nil, dataset.Create{Dataset: "d", Project: projID, Name: "mnist", At: at}, nil, domain.ErrInvalid},
		{"version of a missing dataset", nil, dataset.CreateVersion{Version: "v1", Add: ids(a), At: at}, nil, dataset.ErrNotFound},

		{"version from scratch", []dataset.Event{created}, dataset.CreateVersion{Version: "v1", Add: ids(a, b, a), At: at}, []dataset.Event{v1}, nil},
		{"version from a base: excluded and added", []dataset.Event{created, v1}, dataset.CreateVersion{Version: "v2", From: "v1", Add: ids(c, b), Exclude: ids(a), At: at}, []dataset.Event{v2}, nil},
		{"version from an alias", []dataset.Event{created, v1, prod}, dataset.CreateVersion{Version: "v2", From: "production", Add: ids(c), Exclude: ids(a), At: at}, []dataset.Event{v2}, nil},
		{"version from latest", []dataset.Event{created, v1}, dataset.CreateVersion{Version: "v2", From: "latest", Add: ids(c), Exclude: ids(a), At: at}, []dataset.Event{v2}, nil},
		{"excluding what the base lacks changes nothing", []dataset.Event{created, v1}, dataset.CreateVersion{Version: "v2", From: "v1", Exclude: ids(c), At: at},
			[]dataset.Event{dataset.VersionCreated{Dataset: dsID, Version: "v2", Base: "v1", Files: ids(a, b), At: at}}, nil},
		{"version name taken", []dataset.Event{created, v1}, dataset.CreateVersion{Version: "v1", Add: ids(c), At: at}, nil, dataset.ErrNameTaken},
		{"version named like an alias", []dataset.Event{created, v1, prod}, dataset.CreateVersion{Version: "production", Add: ids(c), At: at}, nil, dataset.ErrNameTaken},
		{"version named latest", []dataset.Event{created}, dataset.CreateVersion{Version: "latest", Add: ids(c), At: at}, nil, domain.ErrInvalid},
		{"version with a bad name", []dataset.Event{created}, dataset.CreateVersion{Version: "../v1", Add: ids(c), At: at}, nil, domain.ErrInvalid},
		{"version from a missing base", []dataset.Event{created}, dataset.CreateVersion{Version: "v2", From: "v1", Add: ids(c), At: at}, nil, dataset.ErrVersionNotFound},
		{"version with no files", []dataset.Event{created, v1}, dataset.CreateVersion{Version: "v2", From: "v1", Exclude: ids(a, b), At: at}, nil, domain.ErrInvalid},
		{"version with a bad datum id", []dataset.Event{created}, dataset.CreateVersion{Version: "v1", Add: ids("x"), At: at}, nil, domain.ErrInvalid},
		{"version without a time", []dataset.Event{created}, dataset.CreateVersion{Version: "v1", Add: ids(a)}, nil, domain.ErrInvalid},
		{"version moves aliases", []dataset.Event{created, v1, prod}, dataset.CreateVersion{Version: "v2", From: "v1", Add: ids(c), Exclude: ids(a), Aliases: []string{"production", "staging", "staging"}, At: at},
			[]dataset.Event{v2,
				dataset.AliasMoved{Dataset: dsID, Alias: "production", Version: "v2", Previous: "v1", At: at},
				dataset.AliasMoved{Dataset: dsID, Alias: "staging", Version: "v2", At: at}}, nil},
		{"version alias named like the version", []dataset.Event{created}, dataset.CreateVersion{Version: "v1", Add: ids(a), Aliases: []string{"v1"}, At: at}, nil, dataset.ErrNameTaken},
		{"version alias latest", []dataset.Event{created}, dataset.CreateVersion{Version: "v1", Add: ids(a), Aliases: []string{"latest"}, At: at}, nil, domain.ErrInvalid},

		{"move a new alias", []dataset.Event{created, v1}, dataset.MoveAlias{Alias: "production", Version: "v1", At: at}, []dataset.Event{prod}, nil},
		{"move records the previous", []dataset.Event{created, v1, v2, prod}, dataset.MoveAlias{Alias: "production", Version: "v2", At: at},
			[]dataset.Event{dataset.AliasMoved{Dataset: dsID, Alias: "production", Version: "v2", Previous: "v1", At: at}}, nil},
		{"move to the current target is a no-op", []dataset.Event{created, v1, prod}, dataset.MoveAlias{Alias: "production", Version: "v1", At: at}, nil, nil},
		{"move to a missing version", []dataset.Event{created, v1}, dataset.MoveAlias{Alias: "production", Version: "v9", At: at}, nil, dataset.ErrVersionNotFound},
		{"move an alias to an alias", []dataset.Event{created, v1, prod}, dataset.MoveAlias{Alias: "staging", Version: "production", At: at}, nil, dataset.ErrVersionNotFound},
		{"move latest", []dataset.Event{created, v1}, dataset.MoveAlias{Alias: "latest", Version: "v1", At: at}, nil, domain.ErrInvalid},
		{"alias named like a version", []dataset.Event{created, v1, v2}, dataset.MoveAlias{Alias: "v2", Version: "v1", At: at}, nil, dataset.ErrNameTaken},

		{"dataset properties", []dataset.Event{created}, dataset.SetProperties{Properties: map[string]json.RawMessage{"owner": json.RawMessage(` "ml" `)}, At: at},
			[]dataset.Event{dataset.PropertiesSet{Dataset: dsID, Properties: map[string]json.RawMessage{"owner": json.RawMessage(`"ml"`)}, At: at}}, nil},
		{"version properties", []dataset.Event{created, v1}, dataset.SetProperties{Version: "v1", Properties: map[string]json.RawMessage{"rows": json.RawMessage(`60000`)}, At: at},
			[]dataset.Event{dataset.PropertiesSet{Dataset: dsID, Version: "v1", Properties: map[string]json.RawMessage{"rows": json.RawMessage(`60000`)}, At: at}}, nil},
		{"unchanged properties are a no-op", []dataset.Event{created, v1, dataset.PropertiesSet{Dataset: dsID, Version: "v1", Properties: map[string]json.RawMessage{"rows": json.RawMessage(`1`)}, At: at}},
			dataset.SetProperties{Version: "v1", Properties: map[string]json.RawMessage{"rows": json.RawMessage(`1`)}, At: at}, nil, nil},
		{"properties of a missing version", []dataset.Event{created}, dataset.SetProperties{Version: "v1", Properties: map[string]json.RawMessage{"x": json.RawMessage(`1`)}, At: at}, nil, dataset.ErrVersionNotFound},
		{"properties not JSON", []dataset.Event{created}, dataset.SetProperties{Properties: map[string]json.RawMessage{"x": json.RawMessage(`nope`)}, At: at}, nil, domain.ErrInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := dataset.Decide(fold(tt.given), tt.when)
			if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil) != (err == nil) {
				t.Fatalf("Decide() error = %v, want %v", err, tt.wantErr)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Decide() events (-want +got):\n%s", diff)
			}
		})
	}
}

func TestState_Resolve(t *testing.T) {
	v2 := dataset.VersionCreated{Dataset: dsID, Version: "v2", Base: "v1", Added: ids(c), Files: ids(a, b, c), At: at}
	s := fold([]dataset.Event{created, v1, v2, prod,
		dataset.PropertiesSet{Dataset: dsID, Properties: map[string]json.RawMessage{"k": json.RawMessage(`1`)}, At: at},
		dataset.PropertiesSet{Dataset: dsID, Version: "v2", Properties: map[string]json.RawMessage{"rows": json.RawMessage(`3`)}, At: at},
	})
	tests := []struct {
		in      string
		version string
		files   []domain.DatumID
		wantErr error
	}{
		{"v1", "v1", ids(a, b), nil},
		{"production", "v1", ids(a, b), nil},
		{"latest", "v2", ids(a, b, c), nil},
		{"v9", "", nil, dataset.ErrVersionNotFound},
	}
	for _, tt := range tests {
		v, files, err := s.Resolve(tt.in)
		if !errors.Is(err, tt.wantErr) || v != tt.version || !cmp.Equal(files, tt.files) {
			t.Errorf("Resolve(%q) = %q, %v, %v, want %q, %v, %v", tt.in, v, files, err, tt.version, tt.files, tt.wantErr)
		}
	}
	if !s.Exists() || s.ID() != dsID || s.Project() != projID || s.Name() != "mnist" || s.Latest() != "v2" {
		t.Error("identity wrong")
	}
	if diff := cmp.Diff([]string{"v1", "v2"}, s.Versions()); diff != "" {
		t.Errorf("Versions() (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(map[string]string{"production": "v1"}, s.Aliases()); diff != "" {
		t.Errorf("Aliases() (-want +got):\n%s", diff)
	}
	if string(s.Properties()["k"]) != "1" || string(s.VersionProperties("v2")["rows"]) != "3" {
		t.Errorf("properties = %s %s", s.Properties(), s.VersionProperties("v2"))
	}
	if _, _, err := (dataset.State{}).Resolve("latest"); !errors.Is(err, domain.ErrNotFound) {
		t.Errorf("Resolve(latest) of an empty dataset = %v, want ErrNotFound", err)
	}
}
