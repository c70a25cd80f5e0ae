package projections_test

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stratahq/strata/adapters/memory"
	"github.com/stratahq/strata/domain"
	"github.com/stratahq/strata/domain/alias"
	"github.com/stratahq/strata/domain/dataset"
	"github.com/stratahq/strata/domain/datum"
	"github.com/stratahq/strata/domain/deployment"
	"github.com/stratahq/strata/domain/environment"
	"github.com/stratahq/strata/domain/execution"
	"github.com/stratahq/strata/domain/project"
	"github.com/stratahq/strata/domain/task"
	"github.com/stratahq/strata/events"
	"github.com/stratahq/strata/projections"
)

func codec(tb testing.TB) *events.Codec {
	tb.Helper()
	var evs []events.Event
	add := func(n int, get func(int) events.Event) {
		for i := range n {
			evs = append(evs, get(i))
		}
	}
	x, d, a, ds, dp, en, pr, tk := execution.Events(), datum.Events(), alias.Events(), dataset.Events(), deployment.Events(), environment.Events(), project.Events(), task.Events()
	add(len(x), func(i int) events.Event { return x[i] })
	add(len(d), func(i int) events.Event { return d[i] })
	add(len(a), func(i int) events.Event { return a[i] })
	add(len(ds), func(i int) events.Event { return ds[i] })
	add(len(dp), func(i int) events.Event { return dp[i] })
	add(len(en), func(i int) events.Event { return en[i] })
	add(len(pr), func(i int) events.Event { return pr[i] })
	add(len(tk), func(i int) events.Event { return tk[i] })
	c, err := events.NewCodec(evs)
	if err != nil {
		tb.Fatalf("NewCodec() error = %v", err)
	}
	return c
}

// world writes real domain events through events.Execute.
type world struct {
	tb      testing.TB
	ctx     context.Context
	log     events.Store
	codec   *events.Codec
	project domain.ProjectID
	env     domain.EnvironmentID
	at      time.Time
	numbers int
	last    events.Position
	actor   string
}

func newWorld(tb testing.TB, log events.Store) *world {
	w := &world{tb: tb, ctx: context.Background(), log: log, codec: codec(tb), project: domain.ProjectID(uuid.NewString()),
		at: time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC), actor: "alice"}
	if m, ok := log.(*memory.Store); ok {
		clock := w.at
		m.Now = func() time.Time { clock = clock.Add(time.Millisecond); return clock }
	}
	w.env = domain.EnvironmentID(uuid.NewString())
	run(w, "environment-"+string(w.env), environment.Decide, environment.Evolve, environment.Command(environment.Create{
		Environment: w.env, Slug: "cpu-" + string(w.env[:8]), Spec: environment.Spec{Name: "CPU", CPUs: 4, MemoryBytes: 8 << 30, PricePerHour: 3_600_000}, At: w.tick()}))
	return w
}

func (w *world) tick() time.Time {
	w.at = w.at.Add(time.Second)
	return w.at
}

func run[S any, C any, E events.Event](w *world, stream string, decide func(S, C) ([]E, error), evolve func(S, E) S, cmd C) events.Position {
	w.tb.Helper()
	var zero S
	res, err := events.Execute(w.ctx, w.log, w.codec, events.StreamID(stream), events.Decider[S, C, E]{Initial: zero, Decide: decide, Evolve: evolve}, cmd, events.Meta{Actor: w.actor})
	if err != nil {
		w.tb.Fatalf("execute %T on %s: %v", cmd, stream, err)
	}
	if p := res.Last(); p > w.last {
		w.last = p
	}
	return w.last
}

func (w *world) exec(id domain.ExecutionID, c execution.Command) events.Position {
	return run(w, "execution-"+string(id), execution.Decide, execution.Evolve, c)
}

func digests(content string) domain.Digests {
	s := sha256.Sum256([]byte(content))
	var d domain.Digests
	copy(d.MD5[:], s[:16])
	copy(d.SHA1[:], s[:20])
	d.SHA256 = s
	d.BLAKE3 = domain.Digest(sha256.Sum256([]byte("b3" + content)))
	return d
}

// datum creates a datum produced by exec (or uploaded if exec is empty).
func (w *world) datum(name string, exec domain.ExecutionID) domain.DatumID {
	id := domain.DatumID(uuid.NewString())
	c := datum.Create{Datum: id, Project: w.project, Name: name, Size: 10, Digests: digests(string(id)), Key: "k/" + string(id), At: w.tick()}
	if exec != "" {
		c.Execution = exec
	} else {
		c.Uploader = "alice"
	}
	run(w, "datum-"+string(id), datum.Decide, datum.Evolve, datum.Command(c))
	return id
}

type runSpec struct {
	step    string
	tags    []string
	creator domain.UserID
	inputs  map[string][]string // name → URIs
	resolve map[string][]domain.DatumID
	hashes  map[string]string // URI → content hashed at download
	outputs []string
	metrics []map[string]any
	exit    int
	minutes int
	task    domain.TaskID
}

// execution runs a whole execution and returns it and its outputs.
func (w *world) execution(s runSpec) (domain.ExecutionID, []domain.DatumID) {
	w.tb.Helper()
	id := domain.ExecutionID(uuid.NewString())
	w.numbers++
	if s.step == "" {
		s.step = "train"
	}
	if s.creator == "" {
		s.creator = "alice"
	}
	var defs []execution.InputDef
	for name := range s.inputs {
		defs = append(defs, execution.InputDef{Name: name, Optional: true})
	}
	w.exec(id, execution.Create{Execution: id, Project: w.project, Number: w.numbers, Step: execution.Step{Name: s.step, Inputs: defs},
		Code: execution.Code{Repository: "https://github.com/acme/ml", Commit: strings.Repeat("ab", 20)}, Image: "python:3.12",
		Commands: []string{"python train.py"}, Inputs: s.inputs, Resolved: s.resolve, Environment: w.env, Creator: s.creator,
		Tags: s.tags, Task: s.task, At: w.tick()})
	w.exec(id, execution.Queue{At: w.tick()})
	start := w.tick()
	w.exec(id, execution.Start{Host: "host-1", Hardware: execution.Hardware{CPUs: 4}, ImageDigest: "sha256:" + strings.Repeat("0f", 32), At: start})
	for name, uris := range s.inputs {
		for _, u := range uris {
			content, ok := s.hashes[u]
			if !ok {
				content = u
			}
			var d domain.DatumID
			if r := s.resolve[u]; len(r) > 0 {
				d = r[0]
			} else if du, err := domain.ParseDatumURI(u); err == nil && du.ID != "" {
				d = du.ID
			}
			w.exec(id, execution.HashInput{Input: name, URI: u, Datum: d, FileName: "file.csv", Size: 3, Digests: digests(content), At: w.tick()})
		}
	}
	for _, m := range s.metrics {
		vals := map[string]json.RawMessage{}
		for k, v := range m {
			b, _ := json.Marshal(v)
			vals[k] = b
		}
		w.exec(id, execution.RecordMetadata{Points: []execution.MetadataPoint{{Time: w.tick(), Values: vals}}})
	}
	w.exec(id, execution.SampleResources{CPUPercent: 150, MemoryBytes: 1 << 30, At: w.tick()})
	var outs []domain.DatumID
	for _, o := range s.outputs {
		d := w.datum(o, id)
		w.exec(id, execution.RecordOutput{Datum: d, Path: o, At: w.tick()})
		outs = append(outs, d)
	}
	w.at = start.Add(time.Duration(s.minutes) * time.Minute)
	w.exec(id, execution.Finish{ExitCode: s.exit, At: w.tick()})
	return id, outs
}

func (w *world) setAlias(name string, d domain.DatumID) events.Position {
	return run(w, "alias-"+string(w.project)+"/"+name, alias.Decide, alias.Evolve, alias.Command(alias.Set{Project: w.project, Name: name, Datum: d, At: w.tick()}))
}

func (w *world) deleteAlias(name string) events.Position {
	return run(w, "alias-"+string(w.project)+"/"+name, alias.Decide, alias.Evolve, alias.Command(alias.Delete{At: w.tick()}))
}

func (w *world) dataset(name string) domain.DatasetID {
	id := domain.DatasetID(uuid.NewString())
	run(w, "dataset-"+string(id), dataset.Decide, dataset.Evolve, dataset.Command(dataset.Create{Dataset: id, Project: w.project, Name: name, At: w.tick()}))
	return id
}

func (w *world) version(id domain.DatasetID, c dataset.CreateVersion) events.Position {
	c.At = w.tick()
	return run(w, "dataset-"+string(id), dataset.Decide, dataset.Evolve, dataset.Command(c))
}

func (w *world) deployment(name, version string, files ...domain.DatumID) domain.DeploymentID {
	id := domain.DeploymentID(uuid.NewString())
	run(w, "deployment-"+string(id), deployment.Decide, deployment.Evolve, deployment.Command(deployment.Create{Deployment: id, Project: w.project, Name: name, At: w.tick()}))
	var fs []deployment.File
	for i, f := range files {
		fs = append(fs, deployment.File{Endpoint: "predict", Name: fmt.Sprintf("model-%d", i), Datum: f})
	}
	run(w, "deployment-"+string(id), deployment.Decide, deployment.Evolve, deployment.Command(deployment.CreateVersion{Version: version, Endpoints: []string{"predict"}, Files: fs, Creator: "alice", At: w.tick()}))
	return id
}

// engine returns an engine over a fresh memory projection store with every read model,
// caught up with the log, and running until the test ends.
func startEngine(t *testing.T, log events.Store, c *events.Codec, store projections.Store) *projections.Engine {
	t.Helper()
	if store == nil {
		store = memory.NewProjections()
	}
	eng, err := projections.New(log, c, store, projections.Config{}, projections.All()...)
	if err != nil {
		t.Fatalf("New() error = %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- eng.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil && ctx.Err() == nil {
			t.Errorf("Run() error = %v", err)
		}
	})
	return eng
}

func waitFor(t *testing.T, eng *projections.Engine, p events.Position) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := eng.WaitFor(ctx, p); err != nil {
		t.Fatalf("WaitFor(%d) error = %v", p, err)
	}
}

func reads(eng *projections.Engine, w *world) *projections.Reads {
	return &projections.Reads{Engine: eng, Log: w.log, Codec: w.codec, Scratch: func() projections.Store { return memory.NewProjections() },
		Now: func() time.Time { return w.at }}
}
