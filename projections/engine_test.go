package projections_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/stratahq/strata/adapters/badger"
	"github.com/stratahq/strata/adapters/memory"
	"github.com/stratahq/strata/domain/dataset"
	"github.com/stratahq/strata/events"
	"github.com/stratahq/strata/projections"
)

// scenario writes a small but complete history: executions chained through outputs and
// aliases, a dataset with versions and aliases, a deployment, changing input content.
func scenario(w *world, n int) {
	ds := w.dataset("images")
	var prev []string
	for i := range n {
		in := map[string][]string{"raw": {"s3://bucket/raw.csv"}}
		res := map[string][]string{}
		if len(prev) > 0 {
			in["model"] = prev
		}
		_ = res
		x, outs := w.execution(runSpec{tags: []string{fmt.Sprintf("t%d", i%3)}, inputs: in,
			hashes: map[string]string{"s3://bucket/raw.csv": fmt.Sprintf("raw-v%d", i/2)}, outputs: []string{"model.pb", "log.txt"},
			metrics: []map[string]any{{"loss": 1.0 / float64(i+1)}, {"loss": 0.5 / float64(i+1), "acc": float64(i) / 10}}, minutes: i + 1})
		_ = x
		w.setAlias("model-prod", outs[0])
		w.version(ds, dataset.CreateVersion{Version: fmt.Sprintf("v%d", i+1), From: map[bool]string{true: "", false: "latest"}[i == 0], Add: outs, Aliases: []string{"production"}})
		prev = []string{"datum://" + string(outs[0])}
	}
	w.deployment("api", "1", w.datum("weights.bin", ""))
}

func digestAll(t *testing.T, eng *projections.Engine) map[string][32]byte {
	t.Helper()
	out := map[string][32]byte{}
	for _, p := range eng.Projections() {
		d, err := eng.Digest(context.Background(), p.Name())
		if err != nil {
			t.Fatalf("Digest(%s) error = %v", p.Name(), err)
		}
		out[p.Name()] = d
	}
	return out
}

func stores(t *testing.T) map[string]func() projections.Store {
	return map[string]func() projections.Store{
		"memory": func() projections.Store { return memory.NewProjections() },
		"badger": func() projections.Store {
			p, err := badger.OpenProjections(badger.SmallProjections(t.TempDir()))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = p.Close() })
			return p
		},
	}
}

func TestEngine_RebuildTwiceIsEqual(t *testing.T) {
	for name, newStore := range stores(t) {
		t.Run(name, func(t *testing.T) {
			log := memory.NewStore()
			w := newWorld(t, log)
			scenario(w, 6)
			eng := startEngine(t, log, w.codec, newStore())
			waitFor(t, eng, w.last)
			first := digestAll(t, eng)
			for _, p := range eng.Projections() {
				if err := eng.Rebuild(context.Background(), p.Name()); err != nil {
					t.Fatalf("Rebuild(%s) error = %v", p.Name(), err)
				}
			}
			waitFor(t, eng, w.last)
			if second := digestAll(t, eng); fmt.Sprint(second) != fmt.Sprint(first) {
				t.Errorf("digests after Rebuild differ:\n%v\n%v", first, second)
			}
			other := startEngine(t, log, w.codec, newStore())
			waitFor(t, other, w.last)
			if third := digestAll(t, other); fmt.Sprint(third) != fmt.Sprint(first) {
				t.Errorf("digests of a fresh store differ:\n%v\n%v", first, third)
			}
		})
	}
}

func TestEngine_ReapplyIsNoop(t *testing.T) {
	log := memory.NewStore()
	w := newWorld(t, log)
	scenario(w, 3)
	eng, err := projections.New(log, w.codec, memory.NewProjections(), projections.Config{BatchSize: 7}, projections.All()...)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- eng.Run(ctx) }()
	waitFor(t, eng, w.last)
	cancel()
	if err := <-done; err != nil && !errors.Is(err, context.Canceled) {
		t.Errorf("Run() error = %v", err)
	}
	before := digestAll(t, eng)
	envs, err := log.ReadAll(context.Background(), 0, 10_000)
	if err != nil {
		t.Fatal(err)
	}
	for i, env := range envs {
		after := events.Position(0)
		if i > 0 {
			after = envs[i-1].Position
		}
		if err := eng.Apply(context.Background(), after, env); err != nil {
			t.Fatalf("Apply(%d) error = %v", env.Position, err)
		}
	}
	if err := eng.Apply(context.Background(), 0, envs...); err != nil {
		t.Fatalf("Apply(all) error = %v", err)
	}
	if got := digestAll(t, eng); fmt.Sprint(got) != fmt.Sprint(before) {
		t.Errorf("re-applying envelopes changed the state")
	}
}

// bumped is a projection whose version can be changed.
type bumped struct {
	projections.Aliases
	version int
}

func (b bumped) Version() int { return b.version }

func TestEngine_VersionChangeRebuilds(t *testing.T) {
	log := memory.NewStore()
	w := newWorld(t, log)
	scenario(w, 2)
	store := memory.NewProjections()
	run := func(version int) (*projections.Engine, func()) {
		eng, err := projections.New(log, w.codec, store, projections.Config{}, bumped{version: version})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- eng.Run(ctx) }()
		waitFor(t, eng, w.last)
		return eng, func() {
			cancel()
			if err := <-done; err != nil && !errors.Is(err, context.Canceled) {
				t.Errorf("Run() error = %v", err)
			}
		}
	}
	eng, stop := run(1)
	st1, err := eng.Status(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	d1 := digestAll(t, eng)
	stop()
	eng, stop = run(2)
	defer stop()
	st2, err := eng.Status(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if st2[0].Version != 2 || st2[0].Generation != st1[0].Generation+1 {
		t.Errorf("after a version change status = %+v, want version 2 and a new generation (was %+v)", st2[0], st1[0])
	}
	if d2 := digestAll(t, eng); d2 != nil && fmt.Sprint(d1) != fmt.Sprint(d2) {
		t.Errorf("rebuilt state differs")
	}
	var n int
	if err := store.View(context.Background(), func(r projections.Reader) error {
		return r.Scan([]byte("d\x00aliases\x00"), nil, false, func(k, _ []byte) bool { n++; return true })
	}); err != nil {
		t.Fatal(err)
	}
	if want := countKeys(t, eng, "aliases"); n != want {
		t.Errorf("%d keys stored for aliases, want %d: the old generation was not deleted", n, want)
	}
}

func countKeys(t *testing.T, eng *projections.Engine, name string) int {
	var n int
	if err := eng.View(context.Background(), name, func(r projections.Reader) error {
		return r.Scan(nil, nil, false, func(_, _ []byte) bool { n++; return true })
	}); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestEngine_StatusAndWaitFor(t *testing.T) {
	log := memory.NewStore()
	w := newWorld(t, log)
	scenario(w, 2)
	eng, err := projections.New(log, w.codec, memory.NewProjections(), projections.Config{}, projections.All()...)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if err := eng.WaitFor(ctx, w.last); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("WaitFor() before Run error = %v, want DeadlineExceeded", err)
	}
	runCtx, stop := context.WithCancel(context.Background())
	defer stop()
	go func() { _ = eng.Run(runCtx) }()
	waitFor(t, eng, w.last)
	st, err := eng.Status(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range st {
		if s.Head != w.last || s.Lag != 0 || s.Checkpoint != w.last {
			t.Errorf("Status() = %+v, want head = checkpoint = %d, lag 0", s, w.last)
		}
	}
	// Read your writes: a write followed by WaitFor on its position is visible.
	d := w.datum("fresh.bin", "")
	p := w.setAlias("fresh", d)
	waitFor(t, eng, p)
	rd := reads(eng, w)
	got, err := rd.Alias(context.Background(), w.project, "fresh", projections.AsOf{})
	if err != nil || got.Target != d {
		t.Errorf("Alias(fresh) after WaitFor = %+v, %v, want target %s", got, err, d)
	}
	if err := eng.Rebuild(context.Background(), "nope"); !errors.Is(err, projections.ErrUnknownProjection) {
		t.Errorf("Rebuild(nope) error = %v", err)
	}
}

// compacting is a store that counts its compactions, each of which waits for release.
type compacting struct {
	projections.Store
	calls   chan struct{}
	release chan struct{}
}

func (c *compacting) Compact(ctx context.Context) error {
	c.calls <- struct{}{}
	select {
	case <-c.release:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// TestEngine_CompactsAfterACatchUp: a catch-up of CompactAfter events or more ends in one
// compaction, which WaitSettled waits for; a rebuild does the same; a catch-up of fewer,
// and live events, do not.
func TestEngine_CompactsAfterACatchUp(t *testing.T) {
	log := memory.NewStore()
	w := newWorld(t, log)
	scenario(w, 3)
	store := &compacting{Store: memory.NewProjections(), calls: make(chan struct{}, 4), release: make(chan struct{})}
	eng, err := projections.New(log, w.codec, store, projections.Config{BatchSize: 5, CompactAfter: int(w.last)}, projections.All()...)
	if err != nil {
		t.Fatal(err)
	}
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- eng.Run(ctx) }()
	waitFor(t, eng, w.last)
	select {
	case <-store.calls:
	case <-time.After(10 * time.Second):
		t.Fatal("no compaction after catching up with the whole log")
	}
	short, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if err := eng.WaitSettled(short); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("WaitSettled() during the compaction = %v, want DeadlineExceeded", err)
	}
	store.release <- struct{}{}
	settle, cancel2 := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel2()
	if err := eng.WaitSettled(settle); err != nil {
		t.Fatalf("WaitSettled() after the compaction = %v", err)
	}
	// Live events: no compaction.
	waitFor(t, eng, w.setAlias("live", w.datum("live.bin", "")))
	// A rebuild is a catch-up from 0: one more.
	if err := eng.Rebuild(context.Background(), "lineage"); err != nil {
		t.Fatal(err)
	}
	select {
	case <-store.calls:
	case <-time.After(10 * time.Second):
		t.Fatal("no compaction after a rebuild")
	}
	// Run stops (it waits for the compaction, which ends with ctx) while WaitSettled waits.
	time.AfterFunc(200*time.Millisecond, stop)
	if err := eng.WaitSettled(context.Background()); !errors.Is(err, projections.ErrStopped) {
		t.Errorf("WaitSettled() when Run returned = %v, want ErrStopped", err)
	}
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Errorf("Run() = %v, want Canceled", err)
	}
	if n := len(store.calls); n != 0 {
		t.Errorf("%d compactions more, want 2 in all", n)
	}
}
