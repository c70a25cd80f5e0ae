package projections_test

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/stratahq/strata/adapters/badger"
	"github.com/stratahq/strata/adapters/memory"
	"github.com/stratahq/strata/domain"
	"github.com/stratahq/strata/domain/dataset"
	"github.com/stratahq/strata/events"
	"github.com/stratahq/strata/projections"
)

// history writes about 13 events per execution: chains of executions each consuming the
// previous one's model, metadata, outputs, aliases moved often and dataset versions.
func history(w *world, executions int) {
	ds := w.dataset("corpus")
	var prev domain.DatumID
	for i := range executions {
		in := map[string][]string{"raw": {"s3://bucket/raw-" + strconv.Itoa(i%50) + ".csv"}}
		if prev != "" && i%25 != 0 {
			in["model"] = []string{"datum://" + string(prev)}
		}
		_, outs := w.execution(runSpec{tags: []string{"t" + strconv.Itoa(i%7)}, inputs: in, outputs: []string{"model.pb"},
			hashes:  map[string]string{"s3://bucket/raw-" + strconv.Itoa(i%50) + ".csv": strconv.Itoa(i / 200)},
			metrics: []map[string]any{{"loss": 1 / float64(i+1), "epoch": 1}, {"loss": 0.5 / float64(i+1), "epoch": 2}}, minutes: i%30 + 1})
		prev = outs[0]
		if i%3 == 0 {
			w.setAlias("alias-"+strconv.Itoa(i%100), prev)
		}
		if i%100 == 99 {
			from := "latest"
			if i == 99 {
				from = ""
			}
			w.version(ds, dataset.CreateVersion{Version: "v" + strconv.Itoa(i), From: from, Add: outs})
		}
	}
}

func BenchmarkRebuild(b *testing.B) {
	n := 2000
	if s := os.Getenv("STRATA_BENCH_EXECUTIONS"); s != "" {
		n, _ = strconv.Atoi(s)
	}
	log := memory.NewStore()
	w := newWorld(b, log)
	history(w, n)
	head := w.last
	for _, kind := range []string{"badger", "memory"} {
		b.Run(kind, func(b *testing.B) {
			var size int64
			start := time.Now()
			for b.Loop() {
				var store projections.Store
				if kind == "badger" {
					p, err := badger.OpenProjections(badger.ProjectionsConfig{Dir: b.TempDir()})
					if err != nil {
						b.Fatal(err)
					}
					defer p.Close()
					store = p
				} else {
					store = memory.NewProjections()
				}
				eng, err := projections.New(log, w.codec, store, projections.Config{}, projections.All()...)
				if err != nil {
					b.Fatal(err)
				}
				ctx, cancel := context.WithCancel(context.Background())
				done := make(chan error, 1)
				go func() { done <- eng.Run(ctx) }()
				if err := eng.WaitFor(context.Background(), head); err != nil {
					b.Fatal(err)
				}
				cancel()
				<-done
				if p, ok := store.(*badger.Projections); ok {
					size = p.Size()
				}
			}
			elapsed := time.Since(start)
			b.ReportMetric(float64(head)*float64(b.N)/elapsed.Seconds(), "events/s")
			b.ReportMetric(float64(head), "events")
			if size > 0 {
				b.ReportMetric(float64(size), "store-bytes")
			}
		})
	}
	benchQueries(b, log, w)
}

// benchQueries measures the query latencies the issue asks for on the same history.
func benchQueries(b *testing.B, log events.Store, w *world) {
	store, err := badger.OpenProjections(badger.ProjectionsConfig{Dir: b.TempDir()})
	if err != nil {
		b.Fatal(err)
	}
	defer store.Close()
	eng, err := projections.New(log, w.codec, store, projections.Config{}, projections.All()...)
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() { _ = eng.Run(ctx) }()
	if err := eng.WaitFor(ctx, w.last); err != nil {
		b.Fatal(err)
	}
	rd := reads(eng, w)
	page, err := rd.Executions(ctx, projections.ExecutionQuery{Project: w.project, Descending: true, Limit: 1})
	if err != nil {
		b.Fatal(err)
	}
	lastModel := projections.DatumNode(page.Items[0].Outputs[0].Datum)
	b.Run("LineageUpstreamDepth10", func(b *testing.B) {
		for b.Loop() {
			if _, err := rd.Lineage(ctx, lastModel, projections.Upstream, 10, projections.AsOf{}); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("TableTagSortMetadataTop50", func(b *testing.B) {
		for b.Loop() {
			if _, err := rd.Executions(ctx, projections.ExecutionQuery{Project: w.project, Tags: []string{"t3"}, Sort: projections.SortMetadata, MetadataKey: "loss", Limit: 50}); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("AliasAsOf", func(b *testing.B) {
		i := 0
		for b.Loop() {
			i++
			if _, err := rd.Alias(ctx, w.project, fmt.Sprintf("alias-%d", (i%33)*3), projections.AsOf{Position: events.Position(1 + i%int(w.last))}); err != nil && i%int(w.last) > 1000 {
				_ = err // early positions precede the alias
			}
		}
	})
}
