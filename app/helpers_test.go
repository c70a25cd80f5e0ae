package app_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/stratahq/strata/adapters/memory"
	"github.com/stratahq/strata/app"
	"github.com/stratahq/strata/blob"
	"github.com/stratahq/strata/blob/storecfg"
	"github.com/stratahq/strata/domain"
	"github.com/stratahq/strata/domain/environment"
	"github.com/stratahq/strata/domain/project"
	"github.com/stratahq/strata/events"
)

const (
	alice domain.UserID = "alice" // admin
	bob   domain.UserID = "bob"   // viewer
	carol domain.UserID = "carol" // editor
	s3Key               = "s3cr3t-VALUE-never-print-me"
)

// harness is a Service over the memory event store with a built-in store ("local") and
// an S3 store ("team", bucket team-data) backed by memory blobs.
type harness struct {
	t       *testing.T
	svc     *app.Service
	log     *memory.Store
	codec   *events.Codec
	local   *memory.Blobs
	team    *memory.Blobs
	objects map[string]app.ObjectReader
	project domain.ProjectID
	env     domain.EnvironmentID
	mu      sync.Mutex // guards clock
	clock   time.Time
}

// tick advances the test clock by a second; the Service's Now.
func (h *harness) tick() time.Time {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.clock = h.clock.Add(time.Second)
	return h.clock
}

type harnessOption func(*app.Config, *app.Deps)

func newHarness(t *testing.T, opts ...harnessOption) *harness {
	t.Helper()
	h := &harness{t: t, log: memory.NewStore(), local: memory.NewBlobs(), team: memory.NewBlobs(), objects: map[string]app.ObjectReader{},
		clock: time.Date(2025, 6, 1, 9, 0, 0, 0, time.UTC)}
	h.codec = mustCodec(t)
	cfg := app.Config{Stores: storecfg.Config{
		Stores: []storecfg.Store{
			{Name: "local", Kind: storecfg.KindFS, Bucket: "/var/lib/strata"},
			{Name: "team", Kind: storecfg.KindS3, Bucket: "team-data", Prefix: "strata/", Credentials: "team-aws"},
		},
		Default: "local",
		Secrets: map[string]storecfg.Credentials{"team-aws": {ID: "AKIATEST", Secret: s3Key}},
	}}
	deps := app.Deps{Log: h.log, Codec: h.codec, Blobs: map[string]blob.Store{"local": h.local, "team": h.team}, Objects: h.objects,
		Now: h.tick}
	for _, o := range opts {
		o(&cfg, &deps)
	}
	svc, err := app.New(cfg, deps)
	if err != nil {
		t.Fatalf("app.New() error = %v", err)
	}
	h.svc = svc
	h.project = domain.ProjectID(uuid.NewString())
	h.env = domain.EnvironmentID(uuid.NewString())
	mustRun(t, h, app.ProjectStream(h.project), project.Decide, project.Evolve, project.Command(project.Create{
		Project: h.project, Slug: "vision", Name: "Vision", Owner: alice, At: h.tick()}))
	mustRun(t, h, app.ProjectStream(h.project), project.Decide, project.Evolve, project.Command(project.SetMember{User: bob, Role: project.RoleViewer, At: h.tick()}))
	mustRun(t, h, app.ProjectStream(h.project), project.Decide, project.Evolve, project.Command(project.SetMember{User: carol, Role: project.RoleEditor, At: h.tick()}))
	mustRun(t, h, app.EnvironmentStream(h.env), environment.Decide, environment.Evolve, environment.Command(environment.Create{
		Environment: h.env, Slug: "cpu-small", Spec: environment.Spec{Name: "CPU", CPUs: 2, MemoryBytes: 4 << 30, PricePerHour: 1000}, At: h.tick()}))
	mustRun(t, h, app.ProjectStream(h.project), project.Decide, project.Evolve, project.Command(project.EnableEnvironment{Environment: h.env, At: h.tick()}))
	return h
}

func withObjects(name string, o app.ObjectReader) harnessOption {
	return func(_ *app.Config, d *app.Deps) { d.Objects[name] = o }
}

func withDownload(dc app.DownloadConfig) harnessOption {
	return func(c *app.Config, _ *app.Deps) { c.Download = dc }
}

func (h *harness) ctx(actor domain.UserID) context.Context {
	return app.WithCorrelationID(app.WithActor(h.t.Context(), actor), "req-"+string(actor))
}

func mustCodec(tb testing.TB) *events.Codec {
	tb.Helper()
	c, err := events.NewCodec(app.Events())
	if err != nil {
		tb.Fatalf("NewCodec(app.Events()) error = %v", err)
	}
	return c
}

func mustRun[S any, C any, E events.Event](t *testing.T, h *harness, stream events.StreamID, decide func(S, C) ([]E, error), evolve func(S, E) S, cmd C) events.Position {
	t.Helper()
	res, err := events.Execute(t.Context(), h.log, h.codec, stream, events.Decider[S, C, E]{Decide: decide, Evolve: evolve}, cmd, events.Meta{Actor: string(alice)})
	if err != nil {
		t.Fatalf("execute %T on %s: %v", cmd, stream, err)
	}
	return res.Last()
}

func mustList(tb testing.TB, b blob.Store) []blob.Info {
	tb.Helper()
	infos, err := b.List(context.Background(), "", "", 1000)
	if err != nil {
		tb.Fatalf("List() error = %v", err)
	}
	return infos
}
