package docker_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/moby/moby/client"

	"github.com/stratahq/strata/adapters/badger"
	"github.com/stratahq/strata/adapters/docker"
	"github.com/stratahq/strata/adapters/fs"
	"github.com/stratahq/strata/app"
	"github.com/stratahq/strata/blob"
	"github.com/stratahq/strata/blob/storecfg"
	"github.com/stratahq/strata/domain"
	"github.com/stratahq/strata/events"
	"github.com/stratahq/strata/runner"
	"github.com/stratahq/strata/runner/runnertest"
)

// Environment of the worker child process of TestRecover_KilledWorker.
const (
	envWorkerDir  = "STRATA_TEST_WORKER_DIR"
	envWorkerRuns = "STRATA_TEST_WORKER_RUNS"
	workerHost    = "worker-1"
)

// worker is what a worker process opens on a data directory: the badger event log, the
// fs blob store, the app service and a runner on the docker launcher with its logs in a
// FileLogStore.
type worker struct {
	log    *badger.Store
	runner *runner.Runner
}

func openWorker(t *testing.T, l *docker.Launcher, dir string) *worker {
	t.Helper()
	st, err := badger.Open(badger.Config{Dir: filepath.Join(dir, "events")})
	if err != nil {
		t.Fatalf("badger.Open() error = %v", err)
	}
	blobs, err := fs.New(fs.Config{Dir: filepath.Join(dir, "blobs")})
	if err != nil {
		t.Fatalf("fs.New() error = %v", err)
	}
	codec, err := events.NewCodec(app.Events())
	if err != nil {
		t.Fatal(err)
	}
	svc, err := app.New(app.Config{Stores: storecfg.Config{Stores: []storecfg.Store{{Name: "local", Kind: storecfg.KindFS, Bucket: filepath.Join(dir, "blobs")}}, Default: "local"}},
		app.Deps{Log: st, Codec: codec, Blobs: map[string]blob.Store{"local": blobs}})
	if err != nil {
		t.Fatal(err)
	}
	logs, err := runner.NewFileLogStore(filepath.Join(dir, "logs"))
	if err != nil {
		t.Fatal(err)
	}
	r, err := runner.New(runner.Config{WorkDir: filepath.Join(dir, "work"), Host: workerHost, PollEvery: 50 * time.Millisecond,
		SampleEvery: 200 * time.Millisecond, MetadataEvery: 100 * time.Millisecond, Grace: time.Second},
		runner.Deps{Log: st, Codec: codec, Outputs: svc, Inputs: svc, Launcher: l, Logs: runner.NewLogs(logs, nil)})
	if err != nil {
		t.Fatal(err)
	}
	return &worker{log: st, runner: r}
}

func (w *worker) close(t *testing.T) {
	t.Helper()
	if err := w.log.Close(); err != nil {
		t.Errorf("close the event log: %v", err)
	}
}

// logHas reports whether the log of id under dir holds s (read afresh, as another process
// writes it).
func logHas(dir string, id domain.ExecutionID, s string) bool {
	st, err := runner.NewFileLogStore(filepath.Join(dir, "logs"))
	if err != nil {
		return false
	}
	lines, _ := st.Lines(context.Background(), id, 0)
	for _, l := range lines {
		if strings.Contains(l.Message, s) {
			return true
		}
	}
	return false
}

// TestRecover_KilledWorker re-executes the test binary as a worker process that starts two
// executions through the docker launcher on a badger event log, SIGKILLs it mid-execution,
// removes the container of one of them, then starts a new runner on the same data: the
// execution whose container still runs is reattached and completes with its output, the
// other is marked crashed, and no container is left behind.
func TestRecover_KilledWorker(t *testing.T) {
	if dir := os.Getenv(envWorkerDir); dir != "" {
		runWorkerChild(t, dir)
		return
	}
	l := mustLauncher(t)
	dir := t.TempDir()

	// Set up the project and two executions, then hand the data to the worker.
	w := openWorker(t, l, dir)
	blobs, err := fs.New(fs.Config{Dir: filepath.Join(dir, "blobs")})
	if err != nil {
		t.Fatal(err)
	}
	h := runnertest.NewHarness(t, runnertest.Features{Image: testImage}, l, runnertest.Env{Log: w.log, Blobs: blobs}, runner.Config{})
	const yml = `
- step:
    name: slow
    image: IMAGE
    command: echo working; sleep 4; echo out > "$VH_OUTPUTS_DIR/out.txt"; echo finished
`
	alive := h.Create(yml, "slow", nil, nil, nil)
	gone := h.Create(yml, "slow", nil, nil, nil)
	w.close(t)

	child := exec.CommandContext(t.Context(), os.Args[0], "-test.run=^TestRecover_KilledWorker$", "-test.count=1")
	child.Env = append(os.Environ(), envWorkerDir+"="+dir, envWorkerRuns+"="+string(alive)+","+string(gone))
	var out strings.Builder
	child.Stdout, child.Stderr = &out, &out
	if err := child.Start(); err != nil {
		t.Fatalf("start the worker: %v", err)
	}
	deadline := time.Now().Add(60 * time.Second)
	for !logHas(dir, alive, "working") || !logHas(dir, gone, "working") {
		if time.Now().After(deadline) {
			_ = child.Process.Kill()
			_ = child.Wait()
			t.Fatalf("the worker never started both runs:\n%s", out.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err := child.Process.Kill(); err != nil { // SIGKILL
		t.Fatalf("kill the worker: %v", err)
	}
	_ = child.Wait()

	cli, err := client.New(client.FromEnv)
	if err != nil {
		t.Fatal(err)
	}
	defer cli.Close() //nolint:errcheck // test client
	containers := func(id domain.ExecutionID) []string {
		t.Helper()
		f := make(client.Filters).Add("label", docker.LabelProject+"="+string(h.Project))
		if id != "" {
			f = make(client.Filters).Add("label", docker.LabelExecution+"="+string(id))
		}
		res, err := cli.ContainerList(context.Background(), client.ContainerListOptions{All: true, Filters: f})
		if err != nil {
			t.Fatalf("ContainerList() error = %v", err)
		}
		var ids []string
		for _, c := range res.Items {
			ids = append(ids, c.ID)
		}
		return ids
	}
	// The container of gone disappears while no worker runs.
	for _, c := range containers(gone) {
		if _, err := cli.ContainerRemove(t.Context(), c, client.ContainerRemoveOptions{Force: true}); err != nil {
			t.Fatalf("remove the container of %s: %v", gone, err)
		}
	}
	if got := containers(alive); len(got) != 1 {
		t.Fatalf("containers of the running execution after the kill = %v, want 1", got)
	}

	w = openWorker(t, l, dir)
	defer w.close(t)
	rec, err := w.runner.Recover(t.Context())
	if err != nil {
		t.Fatalf("Recover() error = %v", err)
	}
	byID := map[domain.ExecutionID]runner.Recovered{}
	for _, r := range rec {
		byID[r.Execution] = r
	}
	if r := byID[alive]; !r.Reattached || r.Err != nil || r.Result.Status != domain.StatusComplete || len(r.Result.Outputs) != 1 {
		t.Errorf("Recover() of the execution still running = %+v, want reattached and complete with out.txt", r)
	}
	if r := byID[gone]; r.Reattached || r.Result.Status != domain.StatusCrashed || !strings.Contains(r.Result.Reason, "restarted") {
		t.Errorf("Recover() of the execution whose container is gone = %+v, want crashed", r)
	}
	if !logHas(dir, alive, "working") || !logHas(dir, alive, "reattached") {
		t.Errorf("the log of %s lacks the dead worker's lines or the reattachment", alive)
	}
	if left := containers(""); len(left) != 0 {
		t.Errorf("containers left = %v, want none", left)
	}
	if t.Failed() {
		t.Logf("worker output:\n%s", out.String())
	}
}

// runWorkerChild is the worker process: it runs the executions named in its environment
// until it is killed.
func runWorkerChild(t *testing.T, dir string) {
	l := mustLauncher(t)
	w := openWorker(t, l, dir)
	for _, id := range strings.Split(os.Getenv(envWorkerRuns), ",") {
		go func() {
			res, err := w.runner.Run(context.Background(), domain.ExecutionID(id))
			fmt.Printf("worker: run %s = %+v, %v\n", id, res, err)
		}()
	}
	time.Sleep(60 * time.Second) // the test kills the worker long before
	t.Fatal("the worker was not killed")
}
