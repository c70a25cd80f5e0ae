package badger

import (
	"testing"

	"github.com/stratahq/strata/events"
)

// Rewrite replaces the stored events with envs exactly as given, for the tamper tests.
func (s *Store) Rewrite(t *testing.T, envs []events.Envelope) {
	t.Helper()
	if err := s.db.DropPrefix([]byte{'e'}); err != nil {
		t.Fatalf("drop events: %v", err)
	}
	wb := s.db.NewWriteBatchAt(s.visible.Load())
	defer wb.Cancel()
	for _, e := range envs {
		v, _ := e.MarshalBinary()
		if err := wb.Set(eventKey(e.Position), v); err != nil {
			t.Fatalf("rewrite event %d: %v", e.Position, err)
		}
	}
	if err := wb.Flush(); err != nil {
		t.Fatalf("rewrite events: %v", err)
	}
}
