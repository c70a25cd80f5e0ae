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

// BenchmarkLoad loads whole streams: Scattered, an execution's 20 events among 200,000
// of 10,000 such streams appended concurrently one event per call (each event its own
// range, far from the next); Contiguous, 1,000 events appended in one call.
func BenchmarkLoad(b *testing.B) {
	s := mustOpen(b, badger.Config{Dir: b.TempDir()})
	const streams, perStream, writers = 10_000, 20, 64
	errs := make(chan error, writers)
	for w := range writers {
		go func() {
			for v := range events.Version(perStream) {
				for i := w; i < streams; i += writers {
					rec := eventstest.Record(i)
					rec.ID = events.NewID()
					if _, err := s.Append(b.Context(), events.StreamID("x-"+strconv.Itoa(i)), v, rec); err != nil {
						errs <- err
						return
					}
				}
			}
			errs <- nil
		}()
	}
	for range writers {
		if err := <-errs; err != nil {
			b.Fatal(err)
		}
	}
	recs := make([]events.Record, 1000)
	for i := range recs {
		recs[i] = eventstest.Record(i)
	}
	if _, err := s.Append(b.Context(), "contiguous", events.NoStream, recs...); err != nil {
		b.Fatal(err)
	}
	load := func(b *testing.B, stream func(i int) events.StreamID, want int) {
		n := 0
		for i := 0; b.Loop(); i++ {
			envs, err := s.Load(b.Context(), stream(i), 0)
			if err != nil || len(envs) != want {
				b.Fatalf("Load() = %d events, %v; want %d", len(envs), err, want)
			}
			n += len(envs)
		}
		b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "events/s")
	}
	b.Run("Scattered", func(b *testing.B) {
		load(b, func(i int) events.StreamID { return events.StreamID("x-" + strconv.Itoa(i*7919%streams)) }, perStream)
	})
	b.Run("Contiguous", func(b *testing.B) {
		load(b, func(int) events.StreamID { return "contiguous" }, len(recs))
	})
}
