package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/coder/websocket/wsjson"

	"github.com/stratahq/strata/adapters/badger"
	"github.com/stratahq/strata/app"
	"github.com/stratahq/strata/domain"
	"github.com/stratahq/strata/domain/execution"
	"github.com/stratahq/strata/events"
	"github.com/stratahq/strata/runner"
)

// gqlClient posts GraphQL requests to a running serve with one token.
type gqlClient struct {
	t          *testing.T
	url, token string
}

// do runs query with vars and decodes data into out; GraphQL errors fail the test.
func (c gqlClient) do(query string, vars map[string]any, out any) {
	c.t.Helper()
	body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	req, _ := http.NewRequestWithContext(c.t.Context(), http.MethodPost, c.url+"/graphql", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+c.token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	b, _ := io.ReadAll(resp.Body)
	var res struct {
		Data   json.RawMessage `json:"data"`
		Errors []any           `json:"errors"`
	}
	if err := json.Unmarshal(b, &res); err != nil || len(res.Errors) > 0 || resp.StatusCode != http.StatusOK {
		c.t.Fatalf("%s: %d %s", strings.Fields(query)[0], resp.StatusCode, b)
	}
	if err := json.Unmarshal(res.Data, out); err != nil {
		c.t.Fatal(err)
	}
}

// startServe runs serve on a loopback port with args added and returns its URL; the
// server stops when the test ends or stop is called.
func startServe(t *testing.T, dir string, args ...string) (url string, stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	outR, outW := io.Pipe()
	done := make(chan int, 1)
	var errOut syncBuffer
	go func() {
		done <- run(ctx, append([]string{"--data-dir", dir, "serve", "--addr", "127.0.0.1:0"}, args...), strings.NewReader(""), outW, &errOut)
		_ = outW.Close()
	}()
	line, err := bufio.NewReader(outR).ReadString('\n')
	if err != nil {
		cancel()
		t.Fatalf("serve printed nothing: %v (%s)", err, errOut.String())
	}
	go func() { _, _ = io.Copy(io.Discard, outR) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			select {
			case code := <-done:
				if code != 0 {
					t.Errorf("serve exited %d: %s", code, errOut.String())
				}
			case <-time.After(30 * time.Second):
				t.Error("serve did not stop")
			}
			if t.Failed() {
				t.Logf("serve stderr:\n%s", errOut.String())
			}
		})
	}
	t.Cleanup(stop)
	return regexp.MustCompile(`http://[0-9.:]+`).FindString(line), stop
}

// TestServe_RunsExecution: serve with the process runner runs an execution created
// through GraphQL (dispatched over the in-process bus) to completion; its log streams
// through the executionLog subscription and is kept under <data-dir>/logs.
func TestServe_RunsExecution(t *testing.T) {
	dir := t.TempDir()
	url, _ := startServe(t, dir, "--runner=process", "--slots=1", "--allow-file-repositories")
	c, id := createExecution(t, dir, url)

	deadline := time.Now().Add(60 * time.Second)
	for {
		var st struct{ Execution struct{ Status string } }
		c.do(`query($id: ID) { execution(id: $id) { status } }`, map[string]any{"id": id}, &st)
		if st.Execution.Status == "COMPLETE" {
			break
		}
		if s := st.Execution.Status; s == "ERROR" || s == "CRASHED" || s == "STOPPED" || time.Now().After(deadline) {
			t.Fatalf("execution %s is %s, want COMPLETE", id, s)
		}
		time.Sleep(50 * time.Millisecond)
	}

	lines := logLines(t, url, c.token, id, "hello-from-strata")
	if !strings.Contains(strings.Join(lines, "\n"), "hello-from-strata") {
		t.Errorf("executionLog = %q, want the command's output", lines)
	}
	if !strings.Contains(strings.Join(lines, "\n"), "hello-from-repository") {
		t.Errorf("executionLog = %q, want train.py of the checked-out commit", lines)
	}
	kept := keptLog(t, dir, id)
	var found bool
	for _, l := range kept {
		found = found || (l.Stream == runner.Stdout && l.Message == "hello-from-strata")
	}
	if !found {
		t.Errorf("log store under <data-dir>/logs lacks the stdout line: %+v", kept)
	}
}

// TestWorker_RunsWhatServeQueued: an execution created on a serve that runs none
// (--runner=none) is run by 'strata worker' on the same data directory afterwards.
func TestWorker_RunsWhatServeQueued(t *testing.T) {
	dir := t.TempDir()
	url, stop := startServe(t, dir, "--runner=none")
	_, id := createExecution(t, dir, url)
	stop()

	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan int, 1)
	var out, errOut syncBuffer
	go func() {
		done <- run(ctx, []string{"--data-dir", dir, "worker", "--runner=process", "--allow-file-repositories"}, strings.NewReader(""), &out, &errOut)
	}()
	deadline := time.Now().Add(60 * time.Second)
	for ended := false; !ended; {
		for _, l := range keptLog(t, dir, id) {
			ended = ended || (l.Stream == runner.Status && strings.Contains(l.Message, "exit code"))
		}
		if time.Now().After(deadline) {
			cancel()
			t.Fatalf("the worker did not run the execution: %s", errOut.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	cancel()
	if code := <-done; code != 0 || !strings.Contains(out.String(), "process runner") {
		t.Fatalf("worker = %d, %q: %s", code, out.String(), errOut.String())
	}
	st := executionState(t, dir, domain.ExecutionID(id))
	if st.Status() != domain.StatusComplete {
		t.Errorf("execution is %s, want complete\n%s", st.Status(), errOut.String())
	}
	if !st.Network() {
		t.Error("execution.Created.Network = false, want true (createExecution network: true)")
	}
	if code, _, errOut := strata(t, "", "--data-dir", dir, "worker", "--runner=none"); code != exitUsage {
		t.Errorf("worker --runner=none = %d, %q; want a usage error", code, errOut)
	}
}

// keptLog returns the lines of execution id kept under <data-dir>/logs.
func keptLog(t *testing.T, dir, id string) []runner.Line {
	t.Helper()
	store, err := runner.NewFileLogStore(filepath.Join(dir, "logs"))
	if err != nil {
		t.Fatal(err)
	}
	lines, err := store.Lines(t.Context(), domain.ExecutionID(id), 0)
	if err != nil {
		t.Fatal(err)
	}
	return lines
}

// executionState folds execution id from the embedded log in dir (no serve running).
func executionState(t *testing.T, dir string, id domain.ExecutionID) execution.State {
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
	st, _, err := events.Fold(t.Context(), s, codec, app.ExecutionStream(id), execution.State{}, execution.Evolve)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// createExecution creates a project, an environment and an execution of a step that
// prints hello-from-strata (asking for network access), with the admin token of the
// serve at url.
func createExecution(t *testing.T, dir, url string) (gqlClient, string) {
	t.Helper()
	tok, err := os.ReadFile(filepath.Join(dir, "admin-token"))
	if err != nil {
		t.Fatal(err)
	}
	c := gqlClient{t: t, url: url, token: strings.TrimSpace(string(tok))}
	repo, commit := newGitRepo(t)

	var p struct{ CreateProject struct{ ID string } }
	c.do(`mutation($in: CreateProjectInput!) { createProject(input: $in) { id } }`,
		map[string]any{"in": map[string]any{"slug": "vision", "name": "Vision"}}, &p)
	var e struct{ CreateEnvironment struct{ ID string } }
	c.do(`mutation($in: EnvironmentInput!) { createEnvironment(input: $in) { id } }`,
		map[string]any{"in": map[string]any{"slug": "cpu", "name": "CPU", "cpus": 1, "memoryBytes": 1 << 30, "pricePerHour": "0.1"}}, &e)
	var en json.RawMessage
	c.do(`mutation($p: ID!, $e: ID!) { enableEnvironment(project: $p, environment: $e) { position } }`,
		map[string]any{"p": p.CreateProject.ID, "e": e.CreateEnvironment.ID}, &en)
	var x struct{ CreateExecution struct{ ID string } }
	c.do(`mutation($in: CreateExecutionInput!) { createExecution(input: $in) { id number } }`, map[string]any{"in": map[string]any{
		"project": p.CreateProject.ID, "step": "hello", "image": "busybox", "environment": e.CreateEnvironment.ID, "network": true,
		"repository": repo, "commit": commit,
		"commands": []string{`cat train.py`, `echo hello-from-strata`, `echo '{"loss": 0.25}'`, `echo model > "$VH_OUTPUTS_DIR/model.txt"`},
	}}, &x)
	return c, x.CreateExecution.ID
}

// logLines subscribes to executionLog of id and returns the messages received until one
// contains want.
func logLines(t *testing.T, url, token, id, want string) []string {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	c, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(url, "http")+"/graphql", &websocket.DialOptions{Subprotocols: []string{"graphql-transport-ws"}})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = c.CloseNow() }()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	var msg struct {
		Type    string          `json:"type"`
		Payload json.RawMessage `json:"payload"`
	}
	must(wsjson.Write(ctx, c, map[string]any{"type": "connection_init", "payload": map[string]any{"Authorization": "Bearer " + token}}))
	must(wsjson.Read(ctx, c, &msg))
	if msg.Type != "connection_ack" {
		t.Fatalf("got %s %s, want connection_ack", msg.Type, msg.Payload)
	}
	must(wsjson.Write(ctx, c, map[string]any{"id": "1", "type": "subscribe", "payload": map[string]any{
		"query": `subscription($id: ID!) { executionLog(id: $id) { stream message } }`, "variables": map[string]any{"id": id},
	}}))
	var got []string
	for {
		must(wsjson.Read(ctx, c, &msg))
		if msg.Type != "next" {
			t.Fatalf("got %s %s, want next", msg.Type, msg.Payload)
		}
		var p struct {
			Data struct {
				ExecutionLog struct{ Stream, Message string }
			}
		}
		must(json.Unmarshal(msg.Payload, &p))
		got = append(got, p.Data.ExecutionLog.Message)
		if strings.Contains(p.Data.ExecutionLog.Message, want) {
			_ = c.Close(websocket.StatusNormalClosure, "done")
			return got
		}
	}
}

// syncBuffer is a bytes.Buffer safe for a writer and a reader on different goroutines.
type syncBuffer struct {
	mu sync.Mutex
	// guards b
	b bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// newGitRepo makes a git repository holding train.py and returns its file:// URL and
// commit.
func newGitRepo(t *testing.T) (url, commit string) {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "train.py"), []byte("print('hello-from-repository')\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{{"init", "--quiet"}, {"add", "train.py"}, {"commit", "--quiet", "-m", "train"}, {"rev-parse", "HEAD"}} {
		cmd := exec.Command("git", append([]string{"-c", "user.name=Test", "-c", "user.email=test@example.com", "-c", "commit.gpgsign=false"}, args...)...)
		cmd.Dir = dir
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
		commit = strings.TrimSpace(string(out))
	}
	return "file://" + dir, commit
}
