package graphql_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/stratahq/strata/adapters/badger"
	"github.com/stratahq/strata/adapters/memory"
	"github.com/stratahq/strata/app"
	"github.com/stratahq/strata/blob"
	"github.com/stratahq/strata/blob/storecfg"
	"github.com/stratahq/strata/domain"
	"github.com/stratahq/strata/domain/datum"
	"github.com/stratahq/strata/domain/environment"
	"github.com/stratahq/strata/domain/execution"
	"github.com/stratahq/strata/domain/project"
	"github.com/stratahq/strata/events"
	"github.com/stratahq/strata/graphql"
	"github.com/stratahq/strata/projections"
)

// The benchmark history: STRATA_BENCH_EVENTS events (default 50,000 so that make bench
// stays short; the figure is 1,000,000), written through the badger event store
// in large batches: every execution's events in one append.
const (
	benchWorkers = 8  // appenders; executions of one chain are appended by one worker, in order
	benchChain   = 20 // executions per lineage chain: model i is the input of execution i+1
	benchClients = 32 // concurrent HTTP clients
)

type benchHistory struct {
	project domain.ProjectID
	head    events.Position
	deepest domain.DatumID // the last model of a full chain
	runs    int
}

func benchDigests(s string) domain.Digests {
	var d domain.Digests
	copy(d.SHA256[:], s)
	copy(d.MD5[:], s)
	copy(d.SHA1[:], s)
	copy(d.BLAKE3[:], "b3"+s)
	return d
}

// generateHistory appends about n events: a project owned by the server's bootstrap
// admin, an environment, and executions (inputs, 8 metadata points, two outputs) in
// lineage chains of benchChain.
func generateHistory(b *testing.B, log events.Store, c *events.Codec, n int) benchHistory {
	ctx := context.Background()
	const perRun = 18 // events per execution: its number, its outputs' datum.Created included
	h := benchHistory{project: domain.ProjectID(uuid.NewString()), runs: max(n/perRun, benchWorkers*benchChain)}
	base := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	meta := events.Meta{Actor: string(app.BootstrapUser)}
	put := func(stream string, evs ...events.Event) error {
		recs := make([]events.Record, len(evs))
		for i, e := range evs {
			var err error
			if recs[i], err = c.Record(e, meta); err != nil {
				return err
			}
		}
		_, err := log.Append(ctx, events.StreamID(stream), events.NoStream, recs...)
		return err
	}
	envID := domain.EnvironmentID(uuid.NewString())
	if err := put(string(app.ProjectStream(h.project)), project.Created{Project: h.project, Slug: "bench", Name: "Bench", Owner: app.BootstrapUser, At: base},
		project.EnvironmentEnabled{Project: h.project, Environment: envID, At: base}); err != nil {
		b.Fatal(err)
	}
	if err := put(string(app.EnvironmentStream(envID)), environment.Created{Environment: envID, Slug: "cpu",
		Spec: environment.Spec{Name: "CPU", CPUs: 4, MemoryBytes: 8 << 30, PricePerHour: 3_600_000}, At: base}); err != nil {
		b.Fatal(err)
	}
	ids := make([]domain.ExecutionID, h.runs) // ids[k] is written by run k's worker only
	var mu sync.Mutex                         // guards firstErr and h.deepest
	var firstErr error
	var wg sync.WaitGroup
	for w := range benchWorkers {
		wg.Go(func() {
			var prev domain.DatumID
			for k := w; k < h.runs; k += benchWorkers {
				id := domain.ExecutionID(uuid.NewString())
				ids[k] = id
				at := base.Add(time.Duration(k) * time.Minute)
				tick := func() time.Time { at = at.Add(time.Second); return at }
				step := (k / benchWorkers) % benchChain
				if step == 0 {
					prev = ""
				}
				raw := "s3://bucket/raw-" + strconv.Itoa(k%50) + ".csv"
				inputs := []execution.Input{{Name: "raw", URIs: []execution.ResolvedURI{{URI: raw}}}}
				if prev != "" {
					inputs = append(inputs, execution.Input{Name: "model", URIs: []execution.ResolvedURI{{URI: "datum://" + string(prev), Datums: []domain.DatumID{prev}}}})
				}
				evs := []events.Event{
					execution.Created{Execution: id, Project: h.project, Number: k + 1, Step: "train",
						Code:  execution.Code{Repository: "https://github.com/acme/ml", Commit: "0123456789abcdef0123456789abcdef01234567"},
						Image: "python:3.12", Commands: []string{"python train.py"},
						Parameters: []execution.Parameter{{Name: "learning_rate", Type: "float", Values: []string{strconv.FormatFloat(0.001*float64(1+k%10), 'f', -1, 64)}}},
						Inputs:     inputs, Environment: envID, Creator: domain.UserID([]string{"alice", "bob", "carol"}[k%3]),
						Tags: []string{"t" + strconv.Itoa(k%7), "team-" + strconv.Itoa(k%3)}, At: tick()},
					execution.Queued{Execution: id, At: tick()},
					execution.Started{Execution: id, Host: "worker", Hardware: execution.Hardware{CPUs: 4}, At: tick()},
				}
				d := benchDigests(raw)
				evs = append(evs, execution.InputHashed{Execution: id, Input: "raw", URI: raw, FileName: "raw.csv", Size: 1 << 20,
					MD5: d.MD5, SHA1: d.SHA1, SHA256: d.SHA256, BLAKE3: d.BLAKE3, At: tick()})
				if prev != "" {
					d := benchDigests(string(prev))
					evs = append(evs, execution.InputHashed{Execution: id, Input: "model", URI: "datum://" + string(prev), Datum: prev, FileName: "model.pb",
						Size: 1 << 24, MD5: d.MD5, SHA1: d.SHA1, SHA256: d.SHA256, BLAKE3: d.BLAKE3, At: tick()})
				}
				for epoch := 1; epoch <= 8; epoch++ {
					loss := 1 / float64(epoch*(1+(k*7919)%1000))
					vals := map[string]json.RawMessage{"epoch": json.RawMessage(strconv.Itoa(epoch)),
						"loss": json.RawMessage(strconv.FormatFloat(loss, 'g', -1, 64))}
					evs = append(evs, execution.MetadataRecorded{Execution: id, Points: []execution.MetadataPoint{{Time: tick(), Values: vals}}})
				}
				var model domain.DatumID
				err := func() error {
					for _, name := range []string{"model.pb", "report.json"} {
						out := domain.DatumID(uuid.NewString())
						dg := benchDigests(string(out))
						if err := put(string(app.DatumStream(out)), datum.Created{Datum: out, Project: h.project, Name: name, Size: 1 << 20,
							MD5: dg.MD5, SHA1: dg.SHA1, SHA256: dg.SHA256, BLAKE3: dg.BLAKE3, Key: "k/" + string(out), Execution: id, At: tick()}); err != nil {
							return err
						}
						evs = append(evs, execution.OutputRecorded{Execution: id, Datum: out, Path: name, At: tick()})
						if model == "" {
							model = out
						}
					}
					evs = append(evs, execution.Finished{Execution: id, Status: domain.StatusComplete, At: at.Add(time.Duration(1+k%30) * time.Minute)})
					return put(string(app.ExecutionStream(id)), evs...)
				}()
				mu.Lock()
				if err != nil && firstErr == nil {
					firstErr = err
				}
				if step == benchChain-1 {
					h.deepest = model
				}
				mu.Unlock()
				if err != nil {
					return
				}
				prev = model
			}
		})
	}
	wg.Wait()
	if firstErr != nil {
		b.Fatal(firstErr)
	}
	// Each execution's number is allocated on the project stream, as the server does: the
	// stream every role check reads grows with the project's executions.
	version := events.Version(2)
	for from := 0; from < h.runs; from += 1000 {
		var recs []events.Record
		for k := from; k < min(from+1000, h.runs); k++ {
			rec, err := c.Record(project.NumberAllocated{Project: h.project, Counter: project.CounterExecution, Number: k + 1, For: string(ids[k]), At: base}, meta)
			if err != nil {
				b.Fatal(err)
			}
			recs = append(recs, rec)
		}
		v, err := log.Append(ctx, app.ProjectStream(h.project), version, recs...)
		if err != nil {
			b.Fatal(err)
		}
		version = v.Version
	}
	head, err := log.Head(ctx)
	if err != nil {
		b.Fatal(err)
	}
	h.head = head
	return h
}

// BenchmarkServer_Queries generates the history into a badger event store, brings every
// projection (badger) up to date, serves the API on a loopback port and measures the
// lineage query (upstream, depth 10) and one page of the execution table (one tag's,
// sorted by a metadata key; and the newest of all) with benchClients concurrent clients:
// p50 and p99 latency and requests per second.
func BenchmarkServer_Queries(b *testing.B) {
	n := 50_000
	if s := os.Getenv("STRATA_BENCH_EVENTS"); s != "" {
		var err error
		if n, err = strconv.Atoi(s); err != nil || n < 1000 {
			b.Fatalf("STRATA_BENCH_EVENTS=%q: want a number ≥ 1000", s)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	log, err := badger.Open(badger.Config{Dir: b.TempDir()})
	if err != nil {
		b.Fatal(err)
	}
	defer func() { _ = log.Close() }()
	codec, err := events.NewCodec(app.Events())
	if err != nil {
		b.Fatal(err)
	}
	start := time.Now()
	h := generateHistory(b, log, codec, n)
	b.Logf("generated %d events (%d executions) in %s", h.head, h.runs, time.Since(start).Round(time.Millisecond))
	store, err := badger.OpenProjections(badger.ProjectionsConfig{Dir: b.TempDir()})
	if err != nil {
		b.Fatal(err)
	}
	defer func() { _ = store.Close() }()
	engine, err := projections.New(log, codec, store, projections.Config{}, projections.All()...)
	if err != nil {
		b.Fatal(err)
	}
	done := make(chan struct{})
	go func() { defer close(done); _ = engine.Run(ctx) }()
	defer func() { cancel(); <-done }()
	start = time.Now()
	if err := engine.WaitFor(ctx, h.head); err != nil {
		b.Fatal(err)
	}
	b.Logf("projections caught up in %s", time.Since(start).Round(time.Millisecond))
	start = time.Now()
	if err := engine.WaitSettled(ctx); err != nil { // the store compacted after the catch-up
		b.Fatal(err)
	}
	b.Logf("projection store compacted in %s", time.Since(start).Round(time.Millisecond))

	svc, err := app.New(app.Config{Stores: storecfg.Config{
		Stores: []storecfg.Store{{Name: "local", Kind: storecfg.KindFS, Bucket: "/var/lib/strata"}}, Default: "local",
	}}, app.Deps{Log: log, Codec: codec, Blobs: map[string]blob.Store{"local": memory.NewBlobs()}})
	if err != nil {
		b.Fatal(err)
	}
	reads := &projections.Reads{Engine: engine, Log: log, Codec: codec, Scratch: func() projections.Store { return memory.NewProjections() }}
	srv, err := graphql.New(graphql.Config{}, graphql.Deps{App: svc, Log: log, Reads: reads, Gapless: true})
	if err != nil {
		b.Fatal(err)
	}
	hs := httptest.NewServer(srv.Handler())
	defer hs.Close()
	tok, _, err := svc.BootstrapAdminToken(ctx)
	if err != nil {
		b.Fatal(err)
	}
	client := &http.Client{Transport: &http.Transport{MaxIdleConns: 2 * benchClients, MaxIdleConnsPerHost: 2 * benchClients}}

	lineage, err := json.Marshal(map[string]any{"query": `query($n: String!) { lineage(node: $n, direction: UPSTREAM, depth: 10) { nodes { id kind label from } edges { from to kind since until } } }`,
		"variables": map[string]any{"n": projections.DatumNode(h.deepest)}})
	if err != nil {
		b.Fatal(err)
	}
	table, err := json.Marshal(map[string]any{"query": `query($p: ID!) { executions(project: $p, first: 50, filter: {tags: ["t3"]}, sort: {field: METADATA, metadataKey: "loss"}) {
		nodes { id number counter status step tags creator createdAt duration cost metadata } next total counts { status count } } }`,
		"variables": map[string]any{"p": string(h.project)}})
	if err != nil {
		b.Fatal(err)
	}
	// The table as it opens: the newest executions first, unfiltered.
	newest, err := json.Marshal(map[string]any{"query": `query($p: ID!) { executions(project: $p, first: 50, sort: {field: NUMBER, descending: true}) {
		nodes { id number counter status step tags creator createdAt duration cost metadata } next total counts { status count } } }`,
		"variables": map[string]any{"p": string(h.project)}})
	if err != nil {
		b.Fatal(err)
	}
	check := func(name string, body []byte) func(data []byte) error {
		return func(data []byte) error {
			var r struct {
				Data struct {
					Lineage    *struct{ Nodes []json.RawMessage }
					Executions *struct{ Nodes []json.RawMessage }
				}
				Errors []json.RawMessage
			}
			if err := json.Unmarshal(data, &r); err != nil || len(r.Errors) > 0 {
				return fmt.Errorf("%s: %v %s", name, err, data)
			}
			switch {
			case r.Data.Lineage != nil && len(r.Data.Lineage.Nodes) < 10:
				return fmt.Errorf("%s: %d nodes, want a chain", name, len(r.Data.Lineage.Nodes))
			case r.Data.Executions != nil && len(r.Data.Executions.Nodes) != 50:
				return fmt.Errorf("%s: %d rows, want 50", name, len(r.Data.Executions.Nodes))
			}
			return nil
		}
	}
	for _, q := range []struct {
		name string
		body []byte
	}{{"LineageUpstreamDepth10", lineage}, {"ExecutionTableTop50", table}, {"ExecutionTableNewest50", newest}} {
		b.Run(q.name, func(b *testing.B) {
			loadTest(b, client, hs.URL, tok.Secret, q.body, check(q.name, q.body))
		})
	}
}

// loadTest sends body b.N times from benchClients concurrent clients and reports the
// p50 and p99 latency, the requests per second and the CPU time the process spent per
// request (server, clients and background work: what latency is made of on a busy
// machine, and less disturbed than latency by other processes). Every response is checked; one that
// repeats the client's last checked response byte for byte is not decoded again, so the
// clients, which share the server's cores, cost it little.
func loadTest(b *testing.B, client *http.Client, url, token string, body []byte, check func([]byte) error) {
	var next atomic.Int64
	lat := make([][]time.Duration, benchClients)
	var failed atomic.Pointer[error]
	var ru0, ru1 syscall.Rusage
	b.ResetTimer()
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru0)
	start := time.Now()
	var wg sync.WaitGroup
	for c := range benchClients {
		wg.Go(func() {
			var checked []byte // the last response check passed: the same bytes again need no decoding
			var buf bytes.Buffer
			for next.Add(1) <= int64(b.N) && failed.Load() == nil {
				t0 := time.Now()
				data, err := send(client, url, token, body, &buf)
				if err == nil && !bytes.Equal(data, checked) {
					if err = check(data); err == nil {
						checked = bytes.Clone(data)
					}
				}
				if err != nil {
					failed.CompareAndSwap(nil, &err)
					return
				}
				lat[c] = append(lat[c], time.Since(t0))
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru1)
	b.StopTimer()
	if err := failed.Load(); err != nil {
		b.Fatal(*err)
	}
	all := slices.Concat(lat...)
	slices.Sort(all)
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	b.ReportMetric(ms(all[len(all)/2]), "p50-ms")
	b.ReportMetric(ms(all[min(len(all)*99/100, len(all)-1)]), "p99-ms")
	b.ReportMetric(float64(len(all))/elapsed.Seconds(), "req/s")
	cpu := ru1.Utime.Nano() + ru1.Stime.Nano() - ru0.Utime.Nano() - ru0.Stime.Nano()
	b.ReportMetric(float64(cpu)/1000/float64(len(all)), "cpu-us/op")
}

// send posts body and returns the response, read into buf (so the clients, which share
// the server's cores and garbage collector, allocate little).
func send(client *http.Client, url, token string, body []byte, buf *bytes.Buffer) ([]byte, error) {
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := client.Do(req)
	if err != nil {
		return nil, err
	}
	defer func() { _ = resp.Body.Close() }()
	buf.Reset()
	_, err = buf.ReadFrom(resp.Body)
	if err == nil && resp.StatusCode != http.StatusOK {
		err = fmt.Errorf("status %d: %s", resp.StatusCode, buf.Bytes())
	}
	return buf.Bytes(), err
}
