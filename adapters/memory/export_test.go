package memory

import "github.com/stratahq/strata/events"

// Rewrite replaces the log with envs exactly as given, for the tamper tests.
func (s *Store) Rewrite(envs []events.Envelope) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.log = append([]events.Envelope(nil), envs...)
	s.streams = map[events.StreamID][]int{}
	for i, e := range s.log {
		s.streams[e.Stream] = append(s.streams[e.Stream], i)
	}
}
