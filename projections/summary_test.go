package projections_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/stratahq/strata/adapters/memory"
	"github.com/stratahq/strata/domain"
	"github.com/stratahq/strata/domain/execution"
	"github.com/stratahq/strata/projections"
)

// A summary page (read from the rows alone) holds exactly the summary fields of the
// records a full page holds, for every way the table is read: the number index, a tag's
// index, the metadata sort indexes, a cursor, a past position.
func TestExecutions_SummaryMatchesRecords(t *testing.T) {
	log := memory.NewStore()
	w := newWorld(t, log)
	metas := []map[string]any{
		{"loss": 0.25, "note": "first", "flag": true},
		{"loss": json.RawMessage(`1e-3`), "cfg": map[string]any{"lr": 0.1, "layers": []int{1, 2}}},
		{"loss": json.RawMessage(`100000000000000000000`), "note": "x\u0000y", "none": nil},
		{"loss": "n/a", "epoch": 3},
		{},
	}
	var ids []domain.ExecutionID
	for i := range 9 {
		var ms []map[string]any
		if m := metas[i%len(metas)]; len(m) > 0 {
			ms = append(ms, m)
		}
		id, _ := w.execution(runSpec{step: []string{"train", "eval"}[i%2], tags: [][]string{{"a"}, {"a", "b"}, nil}[i%3],
			creator: domain.UserID([]string{"alice", "bob"}[i%2]), metrics: ms, minutes: 1 + i, exit: i % 4 / 3})
		ids = append(ids, id)
	}
	mid := w.last
	// One still running, and one never queued.
	running := domain.ExecutionID("00000000-0000-4000-8000-00000000beef")
	for i, id := range []domain.ExecutionID{running, "00000000-0000-4000-8000-00000000cafe"} {
		w.numbers++
		w.exec(id, execution.Create{Execution: id, Project: w.project, Number: w.numbers, Step: execution.Step{Name: "train"},
			Code: execution.Code{Repository: "https://github.com/acme/ml", Commit: "0123456789abcdef0123456789abcdef01234567"}, Image: "python:3.12",
			Commands: []string{"python train.py"}, Environment: w.env, Creator: "carol", Tags: []string{"a", "c"}, At: w.tick()})
		if i == 0 {
			w.exec(id, execution.Queue{At: w.tick()})
			w.exec(id, execution.Start{Host: "host-1", Hardware: execution.Hardware{CPUs: 4}, At: w.tick()})
			w.exec(id, execution.RecordMetadata{Points: []execution.MetadataPoint{{Time: w.tick(), Values: map[string]json.RawMessage{"loss": json.RawMessage(`0.5`), "note": json.RawMessage(`"running"`)}}}})
		}
	}
	eng := startEngine(t, log, w.codec, nil)
	waitFor(t, eng, w.last)
	// Later, in batches of their own: one key of several changes (the entries of the others
	// in the sort index must follow), and tags change.
	w.exec(running, execution.RecordMetadata{Points: []execution.MetadataPoint{{Time: w.tick(), Values: map[string]json.RawMessage{"loss": json.RawMessage(`0.0625`)}}}})
	waitFor(t, eng, w.last)
	w.exec(ids[3], execution.AddTags{Tags: []string{"b"}, At: w.tick()})
	w.exec(ids[1], execution.RemoveTags{Tags: []string{"a"}, At: w.tick()})
	waitFor(t, eng, w.last)
	rd := reads(eng, w)
	summary := func(x projections.Execution) projections.Execution {
		return projections.Execution{ID: x.ID, Project: x.Project, Number: x.Number, Step: x.Step, Creator: x.Creator, Task: x.Task,
			Environment: x.Environment, Tags: x.Tags, Status: x.Status, CreatedAt: x.CreatedAt, StartedAt: x.StartedAt,
			EndedAt: x.EndedAt, PricePerHour: x.PricePerHour, Metadata: x.Metadata}
	}
	for _, q := range []projections.ExecutionQuery{
		{Limit: 4},
		{Limit: 3, Descending: true, Tags: []string{"a"}},
		{Limit: 5, Sort: projections.SortMetadata, MetadataKey: "loss"},
		{Limit: 2, Sort: projections.SortMetadata, MetadataKey: "loss", Descending: true, Tags: []string{"a"}},
		{Limit: 3, Sort: projections.SortMetadata, MetadataKey: "note", Statuses: []domain.ExecutionStatus{domain.StatusComplete}},
		{Limit: 2, Sort: projections.SortMetadata, MetadataKey: "flag", Tags: []string{"a"}},
		{Limit: 2, Sort: projections.SortMetadata, MetadataKey: "note", Tags: []string{"b"}, Descending: true},
		{Limit: 4, Sort: projections.SortCost, Creator: "bob"},
		{Limit: 3, AsOf: projections.AsOf{Position: mid}},
	} {
		q.Project = w.project
		for page := 0; ; page++ {
			full, err := rd.Executions(context.Background(), q)
			if err != nil {
				t.Fatalf("Executions(%+v) error = %v", q, err)
			}
			sq := q
			sq.Summary = true
			got, err := rd.Executions(context.Background(), sq)
			if err != nil {
				t.Fatalf("Executions(%+v, summary) error = %v", q, err)
			}
			want := full
			want.Items = nil
			for _, x := range full.Items {
				want.Items = append(want.Items, summary(x))
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Fatalf("Executions(%+v) page %d: summary (-want +got):\n%s", q, page, diff)
			}
			if full.Next == "" {
				break
			}
			q.Cursor = full.Next
		}
	}
}

// A countable query sorted by number walks the number index (the tag's) from its cursor:
// page by page what scanning every row gives.
func TestExecutions_NumberOrderWalksTheIndex(t *testing.T) {
	log := memory.NewStore()
	w := newWorld(t, log)
	for i := range 13 {
		w.execution(runSpec{tags: [][]string{{"a"}, {"a", "b"}, nil}[i%3], exit: i % 4 / 3})
	}
	eng := startEngine(t, log, w.codec, nil)
	waitFor(t, eng, w.last)
	rd := reads(eng, w)
	for _, q := range []projections.ExecutionQuery{
		{Limit: 4},
		{Limit: 5, Descending: true},
		{Limit: 2, Tags: []string{"a"}},
		{Limit: 3, Tags: []string{"b"}, Descending: true, Summary: true},
		{Limit: 2, Statuses: []domain.ExecutionStatus{domain.StatusError}},
		{Limit: 100},
	} {
		q.Project, q.Sort = w.project, projections.SortNumber
		scan := q
		scan.CreatedAfter = time.Unix(1, 0) // not countable: every row is scanned
		for page := 0; ; page++ {
			got, err := rd.Executions(context.Background(), q)
			if err != nil {
				t.Fatal(err)
			}
			want, err := rd.Executions(context.Background(), scan)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Fatalf("Executions(%+v) page %d (-scan +walk):\n%s", q, page, diff)
			}
			if got.Next == "" {
				break
			}
			q.Cursor, scan.Cursor = got.Next, want.Next
		}
	}
}
