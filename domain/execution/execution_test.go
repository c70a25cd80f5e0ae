package execution_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/stratahq/strata/domain"
	"github.com/stratahq/strata/domain/execution"
)

const (
	execID   domain.ExecutionID   = "0190f5a2-0000-7000-8000-000000000001"
	projID   domain.ProjectID     = "0190f5a2-0000-7000-8000-000000000002"
	envID    domain.EnvironmentID = "0190f5a2-0000-7000-8000-000000000003"
	datumA   domain.DatumID       = "0190f5a2-0000-7000-8000-00000000000a"
	datumB   domain.DatumID       = "0190f5a2-0000-7000-8000-00000000000b"
	datumC   domain.DatumID       = "0190f5a2-0000-7000-8000-00000000000c"
	taskID   domain.TaskID        = "0190f5a2-0000-7000-8000-000000000004"
	commit                        = "0123456789abcdef0123456789abcdef01234567"
	repo                          = "https://github.com/org/repo.git"
	alice    domain.UserID        = "alice"
	image                         = "python:3.12"
	training                      = "train"
)

var at = time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)

func f64(f float64) *float64 { return &f }

func step() execution.Step {
	return execution.Step{
		Name: training,
		Parameters: []execution.ParameterDef{
			{Name: "epochs", Type: execution.TypeInteger, Min: f64(1), Max: f64(100), Default: []string{"10"}},
			{Name: "lr", Type: execution.TypeFloat, Optional: true},
			{Name: "optimizer", Choices: []string{"adam", "sgd"}, Default: []string{"adam"}},
			{Name: "verbose", Type: execution.TypeFlag},
			{Name: "layers", Type: execution.TypeInteger, Multiple: execution.MultipleSeparate, Default: []string{"1000", "500"}},
		},
		Inputs: []execution.InputDef{
			{Name: "images"},
			{Name: "model", Optional: true},
		},
	}
}

func create() execution.Create {
	return execution.Create{
		Execution: execID, Project: projID, Number: 7, Step: step(),
		Code:     execution.Code{Repository: repo, Commit: commit},
		Image:    image,
		Commands: []string{"python train.py --epochs=10"},
		Parameters: map[string][]string{
			"lr": {"0.001"},
		},
		Inputs: map[string][]string{
			"images": {"dataset://mnist/v2", "s3://my-bucket/extra/*.png"},
			"model":  {"datum://model-prod", "datum://" + string(datumC)},
		},
		Resolved: map[string][]domain.DatumID{
			"dataset://mnist/v2": {datumA, datumB},
			"datum://model-prod": {datumA},
		},
		Environment: envID,
		EnvironmentVariables: []execution.EnvironmentVariable{
			{Name: "MODE", Value: "fast"},
			{Name: "API_TOKEN", Value: "s3cr3t", Secret: true},
		},
		Creator: alice, Title: "first try", Task: taskID, Tags: []string{"a", "b", "a"},
		Priority: 2, TimeLimit: time.Hour, NoOutputTimeout: 10 * time.Minute, At: at,
	}
}

func created() execution.Created {
	return execution.Created{
		Execution: execID, Project: projID, Number: 7, Step: training,
		Code:     execution.Code{Repository: repo, Commit: commit},
		Image:    image,
		Commands: []string{"python train.py --epochs=10"},
		Parameters: []execution.Parameter{
			{Name: "epochs", Type: execution.TypeInteger, Values: []string{"10"}},
			{Name: "lr", Type: execution.TypeFloat, Values: []string{"0.001"}},
			{Name: "optimizer", Type: execution.TypeString, Values: []string{"adam"}},
			{Name: "verbose", Type: execution.TypeFlag, Values: []string{"false"}},
			{Name: "layers", Type: execution.TypeInteger, Multiple: execution.MultipleSeparate, Values: []string{"1000", "500"}},
		},
		Inputs: []execution.Input{
			{Name: "images", URIs: []execution.ResolvedURI{{URI: "dataset://mnist/v2", Datums: []domain.DatumID{datumA, datumB}}, {URI: "s3://my-bucket/extra/*.png"}}},
			{Name: "model", URIs: []execution.ResolvedURI{{URI: "datum://model-prod", Datums: []domain.DatumID{datumA}}, {URI: "datum://" + string(datumC), Datums: []domain.DatumID{datumC}}}},
		},
		Environment: envID,
		EnvironmentVariables: []execution.EnvironmentVariable{
			{Name: "MODE", Value: "fast"},
			{Name: "API_TOKEN", Secret: true},
		},
		Creator: alice, Title: "first try", Task: taskID, Tags: []string{"a", "b"},
		Priority: 2, TimeLimit: time.Hour, NoOutputTimeout: 10 * time.Minute, At: at,
	}
}

func with(c execution.Create, edit func(*execution.Create)) execution.Create {
	edit(&c)
	return c
}

var (
	queued  = execution.Queued{Execution: execID, At: at.Add(time.Second)}
	started = execution.Started{Execution: execID, Host: "worker-1", Hardware: execution.Hardware{CPUs: 4, MemoryBytes: 8 << 30, GPUs: 1, GPUModel: "A100"},
		ImageDigest: "sha256:" + strings.Repeat("ab", 32), At: at.Add(time.Minute)}
	stopReq = execution.StopRequested{Execution: execID, By: alice, At: at.Add(2 * time.Minute)}
	stopped = execution.Stopped{Execution: execID, At: at.Add(3 * time.Minute)}
)

func finished(code int) execution.Finished {
	st := domain.StatusComplete
	if code != 0 {
		st = domain.StatusError
	}
	return execution.Finished{Execution: execID, ExitCode: code, Status: st, At: at.Add(time.Hour)}
}

func fold(events []execution.Event) execution.State {
	var s execution.State
	for _, e := range events {
		s = execution.Evolve(s, e)
	}
	return s
}

func running() []execution.Event { return []execution.Event{created(), queued, started} }

var digests = domain.Digests{MD5: domain.MD5{1}, SHA1: domain.SHA1{2}, SHA256: domain.SHA256{3}, BLAKE3: domain.Digest{4}}

func TestDecide(t *testing.T) {
	later := at.Add(5 * time.Minute)
	tests := []struct {
		name    string
		given   []execution.Event
		when    execution.Command
		want    []execution.Event
		wantErr error
	}{
		{"create records validated parameters, pinned inputs, no secret values", nil, create(), []execution.Event{created()}, nil},
		{"create twice conflicts", []execution.Event{created()}, create(), nil, domain.ErrConflict},
		{"create needs an execution id", nil, with(create(), func(c *execution.Create) { c.Execution = "" }), nil, domain.ErrInvalid},
		{"create needs a canonical execution id", nil, with(create(), func(c *execution.Create) { c.Execution = "EXEC" }), nil, domain.ErrInvalid},
		{"create needs a project", nil, with(create(), func(c *execution.Create) { c.Project = "" }), nil, domain.ErrInvalid},
		{"create needs a number", nil, with(create(), func(c *execution.Create) { c.Number = 0 }), nil, domain.ErrInvalid},
		{"create needs a time", nil, with(create(), func(c *execution.Create) { c.At = time.Time{} }), nil, domain.ErrInvalid},
		{"create needs a step name", nil, with(create(), func(c *execution.Create) { c.Step.Name = "" }), nil, domain.ErrInvalid},
		{"create needs code", nil, with(create(), func(c *execution.Create) { c.Code = execution.Code{} }), nil, domain.ErrInvalid},
		{"create refuses commit and ad-hoc together", nil, with(create(), func(c *execution.Create) { c.Code.Adhoc = datumA }), nil, domain.ErrInvalid},
		{"create accepts ad-hoc code", nil, with(create(), func(c *execution.Create) { c.Code = execution.Code{Adhoc: datumA} }),
			[]execution.Event{func() execution.Created { e := created(); e.Code = execution.Code{Adhoc: datumA}; return e }()}, nil},
		{"create refuses a short commit", nil, with(create(), func(c *execution.Create) { c.Code.Commit = "abc123" }), nil, domain.ErrInvalid},
		{"create refuses a repository URL with a token", nil, with(create(), func(c *execution.Create) { c.Code.Repository = "https://tok@github.com/o/r" }), nil, domain.ErrInvalid},
		{"create needs an image", nil, with(create(), func(c *execution.Create) { c.Image = "" }), nil, domain.ErrInvalid},
		{"create refuses an image with spaces", nil, with(create(), func(c *execution.Create) { c.Image = "python 3" }), nil, domain.ErrInvalid},
		{"create needs commands", nil, with(create(), func(c *execution.Create) { c.Commands = nil }), nil, domain.ErrInvalid},
		{"create refuses a blank command", nil, with(create(), func(c *execution.Create) { c.Commands = []string{" "} }), nil, domain.ErrInvalid},
		{"create refuses a parameter of the wrong type", nil, with(create(), func(c *execution.Create) { c.Parameters = map[string][]string{"epochs": {"ten"}} }), nil, domain.ErrInvalid},
		{"create refuses a parameter below min", nil, with(create(), func(c *execution.Create) { c.Parameters = map[string][]string{"epochs": {"0"}} }), nil, domain.ErrInvalid},
		{"create refuses a parameter not in choices", nil, with(create(), func(c *execution.Create) { c.Parameters = map[string][]string{"optimizer": {"rmsprop"}} }), nil, domain.ErrInvalid},
		{"create refuses an unknown parameter", nil, with(create(), func(c *execution.Create) { c.Parameters = map[string][]string{"nope": {"1"}} }), nil, domain.ErrInvalid},
		{"create refuses many values for a single parameter", nil, with(create(), func(c *execution.Create) { c.Parameters = map[string][]string{"epochs": {"1", "2"}} }), nil, domain.ErrInvalid},
		{"create refuses a missing required parameter", nil, with(create(), func(c *execution.Create) {
			c.Step.Parameters = append(c.Step.Parameters, execution.ParameterDef{Name: "seed", Type: execution.TypeInteger})
		}), nil, domain.ErrInvalid},
		{"create refuses a missing required input", nil, with(create(), func(c *execution.Create) { delete(c.Inputs, "images"); delete(c.Resolved, "dataset://mnist/v2") }), nil, domain.ErrInvalid},
		{"create refuses an undeclared input", nil, with(create(), func(c *execution.Create) { c.Inputs["other"] = []string{"s3://my-bucket/x"} }), nil, domain.ErrInvalid},
		{"create refuses a malformed input URI", nil, with(create(), func(c *execution.Create) { c.Inputs["images"] = []string{"s3://my-bucket/../x"} }), nil, domain.ErrInvalid},
		{"create refuses an unresolved alias", nil, with(create(), func(c *execution.Create) { delete(c.Resolved, "datum://model-prod") }), nil, domain.ErrInvalid},
		{"create refuses an unresolved dataset", nil, with(create(), func(c *execution.Create) { delete(c.Resolved, "dataset://mnist/v2") }), nil, domain.ErrInvalid},
		{"create refuses an alias resolved to two datums", nil, with(create(), func(c *execution.Create) { c.Resolved["datum://model-prod"] = []domain.DatumID{datumA, datumB} }), nil, domain.ErrInvalid},
		{"create refuses a resolution nobody asked for", nil, with(create(), func(c *execution.Create) { c.Resolved["datum://other"] = []domain.DatumID{datumA} }), nil, domain.ErrInvalid},
		{"create refuses a bad resolved datum id", nil, with(create(), func(c *execution.Create) { c.Resolved["dataset://mnist/v2"] = []domain.DatumID{"x"} }), nil, domain.ErrInvalid},
		{"create needs an environment", nil, with(create(), func(c *execution.Create) { c.Environment = "" }), nil, domain.ErrInvalid},
		{"create refuses a bad variable name", nil, with(create(), func(c *execution.Create) { c.EnvironmentVariables = []execution.EnvironmentVariable{{Name: "1X"}} }), nil, domain.ErrInvalid},
		{"create refuses a variable given twice", nil, with(create(), func(c *execution.Create) {
			c.EnvironmentVariables = []execution.EnvironmentVariable{{Name: "X"}, {Name: "X"}}
		}), nil, domain.ErrInvalid},
		{"create needs a creator", nil, with(create(), func(c *execution.Create) { c.Creator = "" }), nil, domain.ErrInvalid},
		{"create refuses a multi-line title", nil, with(create(), func(c *execution.Create) { c.Title = "a\nb" }), nil, domain.ErrInvalid},
		{"create refuses a bad task id", nil, with(create(), func(c *execution.Create) { c.Task = "t" }), nil, domain.ErrInvalid},
		{"create refuses a blank tag", nil, with(create(), func(c *execution.Create) { c.Tags = []string{""} }), nil, domain.ErrInvalid},
		{"create refuses a negative time limit", nil, with(create(), func(c *execution.Create) { c.TimeLimit = -time.Second }), nil, domain.ErrInvalid},

		{"queue", []execution.Event{created()}, execution.Queue{At: queued.At}, []execution.Event{queued}, nil},
		{"queue needs a time", []execution.Event{created()}, execution.Queue{}, nil, domain.ErrInvalid},
		{"queue a missing execution", nil, execution.Queue{At: at}, nil, domain.ErrNotFound},
		{"start", []execution.Event{created(), queued}, execution.Start{Host: started.Host, Hardware: started.Hardware, ImageDigest: started.ImageDigest, At: started.At},
			[]execution.Event{started}, nil},
		{"start needs a host", []execution.Event{created(), queued}, execution.Start{At: at}, nil, domain.ErrInvalid},
		{"start refuses a malformed image digest", []execution.Event{created(), queued}, execution.Start{Host: "h", ImageDigest: "latest", At: at}, nil, domain.ErrInvalid},
		{"start refuses negative hardware", []execution.Event{created(), queued}, execution.Start{Host: "h", Hardware: execution.Hardware{GPUs: -1}, At: at}, nil, domain.ErrInvalid},

		{"finish with 0 completes", running(), execution.Finish{At: finished(0).At}, []execution.Event{finished(0)}, nil},
		{"finish with non-zero errors", running(), execution.Finish{ExitCode: 2, Reason: "exit status 2", At: finished(2).At},
			[]execution.Event{execution.Finished{Execution: execID, ExitCode: 2, Reason: "exit status 2", Status: domain.StatusError, At: finished(2).At}}, nil},
		{"stop a started execution: stopping", running(), execution.RequestStop{By: alice, At: stopReq.At}, []execution.Event{stopReq}, nil},
		{"stop a queued execution: stopped at once", []execution.Event{created(), queued}, execution.RequestStop{By: alice, At: stopReq.At},
			[]execution.Event{stopReq, execution.Stopped{Execution: execID, At: stopReq.At}}, nil},
		{"stop a created execution: stopped at once", []execution.Event{created()}, execution.RequestStop{By: alice, At: stopReq.At},
			[]execution.Event{stopReq, execution.Stopped{Execution: execID, At: stopReq.At}}, nil},
		{"stop while stopping is a no-op", append(running(), stopReq), execution.RequestStop{By: alice, At: later}, nil, nil},
		{"stop needs who", running(), execution.RequestStop{At: later}, nil, domain.ErrInvalid},
		{"mark stopped", append(running(), stopReq), execution.MarkStopped{At: stopped.At}, []execution.Event{stopped}, nil},
		{"crash needs a reason", running(), execution.Crash{At: later}, nil, domain.ErrInvalid},
		{"crash", running(), execution.Crash{Reason: "node lost", At: later}, []execution.Event{execution.Crashed{Execution: execID, Reason: "node lost", At: later}}, nil},

		{"hash input", running(), execution.HashInput{Input: "images", URI: "s3://my-bucket/extra/a.png", FileName: "a.png", Size: 12, Digests: digests, At: later},
			[]execution.Event{execution.InputHashed{Execution: execID, Input: "images", URI: "s3://my-bucket/extra/a.png", FileName: "a.png", Size: 12,
				MD5: digests.MD5, SHA1: digests.SHA1, SHA256: digests.SHA256, BLAKE3: digests.BLAKE3, At: later}}, nil},
		{"hash input before start", []execution.Event{created(), queued}, execution.HashInput{Input: "images", URI: "s3://my-bucket/a", FileName: "a", Digests: digests, At: later}, nil, execution.ErrNotRunning},
		{"hash an unknown input", running(), execution.HashInput{Input: "nope", URI: "s3://my-bucket/a", FileName: "a", Digests: digests, At: later}, nil, domain.ErrInvalid},
		{"hash input needs all digests", running(), execution.HashInput{Input: "images", URI: "s3://my-bucket/a", FileName: "a", Digests: domain.Digests{BLAKE3: domain.Digest{1}}, At: later}, nil, domain.ErrInvalid},
		{"hash input refuses a path-escaping file name", running(), execution.HashInput{Input: "images", URI: "s3://my-bucket/a", FileName: "../a", Digests: digests, At: later}, nil, domain.ErrInvalid},
		{"hash input refuses a negative size", running(), execution.HashInput{Input: "images", URI: "s3://my-bucket/a", FileName: "a", Size: -1, Digests: digests, At: later}, nil, domain.ErrInvalid},

		{"record metadata compacts values", running(), execution.RecordMetadata{Points: []execution.MetadataPoint{{Time: later, Values: map[string]json.RawMessage{"loss": json.RawMessage(` 0.5 `), "cm": json.RawMessage(`[[1, 2]]`)}}}},
			[]execution.Event{execution.MetadataRecorded{Execution: execID, Points: []execution.MetadataPoint{{Time: later, Values: map[string]json.RawMessage{"loss": json.RawMessage(`0.5`), "cm": json.RawMessage(`[[1,2]]`)}}}}}, nil},
		{"record metadata needs _time", running(), execution.RecordMetadata{Points: []execution.MetadataPoint{{Values: map[string]json.RawMessage{"loss": json.RawMessage(`1`)}}}}, nil, domain.ErrInvalid},
		{"record metadata refuses an empty batch", running(), execution.RecordMetadata{}, nil, domain.ErrInvalid},
		{"record metadata refuses a _time key", running(), execution.RecordMetadata{Points: []execution.MetadataPoint{{Time: later, Values: map[string]json.RawMessage{"_time": json.RawMessage(`1`)}}}}, nil, domain.ErrInvalid},
		{"record metadata refuses bad JSON", running(), execution.RecordMetadata{Points: []execution.MetadataPoint{{Time: later, Values: map[string]json.RawMessage{"x": json.RawMessage(`{`)}}}}, nil, domain.ErrInvalid},
		{"record metadata after the end", append(running(), finished(0)), execution.RecordMetadata{Points: []execution.MetadataPoint{{Time: later, Values: map[string]json.RawMessage{"x": json.RawMessage(`1`)}}}}, nil, execution.ErrNotRunning},

		{"sample resources", running(), execution.SampleResources{CPUPercent: 250, MemoryBytes: 1 << 30, GPUs: []execution.GPUSample{{Index: 0, UtilizationPercent: 90, MemoryBytes: 2 << 30}}, At: later},
			[]execution.Event{execution.ResourcesSampled{Execution: execID, CPUPercent: 250, MemoryBytes: 1 << 30, GPUs: []execution.GPUSample{{Index: 0, UtilizationPercent: 90, MemoryBytes: 2 << 30}}, At: later}}, nil},
		{"sample resources refuses gpu over 100%", running(), execution.SampleResources{GPUs: []execution.GPUSample{{UtilizationPercent: 101}}, At: later}, nil, domain.ErrInvalid},
		{"sample resources refuses negative memory", running(), execution.SampleResources{MemoryBytes: -1, At: later}, nil, domain.ErrInvalid},

		{"record output", running(), execution.RecordOutput{Datum: datumB, Path: "model/model.pb", Properties: map[string]json.RawMessage{"accuracy": json.RawMessage(`0.95`)}, At: later},
			[]execution.Event{execution.OutputRecorded{Execution: execID, Datum: datumB, Path: "model/model.pb", Properties: map[string]json.RawMessage{"accuracy": json.RawMessage(`0.95`)}, At: later}}, nil},
		{"record output while stopping", append(running(), stopReq), execution.RecordOutput{Datum: datumB, Path: "a", At: later},
			[]execution.Event{execution.OutputRecorded{Execution: execID, Datum: datumB, Path: "a", At: later}}, nil},
		{"record the same output again is a no-op", append(running(), execution.OutputRecorded{Execution: execID, Datum: datumB, Path: "a", At: later}),
			execution.RecordOutput{Datum: datumB, Path: "a", At: later}, nil, nil},
		{"record output refuses an absolute path", running(), execution.RecordOutput{Datum: datumB, Path: "/etc/passwd", At: later}, nil, domain.ErrInvalid},
		{"record output needs a datum", running(), execution.RecordOutput{Path: "a", At: later}, nil, domain.ErrInvalid},
		{"record output after completion", append(running(), finished(0)), execution.RecordOutput{Datum: datumB, Path: "a", At: later}, nil, execution.ErrNotRunning},

		{"add tags skips tags it has", []execution.Event{created()}, execution.AddTags{Tags: []string{"b", "c", "c"}, At: later},
			[]execution.Event{execution.TagsAdded{Execution: execID, Tags: []string{"c"}, At: later}}, nil},
		{"add tags it has is a no-op", []execution.Event{created()}, execution.AddTags{Tags: []string{"a"}, At: later}, nil, nil},
		{"add tags after the end", append(running(), finished(1)), execution.AddTags{Tags: []string{"bad"}, At: later},
			[]execution.Event{execution.TagsAdded{Execution: execID, Tags: []string{"bad"}, At: later}}, nil},
		{"add a bad tag", []execution.Event{created()}, execution.AddTags{Tags: []string{"x\ny"}, At: later}, nil, domain.ErrInvalid},
		{"remove tags skips tags it lacks", []execution.Event{created()}, execution.RemoveTags{Tags: []string{"a", "z"}, At: later},
			[]execution.Event{execution.TagsRemoved{Execution: execID, Tags: []string{"a"}, At: later}}, nil},
		{"remove tags it lacks is a no-op", []execution.Event{created()}, execution.RemoveTags{Tags: []string{"z"}, At: later}, nil, nil},
		{"tags on a missing execution", nil, execution.AddTags{Tags: []string{"a"}, At: later}, nil, domain.ErrNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := execution.Decide(fold(tt.given), tt.when)
			if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil) != (err == nil) {
				t.Fatalf("Decide() error = %v, want %v", err, tt.wantErr)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Decide() events (-want +got):\n%s", diff)
			}
		})
	}
}

// commandTo returns the command that moves an execution to status to.
func commandTo(to domain.ExecutionStatus) execution.Command {
	later := at.Add(2 * time.Hour)
	switch to {
	case domain.StatusCreated:
		return create()
	case domain.StatusQueued:
		return execution.Queue{At: later}
	case domain.StatusStarted:
		return execution.Start{Host: "h", At: later}
	case domain.StatusStopping:
		return execution.RequestStop{By: alice, At: later}
	case domain.StatusStopped:
		return execution.MarkStopped{At: later}
	case domain.StatusComplete:
		return execution.Finish{ExitCode: 0, At: later}
	case domain.StatusError:
		return execution.Finish{ExitCode: 1, At: later}
	case domain.StatusCrashed:
		return execution.Crash{Reason: "boom", At: later}
	}
	panic("no command for " + to)
}

// historyAt returns events that leave an execution in status from.
func historyAt(from domain.ExecutionStatus) []execution.Event {
	crashed := execution.Crashed{Execution: execID, Reason: "boom", At: at}
	switch from {
	case domain.StatusCreated:
		return []execution.Event{created()}
	case domain.StatusQueued:
		return []execution.Event{created(), queued}
	case domain.StatusStarted:
		return running()
	case domain.StatusStopping:
		return append(running(), stopReq)
	case domain.StatusStopped:
		return append(running(), stopReq, stopped)
	case domain.StatusComplete:
		return append(running(), finished(0))
	case domain.StatusError:
		return append(running(), finished(1))
	case domain.StatusCrashed:
		return []execution.Event{created(), queued, crashed}
	}
	panic("no history for " + from)
}

func TestDecide_Transitions(t *testing.T) {
	legal := map[[2]domain.ExecutionStatus]bool{
		{domain.StatusCreated, domain.StatusQueued}:    true,
		{domain.StatusCreated, domain.StatusStopping}:  true,
		{domain.StatusCreated, domain.StatusCrashed}:   true,
		{domain.StatusQueued, domain.StatusStarted}:    true,
		{domain.StatusQueued, domain.StatusStopping}:   true,
		{domain.StatusQueued, domain.StatusCrashed}:    true,
		{domain.StatusStarted, domain.StatusComplete}:  true,
		{domain.StatusStarted, domain.StatusError}:     true,
		{domain.StatusStarted, domain.StatusStopping}:  true,
		{domain.StatusStarted, domain.StatusCrashed}:   true,
		{domain.StatusStopping, domain.StatusStopped}:  true,
		{domain.StatusStopping, domain.StatusCrashed}:  true,
		{domain.StatusStopping, domain.StatusStopping}: true, // idempotent no-op, not a transition
	}
	var illegal int
	for _, from := range domain.ExecutionStatuses() {
		for _, to := range domain.ExecutionStatuses() {
			t.Run(fmt.Sprintf("%s to %s", from, to), func(t *testing.T) {
				s := fold(historyAt(from))
				if s.Status() != from {
					t.Fatalf("history left status %s, want %s", s.Status(), from)
				}
				if got := execution.CanTransition(from, to); got != (legal[[2]domain.ExecutionStatus{from, to}] && from != to) {
					t.Errorf("CanTransition(%s, %s) = %v", from, to, got)
				}
				evs, err := execution.Decide(s, commandTo(to))
				if legal[[2]domain.ExecutionStatus{from, to}] {
					if err != nil {
						t.Fatalf("Decide() error = %v, want a legal transition", err)
					}
					next := s
					for _, e := range evs {
						next = execution.Evolve(next, e)
					}
					stoppedAtOnce := to == domain.StatusStopping && next.Status() == domain.StatusStopped
					if next.Status() != to && !stoppedAtOnce {
						t.Errorf("status after Decide = %s, want %s", next.Status(), to)
					}
					return
				}
				illegal++
				var te *execution.TransitionError
				if !errors.As(err, &te) || te.From != from || te.To != to || !errors.Is(err, domain.ErrConflict) {
					t.Fatalf("Decide() error = %v, want *TransitionError{%s, %s} matching ErrConflict", err, from, to)
				}
				if want := fmt.Sprintf("execution: cannot go from %s to %s", from, to); err.Error() != want {
					t.Errorf("error text = %q, want %q", err, want)
				}
				if len(evs) != 0 {
					t.Errorf("Decide() events = %v, want none", evs)
				}
			})
		}
	}
	if want := 8*8 - len(legal); illegal != want {
		t.Errorf("checked %d illegal transitions, want %d", illegal, want)
	}
}

func TestDecide_MissingExecution(t *testing.T) {
	for _, to := range domain.ExecutionStatuses()[1:] {
		if _, err := execution.Decide(execution.State{}, commandTo(to)); !errors.Is(err, execution.ErrNotFound) || !errors.Is(err, domain.ErrNotFound) {
			t.Errorf("Decide(zero State, %T) error = %v, want ErrNotFound", commandTo(to), err)
		}
	}
}

func TestState(t *testing.T) {
	out := execution.OutputRecorded{Execution: execID, Datum: datumB, Path: "a", At: at}
	s := fold(append(running(),
		execution.InputHashed{Execution: execID, Input: "images", At: at},
		execution.MetadataRecorded{Execution: execID, Points: make([]execution.MetadataPoint, 3)},
		execution.ResourcesSampled{Execution: execID},
		out,
		execution.TagsAdded{Execution: execID, Tags: []string{"c"}},
		execution.TagsRemoved{Execution: execID, Tags: []string{"a"}},
	))
	if !s.Exists() || s.ID() != execID || s.Project() != projID || s.Number() != 7 || s.Status() != domain.StatusStarted {
		t.Errorf("identity = %v %v %v %v %v", s.Exists(), s.ID(), s.Project(), s.Number(), s.Status())
	}
	if s.InputFiles() != 1 || s.MetadataPoints() != 3 || s.ResourceSamples() != 1 {
		t.Errorf("counts = %d %d %d, want 1 3 1", s.InputFiles(), s.MetadataPoints(), s.ResourceSamples())
	}
	if diff := cmp.Diff([]string{"b", "c"}, s.Tags()); diff != "" {
		t.Errorf("Tags() (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]domain.DatumID{datumB}, s.Outputs()); diff != "" {
		t.Errorf("Outputs() (-want +got):\n%s", diff)
	}
	if s.Host() != "worker-1" || s.Hardware().GPUs != 1 || s.ImageDigest() != started.ImageDigest || s.QueuedAt() != queued.At {
		t.Errorf("start record = %q %+v %q %v", s.Host(), s.Hardware(), s.ImageDigest(), s.QueuedAt())
	}
	if diff := cmp.Diff(created(), s.Spec()); diff != "" {
		t.Errorf("Spec() (-want +got):\n%s", diff)
	}
	for _, v := range s.Spec().EnvironmentVariables {
		if v.Secret && v.Value != "" {
			t.Errorf("secret %s stored with its value", v.Name)
		}
	}
	s = execution.Evolve(execution.Evolve(s, stopReq), stopped)
	if s.StopRequestedBy() != alice || s.EndedAt() != stopped.At || s.Status() != domain.StatusStopped {
		t.Errorf("after stop: by %q ended %v status %s", s.StopRequestedBy(), s.EndedAt(), s.Status())
	}
	c := fold([]execution.Event{created(), queued, execution.Crashed{Execution: execID, Reason: "oom", At: at}})
	if c.Reason() != "oom" || c.Status() != domain.StatusCrashed {
		t.Errorf("crashed: reason %q status %s", c.Reason(), c.Status())
	}
	e := fold(append(running(), execution.Finished{Execution: execID, ExitCode: 3, Reason: "x", Status: domain.StatusError, At: at}))
	if e.ExitCode() != 3 || e.Reason() != "x" {
		t.Errorf("finished: exit %d reason %q", e.ExitCode(), e.Reason())
	}
}

func TestState_DurationAndCost(t *testing.T) {
	price := domain.Money(3_600_000) // $3.60/h: $0.001 a second
	tests := []struct {
		name     string
		given    []execution.Event
		now      time.Time
		wantDur  time.Duration
		wantCost domain.Money
	}{
		{"never started", []execution.Event{created(), queued}, at.Add(time.Hour), 0, 0},
		{"running counts to now", running(), started.At.Add(90 * time.Second), 90 * time.Second, 90_000},
		{"finished counts to the end", append(running(), finished(0)), at.Add(100 * time.Hour), finished(0).At.Sub(started.At), 3_540_000},
		{"stopped counts to the stop", append(running(), stopReq, stopped), at.Add(100 * time.Hour), stopped.At.Sub(started.At), 120_000},
		{"now before start", running(), at, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := fold(tt.given)
			if got := s.Duration(tt.now); got != tt.wantDur {
				t.Errorf("Duration() = %v, want %v", got, tt.wantDur)
			}
			if got := s.Cost(price, tt.now); got != tt.wantCost {
				t.Errorf("Cost() = %s, want %s", got, tt.wantCost)
			}
		})
	}
}
