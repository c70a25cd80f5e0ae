package runner_test

import (
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stratahq/strata/domain"
	"github.com/stratahq/strata/runner"
	"github.com/stratahq/strata/runner/runnertest"
)

func TestMemoryLogStore(t *testing.T) {
	runnertest.RunLogStore(t, func(*testing.T) runner.LogStore { return &runner.MemoryLogStore{} })
}

func TestFileLogStore(t *testing.T) {
	runnertest.RunLogStore(t, func(t *testing.T) runner.LogStore { return mustFileLogs(t, t.TempDir()) })
}

func mustFileLogs(t *testing.T, dir string) *runner.FileLogStore {
	t.Helper()
	s, err := runner.NewFileLogStore(dir)
	if err != nil {
		t.Fatalf("NewFileLogStore() error = %v", err)
	}
	return s
}

// TestFileLogStore_Restart: a new store on the same directory has the lines, and a line
// torn by a crash mid-write is dropped, not read as garbage.
func TestFileLogStore_Restart(t *testing.T) {
	dir, id := t.TempDir(), domain.ExecutionID("0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b")
	s := mustFileLogs(t, dir)
	if err := s.Append(t.Context(), id, []runner.Line{{Message: "one"}, {Message: "two"}}); err != nil {
		t.Fatal(err)
	}
	f, err := os.OpenFile(filepath.Join(dir, string(id), "000000.jsonl"), os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteString(`{"time":"2025-01-0`); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	again := mustFileLogs(t, dir)
	if err := again.Append(t.Context(), id, []runner.Line{{Message: "three"}}); err != nil {
		t.Fatalf("Append() after a torn line error = %v", err)
	}
	got, err := again.Lines(t.Context(), id, 0)
	var msgs []string
	for _, l := range got {
		msgs = append(msgs, l.Message)
	}
	if err != nil || fmt.Sprint(msgs) != "[one two three]" {
		t.Errorf("Lines() after a restart = %v, %v, want [one two three]", msgs, err)
	}
}

// TestLogs_SubscribeMidRun: a subscriber joining while lines are appended gets the
// history, then every following line, with no gap and no duplicate, even when it reads
// slower than lines come.
func TestLogs_SubscribeMidRun(t *testing.T) {
	for name, store := range map[string]func(t *testing.T) runner.LogStore{
		"memory": func(*testing.T) runner.LogStore { return &runner.MemoryLogStore{} },
		"file":   func(t *testing.T) runner.LogStore { return mustFileLogs(t, t.TempDir()) },
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			l := runner.NewLogs(store(t), nil)
			id := domain.ExecutionID("0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b")
			const total = 3000
			half := make(chan struct{})
			var wg sync.WaitGroup
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range total {
					l.Append(id, runner.Line{Stream: runner.Stdout, Message: fmt.Sprint(i)})
					if i == total/3 {
						close(half)
					}
				}
			}()
			<-half
			past, live := l.Subscribe(t.Context(), id)
			got := make([]string, 0, total)
			for _, ln := range past {
				got = append(got, ln.Message)
			}
			timeout := time.After(30 * time.Second)
			for len(got) < total {
				select {
				case ln := <-live:
					got = append(got, ln.Message)
					if len(got)%500 == 0 {
						time.Sleep(10 * time.Millisecond) // a slow reader
					}
				case <-timeout:
					t.Fatalf("got %d lines, want %d", len(got), total)
				}
			}
			wg.Wait()
			if len(past) <= total/3 {
				t.Errorf("history = %d lines, want more than %d", len(past), total/3)
			}
			for i, m := range got {
				if m != fmt.Sprint(i) {
					t.Fatalf("line %d = %q, want %d (gap or duplicate)", i, m, i)
				}
			}
			select {
			case ln := <-live:
				t.Errorf("extra line %v", ln)
			case <-time.After(50 * time.Millisecond):
			}
		})
	}
}
