package memory_test

import (
	"testing"

	"github.com/stratahq/strata/adapters/memory"
	"github.com/stratahq/strata/projections"
	"github.com/stratahq/strata/projections/projectionstest"
)

func TestProjections(t *testing.T) {
	projectionstest.Run(t, func(*testing.T) projections.Store { return memory.NewProjections() })
}
