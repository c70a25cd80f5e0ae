package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stratahq/strata/adapters/badger"
	"github.com/stratahq/strata/app"
	"github.com/stratahq/strata/domain"
	"github.com/stratahq/strata/runner"
)

// TestServe_TasksFollowTheirExecutions: a task of three executions (one fails) created
// through GraphQL on serve with the process runner ends complete, its summary counting
// two complete and one error. A task whose executions a worker runs while serve is down
// is caught up when serve starts again, and a serve that replays the log from the start
// (its checkpoint removed) records no status twice.
func TestServe_TasksFollowTheirExecutions(t *testing.T) {
	dir := t.TempDir()
	url, stop := startServe(t, dir, "--runner=process", "--slots=2", "--allow-file-repositories")
	c, project, env := adminProject(t, dir, url, "sweeps")
	repo, commit := newGitRepo(t)
	createTask := func(c gqlClient, modes ...string) (string, []string) {
		t.Helper()
		sets := make([]map[string]string, len(modes))
		for i, m := range modes {
			sets[i] = map[string]string{"mode": m}
		}
		var res struct {
			CreateTask struct {
				ID         string
				Executions []struct{ ID string }
			}
		}
		c.do(`mutation($in: CreateTaskInput!) { createTask(input: $in) { id executions { id } } }`, map[string]any{"in": map[string]any{
			"type": "MANUAL_SEARCH", "parameterSets": sets,
			"execution": map[string]any{
				"project": project, "step": "sweep", "image": "busybox", "environment": env, "repository": repo, "commit": commit,
				"parameters": []map[string]any{{"name": "mode", "values": []string{"ok"}}},
				"commands":   []string{`if grep -q '"fail"' "$VH_CONFIG_DIR/parameters.json"; then exit 3; fi`, `echo swept`},
			},
		}}, &res)
		var ids []string
		for _, x := range res.CreateTask.Executions {
			ids = append(ids, x.ID)
		}
		return res.CreateTask.ID, ids
	}
	first, _ := createTask(c, "ok", "fail", "ok")
	wantTask(t, c, first, map[string]int{"count": 3, "complete": 2, "error": 1})
	stop()

	// Serve runs nothing; a worker runs the second task's executions while serve is down.
	url, stop = startServe(t, dir, "--runner=none")
	c.url = url
	second, xs := createTask(c, "fail", "ok", "ok")
	stop()
	runWorker(t, dir, xs)
	if got := taskEventTypes(t, dir, second); strings.Contains(got, "ExecutionStatusRecorded") {
		t.Fatalf("task events before serve caught up = %s, want no status (serve was down)", got)
	}
	url, stop = startServe(t, dir, "--runner=none")
	c.url = url
	wantTask(t, c, second, map[string]int{"count": 3, "complete": 2, "error": 1})
	stop()
	before := taskEventTypes(t, dir, first) + taskEventTypes(t, dir, second)

	// From the start of the log: a third task ending proves the reactor read past the
	// first two, and they took no event.
	if err := os.Remove(filepath.Join(dir, "tasks.checkpoint")); err != nil {
		t.Fatal(err)
	}
	url, stop = startServe(t, dir, "--runner=process", "--allow-file-repositories")
	c.url = url
	third, _ := createTask(c, "ok")
	wantTask(t, c, third, map[string]int{"count": 1, "complete": 1})
	var again struct {
		First, Second struct{ Summary map[string]int }
	}
	c.do(`query($a: ID!, $b: ID!) { first: task(id: $a) { summary { count complete error } } second: task(id: $b) { summary { count complete error } } }`,
		map[string]any{"a": first, "b": second}, &again)
	for _, s := range []map[string]int{again.First.Summary, again.Second.Summary} {
		if s["count"] != 3 || s["complete"] != 2 || s["error"] != 1 {
			t.Errorf("summary after a replay = %v, want 3: 2 complete, 1 error", s)
		}
	}
	stop()
	if after := taskEventTypes(t, dir, first) + taskEventTypes(t, dir, second); after != before {
		t.Errorf("task events after a replay from the start:\n%s\nwant as before:\n%s", after, before)
	}
}

// wantTask waits until task id is complete, then checks its summary's counts.
func wantTask(t *testing.T, c gqlClient, id string, want map[string]int) {
	t.Helper()
	var res struct {
		Task struct {
			Status  string
			Summary map[string]int
		}
	}
	for deadline := time.Now().Add(90 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		c.do(`query($id: ID!) { task(id: $id) { status summary { count created queued started stopping stopped complete error crashed } } }`,
			map[string]any{"id": id}, &res)
		if res.Task.Status == "complete" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("task %s is %s (%v), want complete", id, res.Task.Status, res.Task.Summary)
		}
	}
	for k, n := range res.Task.Summary {
		if n != want[k] {
			t.Errorf("task %s summary = %v, want %v (the rest 0)", id, res.Task.Summary, want)
			break
		}
	}
}

// runWorker runs 'strata worker' on dir until each of xs has ended.
func runWorker(t *testing.T, dir string, xs []string) {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan int, 1)
	var out, errOut syncBuffer
	go func() {
		done <- run(ctx, []string{"--data-dir", dir, "worker", "--runner=process", "--allow-file-repositories"}, strings.NewReader(""), &out, &errOut)
	}()
	deadline := time.Now().Add(90 * time.Second)
	for _, x := range xs {
		for ended := false; !ended; time.Sleep(50 * time.Millisecond) {
			for _, l := range keptLog(t, dir, x) {
				ended = ended || (l.Stream == runner.Status && strings.Contains(l.Message, "exit code"))
			}
			if !ended && time.Now().After(deadline) {
				cancel()
				t.Fatalf("the worker did not run execution %s: %s", x, errOut.String())
			}
		}
	}
	cancel()
	if code := <-done; code != 0 {
		t.Fatalf("worker = %d: %s", code, errOut.String())
	}
}

// taskEventTypes lists the event types of task id in the embedded log in dir (no serve
// running), one per line.
func taskEventTypes(t *testing.T, dir, id string) string {
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
	envs, err := s.Load(t.Context(), app.TaskStream(domain.TaskID(id)), 0)
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for _, env := range envs {
		b.WriteString(env.Type + " caused by " + env.CausationID + "\n")
	}
	return b.String()
}
