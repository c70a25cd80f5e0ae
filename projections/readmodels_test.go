package projections_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stratahq/strata/adapters/memory"
	"github.com/stratahq/strata/domain"
	"github.com/stratahq/strata/domain/dataset"
	"github.com/stratahq/strata/domain/execution"
	"github.com/stratahq/strata/events"
	"github.com/stratahq/strata/projections"
)

func TestAliases_HistoryAndAsOf(t *testing.T) {
	log := memory.NewStore()
	w := newWorld(t, log)
	a, b := w.datum("a.pb", ""), w.datum("b.pb", "")
	p1 := w.setAlias("prod", a)
	w.actor = "bob"
	p2 := w.setAlias("prod", b)
	p3 := w.deleteAlias("prod")
	p4 := w.setAlias("prod", a)
	eng := startEngine(t, log, w.codec, nil)
	waitFor(t, eng, w.last)
	rd := reads(eng, w)
	ctx := context.Background()
	for _, tt := range []struct {
		at   events.Position
		want domain.DatumID
	}{{p1, a}, {p2 - 1, a}, {p2, b}, {p3, ""}, {p4, a}, {0, a}} {
		got, err := rd.Alias(ctx, w.project, "prod", projections.AsOf{Position: tt.at})
		if tt.want == "" {
			if err == nil {
				t.Errorf("Alias(asOf %d) = %+v, want not found", tt.at, got)
			}
			continue
		}
		if err != nil || got.Target != tt.want {
			t.Errorf("Alias(asOf %d) = %+v, %v, want %s", tt.at, got, err, tt.want)
		}
	}
	hist, err := rd.AliasHistory(ctx, w.project, "prod", projections.AsOf{})
	if err != nil {
		t.Fatal(err)
	}
	if len(hist) != 4 || hist[1].Previous != a || hist[1].Actor != "bob" || hist[1].From != p2 || hist[0].To != p2 || !hist[2].Deleted || hist[3].To != 0 {
		t.Errorf("AliasHistory() = %+v", hist)
	}
	// By time: just before the second move was recorded.
	envs, _ := log.ReadAll(ctx, p2-2, 1)
	got, err := rd.Alias(ctx, w.project, "prod", projections.AsOf{Time: envs[0].RecordedAt})
	if err != nil || got.Target != a {
		t.Errorf("Alias(asOf time of %d) = %+v, %v, want %s", p2-1, got, err, a)
	}
}

func TestDatasets_VersionsAndAliases(t *testing.T) {
	log := memory.NewStore()
	w := newWorld(t, log)
	ds := w.dataset("images")
	a, b, c := w.datum("a", ""), w.datum("b", ""), w.datum("c", "")
	p1 := w.version(ds, dataset.CreateVersion{Version: "v1", Add: []domain.DatumID{a, b}, Aliases: []string{"production"}})
	w.version(ds, dataset.CreateVersion{Version: "v2", From: "v1", Add: []domain.DatumID{c}, Exclude: []domain.DatumID{a}, Aliases: []string{"production"}})
	eng := startEngine(t, log, w.codec, nil)
	waitFor(t, eng, w.last)
	rd := reads(eng, w)
	ctx := context.Background()
	v, err := rd.DatasetVersion(ctx, w.project, "images", "production", projections.AsOf{Position: p1})
	if err != nil || v.Name != "v1" || len(v.Files) != 2 {
		t.Errorf("production as of v1 = %+v, %v", v, err)
	}
	v, err = rd.DatasetVersion(ctx, w.project, "images", "production", projections.AsOf{})
	if err != nil || v.Name != "v2" || len(v.Files) != 2 || v.Base != "v1" {
		t.Errorf("production now = %+v, %v", v, err)
	}
	v, err = rd.DatasetVersion(ctx, w.project, "images", "latest", projections.AsOf{Position: p1})
	if err != nil || v.Name != "v1" {
		t.Errorf("latest before v2 = %+v, %v", v, err)
	}
	if _, err := rd.DatasetVersion(ctx, w.project, "images", "v2", projections.AsOf{Position: p1}); err == nil {
		t.Errorf("v2 as of v1 found")
	}
	setProps := func(version, value string) events.Position {
		return run(w, "dataset-"+string(ds), dataset.Decide, dataset.Evolve, dataset.Command(dataset.SetProperties{Version: version,
			Properties: map[string]json.RawMessage{"quality": json.RawMessage(value)}, At: w.tick()}))
	}
	good := setProps("v1", `"good"`)
	setProps("v1", `"bad"`)
	setProps("", `1`)
	waitFor(t, eng, w.last)
	for _, tt := range []struct {
		at   projections.AsOf
		want string
	}{{projections.AsOf{Position: p1}, ""}, {projections.AsOf{Position: good}, `"good"`}, {projections.AsOf{}, `"bad"`}} {
		v, err := rd.DatasetVersion(ctx, w.project, "images", "v1", tt.at)
		if err != nil || string(v.Properties["quality"]) != tt.want {
			t.Errorf("v1 quality as of %+v = %s, %v, want %s", tt.at, v.Properties["quality"], err, tt.want)
		}
	}
	err = eng.View(ctx, "datasets", func(r projections.Reader) error {
		if d, err := (projections.Datasets{}).Get(r, w.project, "images", good); err != nil || d.Properties != nil {
			t.Errorf("dataset as of %d = %+v, %v, want no properties", good, d, err)
		}
		if d, err := (projections.Datasets{}).Get(r, w.project, "images", projections.Now); err != nil || string(d.Properties["quality"]) != "1" {
			t.Errorf("dataset now = %+v, %v", d, err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	err = eng.View(ctx, "datasets", func(r projections.Reader) error {
		hist, err := projections.Datasets{}.AliasHistory(r, ds, "production", projections.Now)
		if err != nil {
			return err
		}
		if len(hist) != 2 || hist[0].To == 0 || hist[1].Previous != "v1" {
			t.Errorf("AliasHistory() = %+v", hist)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestLineage_TraversalAndImpact(t *testing.T) {
	log := memory.NewStore()
	w := newWorld(t, log)
	scenario(w, 5)
	eng := startEngine(t, log, w.codec, nil)
	waitFor(t, eng, w.last)
	rd := reads(eng, w)
	ctx := context.Background()
	page, err := rd.Executions(ctx, projections.ExecutionQuery{Project: w.project})
	if err != nil || len(page.Items) != 5 {
		t.Fatalf("Executions() = %d items, %v", len(page.Items), err)
	}
	first, last := page.Items[0], page.Items[4]
	model := first.Outputs[0].Datum
	down, err := rd.Lineage(ctx, projections.DatumNode(model), projections.Downstream, -1, projections.AsOf{})
	if err != nil {
		t.Fatal(err)
	}
	has := func(g projections.Graph, id string) bool {
		for _, n := range g.Nodes {
			if n.ID == id {
				return true
			}
		}
		return false
	}
	if !has(down, projections.ExecutionNode(last.ID)) || !has(down, projections.AliasNode(w.project, "model-prod")) {
		t.Errorf("downstream of the first model lacks the last execution or the alias: %+v", down.Nodes)
	}
	up, err := rd.Lineage(ctx, projections.DatumNode(last.Outputs[0].Datum), projections.Upstream, 2, projections.AsOf{})
	if err != nil {
		t.Fatal(err)
	}
	if !has(up, projections.ExecutionNode(last.ID)) || has(up, projections.ExecutionNode(first.ID)) {
		t.Errorf("upstream at depth 2 = %+v", up.Nodes)
	}
	// Executions and datums carry their project, for the API's access check.
	for _, id := range []string{projections.ExecutionNode(last.ID), projections.DatumNode(model), projections.AliasNode(w.project, "model-prod")} {
		n, err := rd.LineageNode(ctx, id, projections.AsOf{})
		want := w.project
		if n.Kind == projections.KindAlias {
			want = "" // its project is in its ID
		}
		if err != nil || n.ID != id || n.Project != want {
			t.Errorf("LineageNode(%s) = %+v, %v; want project %q", id, n, err, want)
		}
	}
	if _, err := rd.LineageNode(ctx, projections.DatumNode("no-such-datum"), projections.AsOf{}); !errors.Is(err, projections.ErrNotFound) {
		t.Errorf("LineageNode(unknown datum) error = %v, want ErrNotFound", err)
	}
	// The alias edge to the first model ended when the alias moved.
	now, _ := rd.Lineage(ctx, projections.AliasNode(w.project, "model-prod"), projections.Upstream, 1, projections.AsOf{})
	if has(now, projections.DatumNode(model)) {
		t.Errorf("alias still points to the first model now")
	}
	then, _ := rd.Lineage(ctx, projections.AliasNode(w.project, "model-prod"), projections.Upstream, 1, projections.AsOf{Position: first.Updated + 3})
	_ = then
	err = eng.View(ctx, "lineage", func(r projections.Reader) error {
		im, err := projections.Lineage{}.Impact(r, projections.DatumNode(model), projections.Now)
		if err != nil {
			return err
		}
		if len(im.Executions) != 4 || len(im.DatasetVersions) == 0 || len(im.Aliases) == 0 {
			t.Errorf("Impact() = %d executions, %d dataset versions, %d aliases", len(im.Executions), len(im.DatasetVersions), len(im.Aliases))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	im, err := rd.ImpactOfURL(ctx, w.project, "s3://bucket/raw.csv", true)
	if err != nil || len(im.Executions) == 0 {
		t.Errorf("ImpactOfURL(changed) = %+v, %v", im, err)
	}
}

func TestInputs_Warnings(t *testing.T) {
	log := memory.NewStore()
	w := newWorld(t, log)
	in := map[string][]string{"raw": {"s3://bucket/raw.csv"}}
	x1, _ := w.execution(runSpec{inputs: in, hashes: map[string]string{"s3://bucket/raw.csv": "one"}})
	x2, _ := w.execution(runSpec{inputs: in, hashes: map[string]string{"s3://bucket/raw.csv": "one"}})
	x3, _ := w.execution(runSpec{inputs: in, hashes: map[string]string{"s3://bucket/raw.csv": "two"}})
	eng := startEngine(t, log, w.codec, nil)
	waitFor(t, eng, w.last)
	rd := reads(eng, w)
	ctx := context.Background()
	for _, x := range []domain.ExecutionID{x1, x2} {
		if d, err := rd.Execution(ctx, x, projections.AsOf{}); err != nil || len(d.Warnings) != 0 {
			t.Errorf("Execution(%s).Warnings = %+v, %v, want none", x, d.Warnings, err)
		}
	}
	d, err := rd.Execution(ctx, x3, projections.AsOf{})
	if err != nil || len(d.Warnings) != 1 {
		t.Fatalf("Execution(x3).Warnings = %+v, %v, want one", d.Warnings, err)
	}
	if wn := d.Warnings[0]; wn.EarlierNumber != 2 || wn.Earlier != x2 || len(wn.Changed) != 4 || !strings.Contains(wn.Message(), "#2") {
		t.Errorf("warning = %+v (%s)", wn, wn.Message())
	}
	// The table carries the same warnings when asked for them, now and as of a position.
	for _, at := range []projections.AsOf{{}, {Position: w.last}} {
		page, err := rd.Executions(ctx, projections.ExecutionQuery{Project: w.project, Warnings: true, AsOf: at})
		if err != nil {
			t.Fatal(err)
		}
		got := map[domain.ExecutionID]int{}
		for _, x := range page.Items {
			got[x.ID] = len(x.Warnings)
		}
		if got[x1] != 0 || got[x2] != 0 || got[x3] != 1 {
			t.Errorf("Executions(Warnings, as of %+v): warnings per execution %v, want only x3's one", at, got)
		}
	}
	if page, err := rd.Executions(ctx, projections.ExecutionQuery{Project: w.project}); err != nil || len(page.Items) != 3 || page.Items[0].Warnings != nil {
		t.Errorf("Executions(no warnings asked) = %d items, %v; want 3 without warnings", len(page.Items), err)
	}
	_ = eng.View(ctx, "inputs", func(r projections.Reader) error {
		h, err := projections.Inputs{}.History(r, w.project, "s3://bucket/raw.csv")
		if err != nil || len(h) != 3 || h[2].Number != 3 {
			t.Errorf("History() = %+v, %v", h, err)
		}
		return nil
	})
}

func TestExecutions_TableAndDetail(t *testing.T) {
	log := memory.NewStore()
	w := newWorld(t, log)
	var ids []domain.ExecutionID
	for i := range 12 {
		creator := domain.UserID("alice")
		if i%4 == 0 {
			creator = "bob"
		}
		exit := 0
		if i%5 == 4 {
			exit = 1
		}
		x, _ := w.execution(runSpec{step: []string{"train", "eval"}[i%2], tags: []string{[]string{"a", "b", "c"}[i%3]}, creator: creator,
			metrics: []map[string]any{{"loss": float64(12 - i), "name": string(rune('z' - i))}}, minutes: 1 + (i*7)%5, exit: exit})
		ids = append(ids, x)
	}
	eng := startEngine(t, log, w.codec, nil)
	waitFor(t, eng, w.last)
	rd := reads(eng, w)
	ctx := context.Background()
	numbers := func(p projections.ExecutionPage) []int {
		var out []int
		for _, x := range p.Items {
			out = append(out, x.Number)
		}
		return out
	}
	tests := []struct {
		name string
		q    projections.ExecutionQuery
		want []int
	}{
		{"by number", projections.ExecutionQuery{Limit: 3}, []int{1, 2, 3}},
		{"descending", projections.ExecutionQuery{Limit: 3, Descending: true}, []int{12, 11, 10}},
		{"tag a", projections.ExecutionQuery{Tags: []string{"a"}}, []int{1, 4, 7, 10}},
		{"step eval, creator alice", projections.ExecutionQuery{Step: "eval", Creator: "alice"}, []int{2, 4, 6, 8, 10, 12}[0:0]},
		{"status error", projections.ExecutionQuery{Statuses: []domain.ExecutionStatus{domain.StatusError}}, []int{5, 10}},
		{"metadata loss ascending", projections.ExecutionQuery{Sort: projections.SortMetadata, MetadataKey: "loss", Limit: 3}, []int{12, 11, 10}},
		{"metadata name lexically", projections.ExecutionQuery{Sort: projections.SortMetadata, MetadataKey: "name", Limit: 2}, []int{12, 11}},
		{"duration", projections.ExecutionQuery{Sort: projections.SortDuration, Limit: 3}, []int{1, 6, 11}},
	}
	for _, tt := range tests {
		tt.q.Project = w.project
		p, err := rd.Executions(ctx, tt.q)
		if err != nil {
			t.Errorf("%s: error = %v", tt.name, err)
			continue
		}
		got := numbers(p)
		if tt.name == "step eval, creator alice" {
			for _, x := range p.Items {
				if x.Step != "eval" || x.Creator != "alice" {
					t.Errorf("%s: got %+v", tt.name, x)
				}
			}
			if len(got) != 6 {
				t.Errorf("%s: %v", tt.name, got)
			}
			continue
		}
		if len(got) != len(tt.want) || !equalInts(got, tt.want) {
			t.Errorf("%s: numbers = %v, want %v", tt.name, got, tt.want)
		}
	}
	// Cursor pagination visits everything once, in order.
	var all []int
	q := projections.ExecutionQuery{Project: w.project, Sort: projections.SortCost, Limit: 5}
	for {
		p, err := rd.Executions(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		if p.Counts[domain.StatusComplete] != 10 || p.Counts[domain.StatusError] != 2 || p.Total != 12 {
			t.Errorf("counts = %v, total %d", p.Counts, p.Total)
		}
		all = append(all, numbers(p)...)
		if p.Next == "" {
			break
		}
		q.Cursor = p.Next
	}
	if len(all) != 12 {
		t.Errorf("pages gave %v", all)
	}
	d, err := rd.Execution(ctx, ids[3], projections.AsOf{})
	if err != nil {
		t.Fatal(err)
	}
	if d.Number != 4 || d.Status != domain.StatusComplete || d.ImageDigest == "" || d.Resources.Samples != 1 || d.Cost(w.at) == 0 || string(d.Metadata["loss"]) != "9" {
		t.Errorf("detail = %+v", d)
	}
	err = eng.View(ctx, "executions", func(r projections.Reader) error {
		pts, err := projections.Executions{}.Metadata(r, ids[0])
		if err != nil {
			return err
		}
		var csv, js bytes.Buffer
		if err := projections.WriteMetadataCSV(&csv, pts); err != nil {
			return err
		}
		if err := projections.WriteMetadataJSON(&js, pts); err != nil {
			return err
		}
		if got := csv.String(); !strings.HasPrefix(got, "_time,loss,name\n") || !strings.Contains(got, ",12,z\n") {
			t.Errorf("CSV = %q", got)
		}
		if !strings.Contains(js.String(), `"_time"`) || !strings.Contains(js.String(), `"loss":12`) {
			t.Errorf("JSON = %s", js.String())
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestAudit_Filters(t *testing.T) {
	log := memory.NewStore()
	w := newWorld(t, log)
	scenario(w, 2)
	w.actor = "bob"
	d := w.datum("x", "")
	w.setAlias("x", d)
	eng := startEngine(t, log, w.codec, nil)
	waitFor(t, eng, w.last)
	ctx := context.Background()
	_ = eng.View(ctx, "audit", func(r projections.Reader) error {
		all, err := projections.Audit{}.List(r, projections.AuditFilter{})
		if err != nil || events.Position(len(all)) != w.last {
			t.Errorf("List() = %d entries, %v, want %d", len(all), err, w.last)
		}
		bob, _ := projections.Audit{}.List(r, projections.AuditFilter{Actor: "bob"})
		if len(bob) != 2 {
			t.Errorf("List(actor bob) = %d entries, want 2", len(bob))
		}
		proj, _ := projections.Audit{}.List(r, projections.AuditFilter{Project: w.project, Type: "execution.Queued"})
		if len(proj) != 2 {
			t.Errorf("List(project, execution.Queued) = %d entries, want 2", len(proj))
		}
		rng, _ := projections.Audit{}.List(r, projections.AuditFilter{After: 10, Through: 20})
		if len(rng) != 10 || rng[0].Position != 11 {
			t.Errorf("List(10, 20] = %d entries", len(rng))
		}
		byTime, _ := projections.Audit{}.List(r, projections.AuditFilter{Since: all[4].RecordedAt, Until: all[4].RecordedAt})
		if len(byTime) == 0 || byTime[len(byTime)-1].Position != 5 {
			t.Errorf("List(time of 5) = %+v", byTime)
		}
		return nil
	})
}

// TestAudit_IndexesMatchAScan: two projects and actors over many blocks of positions,
// applied in small batches: every filter the indexes answer (project, type, actor, and
// their combinations, with position ranges and limits), and every stream filter
// Reads.Events answers from the log's streams, returns what filtering every entry returns.
func TestAudit_IndexesMatchAScan(t *testing.T) {
	log := memory.NewStore()
	a, b := newWorld(t, log), newWorld(t, log)
	b.actor = "bob"
	for range 12 {
		scenario(a, 3)
		scenario(b, 2)
	}
	last := max(a.last, b.last)
	store := memory.NewProjections()
	eng, err := projections.New(log, a.codec, store, projections.Config{BatchSize: 7}, projections.All()...)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- eng.Run(ctx) }()
	defer func() {
		cancel()
		if err := <-done; !errors.Is(err, context.Canceled) {
			t.Errorf("Run() = %v", err)
		}
	}()
	waitFor(t, eng, last)
	if last < 3*256 {
		t.Fatalf("the history has %d events: want several blocks of 256", last)
	}
	var all []projections.AuditEntry
	_ = eng.View(ctx, "audit", func(r projections.Reader) error {
		for after := events.Position(0); ; {
			page, err := projections.Audit{}.List(r, projections.AuditFilter{After: after})
			if err != nil {
				t.Fatal(err)
			}
			if len(page) == 0 {
				break
			}
			all, after = append(all, page...), page[len(page)-1].Position
		}
		return nil
	})
	if events.Position(len(all)) != last {
		t.Fatalf("List() pages = %d entries, want %d", len(all), last)
	}
	types, streams := map[string]bool{}, map[events.StreamID]int{}
	for _, e := range all {
		types[e.Type] = true
		streams[e.Stream]++
	}
	var filters []projections.AuditFilter
	for ty := range types {
		filters = append(filters, projections.AuditFilter{Type: ty}, projections.AuditFilter{Type: ty, Project: b.project},
			projections.AuditFilter{Type: ty, Actor: "alice", After: 200, Through: 700})
	}
	for _, p := range []domain.ProjectID{a.project, b.project, "none"} {
		filters = append(filters, projections.AuditFilter{Project: p}, projections.AuditFilter{Project: p, After: 255, Through: 513},
			projections.AuditFilter{Project: p, Actor: "bob"}, projections.AuditFilter{Project: p, Limit: 17, After: 100})
	}
	filters = append(filters, projections.AuditFilter{Actor: "bob"}, projections.AuditFilter{Actor: "alice", After: 511, Limit: 3},
		projections.AuditFilter{Actor: "nobody"}, projections.AuditFilter{Stream: "no-such-stream"})
	for s, n := range streams {
		if n < 3 {
			continue
		}
		filters = append(filters, projections.AuditFilter{Stream: s}, projections.AuditFilter{Stream: s, Limit: 2},
			projections.AuditFilter{Stream: s, Type: "execution.Queued"}, projections.AuditFilter{Stream: s, Actor: "bob", Project: b.project},
			projections.AuditFilter{Stream: s, After: 300, Through: 600})
	}
	check := func(how string, f projections.AuditFilter, got []projections.AuditEntry, err error) {
		t.Helper()
		var want []projections.AuditEntry
		for _, e := range all {
			if e.Position > f.After && (f.Through == 0 || e.Position <= f.Through) && (f.Type == "" || e.Type == f.Type) &&
				(f.Actor == "" || e.Actor == f.Actor) && (f.Project == "" || e.Project == f.Project) &&
				(f.Stream == "" || e.Stream == f.Stream) && (f.Limit == 0 || len(want) < f.Limit) {
				want = append(want, e)
			}
		}
		if err != nil {
			t.Fatalf("%s(%+v) error = %v", how, f, err)
		}
		if !slices.EqualFunc(got, want, func(x, y projections.AuditEntry) bool { return reflect.DeepEqual(x, y) }) {
			t.Errorf("%s(%+v) = %d entries, scanning finds %d", how, f, len(got), len(want))
		}
	}
	_ = eng.View(ctx, "audit", func(r projections.Reader) error {
		for _, f := range filters {
			got, err := projections.Audit{}.List(r, f)
			check("List", f, got, err)
		}
		return nil
	})
	// Reads.Events answers a stream filter from the log's index of streams.
	rd := reads(eng, a)
	for _, f := range filters {
		got, err := rd.Events(ctx, f)
		check("Events", f, got, err)
	}
}

// TestAsOf_MatchesReplay compares as-of answers with a fresh rebuild stopped at p, for
// many random p.
func TestAsOf_MatchesReplay(t *testing.T) {
	log := memory.NewStore()
	w := newWorld(t, log)
	scenario(w, 6)
	eng := startEngine(t, log, w.codec, nil)
	waitFor(t, eng, w.last)
	rd := reads(eng, w)
	ctx := context.Background()
	page, err := rd.Executions(ctx, projections.ExecutionQuery{Project: w.project})
	if err != nil {
		t.Fatal(err)
	}
	model := page.Items[0].Outputs[0].Datum
	for range 25 {
		p := events.Position(1 + rand.IntN(int(w.last)))
		fresh, err := projections.Replay(ctx, log, w.codec, memory.NewProjections(), p, projections.All()...)
		if err != nil {
			t.Fatal(err)
		}
		// Aliases.
		a1, e1 := rd.Alias(ctx, w.project, "model-prod", projections.AsOf{Position: p})
		var a2 projections.AliasFact
		var e2 error
		_ = fresh.View(ctx, "aliases", func(r projections.Reader) error {
			a2, e2 = projections.Aliases{}.Get(r, w.project, "model-prod", projections.Now)
			return nil
		})
		if (e1 == nil) != (e2 == nil) || a1.Target != a2.Target || a1.From != a2.From {
			t.Errorf("p=%d: alias as of = %+v, %v; replay = %+v, %v", p, a1, e1, a2, e2)
		}
		// Lineage.
		g1, e1 := rd.Lineage(ctx, projections.DatumNode(model), projections.Downstream, -1, projections.AsOf{Position: p})
		var g2 projections.Graph
		_ = fresh.View(ctx, "lineage", func(r projections.Reader) error {
			g2, e2 = projections.Lineage{}.Traverse(r, projections.DatumNode(model), projections.Downstream, -1, projections.Now)
			return nil
		})
		if (e1 == nil) != (e2 == nil) || len(g1.Nodes) != len(g2.Nodes) || len(g1.Edges) != len(g2.Edges) {
			t.Errorf("p=%d: lineage as of = %d nodes, %d edges, %v; replay %d, %d, %v", p, len(g1.Nodes), len(g1.Edges), e1, len(g2.Nodes), len(g2.Edges), e2)
		}
		// Datasets.
		v1, e1 := rd.DatasetVersion(ctx, w.project, "images", "production", projections.AsOf{Position: p})
		var v2 projections.DatasetVersion
		_ = fresh.View(ctx, "datasets", func(r projections.Reader) error {
			d, err := projections.Datasets{}.Get(r, w.project, "images", projections.Now)
			if err != nil {
				e2 = err
				return nil
			}
			v2, e2 = projections.Datasets{}.Resolve(r, d.ID, "production", projections.Now)
			return nil
		})
		if (e1 == nil) != (e2 == nil) || v1.Name != v2.Name {
			t.Errorf("p=%d: dataset as of = %+v, %v; replay %+v, %v", p, v1.Name, e1, v2.Name, e2)
		}
		// Executions (replayed by Reads too: the counts must agree with the fresh copy).
		t1, err := rd.Executions(ctx, projections.ExecutionQuery{Project: w.project, AsOf: projections.AsOf{Position: p}})
		if err != nil {
			t.Fatal(err)
		}
		var t2 projections.ExecutionPage
		_ = fresh.View(ctx, "executions", func(r projections.Reader) error {
			t2, err = projections.Executions{}.List(r, projections.ExecutionQuery{Project: w.project, Now: w.at})
			return err
		})
		if t1.Total != t2.Total || len(t1.Counts) != len(t2.Counts) {
			t.Errorf("p=%d: table as of = %d (%v), replay %d (%v)", p, t1.Total, t1.Counts, t2.Total, t2.Counts)
		}
	}
}

// The metadata sort index and the status counters give the same pages as a scan of the
// rows (forced here by a creation-time filter that every execution passes).
func TestExecutions_MetadataIndexMatchesScan(t *testing.T) {
	log := memory.NewStore()
	w := newWorld(t, log)
	var retag []domain.ExecutionID
	for i := range 30 {
		m := map[string]any{"loss": float64((i * 7) % 11), "name": string(rune('a' + i%5))}
		if i%4 == 0 {
			m = map[string]any{"name": "zz"} // no loss: sorts last
		}
		if i%9 == 0 {
			m["loss"] = "n/a" // a string sorts after every number
		}
		id, _ := w.execution(runSpec{tags: []string{[]string{"a", "b"}[i%2]}, metrics: []map[string]any{m}, exit: i % 3 / 2, minutes: 1})
		if i%5 == 0 {
			retag = append(retag, id)
		}
	}
	eng := startEngine(t, log, w.codec, nil)
	waitFor(t, eng, w.last)
	for _, id := range retag {
		// Retagged in a later batch than its metadata: the sort index must follow.
		w.exec(id, execution.RemoveTags{Tags: []string{"a", "b"}, At: w.tick()})
		w.exec(id, execution.AddTags{Tags: []string{"b"}, At: w.tick()})
		waitFor(t, eng, w.last)
	}
	rd := reads(eng, w)
	ctx := context.Background()
	for _, q := range []projections.ExecutionQuery{
		{MetadataKey: "loss", Limit: 4},
		{MetadataKey: "loss", Limit: 4, Descending: true},
		{MetadataKey: "loss", Limit: 3, Tags: []string{"a"}},
		{MetadataKey: "loss", Limit: 5, Statuses: []domain.ExecutionStatus{domain.StatusError}},
		{MetadataKey: "name", Limit: 7, Descending: true, Tags: []string{"b"}},
	} {
		q.Project, q.Sort = w.project, projections.SortMetadata
		scan := q
		scan.CreatedAfter = time.Unix(1, 0)
		for page := 0; ; page++ {
			got, err := rd.Executions(ctx, q)
			if err != nil {
				t.Fatal(err)
			}
			want, err := rd.Executions(ctx, scan)
			if err != nil {
				t.Fatal(err)
			}
			numbers := func(p projections.ExecutionPage) string {
				out := fmt.Sprint(p.Total, p.Counts)
				for _, x := range p.Items {
					out += fmt.Sprint(" ", x.Number)
				}
				return out
			}
			if numbers(got) != numbers(want) || got.Next != want.Next {
				t.Fatalf("%+v page %d = %s (next %q), want %s (next %q)", q, page, numbers(got), got.Next, numbers(want), want.Next)
			}
			if got.Next == "" {
				break
			}
			q.Cursor, scan.Cursor = got.Next, want.Next
		}
	}
}
