package projections

import (
	"bytes"
	"cmp"
	"encoding/base64"
	"encoding/binary"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"slices"
	"sort"
	"time"

	"github.com/stratahq/strata/domain"
	"github.com/stratahq/strata/domain/environment"
	"github.com/stratahq/strata/domain/execution"
	"github.com/stratahq/strata/events"
)

// Executions is the read model of executions: the table (filter, sort, paginate, count by
// status), the detail of one execution and its metadata points and resource samples.
//
// Keys: e execution → Execution (binary, see encodeRecord); n project number → row; t
// project tag number → row (see rows.go); ms project key value number and mt project
// tag key value number → row, the metadata sort index of the project and of each tag (see
// metaSortKeys); c project [tag] status → how many
// executions (see countKey); m execution seq → MetadataPoint; r execution seq →
// ResourceSample; env environment → price per hour.
type Executions struct{}

// Output is one output file of an execution.
type Output struct {
	Datum      domain.DatumID             `json:"datum"`
	Path       string                     `json:"path"`
	Properties map[string]json.RawMessage `json:"properties,omitempty"`
	At         time.Time                  `json:"at"`
}

// InputFile is one input file as downloaded and hashed.
type InputFile struct {
	Input    string         `json:"input"`
	URI      string         `json:"uri"`
	Datum    domain.DatumID `json:"datum,omitempty"`
	FileName string         `json:"file_name"`
	Size     int64          `json:"size"`
	MD5      domain.MD5     `json:"md5"`
	SHA1     domain.SHA1    `json:"sha1"`
	SHA256   domain.SHA256  `json:"sha256"`
	BLAKE3   domain.Digest  `json:"blake3"`
}

// ResourceSummary sums up an execution's resource samples.
type ResourceSummary struct {
	Samples        int     `json:"samples"`
	MeanCPUPercent float64 `json:"mean_cpu_percent"`
	MaxCPUPercent  float64 `json:"max_cpu_percent"`
	MaxMemoryBytes int64   `json:"max_memory_bytes"`
	MaxGPUPercent  float64 `json:"max_gpu_percent,omitempty"`
	MaxGPUMemory   int64   `json:"max_gpu_memory_bytes,omitempty"`
}

// ResourceSample is one sample of the resource series.
type ResourceSample struct {
	CPUPercent  float64               `json:"cpu_percent"`
	MemoryBytes int64                 `json:"memory_bytes"`
	GPUs        []execution.GPUSample `json:"gpus,omitempty"`
	At          time.Time             `json:"at"`
}

// Execution is an execution's detail, as the table and the detail page show it.
type Execution struct {
	ID                   domain.ExecutionID              `json:"id"`
	Project              domain.ProjectID                `json:"project"`
	Number               int                             `json:"number"`
	Step                 string                          `json:"step"`
	Title                string                          `json:"title,omitempty"`
	Code                 execution.Code                  `json:"code"`
	Image                string                          `json:"image"`
	ImageDigest          string                          `json:"image_digest,omitempty"`
	Commands             []string                        `json:"commands"`
	Parameters           []execution.Parameter           `json:"parameters,omitempty"`
	Inputs               []execution.Input               `json:"inputs,omitempty"`
	InputFiles           []InputFile                     `json:"input_files,omitempty"`
	Environment          domain.EnvironmentID            `json:"environment"`
	PricePerHour         domain.Money                    `json:"price_per_hour"`
	EnvironmentVariables []execution.EnvironmentVariable `json:"environment_variables,omitempty"`
	Host                 string                          `json:"host,omitempty"`
	Hardware             execution.Hardware              `json:"hardware"`
	Creator              domain.UserID                   `json:"creator"`
	Task                 domain.TaskID                   `json:"task,omitempty"`
	Tags                 []string                        `json:"tags,omitempty"`
	Status               domain.ExecutionStatus          `json:"status"`
	ExitCode             int                             `json:"exit_code,omitempty"`
	Reason               string                          `json:"reason,omitempty"`
	StopRequestedBy      domain.UserID                   `json:"stop_requested_by,omitempty"`
	CreatedAt            time.Time                       `json:"created_at"`
	QueuedAt             time.Time                       `json:"queued_at,omitzero"`
	StartedAt            time.Time                       `json:"started_at,omitzero"`
	EndedAt              time.Time                       `json:"ended_at,omitzero"`
	Outputs              []Output                        `json:"outputs,omitempty"`
	Metadata             map[string]json.RawMessage      `json:"metadata,omitempty"` // latest value per key
	MetadataPoints       int                             `json:"metadata_points"`
	Resources            ResourceSummary                 `json:"resources"`
	// Warnings are filled in by Reads from the Inputs read model.
	Warnings []InputWarning `json:"warnings,omitempty"`
	// Position is where the execution was created; Updated where it last changed.
	Position events.Position `json:"position"`
	Updated  events.Position `json:"updated"`
}

// Duration is how long the execution ran: start to end, or to now while running.
func (x Execution) Duration(now time.Time) time.Duration {
	if x.StartedAt.IsZero() {
		return 0
	}
	end := x.EndedAt
	if end.IsZero() {
		end = now
	}
	return max(end.Sub(x.StartedAt), 0)
}

// Cost is the environment's price per hour times the duration.
func (x Execution) Cost(now time.Time) domain.Money { return x.PricePerHour.PerHour(x.Duration(now)) }

// MetadataPoint is one metadata point: its time and values.
type MetadataPoint struct {
	Time   time.Time                  `json:"_time"`
	Values map[string]json.RawMessage `json:"values"`
}

// Name returns "executions".
func (Executions) Name() string { return "executions" }

// Version returns the layout version: 3 has compact rows as index values, a metadata
// sort index and status counters; 4 rows without metadata as the sort index's values;
// 5 binary records (see record.go); 6 a metadata sort index per tag; 7 rows with the
// metadata's JSON; 8 whole rows as the sort index's values again, so that a page of the
// table sorted by metadata is read from the index alone.
func (Executions) Version() int { return 8 }

// Apply folds execution and environment events into the table.
func (xs Executions) Apply(tx Txn, env events.Envelope, ev events.Event) error {
	return xs.ApplyBatch(tx, []events.Envelope{env}, []events.Event{ev})
}

// ApplyBatch folds a batch of events: each execution's record is decoded at most once
// and written, with its index rows, once at the end.
func (Executions) ApplyBatch(tx Txn, envs []events.Envelope, evs []events.Event) error {
	b := execBatch{tx: tx, recs: map[domain.ExecutionID]*execEntry{}}
	for i, ev := range evs {
		if err := b.apply(envs[i], ev); err != nil {
			return err
		}
	}
	return b.flush()
}

// execBatch holds the records a batch changed.
type execBatch struct {
	tx    Txn
	recs  map[domain.ExecutionID]*execEntry
	order []domain.ExecutionID // first touched first: flushes are deterministic
}

type execEntry struct {
	x          Execution
	origTags   []string                   // the tags indexed before the batch
	origStatus domain.ExecutionStatus     // the status counted before the batch ("": none)
	origMeta   map[string]json.RawMessage // the metadata indexed before the batch
	origRow    []byte                     // the row (the indexes' value) before the batch
	missing    bool                       // no record: events for it are ignored
}

// get returns the record of id, reading it on first use.
func (b *execBatch) get(id domain.ExecutionID) (*execEntry, error) {
	if e := b.recs[id]; e != nil {
		return e, nil
	}
	e := &execEntry{}
	x, ok, err := getRecord(b.tx, id)
	if err != nil {
		return nil, err
	}
	e.x = x
	e.missing, e.origTags, e.origStatus, e.origMeta = !ok, slices.Clone(e.x.Tags), e.x.Status, maps.Clone(e.x.Metadata)
	if ok {
		e.origRow = encodeRow(&e.x)
	}
	b.recs[id] = e
	b.order = append(b.order, id)
	return e, nil
}

func (b *execBatch) apply(env events.Envelope, ev events.Event) error {
	tx := b.tx
	switch e := ev.(type) {
	case environment.Created:
		return tx.Set(key("env", string(e.Environment)), []byte(e.Spec.PricePerHour.String()))
	case environment.Updated:
		return tx.Set(key("env", string(e.Environment)), []byte(e.Spec.PricePerHour.String()))
	case execution.Created:
		x := Execution{ID: e.Execution, Project: e.Project, Number: e.Number, Step: e.Step, Title: e.Title, Code: e.Code,
			Image: e.Image, Commands: e.Commands, Parameters: e.Parameters, Inputs: e.Inputs, Environment: e.Environment,
			EnvironmentVariables: e.EnvironmentVariables, Creator: e.Creator, Task: e.Task, Tags: slices.Clone(e.Tags),
			Status: domain.StatusCreated, CreatedAt: e.At, Position: env.Position, Updated: env.Position}
		if v, ok, err := tx.Get(key("env", string(e.Environment))); err != nil {
			return err
		} else if ok {
			x.PricePerHour, _ = domain.ParseMoney(string(v))
		}
		if b.recs[e.Execution] == nil {
			b.order = append(b.order, e.Execution)
		}
		b.recs[e.Execution] = &execEntry{x: x}
		return nil
	case execution.Event:
		ent, err := b.get(executionOf(e))
		if err != nil || ent.missing {
			return err
		}
		return updateExecution(tx, env, &ent.x, e)
	}
	return nil
}

// flush writes every changed record, its number row and its tag rows, its entries in
// the metadata sort index and the status counters.
func (b *execBatch) flush() error {
	counts := map[string]int64{} // counter key → change
	var countKeys []string       // in order of first change: deterministic writes
	count := func(project domain.ProjectID, tags []string, status domain.ExecutionStatus, d int64) {
		if status == "" {
			return
		}
		keys := []string{string(countKey(project, nil, status))}
		for _, t := range tags {
			keys = append(keys, string(countKey(project, &t, status)))
		}
		for _, k := range keys {
			if _, ok := counts[k]; !ok {
				countKeys = append(countKeys, k)
			}
			counts[k] += d
		}
	}
	for _, id := range b.order {
		e := b.recs[id]
		if e.missing {
			continue
		}
		x := &e.x
		count(x.Project, e.origTags, e.origStatus, -1)
		count(x.Project, x.Tags, x.Status, +1)
		// The metadata sort index: its entries follow the metadata and the tags, and are
		// rewritten when their value, the row, changed.
		row := encodeRow(x)
		rowChanged := !bytes.Equal(row, e.origRow)
		stale := map[string]bool{}
		for _, k := range metaSortKeys(x.Project, e.origTags, e.origMeta, x.Number) {
			stale[string(k)] = true
		}
		for _, k := range metaSortKeys(x.Project, x.Tags, x.Metadata, x.Number) {
			if rowChanged || !stale[string(k)] {
				if err := b.tx.Set(k, row); err != nil {
					return err
				}
			}
			delete(stale, string(k))
		}
		for k := range stale {
			if err := b.tx.Delete([]byte(k)); err != nil {
				return err
			}
		}
		for _, t := range e.origTags {
			if !slices.Contains(x.Tags, t) {
				if err := b.tx.Delete(withUint(prefixOf("t", string(x.Project), t), uint64(x.Number))); err != nil {
					return err
				}
			}
		}
		if err := b.tx.Set(withUint(prefixOf("n", string(x.Project)), uint64(x.Number)), row); err != nil {
			return err
		}
		for _, t := range x.Tags {
			if err := b.tx.Set(withUint(prefixOf("t", string(x.Project), t), uint64(x.Number)), row); err != nil {
				return err
			}
		}
		if err := b.tx.Set(key("e", string(id)), encodeRecord(x)); err != nil {
			return err
		}
	}
	for _, k := range countKeys {
		d := counts[k]
		if d == 0 {
			continue
		}
		var n int64
		if v, ok, err := b.tx.Get([]byte(k)); err != nil {
			return err
		} else if ok && len(v) == 8 {
			n = int64(binary.BigEndian.Uint64(v))
		}
		if n += d; n == 0 {
			if err := b.tx.Delete([]byte(k)); err != nil {
				return err
			}
		} else if err := b.tx.Set([]byte(k), binary.BigEndian.AppendUint64(nil, uint64(n))); err != nil {
			return err
		}
	}
	return nil
}

func executionOf(e execution.Event) domain.ExecutionID {
	switch e := e.(type) {
	case execution.Queued:
		return e.Execution
	case execution.Started:
		return e.Execution
	case execution.InputHashed:
		return e.Execution
	case execution.MetadataRecorded:
		return e.Execution
	case execution.ResourcesSampled:
		return e.Execution
	case execution.OutputRecorded:
		return e.Execution
	case execution.Finished:
		return e.Execution
	case execution.StopRequested:
		return e.Execution
	case execution.Stopped:
		return e.Execution
	case execution.Crashed:
		return e.Execution
	case execution.TagsAdded:
		return e.Execution
	case execution.TagsRemoved:
		return e.Execution
	case execution.Created:
		return e.Execution
	}
	return ""
}

// updateExecution folds ev into x and writes the keys that belong to the event alone
// (metadata points and resource samples); the record itself is written by flush.
func updateExecution(tx Txn, env events.Envelope, x *Execution, ev execution.Event) error {
	switch e := ev.(type) {
	case execution.Created:
		// Nothing to fold: apply builds the record from Created itself and never gets here
		// with one.
	case execution.Queued:
		x.Status, x.QueuedAt = domain.StatusQueued, e.At
	case execution.Started:
		x.Status, x.StartedAt, x.Host, x.Hardware, x.ImageDigest = domain.StatusStarted, e.At, e.Host, e.Hardware, e.ImageDigest
	case execution.Finished:
		x.Status, x.ExitCode, x.Reason, x.EndedAt = e.Status, e.ExitCode, e.Reason, e.At
	case execution.StopRequested:
		x.Status, x.StopRequestedBy = domain.StatusStopping, e.By
	case execution.Stopped:
		x.Status, x.EndedAt = domain.StatusStopped, e.At
	case execution.Crashed:
		x.Status, x.Reason, x.EndedAt = domain.StatusCrashed, e.Reason, e.At
	case execution.InputHashed:
		x.InputFiles = append(x.InputFiles, InputFile{Input: e.Input, URI: e.URI, Datum: e.Datum, FileName: e.FileName, Size: e.Size,
			MD5: e.MD5, SHA1: e.SHA1, SHA256: e.SHA256, BLAKE3: e.BLAKE3})
	case execution.MetadataRecorded:
		if x.Metadata == nil {
			x.Metadata = map[string]json.RawMessage{}
		}
		for _, p := range e.Points {
			for k, v := range p.Values {
				x.Metadata[k] = v
			}
			if err := putJSON(tx, withUint(prefixOf("m", string(x.ID)), uint64(x.MetadataPoints)), MetadataPoint(p)); err != nil {
				return err
			}
			x.MetadataPoints++
		}
	case execution.ResourcesSampled:
		s := &x.Resources
		s.MeanCPUPercent = (s.MeanCPUPercent*float64(s.Samples) + e.CPUPercent) / float64(s.Samples+1)
		s.MaxCPUPercent = max(s.MaxCPUPercent, e.CPUPercent)
		s.MaxMemoryBytes = max(s.MaxMemoryBytes, e.MemoryBytes)
		for _, g := range e.GPUs {
			s.MaxGPUPercent = max(s.MaxGPUPercent, g.UtilizationPercent)
			s.MaxGPUMemory = max(s.MaxGPUMemory, g.MemoryBytes)
		}
		sample := ResourceSample{CPUPercent: e.CPUPercent, MemoryBytes: e.MemoryBytes, GPUs: e.GPUs, At: e.At}
		if err := putJSON(tx, withUint(prefixOf("r", string(x.ID)), uint64(s.Samples)), sample); err != nil {
			return err
		}
		s.Samples++
	case execution.OutputRecorded:
		x.Outputs = append(x.Outputs, Output{Datum: e.Datum, Path: e.Path, Properties: e.Properties, At: e.At})
	case execution.TagsAdded:
		x.Tags = append(x.Tags, e.Tags...)
	case execution.TagsRemoved:
		x.Tags = slices.DeleteFunc(x.Tags, func(t string) bool { return slices.Contains(e.Tags, t) })
	}
	x.Updated = env.Position
	return nil
}

// Get returns the detail of an execution (without Warnings; see Reads.Execution).
func (Executions) Get(r Reader, id domain.ExecutionID) (Execution, error) {
	x, ok, err := getRecord(r, id)
	if err != nil {
		return Execution{}, fmt.Errorf("get execution %s: %w", id, err)
	}
	if !ok {
		return Execution{}, fmt.Errorf("execution %s: %w", id, ErrNotFound)
	}
	return x, nil
}

// ByNumber returns the execution #number of project.
func (xs Executions) ByNumber(r Reader, project domain.ProjectID, number int) (Execution, error) {
	row, ok, err := r.Get(withUint(prefixOf("n", string(project)), uint64(number)))
	if err != nil {
		return Execution{}, fmt.Errorf("get execution #%d: %w", number, err)
	}
	if !ok {
		return Execution{}, fmt.Errorf("project %s has no execution #%d: %w", project, number, ErrNotFound)
	}
	id, ok := rowID(row)
	if !ok {
		return Execution{}, fmt.Errorf("get execution #%d: malformed row: %w", number, errMalformed)
	}
	return xs.Get(r, id)
}

// Metadata returns an execution's metadata points, in order.
func (Executions) Metadata(r Reader, id domain.ExecutionID) ([]MetadataPoint, error) {
	var out []MetadataPoint
	err := scanJSON(r, prefixOf("m", string(id)), nil, false, func(_ []byte, p MetadataPoint) bool {
		out = append(out, p)
		return true
	})
	if err != nil {
		return nil, fmt.Errorf("metadata of %s: %w", id, err)
	}
	return out, nil
}

// Resources returns an execution's resource samples, in order.
func (Executions) Resources(r Reader, id domain.ExecutionID) ([]ResourceSample, error) {
	var out []ResourceSample
	err := scanJSON(r, prefixOf("r", string(id)), nil, false, func(_ []byte, s ResourceSample) bool {
		out = append(out, s)
		return true
	})
	if err != nil {
		return nil, fmt.Errorf("resources of %s: %w", id, err)
	}
	return out, nil
}

// WriteMetadataCSV writes points as CSV: a header of _time and every key (sorted), then
// one row per point with _time in RFC 3339 and each value as JSON text (strings
// unquoted); a key the point lacks is an empty cell.
func WriteMetadataCSV(w io.Writer, points []MetadataPoint) error {
	seen := map[string]bool{}
	var keys []string
	for _, p := range points {
		for k := range p.Values {
			if !seen[k] {
				seen[k] = true
				keys = append(keys, k)
			}
		}
	}
	sort.Strings(keys)
	cw := csv.NewWriter(w)
	if err := cw.Write(append([]string{"_time"}, keys...)); err != nil {
		return fmt.Errorf("write metadata csv: %w", err)
	}
	row := make([]string, len(keys)+1)
	for _, p := range points {
		row[0] = p.Time.UTC().Format(time.RFC3339Nano)
		for i, k := range keys {
			row[i+1] = ""
			if v, ok := p.Values[k]; ok {
				var s string
				if json.Unmarshal(v, &s) == nil {
					row[i+1] = s
				} else {
					row[i+1] = string(v)
				}
			}
		}
		if err := cw.Write(row); err != nil {
			return fmt.Errorf("write metadata csv: %w", err)
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("write metadata csv: %w", err)
	}
	return nil
}

// WriteMetadataJSON writes points as a JSON array of objects, each with _time and the
// point's keys, as Valohai prints them.
func WriteMetadataJSON(w io.Writer, points []MetadataPoint) error {
	out := make([]map[string]json.RawMessage, len(points))
	for i, p := range points {
		m := make(map[string]json.RawMessage, len(p.Values)+1)
		for k, v := range p.Values {
			m[k] = v
		}
		t, _ := json.Marshal(p.Time.UTC().Format(time.RFC3339Nano))
		m["_time"] = t
		out[i] = m
	}
	if err := json.NewEncoder(w).Encode(out); err != nil {
		return fmt.Errorf("write metadata json: %w", err)
	}
	return nil
}

// SortBy names what the table is sorted by.
type SortBy string

// Table sort orders.
const (
	SortNumber   SortBy = "number"
	SortCreated  SortBy = "created"
	SortDuration SortBy = "duration"
	SortCost     SortBy = "cost"
	SortMetadata SortBy = "metadata" // the latest value of ExecutionQuery.MetadataKey
)

// ExecutionQuery selects, orders and pages the execution table of one project.
type ExecutionQuery struct {
	Project     domain.ProjectID
	Statuses    []domain.ExecutionStatus // any of them; empty: all
	Step        string
	Tags        []string // all of them
	Creator     domain.UserID
	Task        domain.TaskID
	Environment domain.EnvironmentID
	// CreatedAfter and CreatedBefore bound the creation time (inclusive; zero: unbounded).
	CreatedAfter, CreatedBefore time.Time
	Sort                        SortBy // default SortNumber
	MetadataKey                 string // for SortMetadata
	Descending                  bool
	// Limit is the page size (default 50, at most 1000); Cursor is the Next of the
	// previous page.
	Limit  int
	Cursor string
	// Now is the time the duration and cost of running executions are measured at.
	Now time.Time
	// AsOf is used by Reads; the Executions methods read what their Reader holds.
	AsOf AsOf
	// Warnings: Reads fills each item's input warnings (from the inputs read model).
	Warnings bool
	// Summary: each item holds only what the table shows, read from the rows of the
	// page (see decodeSummary): ID, Project, Number, Step, Creator, Task, Environment,
	// Tags, Status, CreatedAt, StartedAt, EndedAt, PricePerHour and Metadata.
	Summary bool
}

// ExecutionPage is one page of the table.
type ExecutionPage struct {
	Items []Execution
	// Next is the cursor of the next page, empty on the last.
	Next string
	// Total is how many executions match; Counts how many of those (status filter
	// aside) are in each status.
	Total  int
	Counts map[domain.ExecutionStatus]int
}

// sortValue orders executions: numbers before strings, missing values last.
type sortValue struct {
	Missing bool    `json:"m,omitempty"`
	IsStr   bool    `json:"s,omitempty"`
	Num     float64 `json:"n,omitempty"`
	Str     string  `json:"t,omitempty"`
	Number  int     `json:"x"`
}

func compareSort(a, b sortValue, desc bool) int {
	if a.Missing != b.Missing {
		if a.Missing {
			return 1
		}
		return -1
	}
	c := 0
	switch {
	case a.Missing:
	case a.IsStr != b.IsStr:
		c = -1
		if a.IsStr {
			c = 1
		}
	case a.IsStr:
		c = cmp.Compare(a.Str, b.Str)
	default:
		c = cmp.Compare(a.Num, b.Num)
	}
	if c == 0 {
		c = cmp.Compare(a.Number, b.Number)
	}
	if desc {
		c = -c
	}
	return c
}

// List returns one page of the table. A query the status counters count (see countable)
// sorted by number or metadata walks an index in that order from the cursor and stops
// when the page is full. Any other scans one index (the first tag's, or the project's)
// whose values are compact rows: filters, counts and a bounded top-K by the sort order
// need no JSON. Only the records of the page itself are decoded, and none for a summary.
func (xs Executions) List(r Reader, q ExecutionQuery) (ExecutionPage, error) {
	if q.Limit <= 0 {
		q.Limit = 50
	}
	q.Limit = min(q.Limit, 1000)
	if q.Now.IsZero() {
		q.Now = time.Now()
	}
	if q.Sort == "" {
		q.Sort = SortNumber
	}
	var after *sortValue
	if q.Cursor != "" {
		b, err := base64.RawURLEncoding.DecodeString(q.Cursor)
		var v sortValue
		if err == nil {
			err = json.Unmarshal(b, &v)
		}
		if err != nil {
			return ExecutionPage{}, fmt.Errorf("list executions: cursor %.40q: %w", q.Cursor, domain.ErrInvalid)
		}
		after = &v
	}
	switch countable := q.countable() && (after == nil || !after.Missing); {
	case countable && q.Sort == SortMetadata:
		page, ok, err := xs.listByMetadata(r, q, after)
		if err != nil || ok {
			return page, err
		}
	case countable && q.Sort == SortNumber:
		return xs.listByNumber(r, q, after)
	}
	index := prefixOf("n", string(q.Project))
	if len(q.Tags) > 0 {
		index = prefixOf("t", string(q.Project), q.Tags[0])
	}
	page := ExecutionPage{Counts: map[domain.ExecutionStatus]int{}}
	counts := map[string]int{} // by status bytes: no allocation per row
	top := topK{k: q.Limit + 1, desc: q.Descending}
	var rv rowView
	var bad []byte
	err := r.Scan(index, nil, false, func(k, b []byte) bool {
		if !decodeRow(b, &rv) {
			bad = bytes.Clone(k)
			return false
		}
		if !q.matchRow(&rv, true) {
			return true
		}
		counts[string(rv.status)]++
		if len(q.Statuses) > 0 && !slices.Contains(q.Statuses, domain.ExecutionStatus(rv.status)) {
			return true
		}
		page.Total++
		v := q.rowValue(&rv)
		if after != nil && compareSort(v, *after, q.Descending) <= 0 || !top.wants(v) {
			return true
		}
		top.add(v, domain.ExecutionID(rv.id), nil)
		return true
	})
	if err == nil && bad != nil {
		err = fmt.Errorf("malformed row under %q: %w", bad, errMalformed)
	}
	if err != nil {
		return ExecutionPage{}, fmt.Errorf("list executions: %w", err)
	}
	for s, n := range counts {
		page.Counts[domain.ExecutionStatus(s)] = n
	}
	return xs.fill(r, q, page, top.rows)
}

// fill puts the records of rows (the page and, if there is one more, the cursor of the
// next page) into page.
func (xs Executions) fill(r Reader, q ExecutionQuery, page ExecutionPage, rows []ranked) (ExecutionPage, error) {
	if len(rows) > q.Limit {
		b, _ := json.Marshal(rows[q.Limit-1].v)
		page.Next = base64.RawURLEncoding.EncodeToString(b)
		rows = rows[:q.Limit]
	}
	page.Items = make([]Execution, len(rows))
	for i, row := range rows {
		var x Execution
		var ok bool
		var err error
		if q.Summary {
			x, ok, err = row.summary(r, q.Project)
		} else {
			x, ok, err = getRecord(r, row.id)
		}
		if err != nil {
			return ExecutionPage{}, fmt.Errorf("list executions: %w", err)
		}
		if !ok {
			return ExecutionPage{}, fmt.Errorf("list executions: execution %s: %w", row.id, ErrNotFound)
		}
		page.Items[i] = x
	}
	if len(page.Items) == 0 {
		page.Items = nil
	}
	return page, nil
}

// countable reports whether the status counters answer q's Total and Counts: it filters
// by at most one tag and statuses.
func (q ExecutionQuery) countable() bool {
	return q.Step == "" && q.Creator == "" && q.Task == "" && q.Environment == "" && q.CreatedAfter.IsZero() &&
		q.CreatedBefore.IsZero() && len(q.Tags) <= 1
}

// listByMetadata answers a countable query sorted by metadata: counts from the
// counters, the page by walking the metadata sort index (the tag's, if it filters by
// one) from the cursor, whose keys hold the value sorted by. It is not ok (the caller
// scans) if the index runs out first: executions without the key, which sort last, may
// follow.
func (xs Executions) listByMetadata(r Reader, q ExecutionQuery, after *sortValue) (ExecutionPage, bool, error) {
	pre := metaSortPrefix(q.Project, nil, q.MetadataKey)
	if len(q.Tags) == 1 {
		pre = metaSortPrefix(q.Project, &q.Tags[0], q.MetadataKey)
	}
	var seek []byte
	if after != nil {
		seek = appendSortValue(bytes.Clone(pre), after.IsStr, after.Num, after.Str)
		seek = binary.BigEndian.AppendUint64(seek, uint64(after.Number))
	}
	rows, full, err := walk(r, q, after, pre, seek, func(k []byte, _ *rowView) (sortValue, bool) { return metaSortValueAt(k[len(pre):]) })
	if err != nil || !full {
		return ExecutionPage{}, false, err
	}
	page, err := counted(r, q)
	if err == nil {
		page, err = xs.fill(r, q, page, rows)
	}
	return page, err == nil, err
}

// listByNumber answers a countable query sorted by number: counts from the counters, the
// page by walking the number index (the tag's, if it filters by one) from the cursor.
func (xs Executions) listByNumber(r Reader, q ExecutionQuery, after *sortValue) (ExecutionPage, error) {
	pre := prefixOf("n", string(q.Project))
	if len(q.Tags) == 1 {
		pre = prefixOf("t", string(q.Project), q.Tags[0])
	}
	var seek []byte
	if after != nil {
		seek = withUint(bytes.Clone(pre), uint64(after.Number))
	}
	rows, _, err := walk(r, q, after, pre, seek, func(_ []byte, rv *rowView) (sortValue, bool) {
		return sortValue{Num: float64(rv.number), Number: rv.number}, true
	})
	if err != nil {
		return ExecutionPage{}, err
	}
	page, err := counted(r, q)
	if err != nil {
		return ExecutionPage{}, err
	}
	return xs.fill(r, q, page, rows)
}

// counted returns a page with the Total and Counts of a countable query, from the status
// counters.
func counted(r Reader, q ExecutionQuery) (ExecutionPage, error) {
	page := ExecutionPage{Counts: map[domain.ExecutionStatus]int{}}
	cpre := prefixOf("ca", string(q.Project))
	if len(q.Tags) == 1 {
		cpre = prefixOf("ct", string(q.Project), q.Tags[0])
	}
	err := r.Scan(cpre, nil, false, func(k, v []byte) bool {
		if len(v) == 8 {
			status, n := domain.ExecutionStatus(k[len(cpre):]), int(binary.BigEndian.Uint64(v))
			page.Counts[status] = n
			if len(q.Statuses) == 0 || slices.Contains(q.Statuses, status) {
				page.Total += n
			}
		}
		return true
	})
	if err != nil {
		return ExecutionPage{}, fmt.Errorf("list executions: %w", err)
	}
	return page, nil
}

// walk returns the rows of q's page and the next page's first, walking the index pre
// (ascending, or descending if q is) from seek: its entries are in q's order, value
// gives an entry's sort value, and their values are rows. full reports whether it found
// them all before the index ran out. A summary page is read from the entries themselves.
func walk(r Reader, q ExecutionQuery, after *sortValue, pre, seek []byte, value func(k []byte, rv *rowView) (sortValue, bool)) (rows []ranked, full bool, err error) {
	top := topK{k: q.Limit + 1, desc: q.Descending}
	var rv rowView
	var bad []byte
	err = r.Scan(pre, seek, q.Descending, func(k, row []byte) bool {
		if !decodeRow(row, &rv) {
			bad = bytes.Clone(k)
			return false
		}
		v, ok := value(k, &rv)
		if !ok {
			bad = bytes.Clone(k)
			return false
		}
		if !q.matchRow(&rv, false) || len(q.Statuses) > 0 && !slices.Contains(q.Statuses, domain.ExecutionStatus(rv.status)) {
			return true
		}
		if after != nil && compareSort(v, *after, q.Descending) <= 0 {
			return true
		}
		var keep []byte // entries come in order: at most k are kept
		if q.Summary {
			keep = bytes.Clone(row)
		}
		top.add(v, domain.ExecutionID(rv.id), keep)
		return len(top.rows) < top.k
	})
	if err == nil && bad != nil {
		err = fmt.Errorf("malformed index entry %q: %w", bad, errMalformed)
	}
	if err != nil {
		return nil, false, fmt.Errorf("list executions: %w", err)
	}
	return top.rows, len(top.rows) == top.k, nil
}
