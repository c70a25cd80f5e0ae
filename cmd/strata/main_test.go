package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stratahq/strata/adapters/badger"
	"github.com/stratahq/strata/domain"
	"github.com/stratahq/strata/domain/project"
	"github.com/stratahq/strata/events"
)

// strata runs one command line in-process and returns its exit code and output.
func strata(t *testing.T, stdin string, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := run(t.Context(), args, strings.NewReader(stdin), &out, &errOut)
	return code, out.String(), errOut.String()
}

func TestLint(t *testing.T) {
	valid, _ := filepath.Glob("../../../shared/conformance/valohai-yaml/valid/*.yaml")
	invalid, _ := filepath.Glob("../../../shared/conformance/valohai-yaml/invalid/*.yaml")
	if len(valid) == 0 || len(invalid) == 0 {
		t.Fatal("conformance corpus not found beside the repository (../shared/conformance)")
	}
	if code, out, errOut := strata(t, "", append([]string{"lint"}, valid...)...); code != 0 {
		t.Errorf("lint(valid corpus) = %d, want 0\n%s%s", code, out, errOut)
	}
	for _, file := range invalid {
		code, out, _ := strata(t, "", "lint", file)
		if code != exitFailure || !regexp.MustCompile(`(?m)^`+regexp.QuoteMeta(file)+`:\d+: `).MatchString(out) {
			t.Errorf("lint(%s) = %d, %q; want exit 1 and file:line: problems", file, code, out)
		}
	}
	if code, out, _ := strata(t, "- step:\n    name: x\n    image: busybox\n    command: \"true\"\n    bogus: 1\n", "lint", "--json", "-"); code != exitFailure ||
		!strings.Contains(out, `"severity": "error"`) || !strings.Contains(out, `"line": 5`) {
		t.Errorf("lint --json - = %d, %s; want a JSON error on line 5", code, out)
	}
	if code, _, errOut := strata(t, "", "lint"); code != exitUsage || !strings.Contains(errOut, "at least one FILE") {
		t.Errorf("lint(no files) = %d, %q; want usage error", code, errOut)
	}
	if code, _, errOut := strata(t, "", "lint", "/does/not/exist.yaml"); code != exitFailure || !strings.Contains(errOut, "no such file") {
		t.Errorf("lint(missing file) = %d, %q", code, errOut)
	}
}

func TestUsage(t *testing.T) {
	for _, args := range [][]string{{"events", "verify", "extra"}, {"events", "tail", "-n", "x"}, {"events", "import"}, {"version", "--bogus"}} {
		if code, _, errOut := strata(t, "", args...); code != exitUsage || errOut == "" {
			t.Errorf("strata %v = %d, %q; want exit 2 with a message", args, code, errOut)
		}
	}
	if code, out, _ := strata(t, "", "version", "--json"); code != 0 || !strings.Contains(out, `"version"`) {
		t.Errorf("version --json = %d, %q", code, out)
	}
}

// fillLog appends real domain events to the embedded log in dir.
func fillLog(t *testing.T, dir string, n int) {
	t.Helper()
	s, err := badger.Open(badger.Small(filepath.Join(dir, "events")))
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := s.Close(); err != nil {
			t.Error(err)
		}
	}()
	codec, err := newCodec()
	if err != nil {
		t.Fatal(err)
	}
	d := events.Decider[project.State, project.Command, project.Event]{Decide: project.Decide, Evolve: project.Evolve}
	for i := range n {
		id := domain.ProjectID("0192f3a4-0000-7000-8000-" + strings.Repeat("0", 11) + string(rune('a'+i%26)))
		cmd := project.Create{Project: id, Slug: "proj-" + string(rune('a'+i%26)), Name: "Project <&>", Owner: "alice", At: time.Now().UTC()}
		if _, err := events.Execute(t.Context(), s, codec, events.StreamID("project-"+string(id)), d, project.Command(cmd), events.Meta{Actor: "user:alice"}); err != nil {
			t.Fatalf("Execute() error = %v", err)
		}
	}
}

func TestEvents_VerifyExportImport(t *testing.T) {
	src, dst := t.TempDir(), t.TempDir()
	if code, _, errOut := strata(t, "", "--data-dir", src, "events", "verify"); code != exitFailure || !strings.Contains(errOut, "no event log") {
		t.Fatalf("verify(no log) = %d, %q", code, errOut)
	}
	fillLog(t, src, 5)
	code, out, errOut := strata(t, "", "--data-dir", src, "events", "verify")
	if code != 0 || !strings.Contains(out, "ok: 5 events in 5 streams") {
		t.Fatalf("verify = %d, %q %q", code, out, errOut)
	}
	file := filepath.Join(t.TempDir(), "backup.jsonl")
	if code, _, errOut := strata(t, "", "--data-dir", src, "events", "export", "-o", file); code != 0 {
		t.Fatalf("export = %d, %q", code, errOut)
	}
	if code, _, errOut := strata(t, "", "--data-dir", src, "events", "export", "-o", file); code != exitFailure || !strings.Contains(errOut, "never overwrites") {
		t.Errorf("export onto an existing file = %d, %q", code, errOut)
	}
	data, _ := os.ReadFile(file)
	tampered := filepath.Join(t.TempDir(), "tampered.jsonl")
	_ = os.WriteFile(tampered, bytes.Replace(data, []byte("proj-c"), []byte("proj-x"), 1), 0o600)
	if code, _, errOut := strata(t, "", "--data-dir", dst, "events", "import", tampered); code != exitTampered || !strings.Contains(errOut, "line 4") {
		t.Errorf("import(tampered) = %d, %q; want exit 3 naming line 4", code, errOut)
	}
	code, out, errOut = strata(t, "", "--data-dir", dst, "--json", "events", "import", file)
	if code != 0 || !strings.Contains(out, `"events": 5`) {
		t.Fatalf("import = %d, %q %q", code, out, errOut)
	}
	var a, b map[string]any
	_, outA, _ := strata(t, "", "--data-dir", src, "--json", "events", "verify")
	_, outB, _ := strata(t, "", "--data-dir", dst, "--json", "events", "verify")
	_ = json.Unmarshal([]byte(outA), &a)
	_ = json.Unmarshal([]byte(outB), &b)
	if a["chain"] == nil || a["chain"] != b["chain"] {
		t.Errorf("chains differ after export/import: %v vs %v", a["chain"], b["chain"])
	}
}

func TestServe(t *testing.T) {
	dir := t.TempDir()
	fillLog(t, dir, 3)
	ctx, cancel := context.WithCancel(t.Context())
	outR, outW := io.Pipe()
	done := make(chan int, 1)
	var errOut bytes.Buffer
	go func() {
		done <- run(ctx, []string{"--data-dir", dir, "serve", "--listen", "127.0.0.1:0", "--runner=process"}, strings.NewReader(""), outW, &errOut)
		_ = outW.Close()
	}()
	line, err := bufio.NewReader(outR).ReadString('\n')
	if err != nil {
		t.Fatalf("serve printed nothing: %v (%s)", err, errOut.String())
	}
	go func() { _, _ = io.Copy(io.Discard, outR) }()
	url := regexp.MustCompile(`http://[0-9.:]+`).FindString(line)
	var status struct {
		Head        int `json:"head"`
		Projections []struct {
			Name       string `json:"name"`
			Checkpoint int    `json:"checkpoint"`
		} `json:"projections"`
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get(url + "/status")
		if err != nil {
			t.Fatalf("GET /status: %v", err)
		}
		_ = json.NewDecoder(resp.Body).Decode(&status)
		_ = resp.Body.Close()
		caughtUp := len(status.Projections) > 0
		for _, p := range status.Projections {
			caughtUp = caughtUp && p.Checkpoint == 3
		}
		if status.Head == 3 && caughtUp {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("projections did not catch up: %+v", status)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if code, _, errOut := strata(t, "", "--data-dir", dir, "events", "verify"); code != exitFailure || !strings.Contains(errOut, "in use") {
		t.Errorf("verify while serving = %d, %q; want a clear 'in use' error", code, errOut)
	}
	cancel()
	if code := <-done; code != 0 {
		t.Errorf("serve exited %d after cancel: %s", code, errOut.String())
	}
}

func TestProjections_StatusRebuild(t *testing.T) {
	dir := t.TempDir()
	fillLog(t, dir, 4)
	code, out, errOut := strata(t, "", "--data-dir", dir, "projections", "rebuild")
	if code != 0 || !strings.Contains(out, "executions") || !regexp.MustCompile(`(?m)^\s*audit\s+\d+\s+4\s+4\s+0\s*$`).MatchString(out) {
		t.Fatalf("projections rebuild = %d\n%s%s", code, out, errOut)
	}
	code, out, _ = strata(t, "", "--data-dir", dir, "--json", "projections", "status")
	var rows []struct {
		Name string `json:"name"`
		Lag  uint64 `json:"lag"`
	}
	if err := json.Unmarshal([]byte(out), &rows); code != 0 || err != nil || len(rows) < 6 {
		t.Fatalf("projections status --json = %d, %q, %v", code, out, err)
	}
	for _, r := range rows {
		if r.Lag != 0 {
			t.Errorf("projection %s lags %d after a rebuild", r.Name, r.Lag)
		}
	}
	if code, _, errOut := strata(t, "", "--data-dir", dir, "projections", "rebuild", "nope"); code != exitUsage || !strings.Contains(errOut, "choose from") {
		t.Errorf("rebuild nope = %d, %q", code, errOut)
	}
}
