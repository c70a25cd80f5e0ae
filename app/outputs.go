package app

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path"
	"slices"

	"github.com/google/uuid"

	"github.com/stratahq/strata/blob"
	"github.com/stratahq/strata/domain"
	"github.com/stratahq/strata/domain/alias"
	"github.com/stratahq/strata/domain/dataset"
	"github.com/stratahq/strata/domain/datum"
	"github.com/stratahq/strata/domain/execution"
	"github.com/stratahq/strata/events"
)

// Reserved output properties (sidecar keys) that are follow-up commands rather than
// free-form datum properties.
const (
	PropTags            = "valohai.tags"
	PropAlias           = "valohai.alias"
	PropDatasetVersions = "valohai.dataset-versions"
)

var datasetDecider = events.Decider[dataset.State, dataset.Command, dataset.Event]{Decide: dataset.Decide, Evolve: dataset.Evolve}

// Output is one file of a running execution's outputs directory.
type Output struct {
	Execution domain.ExecutionID
	// Path is the file's path relative to the outputs directory, slash-separated.
	Path string
	// Content is read once, to EOF, into the project's upload store.
	Content io.Reader
	// Properties are the file's sidecar metadata, reserved keys included; they are
	// recorded on the output event as given.
	Properties map[string]json.RawMessage
}

// OutputResult is what UploadOutput did.
type OutputResult struct {
	Datum domain.DatumID
	// Cause is the ID of the execution.OutputRecorded event, the causation ID of the
	// follow-up commands.
	Cause uuid.UUID
	// Again reports that the execution had recorded an output at Path before: nothing was
	// stored, the follow-ups were only completed.
	Again bool
	// Sidecar is what the follow-ups did.
	Sidecar SidecarResult
}

// SidecarResult is what ApplyOutput did with an output's reserved properties.
type SidecarResult struct {
	// Alias is the datum alias moved to the output, "" if none.
	Alias string
	// Tags are the tags asked for.
	Tags []string
	// DatasetVersions are the dataset versions the output asked to be part of
	// (dataset://<dataset>/<version>); CreateOutputVersions creates them once every output
	// is recorded.
	DatasetVersions []string
}

// UploadOutput stores o.Content in the execution's project upload store as a new datum
// produced by the execution, records it as an output (execution.OutputRecorded, with the
// properties as given) and applies the reserved properties as follow-up commands caused by
// that event (see ApplyOutput). It is idempotent on (execution, path): when the execution
// has recorded an output at o.Path already, nothing is stored and only the follow-ups are
// completed. The execution must be started or stopping. The runner calls it for an
// execution it runs, so it checks no project role; the actor is the context's.
func (s *Service) UploadOutput(ctx context.Context, o Output) (OutputResult, error) {
	fail := func(err error) (OutputResult, error) {
		return OutputResult{}, fmt.Errorf("upload output %s of execution %s: %w", o.Path, o.Execution, err)
	}
	if err := domain.CheckPath("output path", o.Path); err != nil {
		return fail(err)
	}
	envs, err := s.log.Load(ctx, ExecutionStream(o.Execution), 0)
	if err != nil {
		return fail(err)
	}
	st := execution.State{}
	for _, env := range envs {
		ev, err := s.codec.Decode(env)
		if err != nil {
			return fail(err)
		}
		e, ok := ev.(execution.Event)
		if !ok {
			return fail(fmt.Errorf("event %s is no execution event: %w", env.Type, domain.ErrInvalid))
		}
		st = execution.Evolve(st, e)
		if rec, ok := e.(execution.OutputRecorded); ok && rec.Path == o.Path {
			res := OutputResult{Datum: rec.Datum, Cause: env.ID, Again: true}
			res.Sidecar, err = s.applyOutput(ctx, st.Project(), rec, env.ID)
			return res, err
		}
	}
	if !st.Exists() {
		return fail(execution.ErrNotFound)
	}
	if s := st.Status(); s != domain.StatusStarted && s != domain.StatusStopping {
		return fail(fmt.Errorf("execution #%d is %s, not running: %w", st.Number(), s, domain.ErrConflict))
	}
	p, err := s.loadProject(ctx, st.Project())
	if err != nil {
		return fail(err)
	}
	info, err := s.stores.upload(p, "")
	if err != nil {
		return fail(err)
	}
	bs, err := s.blobStore(info)
	if err != nil {
		return fail(err)
	}
	obj, err := bs.Put(ctx, o.Content)
	if err != nil {
		return fail(fmt.Errorf("store content in %q: %w", info.cfg.Name, err))
	}
	b3 := obj.Digests.BLAKE3
	unlock := s.locks.lock(info.url, b3)
	defer unlock()
	// A purge may have deleted the content between Put and taking the lock.
	if _, err := bs.Stat(ctx, b3); errors.Is(err, blob.ErrNotFound) {
		return fail(ErrContentGone)
	} else if err != nil {
		return fail(err)
	}
	meta := s.runnerMeta(ctx, o.Execution, "")
	dt := domain.DatumID(s.newID())
	if _, err := events.Execute(ctx, s.log, s.codec, DatumStream(dt), datumDecider, datum.Command(datum.Create{
		Datum: dt, Project: st.Project(), Name: o.Path, Size: obj.Size, Digests: obj.Digests, Store: info.url,
		Key: blob.Key(b3), Execution: o.Execution, At: s.at(),
	}), meta); err != nil {
		return fail(err)
	}
	res, err := events.Execute(ctx, s.log, s.codec, ExecutionStream(o.Execution), executionDecider,
		execution.Command(execution.RecordOutput{Datum: dt, Path: o.Path, Properties: o.Properties, At: s.at()}), meta)
	if err != nil {
		return fail(err)
	}
	recorded, err := s.log.Load(ctx, ExecutionStream(o.Execution), res.Version-1)
	if err != nil || len(recorded) == 0 {
		return fail(fmt.Errorf("load the output event: %w", errors.Join(err, events.ErrConflict)))
	}
	out := OutputResult{Datum: dt, Cause: recorded[0].ID}
	ev, err := s.codec.Decode(recorded[0])
	if err != nil {
		_, err = fail(err)
		return out, err
	}
	rec, ok := ev.(execution.OutputRecorded)
	if !ok {
		_, err = fail(fmt.Errorf("output event is %s: %w", recorded[0].Type, domain.ErrConflict))
		return out, err
	}
	out.Sidecar, err = s.applyOutput(ctx, st.Project(), rec, recorded[0].ID)
	return out, err
}

// runnerMeta is the metadata of commands done for execution id: the context's actor, the
// context's correlation ID or else the execution's, and cause.
func (s *Service) runnerMeta(ctx context.Context, id domain.ExecutionID, cause string) events.Meta {
	m := metaFrom(ctx)
	if m.CorrelationID == "" {
		m.CorrelationID = string(id)
	}
	m.CausationID = cause
	return m
}

// ApplyOutput applies the reserved properties of the output event cause of execution id as
// follow-up commands carrying cause as their causation ID: valohai.tags tags the datum,
// valohai.alias moves a datum alias to it, the other keys but valohai.dataset-versions
// become datum properties. It is idempotent on cause: a command whose event with that
// causation is already in its stream is not run again, so a retry after a crash completes
// what is missing and undoes nothing users did since.
func (s *Service) ApplyOutput(ctx context.Context, id domain.ExecutionID, cause uuid.UUID) (SidecarResult, error) {
	envs, err := s.log.Load(ctx, ExecutionStream(id), 0)
	if err != nil {
		return SidecarResult{}, fmt.Errorf("apply output %s of execution %s: %w", cause, id, err)
	}
	var p domain.ProjectID
	for _, env := range envs {
		ev, err := s.codec.Decode(env)
		if err != nil {
			return SidecarResult{}, fmt.Errorf("apply output %s of execution %s: %w", cause, id, err)
		}
		switch e := ev.(type) {
		case execution.Created:
			p = e.Project
		case execution.OutputRecorded:
			if env.ID == cause {
				return s.applyOutput(ctx, p, e, cause)
			}
		}
	}
	return SidecarResult{}, fmt.Errorf("apply output %s of execution %s: no such output event: %w", cause, id, domain.ErrNotFound)
}

// applyOutput runs the follow-ups of output rec (event cause) of an execution of project p.
func (s *Service) applyOutput(ctx context.Context, p domain.ProjectID, rec execution.OutputRecorded, cause uuid.UUID) (SidecarResult, error) {
	var out SidecarResult
	var errs []error
	meta := s.runnerMeta(ctx, rec.Execution, cause.String())
	free := map[string]json.RawMessage{}
	for k, v := range rec.Properties {
		switch k {
		case PropTags:
			if err := json.Unmarshal(v, &out.Tags); err != nil {
				errs = append(errs, fmt.Errorf("%s: want a list of strings: %w", PropTags, domain.ErrInvalid))
			}
		case PropAlias:
			if err := json.Unmarshal(v, &out.Alias); err != nil {
				errs = append(errs, fmt.Errorf("%s: want a string: %w", PropAlias, domain.ErrInvalid))
			}
		case PropDatasetVersions:
			reqs, err := parseVersionRequests(v)
			if err != nil {
				errs = append(errs, err)
			}
			for _, r := range reqs {
				out.DatasetVersions = append(out.DatasetVersions, r.uri.String())
			}
		default:
			free[k] = v
		}
	}
	if len(out.Tags) > 0 {
		errs = append(errs, s.followUp(ctx, DatumStream(rec.Datum), datum.TagsAdded{}.EventType(), meta, func() error {
			_, err := events.Execute(ctx, s.log, s.codec, DatumStream(rec.Datum), datumDecider, datum.Command(datum.AddTags{Tags: out.Tags, At: s.at()}), meta)
			return err
		}))
	}
	if len(free) > 0 {
		errs = append(errs, s.followUp(ctx, DatumStream(rec.Datum), datum.PropertiesSet{}.EventType(), meta, func() error {
			_, err := events.Execute(ctx, s.log, s.codec, DatumStream(rec.Datum), datumDecider, datum.Command(datum.SetProperties{Properties: free, At: s.at()}), meta)
			return err
		}))
	}
	if out.Alias != "" {
		errs = append(errs, s.followUp(ctx, AliasStream(p, out.Alias), "", meta, func() error {
			_, err := events.Execute(ctx, s.log, s.codec, AliasStream(p, out.Alias), aliasDecider,
				alias.Command(alias.Set{Project: p, Name: out.Alias, Datum: rec.Datum, At: s.at()}), meta)
			return err
		}))
	}
	if err := errors.Join(errs...); err != nil {
		return out, fmt.Errorf("apply sidecar of output %s: %w", rec.Path, err)
	}
	return out, nil
}

// followUp runs do unless stream holds an event of type typ (any type if "") caused by
// meta.CausationID.
func (s *Service) followUp(ctx context.Context, stream events.StreamID, typ string, meta events.Meta, do func() error) error {
	done, err := s.causedIn(ctx, stream, typ, meta.CausationID)
	if err != nil || done {
		return err
	}
	if err := do(); err != nil {
		return fmt.Errorf("%s: %w", stream, err)
	}
	return nil
}

// causedIn reports whether stream holds an event of type typ (any if "") caused by cause.
func (s *Service) causedIn(ctx context.Context, stream events.StreamID, typ, cause string) (bool, error) {
	envs, err := s.log.Load(ctx, stream, 0)
	if err != nil {
		return false, fmt.Errorf("load %s: %w", stream, err)
	}
	for _, env := range envs {
		if env.CausationID == cause && (typ == "" || env.Type == typ) {
			return true, nil
		}
	}
	return false, nil
}

// versionRequest is one entry of valohai.dataset-versions: a URI string, or an object.
type versionRequest struct {
	uri        domain.DatasetURI
	from       string // base version or alias, "" for none
	startFresh bool
	exclude    []string // file names of the base to leave out
	aliases    []string
	metadata   map[string]json.RawMessage
}

func parseVersionRequests(v json.RawMessage) ([]versionRequest, error) {
	var raw []json.RawMessage
	if err := json.Unmarshal(v, &raw); err != nil {
		var one json.RawMessage
		if json.Unmarshal(v, &one) != nil {
			return nil, fmt.Errorf("%s: want a list: %w", PropDatasetVersions, domain.ErrInvalid)
		}
		raw = []json.RawMessage{one} // a single entry, leniently
	}
	var out []versionRequest
	var errs []error
	for _, item := range raw {
		var r versionRequest
		var uri string
		if err := json.Unmarshal(item, &uri); err != nil {
			var obj struct {
				URI              string                     `json:"uri"`
				From             string                     `json:"from"`
				StartFresh       bool                       `json:"start_fresh"`
				Exclude          []string                   `json:"exclude"`
				TargetingAliases []string                   `json:"targeting_aliases"`
				Metadata         map[string]json.RawMessage `json:"metadata"`
			}
			if err := json.Unmarshal(item, &obj); err != nil {
				errs = append(errs, fmt.Errorf("%s: want a dataset:// URI or an object with uri: %w", PropDatasetVersions, domain.ErrInvalid))
				continue
			}
			uri, r.startFresh, r.exclude, r.aliases, r.metadata = obj.URI, obj.StartFresh, obj.Exclude, obj.TargetingAliases, obj.Metadata
			if obj.From != "" {
				from, err := domain.ParseDatasetURI(obj.From)
				if err != nil {
					errs = append(errs, fmt.Errorf("%s: from: %w", PropDatasetVersions, err))
					continue
				}
				r.from = from.Version
				if u, err := domain.ParseDatasetURI(uri); err == nil && u.Dataset != from.Dataset {
					errs = append(errs, fmt.Errorf("%s: from %s is another dataset than %s: %w", PropDatasetVersions, obj.From, uri, domain.ErrInvalid))
					continue
				}
			}
		}
		u, err := domain.ParseDatasetURI(uri)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", PropDatasetVersions, err))
			continue
		}
		r.uri = u
		out = append(out, r)
	}
	return out, errors.Join(errs...)
}

// OutputVersion is one dataset version made from an execution's outputs.
type OutputVersion struct {
	// URI is dataset://<dataset>/<version>.
	URI string
	// Files are the datums of the version.
	Files []domain.DatumID
	// Created is false when the version existed already with these files.
	Created bool
}

// CreateOutputVersions creates the dataset versions that the outputs of execution id ask
// for in valohai.dataset-versions: a version gets every output that lists it (plus, with
// "from", the base version's files minus "exclude", by file name); the dataset is created
// when missing; targeting_aliases move with the version and "metadata" becomes version
// properties. Each version's commands carry the ID of the last output event listing it as
// causation. Call it once all outputs are recorded. It is idempotent: a version that exists
// with the same files is left alone; one that exists with other files is an error matching
// dataset.ErrNameTaken, reported with the others.
func (s *Service) CreateOutputVersions(ctx context.Context, id domain.ExecutionID) ([]OutputVersion, error) {
	envs, err := s.log.Load(ctx, ExecutionStream(id), 0)
	if err != nil {
		return nil, fmt.Errorf("create output dataset versions of execution %s: %w", id, err)
	}
	type want struct {
		req   versionRequest
		files []domain.DatumID
		cause uuid.UUID
	}
	var p domain.ProjectID
	var order []string
	wants := map[string]*want{}
	for _, env := range envs {
		ev, err := s.codec.Decode(env)
		if err != nil {
			return nil, fmt.Errorf("create output dataset versions of execution %s: %w", id, err)
		}
		switch e := ev.(type) {
		case execution.Created:
			p = e.Project
		case execution.OutputRecorded:
			v, ok := e.Properties[PropDatasetVersions]
			if !ok {
				continue
			}
			reqs, _ := parseVersionRequests(v) // ApplyOutput reported the bad entries
			for _, r := range reqs {
				key := r.uri.String()
				w := wants[key]
				if w == nil {
					w = &want{req: r}
					wants[key] = w
					order = append(order, key)
				} else {
					w.req = mergeRequests(w.req, r)
				}
				if !slices.Contains(w.files, e.Datum) {
					w.files = append(w.files, e.Datum)
				}
				w.cause = env.ID
			}
		}
	}
	var out []OutputVersion
	var errs []error
	for _, key := range order {
		w := wants[key]
		ov, err := s.createOutputVersion(ctx, id, p, w.req, w.files, w.cause)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", key, err))
			continue
		}
		out = append(out, ov)
	}
	if err := errors.Join(errs...); err != nil {
		return out, fmt.Errorf("create output dataset versions of execution %s: %w", id, err)
	}
	return out, nil
}

// mergeRequests combines two entries for the same version: options set on either count.
func mergeRequests(a, b versionRequest) versionRequest {
	if a.from == "" {
		a.from = b.from
	}
	a.startFresh = a.startFresh || b.startFresh
	a.exclude = append(a.exclude, b.exclude...)
	a.aliases = append(a.aliases, b.aliases...)
	for k, v := range b.metadata {
		if a.metadata == nil {
			a.metadata = map[string]json.RawMessage{}
		}
		a.metadata[k] = v
	}
	return a
}

func (s *Service) createOutputVersion(ctx context.Context, exec domain.ExecutionID, p domain.ProjectID, r versionRequest, files []domain.DatumID, cause uuid.UUID) (OutputVersion, error) {
	ov := OutputVersion{URI: r.uri.String()}
	stream := DatasetStream(p, r.uri.Dataset)
	meta := s.runnerMeta(ctx, exec, cause.String())
	st, _, err := events.Fold(ctx, s.log, s.codec, stream, dataset.State{}, dataset.Evolve)
	if err != nil {
		return ov, err
	}
	if !st.Exists() {
		res, err := events.Execute(ctx, s.log, s.codec, stream, datasetDecider, dataset.Command(dataset.Create{
			Dataset: domain.DatasetID(s.newID()), Project: p, Name: r.uri.Dataset, At: s.at(),
		}), meta)
		if err != nil && !errors.Is(err, dataset.ErrExists) {
			return ov, fmt.Errorf("create dataset %s: %w", r.uri.Dataset, err)
		}
		if err == nil {
			st = res.State
		} else if st, _, err = events.Fold(ctx, s.log, s.codec, stream, dataset.State{}, dataset.Evolve); err != nil {
			return ov, err
		}
	}
	cmd := dataset.CreateVersion{Version: r.uri.Version, Add: files, Aliases: r.aliases, At: s.at()}
	if r.from != "" && !r.startFresh {
		cmd.From = r.from
		if len(r.exclude) > 0 {
			_, base, err := st.Resolve(r.from)
			if err != nil {
				return ov, err
			}
			for _, d := range base {
				ds, err := s.loadDatum(ctx, d)
				if err != nil {
					return ov, err
				}
				if slices.ContainsFunc(r.exclude, func(name string) bool { return sameFile(ds.Name(), name) }) {
					cmd.Exclude = append(cmd.Exclude, d)
				}
			}
		}
	}
	if slices.Contains(st.Versions(), r.uri.Version) {
		done, err := s.causedIn(ctx, stream, dataset.VersionCreated{}.EventType(), cause.String())
		if err != nil {
			return ov, err
		}
		if !done {
			return ov, fmt.Errorf("create version %s: %w", r.uri.Version, dataset.ErrNameTaken)
		}
		_, ov.Files, _ = st.Resolve(r.uri.Version) // made by this very request before
		return ov, s.versionProperties(ctx, stream, r, meta)
	}
	res, err := events.Execute(ctx, s.log, s.codec, stream, datasetDecider, dataset.Command(cmd), meta)
	if err != nil {
		return ov, err
	}
	_, ov.Files, _ = res.State.Resolve(r.uri.Version)
	ov.Created = true
	return ov, s.versionProperties(ctx, stream, r, meta)
}

// versionProperties sets the version properties r asks for, once per cause.
func (s *Service) versionProperties(ctx context.Context, stream events.StreamID, r versionRequest, meta events.Meta) error {
	if len(r.metadata) == 0 {
		return nil
	}
	return s.followUp(ctx, stream, dataset.PropertiesSet{}.EventType(), meta, func() error {
		_, err := events.Execute(ctx, s.log, s.codec, stream, datasetDecider,
			dataset.Command(dataset.SetProperties{Version: r.uri.Version, Properties: r.metadata, At: s.at()}), meta)
		return err
	})
}

// sameFile reports whether datum name names file: the same path, or the same base name.
func sameFile(name, file string) bool {
	return name == file || path.Base(name) == file
}
