package deployment_test

import (
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/stratahq/strata/domain"
	"github.com/stratahq/strata/domain/deployment"
)

const (
	depID  domain.DeploymentID = "0190f5a2-0000-7000-8000-000000000006"
	projID domain.ProjectID    = "0190f5a2-0000-7000-8000-000000000002"
	a      domain.DatumID      = "0190f5a2-0000-7000-8000-00000000000a"
	b      domain.DatumID      = "0190f5a2-0000-7000-8000-00000000000b"
	alice  domain.UserID       = "alice"
	commit                     = "0123456789abcdef0123456789abcdef01234567"
)

var (
	at      = time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	created = deployment.Created{Deployment: depID, Project: projID, Name: "digits", At: at}
	v1      = deployment.VersionCreated{Deployment: depID, Version: "20250102.0", Commit: commit, Endpoints: []string{"predict-digit"},
		Files: []deployment.File{{Endpoint: "predict-digit", Name: "model", Datum: a}}, Creator: alice, At: at}
)

func version(edit func(*deployment.CreateVersion)) deployment.CreateVersion {
	c := deployment.CreateVersion{Version: "20250102.0", Commit: commit, Endpoints: []string{"predict-digit"},
		Files: []deployment.File{{Endpoint: "predict-digit", Name: "model", Datum: a}}, Creator: alice, At: at}
	if edit != nil {
		edit(&c)
	}
	return c
}

func fold(events []deployment.Event) deployment.State {
	var s deployment.State
	for _, e := range events {
		s = deployment.Evolve(s, e)
	}
	return s
}

func TestDecide(t *testing.T) {
	tests := []struct {
		name    string
		given   []deployment.Event
		when    deployment.Command
		want    []deployment.Event
		wantErr error
	}{
		{"create", nil, deployment.Create{Deployment: depID, Project: projID, Name: "digits", At: at}, []deployment.Event{created}, nil},
		{"create twice", []deployment.Event{created}, deployment.Create{Deployment: depID, Project: projID, Name: "digits", At: at}, nil, deployment.ErrExists},
		{"create with a bad name", nil, deployment.Create{Deployment: depID, Project: projID, Name: "my deployment", At: at}, nil, domain.ErrInvalid},
		{"create without a time", nil, deployment.Create{Deployment: depID, Project: projID, Name: "digits"}, nil, domain.ErrInvalid},
		{"version of a missing deployment", nil, version(nil), nil, deployment.ErrNotFound},
		{"create a version", []deployment.Event{created}, version(nil), []deployment.Event{v1}, nil},
		{"version name taken", []deployment.Event{created, v1}, version(nil), nil, deployment.ErrVersionExists},
		{"version without endpoints", []deployment.Event{created}, version(func(c *deployment.CreateVersion) { c.Endpoints, c.Files = nil, nil }), nil, domain.ErrInvalid},
		{"bad endpoint name", []deployment.Event{created}, version(func(c *deployment.CreateVersion) { c.Endpoints = []string{"Predict"} }), nil, domain.ErrInvalid},
		{"endpoint twice", []deployment.Event{created}, version(func(c *deployment.CreateVersion) { c.Endpoints = []string{"predict-digit", "predict-digit"} }), nil, domain.ErrInvalid},
		{"file for an unknown endpoint", []deployment.Event{created}, version(func(c *deployment.CreateVersion) { c.Files[0].Endpoint = "other" }), nil, domain.ErrInvalid},
		{"file with a bad datum", []deployment.Event{created}, version(func(c *deployment.CreateVersion) { c.Files[0].Datum = "x" }), nil, domain.ErrInvalid},
		{"file twice", []deployment.Event{created}, version(func(c *deployment.CreateVersion) { c.Files = append(c.Files, c.Files[0]) }), nil, domain.ErrInvalid},
		{"bad commit", []deployment.Event{created}, version(func(c *deployment.CreateVersion) { c.Commit = "HEAD" }), nil, domain.ErrInvalid},
		{"no creator", []deployment.Event{created}, version(func(c *deployment.CreateVersion) { c.Creator = "" }), nil, domain.ErrInvalid},
		{"bad version name", []deployment.Event{created}, version(func(c *deployment.CreateVersion) { c.Version = "v 1" }), nil, domain.ErrInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := deployment.Decide(fold(tt.given), tt.when)
			if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil) != (err == nil) {
				t.Fatalf("Decide() error = %v, want %v", err, tt.wantErr)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Decide() events (-want +got):\n%s", diff)
			}
		})
	}
}

func TestState_ReliesOn(t *testing.T) {
	v2 := deployment.VersionCreated{Deployment: depID, Version: "v2", Endpoints: []string{"predict-digit"},
		Files: []deployment.File{{Endpoint: "predict-digit", Name: "model", Datum: b}}, Creator: alice, At: at}
	v3 := deployment.VersionCreated{Deployment: depID, Version: "v3", Endpoints: []string{"predict-digit"},
		Files: []deployment.File{{Endpoint: "predict-digit", Name: "model", Datum: a}}, Creator: alice, At: at}
	s := fold([]deployment.Event{created, v1, v2, v3})
	if diff := cmp.Diff([]string{"20250102.0", "v3"}, s.ReliesOn(a)); diff != "" {
		t.Errorf("ReliesOn(a) (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"v2"}, s.ReliesOn(b)); diff != "" {
		t.Errorf("ReliesOn(b) (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"20250102.0", "v2", "v3"}, s.Versions()); diff != "" {
		t.Errorf("Versions() (-want +got):\n%s", diff)
	}
	if files, ok := s.Files("v2"); !ok || len(files) != 1 || files[0].Datum != b {
		t.Errorf("Files(v2) = %v, %v", files, ok)
	}
	if _, ok := s.Files("v9"); ok {
		t.Error("Files(v9) found")
	}
	if !s.Exists() || s.ID() != depID || s.Project() != projID || s.Name() != "digits" {
		t.Error("identity wrong")
	}
}
