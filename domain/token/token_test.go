package token_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/stratahq/strata/domain"
	"github.com/stratahq/strata/domain/token"
)

var update = flag.Bool("update", false, "write testdata/events golden files from the samples")

var (
	at   = time.Date(2025, 1, 2, 3, 4, 5, 123456789, time.UTC)
	id   = token.ID("0190f5a2-0000-7000-8000-0000000000f1")
	hash = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
)

func create() token.Create {
	return token.Create{Token: id, User: "alice", Name: "laptop", Hash: hash, CreatedBy: "admin", At: at}
}

func created() token.Created { return token.Created(create()) }

func fold(evs []token.Event) token.State {
	var s token.State
	for _, e := range evs {
		s = token.Evolve(s, e)
	}
	return s
}

func TestDecide(t *testing.T) {
	badHash := create()
	badHash.Hash = "ABC"
	noUser := create()
	noUser.User = ""
	badID := create()
	badID.Token = "x"
	revoked := token.Revoked{Token: id, By: "alice", At: at}
	tests := []struct {
		name    string
		given   []token.Event
		when    token.Command
		want    []token.Event
		wantErr error
	}{
		{"create", nil, create(), []token.Event{created()}, nil},
		{"create twice conflicts", []token.Event{created()}, create(), nil, token.ErrExists},
		{"bad hash", nil, badHash, nil, domain.ErrInvalid},
		{"no user", nil, noUser, nil, domain.ErrInvalid},
		{"bad id", nil, badID, nil, domain.ErrInvalid},
		{"revoke", []token.Event{created()}, token.Revoke{By: "alice", At: at}, []token.Event{revoked}, nil},
		{"revoke again is a no-op", []token.Event{created(), revoked}, token.Revoke{By: "alice", At: at}, nil, nil},
		{"revoke missing", nil, token.Revoke{By: "alice", At: at}, nil, token.ErrNotFound},
		{"revoke without time", []token.Event{created()}, token.Revoke{By: "alice"}, nil, domain.ErrInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := token.Decide(fold(tt.given), tt.when)
			if !errors.Is(err, tt.wantErr) || (err != nil) != (tt.wantErr != nil) {
				t.Fatalf("Decide() error = %v, want %v", err, tt.wantErr)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Decide() events (-want +got):\n%s", diff)
			}
		})
	}
}

func TestEvolve(t *testing.T) {
	s := fold([]token.Event{created()})
	if !s.Exists() || s.User() != "alice" || s.Hash() != hash || s.Admin() || s.Revoked() || s.Name() != "laptop" {
		t.Fatalf("Evolve(Created) = %+v", s)
	}
	if s = token.Evolve(s, token.Revoked{Token: id, By: "alice", At: at}); !s.Revoked() {
		t.Fatal("Evolve(Revoked) did not revoke")
	}
}

// TestGolden keeps one sample of every event type as it is stored, forever: each must
// still decode to the sample.
func TestGolden(t *testing.T) {
	samples := []token.Event{
		token.Created{Token: id, User: "alice", Name: "laptop", Hash: hash, Admin: true, CreatedBy: "admin", At: at},
		token.Revoked{Token: id, By: "alice", At: at},
	}
	if len(samples) != len(token.Events()) {
		t.Fatalf("%d samples for %d event types", len(samples), len(token.Events()))
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
		got := reflect.New(reflect.TypeOf(e))
		if err := json.Unmarshal(stored, got.Interface()); err != nil {
			t.Fatalf("decode %s: %v", name, err)
		}
		if diff := cmp.Diff(e, got.Elem().Interface()); diff != "" {
			t.Errorf("decode %s (-want +got):\n%s", name, diff)
		}
	}
}
