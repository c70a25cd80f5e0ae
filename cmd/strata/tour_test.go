package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stratahq/strata/adapters/docker"
)

// TestTour runs the README's five-minute tour, block by block and verbatim, with the built
// strata binary against a real `strata serve` (as `make run` starts it) and dockerd, then
// checks what each step is meant to show.
func TestTour(t *testing.T) {
	if testing.Short() {
		t.Skip("the tour builds the binary and runs five executions in Docker")
	}
	serving, stopped := tourBlocks(t, "../../README.md")
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	l, err := docker.Open(ctx, docker.Config{})
	cancel()
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("dockerd is required in CI: %v (make deps starts it)", err)
		}
		t.Skipf("SKIPPING: no dockerd answers (%v); run `make deps` to install and start one", err)
	}
	_ = l.Close()

	// The repository root as the tour sees it: bin/strata, examples/quickstart and the
	// data directory .strata of the running server.
	root := t.TempDir()
	bin := filepath.Join(root, "bin", "strata")
	if out, err := exec.CommandContext(t.Context(), "go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	if out, err := exec.CommandContext(t.Context(), "cp", "-r", "../../examples", root).CombinedOutput(); err != nil {
		t.Fatalf("copy examples: %v\n%s", err, out)
	}
	home := filepath.Join(root, "home")
	if err := os.MkdirAll(filepath.Join(home, "tmp"), 0o700); err != nil {
		t.Fatal(err)
	}
	url, pid := startServeBinary(t, bin, root)
	env := append(os.Environ(),
		"HOME="+home, "XDG_CONFIG_HOME="+filepath.Join(home, ".config"), "TMPDIR="+filepath.Join(home, "tmp"),
		"STRATA_SERVER="+url, "STRATA_TOKEN=", "STRATA_PROJECT=", "STRATA_DATA_DIR=",
		"GIT_AUTHOR_NAME=Tour", "GIT_AUTHOR_EMAIL=tour@example.com", "GIT_COMMITTER_NAME=Tour", "GIT_COMMITTER_EMAIL=tour@example.com",
		"GIT_CONFIG_GLOBAL=/dev/null", "GIT_CONFIG_NOSYSTEM=1")

	// One shell, as the reader's second terminal: the serving block, then the server is
	// stopped (the reader's Ctrl-C in the first terminal), then the stopped block.
	const stopLine = "kill -INT $TOUR_SERVE_PID && while kill -0 $TOUR_SERVE_PID 2>/dev/null; do sleep 0.1; done"
	all := runBlock(t, root, append(env, fmt.Sprintf("TOUR_SERVE_PID=%d", pid)), serving+": the server stops\n"+stopLine+"\n"+stopped)
	out, after, ok := strings.Cut(all, "+ : the server stops")
	if !ok {
		t.Fatalf("no stop line in the tour's output:\n%s", all)
	}
	for _, want := range []string{
		`logged in to ` + regexp.QuoteMeta(url) + ` as admin`,
		`sha256:[0-9a-f]{64} strata/busybox:latest`,
		`Created execution #1 \S+ of step prepare from commit [0-9a-f]{40}`,
		`Created dataset version 'dataset://iris/v1'`,
		`(?m)^\{"epoch": 3, "loss": 0\.7692\}$`,                // train's log, followed live
		`(?m)^\S+\s+3\s+0\.7692$`,                              // the metadata table
		`datum://model-latest now points at`,                   // the sidecar moved the alias
		`(?m)^\{"accuracy": 0\.800\}$`,                         // evaluate read the first model
		`(?m)^datum model\.txt \(datum://\S+, \d+ B\)$`,        // the lineage tree…
		`(?m)^└─ output-of ← execution #2 train \(complete\)$`, // …made by train,
		`(?m)^   └─ input-of ← datum iris\.csv`,                // …from prepare's dataset file,
		`(?m)^      └─ output-of ← execution #1 prepare \(complete\)$`,
		`(?m)^\{"accuracy": 0\.900\}$`, // the second evaluation read the second model
		`warning:\s+input model: datum://model-latest differs from its use by execution #3`,
		`(?m)^input model\s+model\.txt sha256:[0-9a-f]{64}\s+model\.txt sha256:[0-9a-f]{64}$`, // exec diff
		`(?m)^metadata accuracy\s+0\.8\s+0\.9$`,
		`(?m)^5\s+complete\s+evaluate\s.*\s1 input changed \(exec info 5\)$`, // exec list, with the table's warnings
		`(?m)^3\s+complete\s+evaluate\s+\S+ \S+\s+\S+[ \t]*$`,                // the first evaluation has none
		`execution\.Finished`,                                                // events tail
	} {
		if !regexp.MustCompile(want).MatchString(out) {
			t.Errorf("the tour's output lacks %s", want)
		}
	}
	// alias get --as-of shows the first model, alias get now the second one: two targets
	// in the history, and the as-of answer is the older one.
	targets := regexp.MustCompile(`(?m)^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\s+(\S+)\s+runner:`).FindAllStringSubmatch(out, -1)
	gets := regexp.MustCompile(`(?m)^(\S+)\n\(alias model-latest, set by`).FindAllStringSubmatch(out, -1)
	if len(targets) != 2 || len(gets) != 2 || gets[0][1] != targets[0][1] || gets[1][1] != targets[0][1] {
		t.Errorf("alias history targets %v, alias get then alias get --as-of %v: want two targets, the first one after the first training and as of before the second", targets, gets)
	}
	if t.Failed() {
		t.Logf("tour output:\n%s", out)
		return
	}

	if !regexp.MustCompile(`ok: \d+ events in \d+ streams`).MatchString(after) {
		t.Errorf("events verify after the tour: %s", after)
	}
}

// tourBlocks returns the README's two tour blocks: the one run while serving and the one
// run once the server stopped.
func tourBlocks(t *testing.T, readme string) (serving, stopped string) {
	t.Helper()
	b, err := os.ReadFile(readme)
	if err != nil {
		t.Fatal(err)
	}
	block := func(marker string) string {
		m := regexp.MustCompile(`(?s)<!-- tour: ` + marker + `[^>]*-->\n` + "```sh\n(.*?)```").FindSubmatch(b)
		if m == nil {
			t.Fatalf("%s: no ```sh block after <!-- tour: %s -->", readme, marker)
		}
		return string(m[1])
	}
	return block("while serving"), block("stopped")
}

// runBlock runs a README block with bash in dir, stopping at the first failing command,
// and returns its output (stdout and stderr).
func runBlock(t *testing.T, dir string, env []string, script string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "bash", "-e", "-o", "pipefail", "-x", "-c", script)
	cmd.Dir, cmd.Env = dir, env
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("the tour failed: %v\n%s", err, out)
	}
	return string(out)
}

// startServeBinary starts `bin serve` as `make run` does, with its data under root/.strata
// on a free loopback port, and returns its URL once it serves and its process ID. It is
// interrupted (as by Ctrl-C) when the test ends, if it still runs.
func startServeBinary(t *testing.T, bin, root string) (url string, pid int) {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := lis.Addr().String()
	_ = lis.Close()
	cmd := exec.Command(bin, "serve", "--data-dir", filepath.Join(root, ".strata"), "--addr", addr, "--allow-file-repositories")
	cmd.Dir = root
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var errOut syncBuffer
	cmd.Stderr = &errOut
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(os.Interrupt)
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("serve exited with %v after an interrupt; stderr:\n%s", err, errOut.String())
			}
		case <-time.After(30 * time.Second):
			_ = cmd.Process.Kill()
			t.Errorf("serve did not stop within 30s of an interrupt; killed: %v", <-done)
		}
	})
	r := bufio.NewReader(stdout)
	line, err := r.ReadString('\n')
	if err != nil || !strings.Contains(line, "http://"+addr) {
		t.Fatalf("serve printed %q, %v; stderr: %s", line, err, errOut.String())
	}
	go func() { _, _ = io.Copy(io.Discard, r) }()
	return "http://" + addr, cmd.Process.Pid
}
