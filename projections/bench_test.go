package projections_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stratahq/strata/adapters/badger"
	"github.com/stratahq/strata/domain"
	"github.com/stratahq/strata/domain/alias"
	"github.com/stratahq/strata/domain/dataset"
	"github.com/stratahq/strata/domain/datum"
	"github.com/stratahq/strata/domain/environment"
	"github.com/stratahq/strata/domain/execution"
	"github.com/stratahq/strata/events"
	"github.com/stratahq/strata/projections"
)

// The benchmark history. STRATA_BENCH_EVENTS sets its size (default 200,000 so that
// make bench stays short; the figure is 1,000,000).
const (
	genEventsPerExecution = 21
	genWorkers            = 40   // executions run concurrently, so their events interleave
	genAliases            = 1000 // a multiple of genWorkers: each alias has one writer
	genChain              = 40   // executions per lineage chain: 80 edges deep
)

// genResult is what the queries need to know about a generated history.
type genResult struct {
	project  domain.ProjectID
	head     events.Position
	deepest  domain.DatumID // the last output of the longest chain
	runs     int
	duration time.Duration
}

// generate writes a realistic history of about n events to log: executions with inputs
// (a store URL whose content changes now and then, and the model of the previous
// execution of their chain), metadata, resource samples and outputs, aliases moved to
// new models, and dataset versions. genWorkers goroutines append one event at a time, as
// runners do, so the events of concurrent executions interleave in the log.
func generate(tb testing.TB, log events.Store, c *events.Codec, n int) genResult {
	ctx := context.Background()
	res := genResult{project: domain.ProjectID(uuid.NewString()), runs: max(n/genEventsPerExecution, genWorkers)}
	start := time.Now()
	base := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	envID := domain.EnvironmentID(uuid.NewString())
	meta := events.Meta{Actor: "bench"}
	appendOne := func(stream string, expected events.Version, e events.Event) (events.Version, error) {
		rec, err := c.Record(e, meta)
		if err != nil {
			return 0, err
		}
		r, err := log.Append(ctx, events.StreamID(stream), expected, rec)
		if err != nil {
			return 0, fmt.Errorf("append %s to %s: %w", e.EventType(), stream, err)
		}
		return r.Version, nil
	}
	if _, err := appendOne("environment-"+string(envID), events.NoStream, environment.Created{Environment: envID, Slug: "cpu",
		Spec: environment.Spec{Name: "CPU", CPUs: 4, MemoryBytes: 8 << 30, PricePerHour: 3_600_000}, At: base}); err != nil {
		tb.Fatal(err)
	}
	dsID := domain.DatasetID(uuid.NewString())
	if _, err := appendOne("dataset-"+string(dsID), events.NoStream, dataset.Created{Dataset: dsID, Project: res.project, Name: "corpus", At: base}); err != nil {
		tb.Fatal(err)
	}
	digest := func(s string) domain.Digests {
		var d domain.Digests
		copy(d.SHA256[:], s)
		copy(d.MD5[:], s)
		copy(d.SHA1[:], s)
		copy(d.BLAKE3[:], "b3"+s)
		return d
	}
	var mu sync.Mutex // guards firstErr, deepest and res.deepest
	var firstErr error
	deepest := -1
	var wg sync.WaitGroup
	for w := range genWorkers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := func() error {
				aliasVersions := map[string]events.Version{}
				aliasTargets := map[string]domain.DatumID{}
				var prev domain.DatumID
				var dsVersions int
				var lastVersion string
				for k := w; k < res.runs; k += genWorkers {
					id := domain.ExecutionID(uuid.NewString())
					stream := "execution-" + string(id)
					at := base.Add(time.Duration(k) * time.Minute)
					tick := func() time.Time { at = at.Add(time.Second); return at }
					raw := "s3://bucket/raw-" + strconv.Itoa(k%50) + ".csv"
					inputs := []execution.Input{{Name: "raw", URIs: []execution.ResolvedURI{{URI: raw}}}}
					if (k/genWorkers)%genChain != 0 && prev != "" {
						inputs = append(inputs, execution.Input{Name: "model", URIs: []execution.ResolvedURI{{URI: "datum://" + string(prev), Datums: []domain.DatumID{prev}}}})
					} else {
						prev = ""
					}
					var v events.Version
					var err error
					next := func(e events.Event) {
						if err == nil {
							v, err = appendOne(stream, v, e)
						}
					}
					next(execution.Created{Execution: id, Project: res.project, Number: k + 1, Step: "train",
						Code:  execution.Code{Repository: "https://github.com/acme/ml", Commit: "0123456789abcdef0123456789abcdef01234567"},
						Image: "python:3.12", Commands: []string{"pip install -r requirements.txt", "python train.py"},
						Parameters: []execution.Parameter{{Name: "learning_rate", Type: "float", Values: []string{strconv.FormatFloat(0.001*float64(1+k%10), 'f', -1, 64)}},
							{Name: "epochs", Type: "integer", Values: []string{"8"}}},
						Inputs: inputs, Environment: envID, Creator: domain.UserID([]string{"alice", "bob", "carol"}[k%3]),
						Tags: []string{"t" + strconv.Itoa(k%7), "team-" + strconv.Itoa(k%3)}, At: tick()})
					next(execution.Queued{Execution: id, At: tick()})
					next(execution.Started{Execution: id, Host: "worker-" + strconv.Itoa(w), Hardware: execution.Hardware{CPUs: 4},
						ImageDigest: "sha256:0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f", At: tick()})
					d := digest(raw + strconv.Itoa(k/500)) // the file behind the URL changes now and then
					next(execution.InputHashed{Execution: id, Input: "raw", URI: raw, FileName: "raw.csv", Size: 1 << 20,
						MD5: d.MD5, SHA1: d.SHA1, SHA256: d.SHA256, BLAKE3: d.BLAKE3, At: tick()})
					if prev != "" {
						d := digest(string(prev))
						next(execution.InputHashed{Execution: id, Input: "model", URI: "datum://" + string(prev), Datum: prev, FileName: "model.pb",
							Size: 1 << 24, MD5: d.MD5, SHA1: d.SHA1, SHA256: d.SHA256, BLAKE3: d.BLAKE3, At: tick()})
					}
					for epoch := 1; epoch <= 8; epoch++ {
						loss := 1 / float64(epoch*(1+(k*7919)%1000))
						vals := map[string]json.RawMessage{"epoch": json.RawMessage(strconv.Itoa(epoch)),
							"loss": json.RawMessage(strconv.FormatFloat(loss, 'g', -1, 64)), "accuracy": json.RawMessage(strconv.FormatFloat(1-loss, 'g', -1, 64))}
						next(execution.MetadataRecorded{Execution: id, Points: []execution.MetadataPoint{{Time: tick(), Values: vals}}})
					}
					for range 2 {
						next(execution.ResourcesSampled{Execution: id, CPUPercent: 350, MemoryBytes: 6 << 30, At: tick()})
					}
					var outs []domain.DatumID
					for _, name := range []string{"model.pb", "report.json"} {
						out := domain.DatumID(uuid.NewString())
						dg := digest(string(out))
						if err == nil {
							_, err = appendOne("datum-"+string(out), events.NoStream, datum.Created{Datum: out, Project: res.project, Name: name, Size: 1 << 20,
								MD5: dg.MD5, SHA1: dg.SHA1, SHA256: dg.SHA256, BLAKE3: dg.BLAKE3, Key: "k/" + string(out), Execution: id, At: tick()})
						}
						next(execution.OutputRecorded{Execution: id, Datum: out, Path: name, At: tick()})
						outs = append(outs, out)
					}
					next(execution.Finished{Execution: id, Status: domain.StatusComplete, At: at.Add(time.Duration(1+k%30) * time.Minute)})
					if err != nil {
						return err
					}
					prev = outs[0]
					name := "alias-" + strconv.Itoa(k%genAliases)
					av, err := appendOne("alias-"+string(res.project)+"/"+name, aliasVersions[name],
						alias.Moved{Project: res.project, Alias: name, Datum: prev, Previous: aliasTargets[name], At: tick()})
					if err != nil {
						return err
					}
					aliasVersions[name], aliasTargets[name] = av, prev
					if w == 0 && (k/genWorkers)%50 == 49 {
						dsVersions++
						version := "v" + strconv.Itoa(dsVersions)
						files := append([]domain.DatumID(nil), outs...)
						if _, err := appendOne("dataset-"+string(dsID), events.Version(dsVersions), dataset.VersionCreated{Dataset: dsID, Version: version,
							Base: lastVersion, Added: files, Files: files, At: tick()}); err != nil {
							return err
						}
						lastVersion = version
					}
					if score := ((k/genWorkers)%genChain)*res.runs + k; true {
						mu.Lock()
						if score > deepest {
							deepest, res.deepest = score, prev // the end of the longest chain, the latest of those
						}
						mu.Unlock()
					}
				}
				return nil
			}()
			if err != nil {
				mu.Lock()
				if firstErr == nil {
					firstErr = err
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if firstErr != nil {
		tb.Fatal(firstErr)
	}
	head, err := log.Head(ctx)
	if err != nil {
		tb.Fatal(err)
	}
	res.head, res.duration = head, time.Since(start)
	return res
}

// dirSize is the bytes the files under dir take.
func dirSize(tb testing.TB, dir string) int64 {
	var n int64
	err := filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		info, err := d.Info()
		if err == nil {
			n += info.Size()
		}
		return err
	})
	if err != nil {
		tb.Fatal(err)
	}
	return n
}

// rebuild runs every projection from position 0 into store, a fresh one, until it
// reaches head (elapsed), and then until the store is compacted (compact).
func rebuild(tb testing.TB, log events.Store, c *events.Codec, store projections.Store, head events.Position) (elapsed, compact time.Duration) {
	eng, err := projections.New(log, c, store, projections.Config{}, projections.All()...)
	if err != nil {
		tb.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	start := time.Now()
	go func() { done <- eng.Run(ctx) }()
	if err := eng.WaitFor(context.Background(), head); err != nil {
		tb.Fatal(err)
	}
	elapsed = time.Since(start)
	if err := eng.WaitSettled(context.Background()); err != nil {
		tb.Fatal(err)
	}
	compact = time.Since(start) - elapsed
	cancel()
	if err := <-done; err != nil && ctx.Err() == nil {
		tb.Fatal(err)
	}
	return elapsed, compact
}

func openProjections(tb testing.TB, dir string) *badger.Projections {
	store, err := badger.OpenProjections(badger.ProjectionsConfig{Dir: dir})
	if err != nil {
		tb.Fatal(err)
	}
	return store
}

// recorder is a projections.Store (and Compacter) that passes everything on to the
// badger store it wraps, keeps the writes of every committed Update in order, and counts
// the keys read.
type recorder struct {
	*badger.Projections
	mu      sync.Mutex // guards batches
	batches [][]write
	gets    atomic.Int64
}

type write struct{ key, value []byte } // a nil value deletes

func (r *recorder) Update(ctx context.Context, fn func(projections.Txn) error) error {
	var ws []write
	err := r.Projections.Update(ctx, func(tx projections.Txn) error {
		return fn(&recordingTxn{countingReader: countingReader{tx, r}, tx: tx, writes: &ws})
	})
	if err == nil && len(ws) > 0 {
		r.mu.Lock()
		r.batches = append(r.batches, ws)
		r.mu.Unlock()
	}
	return err
}

func (r *recorder) View(ctx context.Context, fn func(projections.Reader) error) error {
	return r.Projections.View(ctx, func(rd projections.Reader) error { return fn(countingReader{rd, r}) })
}

type countingReader struct {
	projections.Reader
	r *recorder
}

func (c countingReader) Get(key []byte) ([]byte, bool, error) {
	c.r.gets.Add(1)
	return c.Reader.Get(key)
}

type recordingTxn struct {
	countingReader
	tx     projections.Txn
	writes *[]write
}

// state returns what the engine sees of store: each projection's checkpoint and digest.
func state(tb testing.TB, log events.Store, c *events.Codec, store projections.Store) []string {
	eng, err := projections.New(log, c, store, projections.Config{}, projections.All()...)
	if err != nil {
		tb.Fatal(err)
	}
	st, err := eng.Status(context.Background())
	if err != nil {
		tb.Fatal(err)
	}
	var out []string
	for _, s := range st {
		d, err := eng.Digest(context.Background(), s.Name)
		if err != nil {
			tb.Fatal(err)
		}
		out = append(out, fmt.Sprintf("%s v%d g%d at %d: %x", s.Name, s.Version, s.Generation, s.Checkpoint, d))
	}
	return out
}

// Set and Delete keep key and value as they are: the Txn contract forbids the caller to
// modify them afterwards.
func (t *recordingTxn) Set(key, value []byte) error {
	*t.writes = append(*t.writes, write{key, value})
	return t.tx.Set(key, value)
}

func (t *recordingTxn) Delete(key []byte) error {
	*t.writes = append(*t.writes, write{key, nil})
	return t.tx.Delete(key)
}

// BenchmarkRebuild generates the history once (into a badger event store), then measures
// a rebuild of all projections from position 0 and the latencies of the queries
// on the rebuilt store, and the store's size on disk.
func BenchmarkRebuild(b *testing.B) {
	n := 200_000
	if s := os.Getenv("STRATA_BENCH_EVENTS"); s != "" {
		var err error
		if n, err = strconv.Atoi(s); err != nil || n < 1000 {
			b.Fatalf("STRATA_BENCH_EVENTS=%q: want a number ≥ 1000", s)
		}
	}
	log, err := badger.Open(badger.Config{Dir: b.TempDir()})
	if err != nil {
		b.Fatal(err)
	}
	defer func() {
		if err := log.Close(); err != nil {
			b.Error(err)
		}
	}()
	c := codec(b)
	gen := generate(b, log, c, n)
	b.Logf("generated %d events (%d executions) in %s", gen.head, gen.runs, gen.duration.Round(time.Millisecond))

	var dir string
	stores := b.TempDir() // the sub-benchmark's own would be gone before the queries below
	b.Run("badger", func(b *testing.B) {
		var total, compacting time.Duration
		for i := 0; b.Loop(); i++ {
			dir = filepath.Join(stores, strconv.Itoa(i))
			store := openProjections(b, dir)
			elapsed, compact := rebuild(b, log, c, store, gen.head)
			total, compacting = total+elapsed, compacting+compact
			if err := store.Close(); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(gen.head)*float64(b.N)/total.Seconds(), "events/s")
		b.ReportMetric(compacting.Seconds()/float64(b.N), "compact-s") // after the rebuild, for reads
		b.ReportMetric(float64(gen.head), "events")
		b.ReportMetric(float64(dirSize(b, dir)), "store-bytes")
	})
	// The store alone: the writes a rebuild commits, replayed into a fresh store
	// transaction by transaction, with nothing else running. It bounds the rebuild.
	b.Run("StoreWritesOnly", func(b *testing.B) {
		rec := &recorder{Projections: openProjections(b, filepath.Join(b.TempDir(), "recorded"))}
		rebuild(b, log, c, rec, gen.head)
		gets := rec.gets.Load()
		want := state(b, log, c, rec)
		if err := rec.Close(); err != nil {
			b.Fatal(err)
		}
		var keys, bytes int
		for _, ws := range rec.batches {
			for _, w := range ws {
				keys, bytes = keys+1, bytes+len(w.key)+len(w.value)
			}
		}
		var total time.Duration
		for i := 0; b.Loop(); i++ {
			store := openProjections(b, filepath.Join(b.TempDir(), strconv.Itoa(i)))
			start := time.Now()
			for _, ws := range rec.batches {
				err := store.Update(context.Background(), func(tx projections.Txn) error {
					for _, w := range ws {
						var err error
						if w.value == nil {
							err = tx.Delete(w.key)
						} else {
							err = tx.Set(w.key, w.value)
						}
						if err != nil {
							return err
						}
					}
					return nil
				})
				if err != nil {
					b.Fatal(err)
				}
			}
			total += time.Since(start)
			if got := state(b, log, c, store); !slices.Equal(got, want) {
				b.Fatalf("the replayed writes left %q, the rebuild %q", got, want)
			}
			if err := store.Close(); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(gen.head)*float64(b.N)/total.Seconds(), "events/s")
		b.ReportMetric(float64(keys)*float64(b.N)/total.Seconds(), "keys/s")
		b.ReportMetric(float64(keys)/float64(gen.head), "keys/event")
		b.ReportMetric(float64(bytes)/float64(gen.head), "bytes/event")
		b.ReportMetric(float64(gets)/float64(gen.head), "gets/event")
		b.ReportMetric(float64(len(rec.batches)), "txns")
	})
	if dir == "" {
		return // the rebuild was filtered out
	}
	store := openProjections(b, dir)
	eng, err := projections.New(log, c, store, projections.Config{}, projections.All()...)
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	st, err := eng.Status(ctx)
	if err != nil {
		b.Fatal(err)
	}
	for _, s := range st {
		if s.Checkpoint != gen.head {
			b.Fatalf("the rebuilt store reopened with %s at %d, want %d", s.Name, s.Checkpoint, gen.head)
		}
	}
	ran := make(chan error, 1)
	go func() { ran <- eng.Run(ctx) }()
	defer func() { // the engine stops before its store closes
		cancel()
		if err := <-ran; err != nil && !errors.Is(err, context.Canceled) {
			b.Error(err)
		}
		if err := store.Close(); err != nil {
			b.Error(err)
		}
	}()
	if err := eng.WaitSettled(ctx); err != nil {
		b.Fatal(err)
	}
	rd := &projections.Reads{Engine: eng, Log: log, Codec: c, Now: func() time.Time { return time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC) }}
	latencies(b, "LineageUpstreamDepth10", func(int) error {
		g, err := rd.Lineage(ctx, projections.DatumNode(gen.deepest), projections.Upstream, 10, projections.AsOf{})
		if err == nil && len(g.Nodes) < 10 {
			err = fmt.Errorf("upstream of the deepest model: %d nodes, want a chain", len(g.Nodes))
		}
		return err
	})
	latencies(b, "TableTagSortMetadataTop50", func(int) error {
		p, err := rd.Executions(ctx, projections.ExecutionQuery{Project: gen.project, Tags: []string{"t3"}, Sort: projections.SortMetadata,
			MetadataKey: "loss", Limit: 50})
		if err == nil && len(p.Items) != 50 {
			err = fmt.Errorf("table: %d items, want 50", len(p.Items))
		}
		return err
	})
	// An auditor's question: the events of one execution, the first created after the
	// middle of the log.
	var x events.Envelope
	for after := gen.head / 2; x.Stream == ""; {
		page, err := log.ReadAll(ctx, after, 100)
		if err != nil || len(page) == 0 {
			b.Fatalf("find an execution after position %d: %v", gen.head/2, err)
		}
		for _, env := range page {
			if env.Type == "execution.Created" && x.Stream == "" {
				x = env
			}
		}
		after = page[len(page)-1].Position
	}
	latencies(b, "AuditOfAnExecution", func(int) error {
		es, err := rd.Events(ctx, projections.AuditFilter{Stream: x.Stream})
		if err == nil && (len(es) < 17 || es[0].Position != x.Position) { // 17 or 18 of the generator's
			err = fmt.Errorf("the audit of %s: %d entries, want 17 or more from position %d", x.Stream, len(es), x.Position)
		}
		return err
	})
	latencies(b, "AliasAsOf", func(i int) error {
		p := events.Position(1 + (i*7919)%int(gen.head))
		_, err := rd.Alias(ctx, gen.project, "alias-"+strconv.Itoa(i%genAliases), projections.AsOf{Position: p})
		if errors.Is(err, projections.ErrNotFound) {
			err = nil // the alias was not set yet at p
		}
		return err
	})
}

// latencies runs op as a sub-benchmark and reports its median and 99th percentile.
func latencies(b *testing.B, name string, op func(i int) error) {
	b.Run(name, func(b *testing.B) {
		var d []time.Duration
		i := 0
		for b.Loop() {
			start := time.Now()
			if err := op(i); err != nil {
				b.Fatal(err)
			}
			d = append(d, time.Since(start))
			i++
		}
		slices.Sort(d)
		b.ReportMetric(float64(d[len(d)/2].Microseconds()), "p50-µs")
		b.ReportMetric(float64(d[min(len(d)*99/100, len(d)-1)].Microseconds()), "p99-µs")
	})
}
