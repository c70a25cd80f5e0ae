package project_test

import (
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/stratahq/strata/domain"
	"github.com/stratahq/strata/domain/project"
)

const (
	projID domain.ProjectID     = "0190f5a2-0000-7000-8000-000000000002"
	envID  domain.EnvironmentID = "0190f5a2-0000-7000-8000-000000000003"
	exec1                       = "0190f5a2-0000-7000-8000-000000000011"
	exec2                       = "0190f5a2-0000-7000-8000-000000000012"
	task1                       = "0190f5a2-0000-7000-8000-000000000021"
	alice  domain.UserID        = "alice"
	bob    domain.UserID        = "bob"
	repo                        = "https://github.com/org/repo.git"
)

var (
	at      = time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	created = project.Created{Project: projID, Slug: "mnist", Name: "MNIST digits", Owner: alice, At: at}
)

func fold(events []project.Event) project.State {
	var s project.State
	for _, e := range events {
		s = project.Evolve(s, e)
	}
	return s
}

func allocated(c project.Counter, n int, id string) project.NumberAllocated {
	return project.NumberAllocated{Project: projID, Counter: c, Number: n, For: id, At: at}
}

func TestDecide(t *testing.T) {
	bobEditor := project.MemberSet{Project: projID, User: bob, Role: project.RoleEditor, At: at}
	bobAdmin := project.MemberSet{Project: projID, User: bob, Role: project.RoleAdmin, At: at}
	tests := []struct {
		name    string
		given   []project.Event
		when    project.Command
		want    []project.Event
		wantErr error
	}{
		{"create", nil, project.Create{Project: projID, Slug: "mnist", Name: "MNIST digits", Owner: alice, At: at}, []project.Event{created}, nil},
		{"create twice", []project.Event{created}, project.Create{Project: projID, Slug: "mnist", Name: "x", Owner: alice, At: at}, nil, project.ErrExists},
		{"create with a bad slug", nil, project.Create{Project: projID, Slug: "MNIST!", Name: "x", Owner: alice, At: at}, nil, domain.ErrInvalid},
		{"create without a name", nil, project.Create{Project: projID, Slug: "mnist", Owner: alice, At: at}, nil, domain.ErrInvalid},
		{"create without an owner", nil, project.Create{Project: projID, Slug: "mnist", Name: "x", At: at}, nil, domain.ErrInvalid},
		{"create with a bad id", nil, project.Create{Project: "p", Slug: "mnist", Name: "x", Owner: alice, At: at}, nil, domain.ErrInvalid},
		{"create without a time", nil, project.Create{Project: projID, Slug: "mnist", Name: "x", Owner: alice}, nil, domain.ErrInvalid},
		{"command on a missing project", nil, project.LinkRepository{URL: repo, At: at}, nil, project.ErrNotFound},

		{"link repository", []project.Event{created}, project.LinkRepository{URL: repo, At: at},
			[]project.Event{project.RepositoryLinked{Project: projID, URL: repo, At: at}}, nil},
		{"relink records the previous", []project.Event{created, project.RepositoryLinked{Project: projID, URL: repo, At: at}}, project.LinkRepository{URL: "git@host:o/r.git", At: at},
			[]project.Event{project.RepositoryLinked{Project: projID, URL: "git@host:o/r.git", Previous: repo, At: at}}, nil},
		{"link the same repository is a no-op", []project.Event{created, project.RepositoryLinked{Project: projID, URL: repo, At: at}}, project.LinkRepository{URL: repo, At: at}, nil, nil},
		{"link a repository with credentials", []project.Event{created}, project.LinkRepository{URL: "https://u:p@h/r", At: at}, nil, domain.ErrInvalid},

		{"set default store normalises", []project.Event{created}, project.SetDefaultStore{Store: "S3://my-bucket/strata/", At: at},
			[]project.Event{project.DefaultStoreSet{Project: projID, Store: "s3://my-bucket/strata/", At: at}}, nil},
		{"set the same default store is a no-op", []project.Event{created, project.DefaultStoreSet{Project: projID, Store: "s3://my-bucket", At: at}}, project.SetDefaultStore{Store: "s3://my-bucket", At: at}, nil, nil},
		{"change default store records the previous", []project.Event{created, project.DefaultStoreSet{Project: projID, Store: "s3://my-bucket", At: at}}, project.SetDefaultStore{Store: "gs://other-bucket", At: at},
			[]project.Event{project.DefaultStoreSet{Project: projID, Store: "gs://other-bucket", Previous: "s3://my-bucket", At: at}}, nil},
		{"default store with a wildcard", []project.Event{created}, project.SetDefaultStore{Store: "s3://my-bucket/*", At: at}, nil, domain.ErrInvalid},
		{"default store malformed", []project.Event{created}, project.SetDefaultStore{Store: "ftp://x/y", At: at}, nil, domain.ErrInvalid},
		{"set store override", []project.Event{created}, project.SetStoreOverride{Name: "my-store", Store: "azure://acct1/models", At: at},
			[]project.Event{project.StoreOverrideSet{Project: projID, Name: "my-store", Store: "azure://acct1/models", At: at}}, nil},
		{"set the same override is a no-op", []project.Event{created, project.StoreOverrideSet{Project: projID, Name: "my-store", Store: "s3://my-bucket", At: at}},
			project.SetStoreOverride{Name: "my-store", Store: "s3://my-bucket", At: at}, nil, nil},
		{"override with a bad name", []project.Event{created}, project.SetStoreOverride{Name: "my store", Store: "s3://my-bucket", At: at}, nil, domain.ErrInvalid},
		{"remove store override", []project.Event{created, project.StoreOverrideSet{Project: projID, Name: "my-store", Store: "s3://my-bucket", At: at}},
			project.RemoveStoreOverride{Name: "my-store", At: at}, []project.Event{project.StoreOverrideRemoved{Project: projID, Name: "my-store", At: at}}, nil},
		{"remove a missing override is a no-op", []project.Event{created}, project.RemoveStoreOverride{Name: "my-store", At: at}, nil, nil},

		{"enable environment", []project.Event{created}, project.EnableEnvironment{Environment: envID, At: at},
			[]project.Event{project.EnvironmentEnabled{Project: projID, Environment: envID, At: at}}, nil},
		{"enable twice is a no-op", []project.Event{created, project.EnvironmentEnabled{Project: projID, Environment: envID, At: at}}, project.EnableEnvironment{Environment: envID, At: at}, nil, nil},
		{"enable a bad environment id", []project.Event{created}, project.EnableEnvironment{Environment: "gpu", At: at}, nil, domain.ErrInvalid},
		{"disable environment", []project.Event{created, project.EnvironmentEnabled{Project: projID, Environment: envID, At: at}}, project.DisableEnvironment{Environment: envID, At: at},
			[]project.Event{project.EnvironmentDisabled{Project: projID, Environment: envID, At: at}}, nil},
		{"disable a disabled environment is a no-op", []project.Event{created}, project.DisableEnvironment{Environment: envID, At: at}, nil, nil},

		{"add member", []project.Event{created}, project.SetMember{User: bob, Role: project.RoleEditor, At: at}, []project.Event{bobEditor}, nil},
		{"same role is a no-op", []project.Event{created, bobEditor}, project.SetMember{User: bob, Role: project.RoleEditor, At: at}, nil, nil},
		{"unknown role", []project.Event{created}, project.SetMember{User: bob, Role: "owner", At: at}, nil, domain.ErrInvalid},
		{"bad user", []project.Event{created}, project.SetMember{User: "b o b", Role: project.RoleViewer, At: at}, nil, domain.ErrInvalid},
		{"demote the last admin", []project.Event{created, bobEditor}, project.SetMember{User: alice, Role: project.RoleViewer, At: at}, nil, project.ErrLastAdmin},
		{"demote an admin when another remains", []project.Event{created, bobAdmin}, project.SetMember{User: alice, Role: project.RoleViewer, At: at},
			[]project.Event{project.MemberSet{Project: projID, User: alice, Role: project.RoleViewer, At: at}}, nil},
		{"remove the last admin", []project.Event{created, bobEditor}, project.RemoveMember{User: alice, At: at}, nil, project.ErrLastAdmin},
		{"remove a member", []project.Event{created, bobEditor}, project.RemoveMember{User: bob, At: at}, []project.Event{project.MemberRemoved{Project: projID, User: bob, At: at}}, nil},
		{"remove a non-member", []project.Event{created}, project.RemoveMember{User: bob, At: at}, nil, project.ErrNotMember},

		{"first execution number is 1", []project.Event{created}, project.AllocateNumber{Counter: project.CounterExecution, For: exec1, At: at},
			[]project.Event{allocated(project.CounterExecution, 1, exec1)}, nil},
		{"numbers follow without gaps", []project.Event{created, allocated(project.CounterExecution, 1, exec1)}, project.AllocateNumber{Counter: project.CounterExecution, For: exec2, At: at},
			[]project.Event{allocated(project.CounterExecution, 2, exec2)}, nil},
		{"allocating again for the same id is a no-op", []project.Event{created, allocated(project.CounterExecution, 1, exec1), allocated(project.CounterExecution, 2, exec2)},
			project.AllocateNumber{Counter: project.CounterExecution, For: exec1, At: at}, nil, nil},
		{"counters are independent", []project.Event{created, allocated(project.CounterExecution, 1, exec1), allocated(project.CounterExecution, 2, exec2)},
			project.AllocateNumber{Counter: project.CounterTask, For: task1, At: at}, []project.Event{allocated(project.CounterTask, 1, task1)}, nil},
		{"unknown counter", []project.Event{created}, project.AllocateNumber{Counter: "model", For: exec1, At: at}, nil, domain.ErrInvalid},
		{"allocate for a bad id", []project.Event{created}, project.AllocateNumber{Counter: project.CounterPipeline, For: "x", At: at}, nil, domain.ErrInvalid},
		{"allocate without a time", []project.Event{created}, project.AllocateNumber{Counter: project.CounterPipeline, For: exec1}, nil, domain.ErrInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := project.Decide(fold(tt.given), tt.when)
			if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil) != (err == nil) {
				t.Fatalf("Decide() error = %v, want %v", err, tt.wantErr)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Decide() events (-want +got):\n%s", diff)
			}
		})
	}
}

// TestCounters_GaplessAndDeterministic allocates through Decide as the application layer
// would, with repeats, then replays the log and expects the same numbers.
func TestCounters_GaplessAndDeterministic(t *testing.T) {
	log := []project.Event{created}
	s := fold(log)
	ids := []string{exec1, exec2, exec1, "0190f5a2-0000-7000-8000-000000000013", exec2}
	for _, id := range ids {
		evs, err := project.Decide(s, project.AllocateNumber{Counter: project.CounterExecution, For: id, At: at})
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range evs {
			s = project.Evolve(s, e)
		}
		log = append(log, evs...)
	}
	if got := s.Last(project.CounterExecution); got != 3 {
		t.Errorf("Last() = %d, want 3", got)
	}
	replayed := fold(log)
	for i, id := range []string{exec1, exec2, "0190f5a2-0000-7000-8000-000000000013"} {
		n, ok := replayed.Number(project.CounterExecution, id)
		if !ok || n != i+1 {
			t.Errorf("replayed Number(%s) = %d, %v, want %d", id, n, ok, i+1)
		}
	}
	if _, ok := replayed.Number(project.CounterTask, exec1); ok {
		t.Error("Number(task, exec1) found; counters must be separate")
	}
}

func TestState(t *testing.T) {
	s := fold([]project.Event{
		created,
		project.RepositoryLinked{Project: projID, URL: repo, At: at},
		project.DefaultStoreSet{Project: projID, Store: "s3://my-bucket", At: at},
		project.StoreOverrideSet{Project: projID, Name: "models", Store: "gs://models-bucket", At: at},
		project.EnvironmentEnabled{Project: projID, Environment: envID, At: at},
		project.MemberSet{Project: projID, User: bob, Role: project.RoleViewer, At: at},
	})
	if !s.Exists() || s.ID() != projID || s.Slug() != "mnist" || s.Name() != "MNIST digits" || s.CreatedAt() != at || s.Repository() != repo {
		t.Errorf("identity wrong: %v %v %v %v %v", s.Exists(), s.ID(), s.Slug(), s.Name(), s.Repository())
	}
	if u, ok := s.Store(""); !ok || u != "s3://my-bucket" || s.DefaultStore() != u {
		t.Errorf("Store(\"\") = %q, %v", u, ok)
	}
	if u, ok := s.Store("models"); !ok || u != "gs://models-bucket" {
		t.Errorf("Store(models) = %q, %v", u, ok)
	}
	if _, ok := s.Store("nope"); ok {
		t.Error("Store(nope) found")
	}
	if diff := cmp.Diff(map[string]string{"models": "gs://models-bucket"}, s.StoreOverrides()); diff != "" {
		t.Errorf("StoreOverrides() (-want +got):\n%s", diff)
	}
	if !s.EnvironmentEnabled(envID) || len(s.Environments()) != 1 {
		t.Errorf("environments = %v", s.Environments())
	}
	if r, ok := s.Role(alice); !ok || r != project.RoleAdmin {
		t.Errorf("Role(owner) = %q, %v, want admin", r, ok)
	}
	if diff := cmp.Diff(map[domain.UserID]project.Role{alice: project.RoleAdmin, bob: project.RoleViewer}, s.Members()); diff != "" {
		t.Errorf("Members() (-want +got):\n%s", diff)
	}
}

func TestRole_Allows(t *testing.T) {
	tests := []struct {
		have, need project.Role
		want       bool
	}{
		{project.RoleAdmin, project.RoleEditor, true},
		{project.RoleEditor, project.RoleEditor, true},
		{project.RoleViewer, project.RoleEditor, false},
		{project.RoleEditor, project.RoleAdmin, false},
		{"", project.RoleViewer, false},
		{"root", project.RoleViewer, false},
	}
	for _, tt := range tests {
		if got := tt.have.Allows(tt.need); got != tt.want {
			t.Errorf("%q.Allows(%q) = %v, want %v", tt.have, tt.need, got, tt.want)
		}
	}
}

func TestCounter_Format(t *testing.T) {
	for c, want := range map[project.Counter]string{project.CounterExecution: "#42", project.CounterTask: "!42", project.CounterPipeline: "=42"} {
		if got := c.Format(42); got != want {
			t.Errorf("%s.Format(42) = %q, want %q", c, got, want)
		}
	}
}

func TestState_Settings(t *testing.T) {
	s := fold([]project.Event{created, project.MemberSet{Project: projID, User: bob, Role: project.RoleViewer, At: at}, allocated(project.CounterExecution, 1, exec1)})
	settings := s.Settings()
	// s evolves on, reusing its maps; the settings handed out before must not change.
	s = project.Evolve(s, project.MemberRemoved{Project: projID, User: bob, At: at})
	s = project.Evolve(s, project.StoreOverrideSet{Project: projID, Name: "models", Store: "gs://models-bucket", At: at})
	s = project.Evolve(s, allocated(project.CounterExecution, 2, exec2))
	if r, ok := settings.Role(bob); !ok || r != project.RoleViewer || len(settings.StoreOverrides()) != 0 || settings.Last(project.CounterExecution) != 1 {
		t.Errorf("settings changed as the state evolved: bob %q %v, overrides %v, last %d", r, ok, settings.StoreOverrides(), settings.Last(project.CounterExecution))
	}
	if _, ok := settings.Number(project.CounterExecution, exec1); ok {
		t.Error("Settings().Number() found a number; settings leave them out")
	}
	if _, ok := s.Role(bob); ok || s.Last(project.CounterExecution) != 2 {
		t.Errorf("state: bob still a member or last %d, want 2", s.Last(project.CounterExecution))
	}
}
