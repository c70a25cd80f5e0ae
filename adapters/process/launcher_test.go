package process_test

import (
	"testing"

	"github.com/stratahq/strata/adapters/fs"
	"github.com/stratahq/strata/adapters/memory"
	"github.com/stratahq/strata/adapters/process"
	"github.com/stratahq/strata/runner"
	"github.com/stratahq/strata/runner/runnertest"
)

func newEnv(t *testing.T) runnertest.Env {
	b, err := fs.New(fs.Config{Dir: t.TempDir()})
	if err != nil {
		t.Fatalf("fs.New() error = %v", err)
	}
	return runnertest.Env{Log: memory.NewStore(), Blobs: b}
}

func TestLauncher(t *testing.T) {
	runnertest.Run(t, runnertest.Features{}, func(*testing.T) runner.Launcher { return process.New(process.Config{}) }, newEnv)
}
