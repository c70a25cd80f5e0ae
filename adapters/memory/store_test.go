package memory_test

import (
	"testing"

	"github.com/stratahq/strata/adapters/memory"
	"github.com/stratahq/strata/events"
	"github.com/stratahq/strata/events/eventstest"
)

func TestStore(t *testing.T) {
	eventstest.Run(t, eventstest.Features{Gapless: true, Rewrite: rewrite}, func(t *testing.T) events.Store {
		return memory.NewStore()
	})
}

func rewrite(t *testing.T, s events.Store, envs []events.Envelope) {
	s.(*memory.Store).Rewrite(envs)
}
