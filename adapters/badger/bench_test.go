package badger_test

import (
	"fmt"
	"os"
	"runtime"
	"strconv"
	"sync/atomic"
	"testing"

	"github.com/stratahq/strata/adapters/badger"
	"github.com/stratahq/strata/events"
	"github.com/stratahq/strata/events/eventstest"
)

// BenchmarkAppendConcurrent: 64 goroutines, each appending one event of about 300 bytes per
// call to its own stream at an exact expected version; every append is synced before it is
// acknowledged.
func BenchmarkAppendConcurrent(b *testing.B) {
	s := mustOpen(b, benchConfig(b))
	var ids atomic.Int64
	b.SetParallelism(max(1, 64/runtime.GOMAXPROCS(0)))
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		stream := events.StreamID(fmt.Sprintf("bench-%d", ids.Add(1)))
		rec := eventstest.Record(0)
		var v events.Version
		for pb.Next() {
			rec.ID = events.NewID()
			if _, err := s.Append(b.Context(), stream, v, rec); err != nil {
				b.Errorf("Append() error = %v", err)
				return
			}
			v++
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
	st := s.Stats()
	b.ReportMetric(float64(st.Events)/float64(st.Batches), "events/sync")
}

// BenchmarkAppendBatch: 1,000 events per call, one stream, synced.
func BenchmarkAppendBatch(b *testing.B) {
	s := mustOpen(b, badger.Config{Dir: b.TempDir()})
	const size = 1000
	batches := make([][]events.Record, 8)
	var v events.Version
	b.ResetTimer()
	for i := range b.N {
		b.StopTimer()
		recs := batches[i%len(batches)][:0]
		for j := range size {
			recs = append(recs, eventstest.Record(j))
		}
		batches[i%len(batches)] = recs
		b.StartTimer()
		if _, err := s.Append(b.Context(), "batch", v, recs...); err != nil {
			b.Fatalf("Append() error = %v", err)
		}
		v += size
	}
	b.ReportMetric(float64(b.N*size)/b.Elapsed().Seconds(), "events/s")
}

const scanEvents = 200_000

// filled returns a store holding scanEvents events in 1,000 streams.
func filled(b *testing.B) *badger.Store {
	b.Helper()
	s := mustOpen(b, badger.Config{Dir: b.TempDir()})
	for i := 0; i < scanEvents; i += 1000 {
		recs := make([]events.Record, 1000)
		for j := range recs {
			recs[j] = eventstest.Record(i + j)
		}
		if _, err := s.Append(b.Context(), events.StreamID(fmt.Sprintf("s-%d", i/1000)), events.NoStream, recs...); err != nil {
			b.Fatal(err)
		}
	}
	return s
}

// BenchmarkReadAll: a full scan of the log in pages of 4,096, decoding every envelope.
func BenchmarkReadAll(b *testing.B) {
	s := filled(b)
	b.ResetTimer()
	for range b.N {
		var after events.Position
		n := 0
		for {
			page, err := s.ReadAll(b.Context(), after, 4096)
			if err != nil {
				b.Fatal(err)
			}
			n += len(page)
			if len(page) < 4096 {
				break
			}
			after = page[len(page)-1].Position
		}
		if n != scanEvents {
			b.Fatalf("read %d events, want %d", n, scanEvents)
		}
	}
	b.ReportMetric(float64(b.N*scanEvents)/b.Elapsed().Seconds(), "events/s")
}

// BenchmarkVerify: events.Verify over the whole log (hash, chain and gap checks).
func BenchmarkVerify(b *testing.B) {
	s := filled(b)
	b.ResetTimer()
	for range b.N {
		r, err := events.Verify(b.Context(), s, events.VerifyOptions{Gapless: true})
		if err != nil || r.Events != scanEvents {
			b.Fatalf("Verify() = %+v, %v", r, err)
		}
	}
	b.ReportMetric(float64(b.N*scanEvents)/b.Elapsed().Seconds(), "events/s")
}

func benchConfig(b *testing.B) badger.Config {
	c := badger.Config{Dir: b.TempDir()}
	if v, err := strconv.Atoi(os.Getenv("MEMTABLE_MB")); err == nil {
		c.MemTableSize = int64(v) << 20
	}
	return c
}
