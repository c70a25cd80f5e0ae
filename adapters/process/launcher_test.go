package process_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stratahq/strata/adapters/fs"
	"github.com/stratahq/strata/adapters/memory"
	"github.com/stratahq/strata/adapters/process"
	"github.com/stratahq/strata/domain"
	"github.com/stratahq/strata/domain/execution"
	"github.com/stratahq/strata/runner"
	"github.com/stratahq/strata/runner/runnertest"
)

func newEnv(t testing.TB) runnertest.Env {
	b, err := fs.New(fs.Config{Dir: t.TempDir()})
	if err != nil {
		t.Fatalf("fs.New() error = %v", err)
	}
	return runnertest.Env{Log: memory.NewStore(), Blobs: b}
}

func TestLauncher(t *testing.T) {
	runnertest.Run(t, runnertest.Features{}, func(*testing.T) runner.Launcher { return process.New(process.Config{}) }, newEnv)
}

// BenchmarkQueued200 runs 200 queued no-op executions through the scheduler and the
// process launcher and reports executions per second.
func BenchmarkQueued200(b *testing.B) {
	for b.Loop() {
		h := runnertest.NewHarness(b, runnertest.Features{}, process.New(process.Config{}), newEnv(b), runner.Config{})
		ids := make([]domain.ExecutionID, 200)
		for i := range ids {
			ids[i] = h.Create(runnertest.NoopYAML, "noop", nil, nil, nil)
		}
		s := runner.NewScheduler(h.Runner, 8)
		var wg sync.WaitGroup
		wg.Add(len(ids))
		var failed atomic.Int32
		s.Done = func(_ domain.ExecutionID, res runner.Result, err error) {
			if err != nil || res.Status != domain.StatusComplete || len(res.Outputs) != 1 {
				failed.Add(1)
			}
			wg.Done()
		}
		ctx, cancel := context.WithCancel(context.Background())
		start := time.Now()
		for _, id := range ids {
			if err := s.Submit(ctx, id, 0); err != nil {
				b.Fatal(err)
			}
		}
		done := make(chan struct{})
		go func() { s.Serve(ctx); close(done) }()
		wg.Wait()
		elapsed := time.Since(start)
		cancel()
		<-done
		if n := failed.Load(); n > 0 {
			b.Fatalf("%d executions did not complete with their output", n)
		}
		b.ReportMetric(float64(len(ids))/elapsed.Seconds(), "executions/s")
	}
}

// TestLogsSurviveRestart: logs kept in a FileLogStore are there for a new Runner on the
// same directory.
func TestLogsSurviveRestart(t *testing.T) {
	dir := t.TempDir()
	newLogs := func() *runner.Logs {
		s, err := runner.NewFileLogStore(dir)
		if err != nil {
			t.Fatalf("NewFileLogStore() error = %v", err)
		}
		return runner.NewLogs(s, nil)
	}
	env := newEnv(t)
	env.Logs = newLogs()
	h := runnertest.NewHarness(t, runnertest.Features{}, process.New(process.Config{}), env, runner.Config{})
	id := h.Create(`
- step:
    name: talk
    image: busybox
    command: echo hello; echo oops >&2
`, "talk", nil, nil, nil)
	if res, err := h.Runner.Run(h.Ctx(), id); err != nil || res.Status != domain.StatusComplete {
		t.Fatalf("Run() = %+v, %v", res, err)
	}
	want := h.Runner.Logs().Lines(id)
	r2, err := runner.New(runner.Config{WorkDir: t.TempDir(), Host: "test-host"}, runner.Deps{Log: h.Log, Codec: h.Codec, Outputs: h.App,
		Launcher: process.New(process.Config{}), Logs: newLogs()})
	if err != nil {
		t.Fatal(err)
	}
	got := r2.Logs().Lines(id)
	if len(got) != len(want) || len(got) < 3 {
		t.Fatalf("lines after a restart = %v, want %v", got, want)
	}
	for i := range got {
		if got[i].Message != want[i].Message || got[i].Stream != want[i].Stream || !got[i].Time.Equal(want[i].Time) {
			t.Errorf("line %d = %+v, want %+v", i, got[i], want[i])
		}
	}
}

// TestLauncher_Limits: the memory limit is the address-space limit of every process of the
// run, and the CPU limit an affinity set.
func TestLauncher_Limits(t *testing.T) {
	h := runnertest.NewHarness(t, runnertest.Features{}, process.New(process.Config{}), newEnv(t),
		runner.Config{Hardware: execution.Hardware{CPUs: 1, MemoryBytes: 64 << 20}})
	id := h.Create(`
- step:
    name: limits
    image: busybox
    command:
      - echo "as=$(ulimit -v)"
      - grep Cpus_allowed_list /proc/self/status
      - if dd if=/dev/zero of=/dev/null bs=200M count=1 2>/dev/null; then echo big-alloc-ok; else echo big-alloc-refused; fi
`, "limits", nil, nil, nil)
	if res, err := h.Runner.Run(h.Ctx(), id); err != nil || res.Status != domain.StatusComplete {
		t.Fatalf("Run() = %+v, %v\n%s", res, err, h.LogText(id))
	}
	log := h.LogText(id)
	for _, want := range []string{"as=65536", "big-alloc-refused"} {
		if !strings.Contains(log, want) {
			t.Errorf("log lacks %q:\n%s", want, log)
		}
	}
	if runtime.NumCPU() > 1 {
		if m := regexp.MustCompile(`Cpus_allowed_list:\s*(\S+)`).FindStringSubmatch(log); m == nil || strings.ContainsAny(m[1], ",-") {
			t.Errorf("CPUs allowed = %v, want one CPU:\n%s", m, log)
		}
	}
}

// A relative execution directory still gives the commands absolute VH_* paths: they run in
// the repository directory, where a relative path would point elsewhere.
func TestLauncher_RelativeDir(t *testing.T) {
	t.Chdir(t.TempDir())
	for _, d := range []string{"x/repository", "x/inputs", "x/outputs", "x/config"} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	var out bytes.Buffer
	h, err := process.New(process.Config{}).Launch(t.Context(), runner.Spec{
		Execution: "0193a1b2-c3d4-7e5f-8a9b-000000000001", Dir: "x",
		Script: `echo ok > "$VH_OUTPUTS_DIR/f"; echo "$VH_INPUTS_DIR"`, Stdout: &out, Stderr: &out,
	})
	if err != nil {
		t.Fatal(err)
	}
	if code, err := h.Wait(t.Context()); err != nil || code != 0 {
		t.Fatalf("Wait() = %d, %v; output %q", code, err, out.String())
	}
	_ = h.Remove(t.Context())
	if got := strings.TrimSpace(out.String()); !filepath.IsAbs(got) {
		t.Errorf("VH_INPUTS_DIR = %q, want an absolute path", got)
	}
	if _, err := os.Stat("x/outputs/f"); err != nil {
		t.Errorf("the output did not land in the execution's outputs: %v", err)
	}
}
