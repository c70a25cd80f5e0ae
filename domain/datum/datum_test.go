package datum_test

import (
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/stratahq/strata/domain"
	"github.com/stratahq/strata/domain/datum"
)

const (
	datumID domain.DatumID     = "0190f5a2-0000-7000-8000-00000000000a"
	projID  domain.ProjectID   = "0190f5a2-0000-7000-8000-000000000002"
	execID  domain.ExecutionID = "0190f5a2-0000-7000-8000-000000000001"
	alice   domain.UserID      = "alice"
)

var (
	at      = time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	digests = domain.Digests{MD5: domain.MD5{1}, SHA1: domain.SHA1{2}, SHA256: domain.SHA256{3}, BLAKE3: domain.Digest{4}}
)

func create() datum.Create {
	return datum.Create{Datum: datumID, Project: projID, Name: "model.pb", Size: 1234, Digests: digests,
		Store: "S3://my-bucket/strata", Key: "data/01/model.pb", Execution: execID, At: at}
}

func created() datum.Created {
	return datum.Created{Datum: datumID, Project: projID, Name: "model.pb", Size: 1234,
		MD5: digests.MD5, SHA1: digests.SHA1, SHA256: digests.SHA256, BLAKE3: digests.BLAKE3,
		Store: "s3://my-bucket/strata", Key: "data/01/model.pb", Execution: execID, At: at}
}

func with(c datum.Create, edit func(*datum.Create)) datum.Create {
	edit(&c)
	return c
}

func fold(events []datum.Event) datum.State {
	var s datum.State
	for _, e := range events {
		s = datum.Evolve(s, e)
	}
	return s
}

func raw(s string) json.RawMessage { return json.RawMessage(s) }

func TestDecide(t *testing.T) {
	purged := datum.Purged{Datum: datumID, By: alice, Reason: "GDPR request", At: at}
	props := datum.PropertiesSet{Datum: datumID, Properties: map[string]json.RawMessage{"accuracy": raw(`0.95`), "split": raw(`"train"`)}, At: at}
	tests := []struct {
		name    string
		given   []datum.Event
		when    datum.Command
		want    []datum.Event
		wantErr error
	}{
		{"create an output", nil, create(), []datum.Event{created()}, nil},
		{"create an upload into the built-in store", nil, with(create(), func(c *datum.Create) { c.Execution, c.Uploader, c.Store = "", alice, "" }),
			[]datum.Event{func() datum.Created { e := created(); e.Execution, e.Uploader, e.Store = "", alice, ""; return e }()}, nil},
		{"create twice", []datum.Event{created()}, create(), nil, datum.ErrExists},
		{"create without a producer", nil, with(create(), func(c *datum.Create) { c.Execution = "" }), nil, domain.ErrInvalid},
		{"create with two producers", nil, with(create(), func(c *datum.Create) { c.Uploader = alice }), nil, domain.ErrInvalid},
		{"create without a digest", nil, with(create(), func(c *datum.Create) { c.Digests.SHA1 = domain.SHA1{} }), nil, domain.ErrInvalid},
		{"create with a negative size", nil, with(create(), func(c *datum.Create) { c.Size = -1 }), nil, domain.ErrInvalid},
		{"create with an escaping name", nil, with(create(), func(c *datum.Create) { c.Name = "../model.pb" }), nil, domain.ErrInvalid},
		{"create with a bad store", nil, with(create(), func(c *datum.Create) { c.Store = "s3://x" }), nil, domain.ErrInvalid},
		{"create with a wildcard store", nil, with(create(), func(c *datum.Create) { c.Store = "s3://my-bucket/*" }), nil, domain.ErrInvalid},
		{"create without a key", nil, with(create(), func(c *datum.Create) { c.Key = "" }), nil, domain.ErrInvalid},
		{"create with a bad id", nil, with(create(), func(c *datum.Create) { c.Datum = "d" }), nil, domain.ErrInvalid},
		{"create without a time", nil, with(create(), func(c *datum.Create) { c.At = time.Time{} }), nil, domain.ErrInvalid},
		{"command on a missing datum", nil, datum.Purge{By: alice, Reason: "x", At: at}, nil, datum.ErrNotFound},

		{"set properties compacts", []datum.Event{created()}, datum.SetProperties{Properties: map[string]json.RawMessage{"accuracy": raw(` 0.95 `), "split": raw(`"train"`)}, At: at},
			[]datum.Event{props}, nil},
		{"set properties lists only changes", []datum.Event{created(), props}, datum.SetProperties{Properties: map[string]json.RawMessage{"accuracy": raw(`0.95`), "split": raw(`"test"`)}, At: at},
			[]datum.Event{datum.PropertiesSet{Datum: datumID, Properties: map[string]json.RawMessage{"split": raw(`"test"`)}, At: at}}, nil},
		{"set the same properties is a no-op", []datum.Event{created(), props}, datum.SetProperties{Properties: map[string]json.RawMessage{"accuracy": raw(`0.95`)}, At: at}, nil, nil},
		{"null removes a property", []datum.Event{created(), props}, datum.SetProperties{Properties: map[string]json.RawMessage{"split": raw(`null`)}, At: at},
			[]datum.Event{datum.PropertiesSet{Datum: datumID, Properties: map[string]json.RawMessage{"split": raw(`null`)}, At: at}}, nil},
		{"removing a missing property is a no-op", []datum.Event{created()}, datum.SetProperties{Properties: map[string]json.RawMessage{"nope": raw(`null`)}, At: at}, nil, nil},
		{"property value not JSON", []datum.Event{created()}, datum.SetProperties{Properties: map[string]json.RawMessage{"x": raw(`{`)}, At: at}, nil, domain.ErrInvalid},
		{"blank property name", []datum.Event{created()}, datum.SetProperties{Properties: map[string]json.RawMessage{"": raw(`1`)}, At: at}, nil, domain.ErrInvalid},
		{"properties of a purged datum can still change", []datum.Event{created(), purged}, datum.SetProperties{Properties: map[string]json.RawMessage{"x": raw(`1`)}, At: at},
			[]datum.Event{datum.PropertiesSet{Datum: datumID, Properties: map[string]json.RawMessage{"x": raw(`1`)}, At: at}}, nil},

		{"add tags", []datum.Event{created()}, datum.AddTags{Tags: []string{"validated", "validated"}, At: at}, []datum.Event{datum.TagsAdded{Datum: datumID, Tags: []string{"validated"}, At: at}}, nil},
		{"add tags it has is a no-op", []datum.Event{created(), datum.TagsAdded{Datum: datumID, Tags: []string{"a"}, At: at}}, datum.AddTags{Tags: []string{"a"}, At: at}, nil, nil},
		{"remove tags", []datum.Event{created(), datum.TagsAdded{Datum: datumID, Tags: []string{"a", "b"}, At: at}}, datum.RemoveTags{Tags: []string{"b", "c"}, At: at},
			[]datum.Event{datum.TagsRemoved{Datum: datumID, Tags: []string{"b"}, At: at}}, nil},
		{"remove tags it lacks is a no-op", []datum.Event{created()}, datum.RemoveTags{Tags: []string{"a"}, At: at}, nil, nil},
		{"bad tag", []datum.Event{created()}, datum.AddTags{Tags: []string{"a\tb"}, At: at}, nil, domain.ErrInvalid},

		{"purge", []datum.Event{created()}, datum.Purge{By: alice, Reason: "GDPR request", At: at}, []datum.Event{purged}, nil},
		{"purge again is a no-op", []datum.Event{created(), purged}, datum.Purge{By: alice, Reason: "again", At: at}, nil, nil},
		{"purge needs who", []datum.Event{created()}, datum.Purge{Reason: "x", At: at}, nil, domain.ErrInvalid},
		{"purge needs why", []datum.Event{created()}, datum.Purge{By: alice, At: at}, nil, domain.ErrInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := datum.Decide(fold(tt.given), tt.when)
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
	s := fold([]datum.Event{
		created(),
		datum.PropertiesSet{Datum: datumID, Properties: map[string]json.RawMessage{"a": raw(`1`), "b": raw(`2`)}, At: at},
		datum.PropertiesSet{Datum: datumID, Properties: map[string]json.RawMessage{"a": raw(`null`)}, At: at},
		datum.TagsAdded{Datum: datumID, Tags: []string{"x", "y"}, At: at},
		datum.TagsRemoved{Datum: datumID, Tags: []string{"x"}, At: at},
	})
	if !s.Exists() || s.ID() != datumID || s.Project() != projID || s.Name() != "model.pb" || s.Size() != 1234 || s.Producer() != execID || s.Uploader() != "" || s.CreatedAt() != at {
		t.Errorf("identity wrong")
	}
	if s.Digests() != digests {
		t.Errorf("Digests() = %+v, want %+v", s.Digests(), digests)
	}
	if store, key := s.Location(); store != "s3://my-bucket/strata" || key != "data/01/model.pb" {
		t.Errorf("Location() = %q, %q", store, key)
	}
	if diff := cmp.Diff(map[string]json.RawMessage{"b": raw(`2`)}, s.Properties()); diff != "" {
		t.Errorf("Properties() (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"y"}, s.Tags()); diff != "" {
		t.Errorf("Tags() (-want +got):\n%s", diff)
	}
	if err := s.CheckReadable(); err != nil {
		t.Errorf("CheckReadable() = %v, want nil", err)
	}
	if _, ok := s.Purged(); ok {
		t.Error("Purged() = true before purge")
	}
	s = datum.Evolve(s, datum.Purged{Datum: datumID, By: alice, Reason: "r", At: at})
	if err := s.CheckReadable(); !errors.Is(err, datum.ErrPurged) || !errors.Is(err, domain.ErrConflict) {
		t.Errorf("CheckReadable() after purge = %v, want ErrPurged", err)
	}
	if p, ok := s.Purged(); !ok || p.By != alice || s.Name() != "model.pb" {
		t.Errorf("after purge the record must remain: %+v %v %q", p, ok, s.Name())
	}
	if err := (datum.State{}).CheckReadable(); !errors.Is(err, domain.ErrNotFound) {
		t.Errorf("zero State CheckReadable() = %v, want ErrNotFound", err)
	}
}
