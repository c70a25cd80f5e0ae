package domain_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stratahq/strata/domain"
	"github.com/stratahq/strata/domain/alias"
	"github.com/stratahq/strata/domain/dataset"
	"github.com/stratahq/strata/domain/datum"
	"github.com/stratahq/strata/domain/deployment"
	"github.com/stratahq/strata/domain/environment"
	"github.com/stratahq/strata/domain/execution"
	"github.com/stratahq/strata/domain/project"
	"github.com/stratahq/strata/domain/task"
)

var update = flag.Bool("update", false, "write testdata/events golden files from the samples")

const goldenDir = "testdata/events"

// event is what every aggregate's Event has in common.
type event interface {
	EventType() string
	EventSchema() int
}

// aggregate ties an aggregate's registered event types to populated samples and its
// Evolve, without knowing its types.
type aggregate struct {
	name       string
	registered []event
	samples    []event
	fold       func(t *testing.T, events []event)
}

func newAggregate[E event, S any](name string, registered, samples []E, evolve func(S, E) S) aggregate {
	a := aggregate{name: name}
	for _, e := range registered {
		a.registered = append(a.registered, e)
	}
	for _, e := range samples {
		a.samples = append(a.samples, e)
	}
	a.fold = func(t *testing.T, events []event) {
		t.Helper()
		var s S
		for _, e := range events {
			typed, ok := e.(E)
			if !ok {
				t.Fatalf("%s: decoded %T is not a %s event", name, e, name)
			}
			s = evolve(s, typed)
		}
	}
	return a
}

var (
	at     = time.Date(2025, 1, 2, 3, 4, 5, 123456789, time.UTC)
	projID = domain.ProjectID("0190f5a2-0000-7000-8000-000000000002")
	execID = domain.ExecutionID("0190f5a2-0000-7000-8000-000000000001")
	envID  = domain.EnvironmentID("0190f5a2-0000-7000-8000-000000000003")
	taskID = domain.TaskID("0190f5a2-0000-7000-8000-000000000004")
	dsID   = domain.DatasetID("0190f5a2-0000-7000-8000-000000000005")
	depID  = domain.DeploymentID("0190f5a2-0000-7000-8000-000000000006")
	datumA = domain.DatumID("0190f5a2-0000-7000-8000-00000000000a")
	datumB = domain.DatumID("0190f5a2-0000-7000-8000-00000000000b")
	commit = "0123456789abcdef0123456789abcdef01234567"
	md5    = domain.MD5{0xd4, 0x1d, 0x8c, 0xd9, 0x8f, 0x00, 0xb2, 0x04, 0xe9, 0x80, 0x09, 0x98, 0xec, 0xf8, 0x42, 0x7e}
	sha1   = domain.SHA1{0xda, 0x39, 0xa3, 0xee, 0x5e, 0x6b, 0x4b, 0x0d, 0x32, 0x55, 0xbf, 0xef, 0x95, 0x60, 0x18, 0x90, 0xaf, 0xd8, 0x07, 0x09}
	sha256 = domain.SHA256{0xe3, 0xb0, 0xc4, 0x42, 0x98, 0xfc, 0x1c, 0x14, 0x9a, 0xfb, 0xf4, 0xc8, 0x99, 0x6f, 0xb9, 0x24, 0x27, 0xae, 0x41, 0xe4, 0x64, 0x9b, 0x93, 0x4c, 0xa4, 0x95, 0x99, 0x1b, 0x78, 0x52, 0xb8, 0x55}
	blake3 = domain.Digest{0xaf, 0x13, 0x49, 0xb9, 0xf5, 0xf9, 0xa1, 0xa6, 0xa0, 0x40, 0x4d, 0xea, 0x36, 0xdc, 0xc9, 0x49, 0x9b, 0xcb, 0x25, 0xc9, 0xad, 0xc1, 0x12, 0xb7, 0xcc, 0x9a, 0x93, 0xca, 0xe4, 0x1f, 0x32, 0x62}
)

func raw(s string) json.RawMessage { return json.RawMessage(s) }

// aggregates lists every aggregate with one populated sample per event type, in an order
// that folds sensibly (creation first).
func aggregates() []aggregate {
	return []aggregate{
		newAggregate("project", project.Events(), []project.Event{
			project.Created{Project: projID, Slug: "mnist", Name: "MNIST digits", Owner: "alice", At: at},
			project.RepositoryLinked{Project: projID, URL: "https://github.com/org/mnist.git", Previous: "git@github.com:org/old.git", At: at},
			project.DefaultStoreSet{Project: projID, Store: "s3://ml-bucket/strata/", Previous: "gs://old-bucket", At: at},
			project.StoreOverrideSet{Project: projID, Name: "models", Store: "azure://acct1/models", At: at},
			project.StoreOverrideRemoved{Project: projID, Name: "models", At: at},
			project.EnvironmentEnabled{Project: projID, Environment: envID, At: at},
			project.EnvironmentDisabled{Project: projID, Environment: envID, At: at},
			project.MemberSet{Project: projID, User: "bob", Role: project.RoleEditor, At: at},
			project.MemberRemoved{Project: projID, User: "bob", At: at},
			project.NumberAllocated{Project: projID, Counter: project.CounterExecution, Number: 42, For: string(execID), At: at},
		}, project.Evolve),
		newAggregate("execution", execution.Events(), []execution.Event{
			execution.Created{
				Execution: execID, Project: projID, Number: 42, Step: "train model",
				Code:     execution.Code{Repository: "https://github.com/org/mnist.git", Commit: commit},
				Image:    "python:3.12",
				Commands: []string{"pip install -r requirements.txt", "python train.py --epochs=10 --layers=1000,500"},
				Parameters: []execution.Parameter{
					{Name: "epochs", Type: execution.TypeInteger, Values: []string{"10"}},
					{Name: "layers", Type: execution.TypeInteger, Multiple: execution.MultipleSeparate, Values: []string{"1000", "500"}},
				},
				Inputs: []execution.Input{{Name: "images", URIs: []execution.ResolvedURI{
					{URI: "dataset://mnist/production", Datums: []domain.DatumID{datumA, datumB}},
					{URI: "s3://ml-bucket/extra/*.png"},
				}, KeepDirectories: execution.KeepSuffix}, {Name: "model", URIs: []execution.ResolvedURI{
					{URI: "datum://model-prod", Datums: []domain.DatumID{datumB}},
				}, Filename: "model.pb"}},
				Environment:          envID,
				EnvironmentVariables: []execution.EnvironmentVariable{{Name: "MODE", Value: "fast"}, {Name: "API_TOKEN", Secret: true}},
				Creator:              "alice", Title: "baseline", Task: taskID, Tags: []string{"baseline"},
				Priority: 1, TimeLimit: time.Hour, NoOutputTimeout: 10 * time.Minute, Network: true, At: at,
			},
			execution.Queued{Execution: execID, At: at},
			execution.Started{Execution: execID, Host: "worker-1", Hardware: execution.Hardware{CPUs: 12, MemoryBytes: 85 << 30, GPUs: 1, GPUModel: "NVIDIA A100"},
				ImageDigest: "sha256:" + strings.Repeat("ab", 32), At: at},
			execution.InputHashed{Execution: execID, Input: "images", URI: "dataset://mnist/production", Datum: datumA, FileName: "train.csv", Size: 1 << 20,
				MD5: md5, SHA1: sha1, SHA256: sha256, BLAKE3: blake3, At: at},
			execution.MetadataRecorded{Execution: execID, Points: []execution.MetadataPoint{
				{Time: at, Values: map[string]json.RawMessage{"epoch": raw(`1`), "loss": raw(`0.42`)}},
				{Time: at.Add(time.Second), Values: map[string]json.RawMessage{"confusion": raw(`{"data":[[1,2],[3,4]]}`)}},
			}},
			execution.ResourcesSampled{Execution: execID, CPUPercent: 350.5, MemoryBytes: 6 << 30,
				GPUs: []execution.GPUSample{{Index: 0, UUID: "GPU-5f2c0e1a-1b2c-3d4e-5f60-718293a4b5c6", UtilizationPercent: 97.5, MemoryBytes: 30 << 30}}, At: at},
			execution.OutputRecorded{Execution: execID, Datum: datumB, Path: "model/model.pb", Properties: map[string]json.RawMessage{"accuracy": raw(`0.95`)}, At: at},
			execution.StopRequested{Execution: execID, By: "alice", At: at},
			execution.Stopped{Execution: execID, At: at},
			execution.Finished{Execution: execID, ExitCode: 1, Reason: "exit status 1", Status: domain.StatusError,
				Resources: &execution.ResourceSummary{Samples: 12, PeakCPUPercent: 390.5, AvgCPUPercent: 250.25, PeakMemoryBytes: 7 << 30, AvgMemoryBytes: 5 << 30}, At: at},
			execution.Crashed{Execution: execID, Reason: "worker lost", At: at},
			execution.TagsAdded{Execution: execID, Tags: []string{"good", "keep"}, At: at},
			execution.TagsRemoved{Execution: execID, Tags: []string{"baseline"}, At: at},
		}, execution.Evolve),
		newAggregate("datum", datum.Events(), []datum.Event{
			datum.Created{Datum: datumA, Project: projID, Name: "model.pb", Size: 1234, MD5: md5, SHA1: sha1, SHA256: sha256, BLAKE3: blake3,
				Store: "s3://ml-bucket/strata", Key: "blobs/af/1349b9", Execution: execID, At: at},
			datum.PropertiesSet{Datum: datumA, Properties: map[string]json.RawMessage{"accuracy": raw(`0.95`), "obsolete": raw(`null`)}, At: at},
			datum.TagsAdded{Datum: datumA, Tags: []string{"validated"}, At: at},
			datum.TagsRemoved{Datum: datumA, Tags: []string{"validated"}, At: at},
			datum.Purged{Datum: datumA, By: "alice", Reason: "GDPR request 17", At: at},
		}, datum.Evolve),
		newAggregate("alias", alias.Events(), []alias.Event{
			alias.Moved{Project: projID, Alias: "model-prod", Datum: datumB, Previous: datumA, At: at},
			alias.Deleted{Project: projID, Alias: "model-prod", Previous: datumB, At: at},
		}, alias.Evolve),
		newAggregate("dataset", dataset.Events(), []dataset.Event{
			dataset.Created{Dataset: dsID, Project: projID, Name: "mnist", At: at},
			dataset.VersionCreated{Dataset: dsID, Version: "v2", Base: "v1", Added: []domain.DatumID{datumB}, Excluded: []domain.DatumID{datumA},
				Files: []domain.DatumID{datumB}, At: at},
			dataset.AliasMoved{Dataset: dsID, Alias: "production", Version: "v2", Previous: "v1", At: at},
			dataset.PropertiesSet{Dataset: dsID, Version: "v2", Properties: map[string]json.RawMessage{"rows": raw(`60000`)}, At: at},
		}, dataset.Evolve),
		newAggregate("task", task.Events(), []task.Event{
			task.Created{Task: taskID, Project: projID, Number: 3, Step: "train model", Type: task.RandomSearch,
				Variants: []task.Variant{
					{Name: "lr", Style: task.StyleRandom, Min: 0.0001, Max: 0.1, Count: 10, Distribution: "loguniform", Seed: 7},
					{Name: "optimizer", Style: task.StyleMultiple, Items: []string{"adam", "sgd"}},
					{Name: "epochs", Style: task.StyleLinear, Start: 5, End: 20, Step: 5, Integerify: true},
					{Name: "decay", Style: task.StyleLogspace, Start: -4, End: -1, Count: 4, Base: 10},
					{Name: "seed", Style: task.StyleSingle, Value: "42"},
				},
				ExecutionCount: 10, BatchSize: 2, Creator: "alice", At: at},
			task.ExecutionAttached{Task: taskID, Execution: execID, At: at},
			task.ExecutionStatusRecorded{Task: taskID, Execution: execID, Status: domain.StatusStarted, At: at},
			task.StopRequested{Task: taskID, By: "alice", At: at},
		}, task.Evolve),
		newAggregate("deployment", deployment.Events(), []deployment.Event{
			deployment.Created{Deployment: depID, Project: projID, Name: "digits", At: at},
			deployment.VersionCreated{Deployment: depID, Version: "20250102.0", Commit: commit, Endpoints: []string{"predict-digit"},
				Files: []deployment.File{{Endpoint: "predict-digit", Name: "model", Datum: datumB}}, Creator: "alice", At: at},
		}, deployment.Evolve),
		newAggregate("environment", environment.Events(), []environment.Event{
			environment.Created{Environment: envID, Slug: "gpu-a100-x1", Spec: environment.Spec{Name: "A100 x1", CPUs: 12, MemoryBytes: 85 << 30,
				GPUs: 1, GPUModel: "NVIDIA A100", PricePerHour: 3_670_000, MaxScale: 4, PerUserQuota: 2}, At: at},
			environment.Updated{Environment: envID, Spec: environment.Spec{Name: "A100 x1", CPUs: 12, MemoryBytes: 85 << 30,
				GPUs: 1, GPUModel: "NVIDIA A100", PricePerHour: 2_900_000, MaxScale: 8}, At: at},
		}, environment.Evolve),
	}
}

func goldenName(e event) string { return fmt.Sprintf("%s.v%d.json", e.EventType(), e.EventSchema()) }

var wireName = regexp.MustCompile(`^[a-z]+\.[A-Z][A-Za-z]+$`)

// TestEvents_Registered checks every aggregate's registration: one sample per type, wire
// names "<aggregate>.<Type>" and unique, schema versions from 1.
func TestEvents_Registered(t *testing.T) {
	seen := make(map[string]bool)
	for _, a := range aggregates() {
		sampled := make(map[reflect.Type]bool)
		for _, s := range a.samples {
			if sampled[reflect.TypeOf(s)] {
				t.Errorf("%s: two samples of %T", a.name, s)
			}
			sampled[reflect.TypeOf(s)] = true
		}
		for _, e := range a.registered {
			typ := reflect.TypeOf(e)
			name := e.EventType()
			if !wireName.MatchString(name) || !strings.HasPrefix(name, a.name+".") || !strings.HasSuffix(name, "."+typ.Name()) {
				t.Errorf("%T.EventType() = %q, want %q", e, name, a.name+"."+typ.Name())
			}
			if seen[name] {
				t.Errorf("wire name %q registered twice", name)
			}
			seen[name] = true
			if e.EventSchema() < 1 {
				t.Errorf("%T.EventSchema() = %d, want >= 1", e, e.EventSchema())
			}
			if !sampled[typ] {
				t.Errorf("%s: no golden sample of %T in golden_test.go", a.name, e)
			}
			if !reflect.ValueOf(e).IsZero() {
				t.Errorf("%s.Events() holds a non-zero %T", a.name, e)
			}
		}
		if len(a.samples) != len(a.registered) {
			t.Errorf("%s: %d samples for %d registered event types", a.name, len(a.samples), len(a.registered))
		}
	}
}

// TestEvents_Golden decodes every golden sample into its registered type and folds each
// aggregate's samples through its Evolve. Every registered type must have a golden file
// for its current schema version, and every golden file a registered type. Run with
// -update to (re)write the files of the current versions from the samples.
func TestEvents_Golden(t *testing.T) {
	aggs := aggregates()
	if *update {
		if err := os.MkdirAll(goldenDir, 0o755); err != nil {
			t.Fatal(err)
		}
		for _, a := range aggs {
			for _, s := range a.samples {
				b, err := json.MarshalIndent(s, "", "  ")
				if err != nil {
					t.Fatalf("marshal %T: %v", s, err)
				}
				if err := os.WriteFile(filepath.Join(goldenDir, goldenName(s)), append(b, '\n'), 0o644); err != nil {
					t.Fatal(err)
				}
			}
		}
	}

	byName := make(map[string]event) // wire name → registered zero value
	owner := make(map[string]int)    // wire name → index into aggs
	for i, a := range aggs {
		for _, e := range a.registered {
			byName[e.EventType()], owner[e.EventType()] = e, i
		}
	}
	entries, err := os.ReadDir(goldenDir)
	if err != nil {
		t.Fatalf("read golden samples (run go test ./domain -run Golden -update to create them): %v", err)
	}
	decoded := make(map[string]event) // golden file name → decoded event
	fileName := regexp.MustCompile(`^([a-z]+\.[A-Za-z]+)\.v([0-9]+)\.json$`)
	for _, ent := range entries {
		m := fileName.FindStringSubmatch(ent.Name())
		if m == nil {
			t.Errorf("golden file %s: name is not <wire name>.v<N>.json", ent.Name())
			continue
		}
		zero, ok := byName[m[1]]
		if !ok {
			t.Errorf("golden file %s: no registered event type %q", ent.Name(), m[1])
			continue
		}
		if v, _ := strconv.Atoi(m[2]); v != zero.EventSchema() {
			t.Errorf("golden file %s: schema v%s but %s is at v%d and there is no upcaster here", ent.Name(), m[2], m[1], zero.EventSchema())
			continue
		}
		data, err := os.ReadFile(filepath.Join(goldenDir, ent.Name()))
		if err != nil {
			t.Fatal(err)
		}
		ptr := reflect.New(reflect.TypeOf(zero))
		dec := json.NewDecoder(bytes.NewReader(data))
		dec.DisallowUnknownFields()
		if err := dec.Decode(ptr.Interface()); err != nil {
			t.Errorf("golden file %s: decode into %T: %v", ent.Name(), zero, err)
			continue
		}
		decoded[ent.Name()] = ptr.Elem().Interface().(event)
	}

	for i, a := range aggs {
		var events []event
		for _, s := range a.samples {
			got, ok := decoded[goldenName(s)]
			if !ok {
				t.Errorf("%T: no golden file %s/%s (run with -update and commit it)", s, goldenDir, goldenName(s))
				continue
			}
			if owner[s.EventType()] != i {
				t.Errorf("%T registered by another aggregate", s)
			}
			want, _ := json.Marshal(s)
			gotJSON, _ := json.Marshal(got)
			if !bytes.Equal(want, gotJSON) {
				t.Errorf("golden file %s differs from the sample (the stored schema changed? bump EventSchema and add an upcaster):\n got  %s\n want %s", goldenName(s), gotJSON, want)
			}
			events = append(events, got)
		}
		a.fold(t, events)
	}
}
