package docker_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/moby/moby/client"

	"github.com/stratahq/strata/adapters/docker"
	"github.com/stratahq/strata/adapters/fs"
	"github.com/stratahq/strata/adapters/memory"
	"github.com/stratahq/strata/domain"
	"github.com/stratahq/strata/runner"
	"github.com/stratahq/strata/runner/runnertest"
)

const testImage = "strata-test-busybox:latest"

var buildOnce sync.Once
var buildErr error

// testInstance is this test run's docker instance label, shared with the worker processes
// it starts (through the environment), so sweeps never touch another run's containers.
func testInstance() string {
	const key = "STRATA_TEST_DOCKER_INSTANCE"
	if v := os.Getenv(key); v != "" {
		return v
	}
	v := fmt.Sprintf("test-%d-%d", os.Getpid(), time.Now().UnixNano())
	_ = os.Setenv(key, v) // inherited by the child worker of TestRecover_KilledWorker
	return v
}

// mustLauncher connects to the local dockerd and builds the busybox test image once. A
// missing daemon fails the test in CI (CI=true) and skips it loudly elsewhere.
func mustLauncher(t testing.TB) *docker.Launcher {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	l, err := docker.Open(ctx, docker.Config{Instance: testInstance()})
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("dockerd is required in CI: %v (make deps starts it)", err)
		}
		t.Skipf("SKIPPING DOCKER TESTS: no dockerd answers (%v); run `make deps` to install and start one", err)
	}
	t.Cleanup(func() { _ = l.Close() })
	buildOnce.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		_, buildErr = l.BuildBusybox(ctx, testImage, "")
	})
	if buildErr != nil {
		t.Fatalf("build %s: %v", testImage, buildErr)
	}
	return l
}

func newEnv(t testing.TB) runnertest.Env {
	b, err := fs.New(fs.Config{Dir: t.TempDir()})
	if err != nil {
		t.Fatalf("fs.New() error = %v", err)
	}
	return runnertest.Env{Log: memory.NewStore(), Blobs: b}
}

func TestLauncher(t *testing.T) {
	l := mustLauncher(t)
	if v := l.APIVersion(); v == "" {
		t.Errorf("APIVersion() = %q", v)
	}
	runnertest.Run(t, runnertest.Features{Image: testImage, ImageDigest: true, InputsWriteProtected: true},
		func(*testing.T) runner.Launcher { return l }, newEnv)
}

func TestLauncher_NoGPURuntime(t *testing.T) {
	l := mustLauncher(t)
	_, err := l.Launch(t.Context(), runner.Spec{Execution: "gpu-test", Image: testImage, Script: "true", Dir: t.TempDir(), GPUs: 1,
		Stdout: io.Discard, Stderr: io.Discard})
	if !errors.Is(err, docker.ErrNoGPURuntime) || !errors.Is(err, domain.ErrInvalid) {
		t.Fatalf("Launch() with GPUs error = %v, want ErrNoGPURuntime", err)
	}
}

func TestLauncher_MissingImage(t *testing.T) {
	l := mustLauncher(t)
	if _, err := l.ResolveImage(t.Context(), "strata-no-such-image:1"); !errors.Is(err, domain.ErrInvalid) {
		t.Fatalf("ResolveImage() error = %v, want ErrInvalid", err)
	}
}

// BenchmarkNoop compares a no-op execution end to end (created → complete, output
// collected, container removed) with `docker run --rm` of the same image.
func BenchmarkNoop(b *testing.B) {
	l := mustLauncher(b)
	b.Run("runner", func(b *testing.B) {
		h := runnertest.NewHarness(b, runnertest.Features{Image: testImage}, l, newEnv(b), runner.Config{})
		for b.Loop() {
			id := h.Create(runnertest.NoopYAML, "noop", nil, nil, nil)
			res, err := h.Runner.Run(h.Ctx(), id)
			if err != nil || res.Status != domain.StatusComplete || len(res.Outputs) != 1 {
				b.Fatalf("Run() = %+v, %v", res, err)
			}
		}
	})
	b.Run("docker-run-rm", func(b *testing.B) {
		dir := b.TempDir()
		for b.Loop() {
			out, err := exec.Command("docker", "run", "--rm", "--network", "none", "-v", dir+":/valohai/outputs", testImage,
				"/bin/sh", "-e", "-c", `echo done > /valohai/outputs/done.txt`).CombinedOutput()
			if err != nil {
				b.Fatalf("docker run: %v: %s", err, out)
			}
		}
	})
}

// TestRunner_Recover: a worker died while one container ran and another had exited; a new
// runner on the same host reattaches to the first and follows it to completion, marks the
// second crashed, and leaves no container behind.
func TestRunner_Recover(t *testing.T) {
	l := mustLauncher(t)
	work := t.TempDir()
	h := runnertest.NewHarness(t, runnertest.Features{Image: testImage}, l, newEnv(t), runner.Config{WorkDir: work})
	const yml = `
- step:
    name: slow
    image: IMAGE
    command: sleep 1; echo '{"after":1}'; echo out > "$VH_OUTPUTS_DIR/out.txt"
`
	alive := h.Create(yml, "slow", nil, nil, nil)
	lost := h.Create(yml, "slow", nil, nil, nil)
	for _, id := range []domain.ExecutionID{alive, lost} {
		h.MustStart(id)
	}
	// The dead worker's run of alive: launched, never followed.
	dir := work + "/" + string(alive)
	for _, d := range []string{"repository", "inputs", "outputs", "config"} {
		if err := os.MkdirAll(dir+"/"+d, 0o777); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := l.Launch(t.Context(), runner.Spec{Execution: alive, Project: h.Project, Image: testImage, Dir: dir,
		Script: `sleep 1; echo '{"after":1}'; echo out > "$VH_OUTPUTS_DIR/out.txt"`, Stdout: io.Discard, Stderr: io.Discard}); err != nil {
		t.Fatalf("Launch() error = %v", err)
	}
	got, err := h.Runner.Recover(t.Context())
	if err != nil {
		t.Fatalf("Recover() error = %v", err)
	}
	byID := map[domain.ExecutionID]runner.Recovered{}
	for _, r := range got {
		byID[r.Execution] = r
	}
	if r := byID[alive]; !r.Reattached || r.Err != nil || r.Result.Status != domain.StatusComplete || len(r.Result.Outputs) != 1 {
		t.Errorf("Recover() of the running execution = %+v, want reattached and complete with 1 output", r)
	}
	if r := byID[lost]; r.Reattached || r.Result.Status != domain.StatusCrashed || !strings.Contains(r.Result.Reason, "restarted") {
		t.Errorf("Recover() of the lost execution = %+v, want crashed", r)
	}
	cli, err := client.New(client.FromEnv)
	if err != nil {
		t.Fatal(err)
	}
	defer cli.Close() //nolint:errcheck // test client
	left, err := cli.ContainerList(t.Context(), client.ContainerListOptions{All: true, Filters: make(client.Filters).Add("label", docker.LabelProject+"="+string(h.Project))})
	if err != nil || len(left.Items) != 0 {
		t.Errorf("containers left = %d, %v, want none", len(left.Items), err)
	}
}
