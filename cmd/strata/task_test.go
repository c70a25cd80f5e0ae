package main

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stratahq/strata/adapters/badger"
	"github.com/stratahq/strata/app"
	"github.com/stratahq/strata/domain"
	"github.com/stratahq/strata/domain/task"
	"github.com/stratahq/strata/events"
)

// TestTask_ListInfo lists and inspects a task planned with two executions of which one is
// attached. The test writes the task's events into the log of a stopped serve (createTask
// would attach both) and starts it again.
func TestTask_ListInfo(t *testing.T) {
	t.Setenv("STRATA_TOKEN", "")
	dir := t.TempDir()
	url, stop := startServe(t, dir, "--runner=none")
	c, xid := createExecution(t, dir, url)
	var x struct{ Execution struct{ Project string } }
	c.do(`query($id: ID) { execution(id: $id) { project } }`, map[string]any{"id": xid}, &x)
	stop()

	tid := domain.TaskID("0192f3a4-0000-7000-8000-0000000000c1")
	appendTask(t, dir, tid, task.Create{Task: tid, Project: domain.ProjectID(x.Execution.Project), Number: 1, Step: "hello", Type: task.ManualSearch,
		ParameterSets: []map[string]string{{"lr": "0.1"}, {"lr": "0.01"}}, Planned: 2, Creator: "admin", At: time.Now().UTC()},
		task.AttachExecution{Execution: domain.ExecutionID(xid), At: time.Now().UTC()})
	url, _ = startServe(t, dir, "--runner=none")
	cli := func(args ...string) (int, string, string) {
		t.Helper()
		return strata(t, "", append([]string{"--data-dir", dir, "task", "--server", url, "-p", "vision"}, args...)...)
	}

	code, out, errOut := cli("list")
	if code != 0 || !strings.HasPrefix(out, "TASK ") || !strings.Contains(out, "!1") || !strings.Contains(out, "manual_search") || !strings.Contains(out, "1/2") {
		t.Fatalf("task list = %d, %q %q", code, out, errOut)
	}
	for _, ref := range []string{"!1", "1", string(tid)} {
		code, out, errOut := cli("info", ref)
		if code != 0 || !strings.Contains(out, "!1 ("+string(tid)+")") || !strings.Contains(out, `"lr":"0.01"`) || !strings.Contains(out, "#  STATUS") {
			t.Errorf("task info %s = %d, %q %q", ref, code, out, errOut)
		}
	}
	var info struct {
		Task       taskInfo
		Executions []execInfo
	}
	code, out, _ = cli("--json", "info", "!1")
	if err := json.Unmarshal([]byte(out), &info); code != 0 || err != nil || len(info.Executions) != 1 || info.Executions[0].ID != xid || info.Task.Summary["count"] != 1 {
		t.Errorf("task info --json = %d, %q", code, out)
	}
	var tasks []taskInfo
	code, out, _ = cli("--json", "list")
	if err := json.Unmarshal([]byte(out), &tasks); code != 0 || err != nil || len(tasks) != 1 || tasks[0].Counter != "!1" {
		t.Errorf("task list --json = %d, %q", code, out)
	}
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"info", "!9"}, exitFailure, "no task !9"},
		{[]string{"info", "!0"}, exitUsage, "want !N, N or a task ID"},
		{[]string{"info", "train"}, exitUsage, "want !N, N or a task ID"},
		{[]string{"info", "0192f3a4-0000-7000-8000-000000000000"}, exitFailure, "NOT_FOUND"},
		{[]string{"list", "extra"}, exitUsage, "takes no arguments"},
	} {
		if code, _, errOut := cli(tc.args...); code != tc.code || !strings.Contains(errOut, tc.want) {
			t.Errorf("task %v = %d, %q; want %d and %q", tc.args, code, errOut, tc.code, tc.want)
		}
	}
}

// appendTask runs cmds on task id in the embedded log in dir (no serve running).
func appendTask(t *testing.T, dir string, id domain.TaskID, cmds ...task.Command) {
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
	d := events.Decider[task.State, task.Command, task.Event]{Decide: task.Decide, Evolve: task.Evolve}
	for _, cmd := range cmds {
		if _, err := events.Execute(t.Context(), s, codec, app.TaskStream(id), d, cmd, events.Meta{Actor: "user:admin"}); err != nil {
			t.Fatalf("Execute(%T) error = %v", cmd, err)
		}
	}
}
