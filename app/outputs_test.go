package app_test

import (
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/stratahq/strata/app"
	"github.com/stratahq/strata/domain"
	"github.com/stratahq/strata/domain/alias"
	"github.com/stratahq/strata/domain/dataset"
	"github.com/stratahq/strata/domain/datum"
	"github.com/stratahq/strata/domain/execution"
	"github.com/stratahq/strata/events"
)

var execDecider = events.Decider[execution.State, execution.Command, execution.Event]{Decide: execution.Decide, Evolve: execution.Evolve}

// startedExecution creates an execution and records it queued and started.
func startedExecution(t *testing.T, h *harness) domain.ExecutionID {
	t.Helper()
	x, err := h.svc.CreateExecution(h.ctx(alice), app.CreateExecution{
		Project: h.project, Step: execution.Step{Name: "train"}, Image: "python:3.12", Commands: []string{"python train.py"},
		Code: execution.Code{Repository: "https://github.com/acme/ml", Commit: strings.Repeat("ab", 20)}, Environment: h.env,
	})
	if err != nil {
		t.Fatalf("CreateExecution() error = %v", err)
	}
	for _, c := range []execution.Command{execution.Queue{At: h.tick()}, execution.Start{Host: "host-1", At: h.tick()}} {
		if _, err := events.Execute(t.Context(), h.log, h.codec, app.ExecutionStream(x.ID), execDecider, c, events.Meta{Actor: "runner:host-1"}); err != nil {
			t.Fatal(err)
		}
	}
	return x.ID
}

func props(t *testing.T, js string) map[string]json.RawMessage {
	t.Helper()
	var m map[string]json.RawMessage
	if err := json.Unmarshal([]byte(js), &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func mustLoad(t *testing.T, h *harness, stream events.StreamID) []events.Envelope {
	t.Helper()
	envs, err := h.log.Load(t.Context(), stream, 0)
	if err != nil {
		t.Fatal(err)
	}
	return envs
}

func TestService_UploadOutput(t *testing.T) {
	h := newHarness(t)
	id := startedExecution(t, h)
	ctx := h.ctx("runner:host-1")
	out := app.Output{Execution: id, Path: "sub/model.bin", Content: strings.NewReader("weights"),
		Properties: props(t, `{"valohai.alias":"best","valohai.tags":["validated"],"accuracy":0.95}`)}
	res, err := h.svc.UploadOutput(ctx, out)
	if err != nil {
		t.Fatalf("UploadOutput() error = %v", err)
	}
	if res.Again || res.Sidecar.Alias != "best" || !slices.Equal(res.Sidecar.Tags, []string{"validated"}) {
		t.Errorf("UploadOutput() = %+v", res)
	}
	d, err := h.svc.GetDatum(h.ctx(alice), res.Datum)
	if err != nil || d.Execution != id || d.Name != "sub/model.bin" {
		t.Fatalf("GetDatum() = %+v, %v, want produced by %s", d, err, id)
	}
	// Every follow-up carries the output event as causation.
	for _, stream := range []events.StreamID{app.DatumStream(res.Datum), app.AliasStream(h.project, "best")} {
		envs := mustLoad(t, h, stream)
		caused := 0
		for _, env := range envs {
			if env.CausationID == res.Cause.String() {
				caused++
			}
		}
		if caused == 0 {
			t.Errorf("%s: no event caused by the output event %s", stream, res.Cause)
		}
	}
	before := len(mustLoad(t, h, app.DatumStream(res.Datum)))

	// A user removes the tag; applying the output again must not undo that.
	mustRun(t, h, app.DatumStream(res.Datum), datum.Decide, datum.Evolve, datum.Command(datum.RemoveTags{Tags: []string{"validated"}, At: h.tick()}))
	if _, err := h.svc.ApplyOutput(ctx, id, res.Cause); err != nil {
		t.Fatalf("ApplyOutput() error = %v", err)
	}
	if got := len(mustLoad(t, h, app.DatumStream(res.Datum))); got != before+1 {
		t.Errorf("datum events after ApplyOutput again = %d, want %d (only the user's removal)", got, before+1)
	}

	// The same path again: nothing stored, the same datum.
	again, err := h.svc.UploadOutput(ctx, app.Output{Execution: id, Path: "sub/model.bin", Content: strings.NewReader("other"), Properties: out.Properties})
	if err != nil || !again.Again || again.Datum != res.Datum || again.Cause != res.Cause {
		t.Errorf("UploadOutput() again = %+v, %v, want the first datum", again, err)
	}
	al, _, err := events.Fold(t.Context(), h.log, h.codec, app.AliasStream(h.project, "best"), alias.State{}, alias.Evolve)
	if target, ok := al.Target(); err != nil || !ok || target != res.Datum {
		t.Errorf("alias best -> %v, %v", target, err)
	}

	// Not running any more: refused.
	mustRun(t, h, app.ExecutionStream(id), execution.Decide, execution.Evolve, execution.Command(execution.Finish{At: h.tick()}))
	if _, err := h.svc.UploadOutput(ctx, app.Output{Execution: id, Path: "late.txt", Content: strings.NewReader("x")}); !errors.Is(err, domain.ErrConflict) {
		t.Errorf("UploadOutput() after the end error = %v, want ErrConflict", err)
	}
}

func TestService_CreateOutputVersions(t *testing.T) {
	h := newHarness(t)
	ctx := h.ctx("runner:host-1")
	upload := func(id domain.ExecutionID, path, js string) domain.DatumID {
		t.Helper()
		res, err := h.svc.UploadOutput(ctx, app.Output{Execution: id, Path: path, Content: strings.NewReader(path), Properties: props(t, js)})
		if err != nil {
			t.Fatalf("UploadOutput(%s) error = %v", path, err)
		}
		return res.Datum
	}
	first := startedExecution(t, h)
	a := upload(first, "a.csv", `{"valohai.dataset-versions":["dataset://mnist/v1"]}`)
	bad := upload(first, "bad.csv", `{"valohai.dataset-versions":[{"uri":"dataset://mnist/v1"}]}`)
	if _, err := h.svc.CreateOutputVersions(ctx, first); err != nil {
		t.Fatalf("CreateOutputVersions() error = %v", err)
	}
	second := startedExecution(t, h)
	c := upload(second, "c.csv", `{"valohai.dataset-versions":[{"uri":"dataset://mnist/v2","from":"dataset://mnist/v1","exclude":["bad.csv"],"targeting_aliases":["production"],"metadata":{"note":"clean"}}]}`)
	vs, err := h.svc.CreateOutputVersions(ctx, second)
	if err != nil || len(vs) != 1 || !vs[0].Created || vs[0].URI != "dataset://mnist/v2" {
		t.Fatalf("CreateOutputVersions() = %+v, %v", vs, err)
	}
	st, _, err := events.Fold(t.Context(), h.log, h.codec, app.DatasetStream(h.project, "mnist"), dataset.State{}, dataset.Evolve)
	if err != nil {
		t.Fatal(err)
	}
	_, v1, _ := st.Resolve("v1")
	_, prod, _ := st.Resolve("production")
	if !slices.Equal(v1, []domain.DatumID{a, bad}) || !slices.Equal(prod, []domain.DatumID{a, c}) {
		t.Errorf("v1 = %v, production = %v, want [a bad], [a c]", v1, prod)
	}
	if got := string(st.VersionProperties("v2")["note"]); got != `"clean"` {
		t.Errorf("v2 note = %s", got)
	}
	n := len(mustLoad(t, h, app.DatasetStream(h.project, "mnist")))
	vs, err = h.svc.CreateOutputVersions(ctx, second)
	if err != nil || len(vs) != 1 || vs[0].Created {
		t.Errorf("CreateOutputVersions() again = %+v, %v, want the version, not created", vs, err)
	}
	if got := len(mustLoad(t, h, app.DatasetStream(h.project, "mnist"))); got != n {
		t.Errorf("dataset events after a retry = %d, want %d", got, n)
	}
	third := startedExecution(t, h)
	upload(third, "d.csv", `{"valohai.dataset-versions":["dataset://mnist/v2"]}`)
	if _, err := h.svc.CreateOutputVersions(ctx, third); !errors.Is(err, dataset.ErrNameTaken) {
		t.Errorf("CreateOutputVersions() of a taken version error = %v, want ErrNameTaken", err)
	}
}
