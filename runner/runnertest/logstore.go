package runnertest

import (
	"fmt"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/stratahq/strata/domain"
	"github.com/stratahq/strata/runner"
)

// RunLogStore checks the runner.LogStore contract. newStore must return an empty store.
func RunLogStore(t *testing.T, newStore func(t *testing.T) runner.LogStore) {
	t.Run("AppendLines", func(t *testing.T) {
		t.Parallel()
		s, id := newStore(t), domain.ExecutionID(uuid.NewString())
		want := mkLines(0, 2*runner.ChunkLines+10)
		for i := 0; i < len(want); i += 333 {
			if err := s.Append(t.Context(), id, want[i:min(i+333, len(want))]); err != nil {
				t.Fatalf("Append() error = %v", err)
			}
		}
		for _, from := range []int{0, 1, runner.ChunkLines - 1, runner.ChunkLines, 2*runner.ChunkLines + 9, len(want), len(want) + 5} {
			got, err := s.Lines(t.Context(), id, from)
			if err != nil {
				t.Fatalf("Lines(%d) error = %v", from, err)
			}
			wantFrom := want[min(from, len(want)):]
			if !sameLines(got, wantFrom) {
				t.Errorf("Lines(%d) = %d lines, want %d lines %v...", from, len(got), len(wantFrom), wantFrom[:min(1, len(wantFrom))])
			}
		}
	})
	t.Run("MissingLog", func(t *testing.T) {
		t.Parallel()
		got, err := newStore(t).Lines(t.Context(), domain.ExecutionID(uuid.NewString()), 0)
		if err != nil || len(got) != 0 {
			t.Errorf("Lines() of a missing log = %v, %v, want none", got, err)
		}
	})
	t.Run("LogsApart", func(t *testing.T) {
		t.Parallel()
		s, a, b := newStore(t), domain.ExecutionID(uuid.NewString()), domain.ExecutionID(uuid.NewString())
		if err := s.Append(t.Context(), a, mkLines(0, 2)); err != nil {
			t.Fatal(err)
		}
		if err := s.Append(t.Context(), b, mkLines(10, 1)); err != nil {
			t.Fatal(err)
		}
		if got, err := s.Lines(t.Context(), b, 0); err != nil || !sameLines(got, mkLines(10, 1)) {
			t.Errorf("Lines(b) = %v, %v", got, err)
		}
	})
}

func mkLines(from, n int) []runner.Line {
	at := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	out := make([]runner.Line, n)
	for i := range out {
		out[i] = runner.Line{Time: at.Add(time.Duration(from+i) * time.Millisecond), Stream: runner.Stdout, Message: fmt.Sprintf("line %d", from+i)}
	}
	return out
}

func sameLines(a, b []runner.Line) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !a[i].Time.Equal(b[i].Time) || a[i].Stream != b[i].Stream || a[i].Message != b[i].Message {
			return false
		}
	}
	return true
}
