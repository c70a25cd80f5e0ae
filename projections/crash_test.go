package projections_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/stratahq/strata/adapters/badger"
	"github.com/stratahq/strata/adapters/memory"
	"github.com/stratahq/strata/events"
	"github.com/stratahq/strata/projections"
)

const crashEnv = "STRATA_PROJECTIONS_CRASH_CHILD"

// TestCrashChild is the child process of TestEngine_CrashMidRebuild: it runs (or, in mode
// "rebuild", first resets and then runs) every projection until it is killed.
func TestCrashChild(t *testing.T) {
	mode := os.Getenv(crashEnv)
	if mode == "" {
		t.Skip("runs only as the child of TestEngine_CrashMidRebuild")
	}
	log := importLog(t, os.Getenv(crashEnv+"_LOG"))
	store, err := badger.OpenProjections(badger.SmallProjections(os.Getenv(crashEnv + "_STORE")))
	if err != nil {
		t.Fatal(err)
	}
	projs := projections.All()
	eng, err := projections.New(log, codec(t), store, projections.Config{BatchSize: 25}, projs...)
	if err != nil {
		t.Fatal(err)
	}
	if mode == "rebuild" {
		for _, p := range projs {
			if err := eng.Rebuild(context.Background(), p.Name()); err != nil {
				t.Fatal(err)
			}
		}
	}
	fmt.Println("running")
	go func() {
		for {
			cp, _ := eng.Checkpoint("lineage")
			fmt.Println(cp)
			time.Sleep(time.Millisecond)
		}
	}()
	if err := eng.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func TestEngine_CrashMidRebuild(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns child processes")
	}
	storeDir := t.TempDir()
	w := newWorld(t, memory.NewStore())
	scenario(w, 60)
	head := w.last
	logDir := filepath.Join(t.TempDir(), "log.jsonl")
	f, err := os.Create(logDir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := events.Export(context.Background(), w.log, f); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	t.Logf("log of %d events", head)

	midway := 0
	for i := range 8 {
		mode := "run"
		if i%2 == 1 {
			mode = "rebuild"
		}
		cmd := exec.Command(os.Args[0], "-test.run=^TestCrashChild$", "-test.v")
		cmd.Env = append(os.Environ(), crashEnv+"="+mode, crashEnv+"_LOG="+logDir, crashEnv+"_STORE="+storeDir)
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		cmd.Stderr = os.Stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		// Kill it once it has applied a random part of the log.
		target := events.Position(50 + rand.IntN(int(head)-100))
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			n, err := strconv.ParseUint(sc.Text(), 10, 64)
			if err != nil {
				t.Logf("child: %s", sc.Text())
			} else if events.Position(n) >= target {
				break
			}
		}
		if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		if err := cmd.Wait(); err != nil {
			if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() {
				t.Errorf("child ended on its own: %v", err)
			}
		} else {
			t.Errorf("child ended on its own")
		}
		st := checkpoints(t, logDir, storeDir)
		for _, cp := range st {
			if cp > 0 && cp < head {
				midway++
				break
			}
		}
		t.Logf("kill %d (%s): checkpoints %v of %d", i, mode, st, head)
	}
	if midway == 0 {
		t.Errorf("no kill landed in the middle of a rebuild; the test proves nothing")
	}

	got := finish(t, logDir, storeDir, head)
	want := finish(t, logDir, t.TempDir(), head)
	for name, d := range want {
		if got[name] != d {
			t.Errorf("projection %s after crashes has digest %x, a clean rebuild %x", name, got[name], d)
		}
	}
}

// importLog reads an exported log into a memory store: the child and the parent see the
// same positions.
func importLog(t *testing.T, path string) *memory.Store {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = f.Close() }() // read-only: a failed close loses nothing
	log := memory.NewStore()
	if _, err := events.Import(context.Background(), log, f, events.ImportOptions{}); err != nil {
		t.Fatal(err)
	}
	return log
}

// checkpoints opens the stores and reads every projection's checkpoint.
func checkpoints(t *testing.T, logDir, storeDir string) map[string]events.Position {
	t.Helper()
	log := importLog(t, logDir)
	store, err := badger.OpenProjections(badger.SmallProjections(storeDir))
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := store.Close(); err != nil {
			t.Error(err)
		}
	}()
	eng, err := projections.New(log, codec(t), store, projections.Config{}, projections.All()...)
	if err != nil {
		t.Fatal(err)
	}
	st, err := eng.Status(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]events.Position{}
	for _, s := range st {
		out[s.Name] = s.Checkpoint
	}
	return out
}

// finish runs the engine on the stores until it reaches head and returns the digests.
func finish(t *testing.T, logDir, storeDir string, head events.Position) map[string][32]byte {
	t.Helper()
	log := importLog(t, logDir)
	store, err := badger.OpenProjections(badger.SmallProjections(storeDir))
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := store.Close(); err != nil {
			t.Error(err)
		}
	}()
	eng, err := projections.New(log, codec(t), store, projections.Config{}, projections.All()...)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- eng.Run(ctx) }()
	waitFor(t, eng, head)
	d := digestAll(t, eng)
	cancel()
	if err := <-done; err != nil && !errors.Is(err, context.Canceled) {
		t.Errorf("Run() error = %v", err)
	}
	return d
}
