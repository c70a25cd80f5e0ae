package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestAlias_SetGetHistory sets an alias, moves it, and reads it now and as of before the move.
func TestAlias_SetGetHistory(t *testing.T) {
	t.Setenv("STRATA_TOKEN", "")
	dir, url, _, _ := clientServe(t)
	file := filepath.Join(t.TempDir(), "a.txt")
	var ids []string
	for _, s := range []string{"one", "two"} {
		_ = os.WriteFile(file, []byte(s), 0o600)
		_, out, errOut := strata(t, "", "--data-dir", dir, "--json", "data", "--server", url, "upload", file, "-p", "vision")
		var up struct{ Datum datum }
		if err := json.Unmarshal([]byte(out), &up); err != nil {
			t.Fatalf("upload: %q %q", out, errOut)
		}
		ids = append(ids, up.Datum.ID)
	}
	cli := func(args ...string) (int, string, string) {
		t.Helper()
		return strata(t, "", append([]string{"--data-dir", dir, "alias", "--server", url, "-p", "vision"}, args...)...)
	}
	code, out, _ := cli("--json", "set", "model-latest", ids[0])
	var set struct{ Position uint64 }
	if err := json.Unmarshal([]byte(out), &set); code != 0 || err != nil || set.Position == 0 {
		t.Fatalf("alias set --json = %d, %q", code, out)
	}
	if code, out, errOut := cli("set", "model-latest", ids[1]); code != 0 || !strings.Contains(out, "now points at datum "+ids[1]) {
		t.Fatalf("alias set (move) = %d, %q %q", code, out, errOut)
	}
	if code, out, _ := cli("get", "model-latest"); code != 0 || !strings.HasPrefix(out, ids[1]+"\n") {
		t.Errorf("alias get = %d, %q; want %s", code, out, ids[1])
	}
	if code, out, _ := cli("get", "model-latest", "--as-of", strconv.FormatUint(set.Position, 10)); code != 0 || !strings.HasPrefix(out, ids[0]+"\n") {
		t.Errorf("alias get --as-of %d = %d, %q; want %s", set.Position, code, out, ids[0])
	}
	code, out, _ = cli("history", "model-latest")
	if code != 0 || strings.Count(out, "\n") != 3 || strings.Index(out, ids[0]) > strings.Index(out, ids[1]) || !strings.HasPrefix(out, "AT ") {
		t.Errorf("alias history = %d, %q; want 2 rows, oldest first", code, out)
	}
	var hist []aliasFact
	code, out, _ = cli("--json", "history", "model-latest", "--as-of", strconv.FormatUint(set.Position, 10))
	if err := json.Unmarshal([]byte(out), &hist); code != 0 || err != nil || len(hist) != 1 {
		t.Errorf("alias history --as-of --json = %d, %q", code, out)
	}
	if code, _, errOut := cli("get", "nope"); code != exitFailure || !strings.Contains(errOut, "NOT_FOUND") {
		t.Errorf("alias get nope = %d, %q", code, errOut)
	}
	if code, _, errOut := cli("get", "model-latest", "--as-of", "yesterday"); code != exitUsage || !strings.Contains(errOut, "--as-of") {
		t.Errorf("--as-of yesterday = %d, %q", code, errOut)
	}
}

// TestExec_ListInfoLogs runs an execution with the process runner and reads it with
// every reference form; logs -f follows it to its end.
func TestExec_ListInfoLogs(t *testing.T) {
	t.Setenv("STRATA_TOKEN", "")
	dir := t.TempDir()
	url, _ := startServe(t, dir, "--runner=process", "--slots=1")
	_, id := createExecution(t, dir, url)
	cli := func(args ...string) (int, string, string) {
		t.Helper()
		return strata(t, "", append([]string{"--data-dir", dir, "exec", "--server", url, "-p", "vision"}, args...)...)
	}
	// -f follows the live execution until it ends.
	// (Whether it completes depends on the runner's code fetching; the log shows either way.)
	code, out, errOut := cli("logs", "latest", "-f")
	if code != 0 || !strings.Contains(out+errOut, "started") {
		t.Fatalf("logs -f = %d, %q %q", code, out, errOut)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		_, out, _ := cli("--json", "info", "#1")
		var x execInfo
		_ = json.Unmarshal([]byte(out), &x)
		if terminal(x.Status) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("execution: %q, want it ended", out)
		}
		time.Sleep(50 * time.Millisecond)
	}
	code, out, _ = cli("list")
	if code != 0 || !strings.HasPrefix(out, "#  STATUS") || !strings.Contains(out, "hello") {
		t.Errorf("exec list = %d, %q", code, out)
	}
	for _, ref := range []string{"#1", "1", "latest", id} {
		code, out, errOut := cli("info", ref)
		if code != 0 || !strings.Contains(out, "#1 ("+id+")") || !strings.Contains(out, "status:") {
			t.Errorf("exec info %s = %d, %q %q", ref, code, out, errOut)
		}
	}
	if code, out, errOut := cli("logs", "1"); code != 0 || !strings.Contains(out+errOut, "started") {
		t.Errorf("exec logs 1 = %d, %q %q", code, out, errOut)
	}
	if code, _, errOut := cli("stop", "1"); code != exitFailure || !strings.Contains(errOut, "already ended") {
		t.Errorf("exec stop (ended) = %d, %q", code, errOut)
	}
	if code, _, errOut := cli("info", "#7"); code != exitFailure || !strings.Contains(errOut, "NOT_FOUND") {
		t.Errorf("exec info #7 = %d, %q", code, errOut)
	}
	if code, _, errOut := cli("info", "foo"); code != exitUsage || !strings.Contains(errOut, "latest") {
		t.Errorf("exec info foo = %d, %q", code, errOut)
	}
}

// TestExec_Stop stops a queued execution (a serve that runs none).
func TestExec_Stop(t *testing.T) {
	t.Setenv("STRATA_TOKEN", "")
	dir := t.TempDir()
	url, _ := startServe(t, dir, "--runner=none")
	_, id := createExecution(t, dir, url)
	code, out, errOut := strata(t, "", "--data-dir", dir, "--json", "exec", "--server", url, "-p", "vision", "stop", "latest")
	if code != 0 || !strings.Contains(out, id) {
		t.Fatalf("exec stop = %d, %q %q", code, out, errOut)
	}
	code, out, _ = strata(t, "", "--data-dir", dir, "--json", "exec", "--server", url, "-p", "vision", "list")
	var rows []execInfo
	if err := json.Unmarshal([]byte(out), &rows); code != 0 || err != nil || len(rows) != 1 || (rows[0].Status != "STOPPED" && rows[0].Status != "STOPPING") {
		t.Errorf("exec list --json after stop = %d, %q", code, out)
	}
}
