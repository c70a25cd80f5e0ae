// Package quickstart_test runs examples/quickstart/valohai.yaml against the local dockerd:
// prepare makes dataset://iris/v1, train reads it and sets the alias model-latest through
// a sidecar, evaluate consumes datum://model-latest; the lineage leads back to prepare.
package quickstart_test

import (
	"context"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stratahq/strata/adapters/docker"
	"github.com/stratahq/strata/adapters/fs"
	"github.com/stratahq/strata/adapters/memory"
	"github.com/stratahq/strata/adapters/valohaiyaml"
	"github.com/stratahq/strata/app"
	"github.com/stratahq/strata/domain"
	"github.com/stratahq/strata/domain/alias"
	"github.com/stratahq/strata/domain/dataset"
	"github.com/stratahq/strata/domain/execution"
	"github.com/stratahq/strata/events"
	"github.com/stratahq/strata/graphql"
	"github.com/stratahq/strata/runner"
	"github.com/stratahq/strata/runner/runnertest"
)

func TestQuickstart(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	l, err := docker.Open(ctx, docker.Config{Instance: "quickstart-test"})
	cancel()
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("dockerd is required in CI: %v (make deps starts it)", err)
		}
		t.Skipf("SKIPPING: no dockerd answers (%v); run `make deps` to install and start one", err)
	}
	t.Cleanup(func() { _ = l.Close() })
	bctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	_, err = l.BuildBusybox(bctx, docker.BusyboxTag, "")
	cancel()
	if err != nil {
		t.Fatalf("BuildBusybox() error = %v", err)
	}
	yml, err := os.ReadFile("valohai.yaml")
	if err != nil {
		t.Fatal(err)
	}
	cfg, problems, err := valohaiyaml.Parse("valohai.yaml", yml)
	if err != nil || valohaiyaml.HasErrors(problems) {
		t.Fatalf("Parse(valohai.yaml) = %v, %v", problems, err)
	}
	blobs, err := fs.New(fs.Config{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	h := runnertest.NewHarness(t, runnertest.Features{Image: docker.BusyboxTag}, l, runnertest.Env{Log: memory.NewStore(), Blobs: blobs}, runner.Config{})
	run := func(step string, params map[string]any) domain.ExecutionID {
		t.Helper()
		s := cfg.Step(step)
		if s == nil {
			t.Fatalf("valohai.yaml has no step %s", step)
		}
		c, err := graphql.FromStep(s, params, nil)
		if err != nil {
			t.Fatalf("FromStep(%s) error = %v", step, err)
		}
		c.Project, c.Environment = h.Project, h.Env
		c.Code = execution.Code{Repository: "https://example.com/quickstart.git", Commit: strings.Repeat("ab", 20)}
		x, err := h.App.CreateExecution(h.Ctx(), c)
		if err != nil {
			t.Fatalf("CreateExecution(%s) error = %v", step, err)
		}
		res, err := h.Runner.Run(h.Ctx(), x.ID)
		if err != nil || res.Status != domain.StatusComplete {
			t.Fatalf("run %s = %+v, %v\nlog:\n%s", step, res, err, h.LogText(x.ID))
		}
		return x.ID
	}
	prepare := run("prepare", nil)
	train := run("train", map[string]any{"epochs": int64(3), "learning_rate": 0.5})
	evaluate := run("evaluate", nil)

	// prepare created dataset://iris/v1 holding its iris.csv.
	iris := h.Outputs(prepare)["iris.csv"].Datum
	ds, _, err := events.Fold(t.Context(), h.Log, h.Codec, app.DatasetStream(h.Project, "iris"), dataset.State{}, dataset.Evolve)
	if _, files, rerr := ds.Resolve("v1"); err != nil || rerr != nil || !slices.Equal(files, []domain.DatumID{iris}) || iris == "" {
		t.Errorf("dataset://iris/v1 = %v, %v, %v; want prepare's iris.csv %s", files, err, rerr, iris)
	}
	if _, content := h.Datum(iris); !strings.HasPrefix(content, "sepal_length,") || strings.Count(content, "\n") != 7 {
		t.Errorf("iris.csv = %q, want a header and 6 rows", content)
	}

	// train recorded one metadata point per epoch, read the dataset, set model-latest.
	var epochs []string
	var trainInputs []domain.DatumID
	for _, e := range h.Events(train) {
		if m, ok := e.(execution.MetadataRecorded); ok {
			for _, p := range m.Points {
				if ep, ok := p.Values["epoch"]; ok && p.Values["loss"] != nil {
					epochs = append(epochs, string(ep))
				}
			}
		}
		if ih, ok := e.(execution.InputHashed); ok {
			trainInputs = append(trainInputs, ih.Datum)
		}
	}
	if !slices.Equal(epochs, []string{"1", "2", "3"}) {
		t.Errorf("train's metadata epochs = %v, want 1, 2, 3 (each with a loss)", epochs)
	}
	if !slices.Equal(trainInputs, []domain.DatumID{iris}) {
		t.Errorf("train's inputs = %v, want iris.csv %s", trainInputs, iris)
	}
	model := h.Outputs(train)["model.txt"].Datum
	al, _, err := events.Fold(t.Context(), h.Log, h.Codec, app.AliasStream(h.Project, "model-latest"), alias.State{}, alias.Evolve)
	if target, ok := al.Target(); err != nil || !ok || target != model || model == "" {
		t.Errorf("alias model-latest -> %s, %v, %v; want train's model.txt %s", target, ok, err, model)
	}
	if _, content := h.Datum(model); content != "model trained on 6 rows, 3 epochs, learning rate 0.5\n" {
		t.Errorf("model.txt = %q", content)
	}

	// evaluate consumed the model and reported its accuracy.
	var consumed []domain.DatumID
	var accuracy string
	for _, e := range h.Events(evaluate) {
		if ih, ok := e.(execution.InputHashed); ok {
			consumed = append(consumed, ih.Datum)
		}
		if m, ok := e.(execution.MetadataRecorded); ok {
			for _, p := range m.Points {
				if a, ok := p.Values["accuracy"]; ok {
					accuracy = string(a)
				}
			}
		}
	}
	if !slices.Equal(consumed, []domain.DatumID{model}) || accuracy != "0.800" {
		t.Errorf("evaluate consumed %v with accuracy %q, want %s and 0.800\nlog:\n%s", consumed, accuracy, model, h.LogText(evaluate))
	}

	// Lineage: report.json <- evaluate <- model.txt <- train <- iris.csv <- prepare.
	report, _ := h.Datum(h.Outputs(evaluate)["report.json"].Datum)
	var chain []domain.ExecutionID
	for d := report; d.Producer() != ""; {
		chain = append(chain, d.Producer())
		var in domain.DatumID
		for _, e := range h.Events(d.Producer()) {
			if ih, ok := e.(execution.InputHashed); ok {
				in = ih.Datum
			}
		}
		if in == "" {
			break
		}
		d, _ = h.Datum(in)
	}
	if want := []domain.ExecutionID{evaluate, train, prepare}; !slices.Equal(chain, want) {
		t.Errorf("lineage of report.json = %v, want evaluate, train, prepare %v", chain, want)
	}
}
