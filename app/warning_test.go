package app_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/stratahq/strata/adapters/memory"
	"github.com/stratahq/strata/app"
	"github.com/stratahq/strata/blob"
	"github.com/stratahq/strata/domain/execution"
	"github.com/stratahq/strata/events"
	"github.com/stratahq/strata/projections"
)

// TestChangedInputWarning_endToEnd runs two executions that read the same input URL, an
// http file and a store object, changes the files between them, and reads the warning the
// inputs read model gives the second: it names the first execution's number and both
// digests. The file is downloaded, hashed and recorded by the application layer
// (PrepareInputs → execution.InputHashed), and the projection engine runs over the same log.
func TestChangedInputWarning_endToEnd(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	content := []byte("sepal,petal\n5.1,1.4\n")
	srv, _ := rangeServer(t, func() []byte { mu.Lock(); defer mu.Unlock(); return content }, true, false)
	bucket, dir := bucketAt(t, map[string]string{"iris/train.csv": "v1"})
	h := newHarness(t, withObjects("team", bucket), withDownload(app.DownloadConfig{AllowHTTP: true, Allow: []string{"127.0.0.1"}}))
	ctx := h.ctx(carol)
	httpURL, s3URL := srv.URL+"/iris.csv", "s3://team-data/iris/*.csv"

	engine, err := projections.New(h.log, h.codec, memory.NewProjections(), projections.Config{}, projections.Inputs{})
	if err != nil {
		t.Fatal(err)
	}
	runCtx, stop := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- engine.Run(runCtx) }()
	t.Cleanup(func() {
		stop()
		if err := <-done; err != nil && !errors.Is(err, context.Canceled) {
			t.Errorf("engine.Run() = %v", err)
		}
	})

	run := func() (app.CreatedExecution, []app.PreparedInput, events.Position) {
		t.Helper()
		x, err := h.svc.CreateExecution(ctx, app.CreateExecution{
			Project: h.project,
			Step:    execution.Step{Name: "train", Inputs: []execution.InputDef{{Name: "iris"}, {Name: "more", Optional: true}}},
			Code:    execution.Code{Repository: "https://github.com/acme/ml", Commit: strings.Repeat("ab", 20)}, Image: "python:3.12",
			Commands: []string{"python train.py"}, Inputs: map[string][]string{"iris": {httpURL}, "more": {s3URL}}, Environment: h.env,
		})
		if err != nil {
			t.Fatalf("CreateExecution() error = %v", err)
		}
		runner := h.ctx("runner:host-1")
		for _, c := range []execution.Command{execution.Queue{At: h.tick()}, execution.Start{Host: "host-1", At: h.tick()}} {
			if _, err := events.Execute(runner, h.log, h.codec, app.ExecutionStream(x.ID),
				events.Decider[execution.State, execution.Command, execution.Event]{Decide: execution.Decide, Evolve: execution.Evolve}, c, events.Meta{Actor: "runner:host-1"}); err != nil {
				t.Fatal(err)
			}
		}
		prepared, pos, err := h.svc.PrepareInputs(runner, x.ID, t.TempDir())
		if err != nil {
			t.Fatalf("PrepareInputs(#%d) error = %v", x.Number, err)
		}
		return x, prepared, pos
	}

	first, in1, _ := run()
	mu.Lock()
	content = []byte("sepal,petal\n5.1,1.4\n4.9,1.3\n") // the file behind the same URL changes
	mu.Unlock()
	if err := os.WriteFile(filepath.Join(dir, "iris", "train.csv"), []byte("v2"), 0o644); err != nil {
		t.Fatal(err)
	}
	second, in2, pos := run()
	if first.Number != 1 || second.Number != 2 {
		t.Fatalf("execution numbers = %d, %d; want 1, 2", first.Number, second.Number)
	}
	if err := engine.WaitFor(t.Context(), pos); err != nil {
		t.Fatal(err)
	}
	var warnings []projections.InputWarning
	var firstWarnings []projections.InputWarning
	err = engine.View(t.Context(), projections.Inputs{}.Name(), func(r projections.Reader) error {
		var err error
		if warnings, err = (projections.Inputs{}).Warnings(r, second.ID); err != nil {
			return err
		}
		firstWarnings, err = (projections.Inputs{}).Warnings(r, first.ID)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(firstWarnings) != 0 {
		t.Errorf("first execution's warnings = %v, want none", firstWarnings)
	}
	byURI := map[string]app.PreparedInput{}
	for _, p := range in1 {
		byURI["1 "+p.File.URI] = p
	}
	for _, p := range in2 {
		byURI["2 "+p.File.URI] = p
	}
	changes := func(uri string) []projections.DigestChange {
		a, b := byURI["1 "+uri].Digests, byURI["2 "+uri].Digests
		return []projections.DigestChange{
			{Algorithm: "md5", Before: a.MD5.String(), After: b.MD5.String()},
			{Algorithm: "sha1", Before: a.SHA1.String(), After: b.SHA1.String()},
			{Algorithm: "sha256", Before: a.SHA256.String(), After: b.SHA256.String()},
			{Algorithm: "blake3", Before: a.BLAKE3.String(), After: b.BLAKE3.String()},
		}
	}
	want := []projections.InputWarning{
		{Input: "iris", URI: httpURL, FileName: "iris.csv", Earlier: first.ID, EarlierNumber: 1, Changed: changes(httpURL)},
		{Input: "more", URI: s3URL, FileName: "train.csv", Earlier: first.ID, EarlierNumber: 1, Changed: changes(s3URL)},
	}
	if diff := cmp.Diff(want, warnings, cmpIgnorePosition()); diff != "" {
		t.Fatalf("warnings of execution #2 (-want +got):\n%s", diff)
	}
	// The digests are those of the bytes served: the warning names the old and new file.
	if got, w := warnings[0].Changed[2].After, blob.DigestBytes(content).SHA256.String(); got != w {
		t.Errorf("sha256 after = %s, want %s", got, w)
	}
	msg := warnings[0].Message()
	for _, part := range []string{"#1", httpURL, "sha256"} {
		if !strings.Contains(msg, part) {
			t.Errorf("Message() = %q, want it to name %q", msg, part)
		}
	}
	t.Logf("warning on #%d: %s; sha256 %s → %s", second.Number, msg, warnings[0].Changed[2].Before, warnings[0].Changed[2].After)
}

func cmpIgnorePosition() cmp.Option {
	return cmp.FilterPath(func(p cmp.Path) bool { return p.Last().String() == ".Position" }, cmp.Ignore())
}
