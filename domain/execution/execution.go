package execution

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/stratahq/strata/domain"
)

// Limits on what one command may carry.
const (
	MaxCommandLen     = 64 << 10 // bytes of one rendered command
	MaxEnvValueLen    = 32 << 10 // bytes of one environment variable value
	MaxMetadataPoints = 10_000   // points in one RecordMetadata batch
	MaxInputURIs      = 10_000   // URIs of one input
)

// Errors Decide returns besides *TransitionError.
var (
	// ErrNotFound: the command needs an execution that does not exist.
	ErrNotFound = fmt.Errorf("execution does not exist: %w", domain.ErrNotFound)
	// ErrNotRunning: the command records something only a started or stopping execution
	// produces (input files, metadata, resources, outputs).
	ErrNotRunning = fmt.Errorf("execution is not running: %w", domain.ErrConflict)
)

// TransitionError reports a command that would move the execution between two statuses
// the transition table does not connect. It matches domain.ErrConflict.
type TransitionError struct {
	From, To domain.ExecutionStatus
}

// Error names both statuses: "execution: cannot go from complete to started".
func (e *TransitionError) Error() string {
	return fmt.Sprintf("execution: cannot go from %s to %s", e.From, e.To)
}

// Is makes a TransitionError match domain.ErrConflict.
func (e *TransitionError) Is(target error) bool { return target == domain.ErrConflict }

// transitions is the table of legal status changes; see the package documentation.
var transitions = map[domain.ExecutionStatus][]domain.ExecutionStatus{
	domain.StatusCreated:  {domain.StatusQueued, domain.StatusStopping, domain.StatusCrashed},
	domain.StatusQueued:   {domain.StatusStarted, domain.StatusStopping, domain.StatusCrashed},
	domain.StatusStarted:  {domain.StatusComplete, domain.StatusError, domain.StatusStopping, domain.StatusCrashed},
	domain.StatusStopping: {domain.StatusStopped, domain.StatusCrashed},
}

// CanTransition reports whether the transition table allows going from one status to
// another. Nothing leaves stopped, complete, error or crashed.
func CanTransition(from, to domain.ExecutionStatus) bool {
	return slices.Contains(transitions[from], to)
}

// State is an execution folded from its events. The zero State is an execution that does
// not exist yet.
type State struct {
	spec            Created
	status          domain.ExecutionStatus
	queuedAt        time.Time
	startedAt       time.Time
	endedAt         time.Time
	host            string
	hardware        Hardware
	imageDigest     string
	exitCode        int
	reason          string
	stopRequestedBy domain.UserID
	tags            []string
	outputs         []domain.DatumID
	inputFiles      int
	metadataPoints  int
	resourceSamples int
	resources       *ResourceSummary
}

// Exists reports whether the execution was created.
func (s State) Exists() bool { return s.status != "" }

// ID returns the execution's ID.
func (s State) ID() domain.ExecutionID { return s.spec.Execution }

// Project returns the project the execution belongs to.
func (s State) Project() domain.ProjectID { return s.spec.Project }

// Number returns the execution's counter in its project (#Number).
func (s State) Number() int { return s.spec.Number }

// Status returns the current status; empty if the execution does not exist.
func (s State) Status() domain.ExecutionStatus { return s.status }

// Spec returns the creation record: step, code, image, commands, parameters, inputs,
// environment and the rest. Its slices are shared: read, don't modify.
func (s State) Spec() Created { return s.spec }

// Tags returns the current tags in the order they were added.
func (s State) Tags() []string { return slices.Clone(s.tags) }

// Outputs returns the datums recorded as outputs, in order.
func (s State) Outputs() []domain.DatumID { return slices.Clone(s.outputs) }

// QueuedAt returns when the execution was queued; zero if never.
func (s State) QueuedAt() time.Time { return s.queuedAt }

// StartedAt returns when the execution started; zero if never.
func (s State) StartedAt() time.Time { return s.startedAt }

// EndedAt returns when the execution reached a final status; zero if it has not.
func (s State) EndedAt() time.Time { return s.endedAt }

// Host returns the host the execution started on.
func (s State) Host() string { return s.host }

// Hardware returns the hardware the execution started on.
func (s State) Hardware() Hardware { return s.hardware }

// ImageDigest returns the resolved image digest recorded at start.
func (s State) ImageDigest() string { return s.imageDigest }

// ExitCode returns the exit code recorded by Finished (0 otherwise).
func (s State) ExitCode() int { return s.exitCode }

// Reason returns why the execution ended (Finished or Crashed), if recorded.
func (s State) Reason() string { return s.reason }

// StopRequestedBy returns who asked to stop the execution; empty if nobody did.
func (s State) StopRequestedBy() domain.UserID { return s.stopRequestedBy }

// InputFiles returns how many input files were hashed.
func (s State) InputFiles() int { return s.inputFiles }

// MetadataPoints returns how many metadata points were recorded.
func (s State) MetadataPoints() int { return s.metadataPoints }

// ResourceSamples returns how many resource samples were recorded.
func (s State) ResourceSamples() int { return s.resourceSamples }

// Resources returns the resource summary the execution finished with, nil if none.
func (s State) Resources() *ResourceSummary {
	if s.resources == nil {
		return nil
	}
	r := *s.resources
	return &r
}

// Network reports whether the step asked for network access.
func (s State) Network() bool { return s.spec.Network }

// Duration returns how long the execution has run: from start to its end, or to now
// while it has not ended. It is 0 for an execution that never started.
func (s State) Duration(now time.Time) time.Duration {
	if s.startedAt.IsZero() {
		return 0
	}
	end := s.endedAt
	if end.IsZero() {
		end = now
	}
	if d := end.Sub(s.startedAt); d > 0 {
		return d
	}
	return 0
}

// Cost returns the price of the execution's run time at pricePerHour (the environment's
// price), rounded down to a micro-dollar.
func (s State) Cost(pricePerHour domain.Money, now time.Time) domain.Money {
	return pricePerHour.PerHour(s.Duration(now))
}

// Decide validates c against s and returns the events it causes. Zero events is a valid
// answer for a repeated idempotent command.
func Decide(s State, c Command) ([]Event, error) {
	if create, ok := c.(Create); ok {
		if s.Exists() {
			return nil, &TransitionError{From: s.status, To: domain.StatusCreated}
		}
		return decideCreate(create)
	}
	if !s.Exists() {
		return nil, fmt.Errorf("%s: %w", commandName(c), ErrNotFound)
	}
	id := s.spec.Execution
	switch c := c.(type) {
	case Queue:
		if err := s.transition(domain.StatusQueued, c.At); err != nil {
			return nil, err
		}
		return []Event{Queued{Execution: id, At: c.At}}, nil
	case Start:
		if err := s.transition(domain.StatusStarted, c.At); err != nil {
			return nil, err
		}
		if err := checkStart(c); err != nil {
			return nil, err
		}
		return []Event{Started{Execution: id, Host: c.Host, Hardware: c.Hardware, ImageDigest: c.ImageDigest, At: c.At}}, nil
	case Finish:
		to := domain.StatusComplete
		if c.ExitCode != 0 {
			to = domain.StatusError
		}
		if err := s.transition(to, c.At); err != nil {
			return nil, err
		}
		if c.Reason != "" {
			if err := domain.CheckText("reason", c.Reason, domain.MaxTextLen); err != nil {
				return nil, err
			}
		}
		if r := c.Resources; r != nil && (r.Samples < 0 || r.PeakCPUPercent < 0 || r.AvgCPUPercent < 0 || r.PeakMemoryBytes < 0 || r.AvgMemoryBytes < 0 ||
			math.IsNaN(r.PeakCPUPercent) || math.IsInf(r.PeakCPUPercent, 0) || math.IsNaN(r.AvgCPUPercent) || math.IsInf(r.AvgCPUPercent, 0)) {
			return nil, fmt.Errorf("finish: resource summary must be finite and not negative: %w", domain.ErrInvalid)
		}
		var res *ResourceSummary
		if c.Resources != nil {
			r := *c.Resources
			res = &r
		}
		return []Event{Finished{Execution: id, ExitCode: c.ExitCode, Reason: c.Reason, Status: to, Resources: res, At: c.At}}, nil
	case RequestStop:
		if s.status == domain.StatusStopping {
			return nil, nil
		}
		if err := s.transition(domain.StatusStopping, c.At); err != nil {
			return nil, err
		}
		if err := domain.CheckUser(c.By); err != nil {
			return nil, fmt.Errorf("request stop: %w", err)
		}
		evs := []Event{StopRequested{Execution: id, By: c.By, At: c.At}}
		if s.status == domain.StatusCreated || s.status == domain.StatusQueued {
			evs = append(evs, Stopped{Execution: id, At: c.At}) // nothing runs: stopped at once
		}
		return evs, nil
	case MarkStopped:
		if err := s.transition(domain.StatusStopped, c.At); err != nil {
			return nil, err
		}
		return []Event{Stopped{Execution: id, At: c.At}}, nil
	case Crash:
		if err := s.transition(domain.StatusCrashed, c.At); err != nil {
			return nil, err
		}
		if err := domain.CheckText("reason", c.Reason, domain.MaxTextLen); err != nil {
			return nil, fmt.Errorf("crash: %w", err)
		}
		return []Event{Crashed{Execution: id, Reason: c.Reason, At: c.At}}, nil
	case HashInput:
		if err := s.runningAt("hash input", c.At); err != nil {
			return nil, err
		}
		if err := s.checkHashInput(c); err != nil {
			return nil, err
		}
		d := c.Digests
		return []Event{InputHashed{Execution: id, Input: c.Input, URI: c.URI, Datum: c.Datum, FileName: c.FileName, Size: c.Size,
			MD5: d.MD5, SHA1: d.SHA1, SHA256: d.SHA256, BLAKE3: d.BLAKE3, At: c.At}}, nil
	case RecordMetadata:
		if err := s.running("record metadata"); err != nil {
			return nil, err
		}
		points, err := checkPoints(c.Points)
		if err != nil {
			return nil, err
		}
		return []Event{MetadataRecorded{Execution: id, Points: points}}, nil
	case SampleResources:
		if err := s.runningAt("sample resources", c.At); err != nil {
			return nil, err
		}
		if err := checkSample(c); err != nil {
			return nil, err
		}
		return []Event{ResourcesSampled{Execution: id, CPUPercent: c.CPUPercent, MemoryBytes: c.MemoryBytes, GPUs: slices.Clone(c.GPUs), At: c.At}}, nil
	case RecordOutput:
		if err := s.runningAt("record output", c.At); err != nil {
			return nil, err
		}
		if err := domain.CheckID("datum", c.Datum); err != nil {
			return nil, fmt.Errorf("record output: %w", err)
		}
		if err := domain.CheckPath("output path", c.Path); err != nil {
			return nil, fmt.Errorf("record output: %w", err)
		}
		props, err := compactJSON("output property", c.Properties)
		if err != nil {
			return nil, fmt.Errorf("record output: %w", err)
		}
		if slices.Contains(s.outputs, c.Datum) {
			return nil, nil
		}
		return []Event{OutputRecorded{Execution: id, Datum: c.Datum, Path: c.Path, Properties: props, At: c.At}}, nil
	case AddTags:
		if err := checkAt(c.At); err != nil {
			return nil, err
		}
		tags, err := domain.TagsToAdd(s.tags, c.Tags)
		if err != nil {
			return nil, err
		}
		if len(tags) == 0 {
			return nil, nil
		}
		return []Event{TagsAdded{Execution: id, Tags: tags, At: c.At}}, nil
	case RemoveTags:
		if err := checkAt(c.At); err != nil {
			return nil, err
		}
		tags, err := domain.TagsToRemove(s.tags, c.Tags)
		if err != nil {
			return nil, err
		}
		if len(tags) == 0 {
			return nil, nil
		}
		return []Event{TagsRemoved{Execution: id, Tags: tags, At: c.At}}, nil
	}
	return nil, fmt.Errorf("execution: unknown command %T: %w", c, domain.ErrInvalid)
}

// Evolve applies e to s. It never fails: history is fact. Like append, it may reuse the
// memory of s, so fold forward and keep only the result.
func Evolve(s State, e Event) State {
	switch e := e.(type) {
	case Created:
		s.spec, s.status, s.tags = e, domain.StatusCreated, slices.Clone(e.Tags)
	case Queued:
		s.status, s.queuedAt = domain.StatusQueued, e.At
	case Started:
		s.status, s.startedAt = domain.StatusStarted, e.At
		s.host, s.hardware, s.imageDigest = e.Host, e.Hardware, e.ImageDigest
	case Finished:
		s.status, s.exitCode, s.reason, s.endedAt, s.resources = e.Status, e.ExitCode, e.Reason, e.At, e.Resources
	case StopRequested:
		s.status, s.stopRequestedBy = domain.StatusStopping, e.By
	case Stopped:
		s.status, s.endedAt = domain.StatusStopped, e.At
	case Crashed:
		s.status, s.reason, s.endedAt = domain.StatusCrashed, e.Reason, e.At
	case InputHashed:
		s.inputFiles++
	case MetadataRecorded:
		s.metadataPoints += len(e.Points)
	case ResourcesSampled:
		s.resourceSamples++
	case OutputRecorded:
		s.outputs = append(s.outputs, e.Datum)
	case TagsAdded:
		s.tags = append(s.tags, e.Tags...)
	case TagsRemoved:
		s.tags = slices.DeleteFunc(s.tags, func(t string) bool { return slices.Contains(e.Tags, t) })
	}
	return s
}

func (s State) transition(to domain.ExecutionStatus, at time.Time) error {
	if !CanTransition(s.status, to) {
		return &TransitionError{From: s.status, To: to}
	}
	return checkAt(at)
}

func (s State) running(action string) error {
	if s.status != domain.StatusStarted && s.status != domain.StatusStopping {
		return fmt.Errorf("%s while %s: %w", action, s.status, ErrNotRunning)
	}
	return nil
}

func (s State) runningAt(action string, at time.Time) error {
	if err := s.running(action); err != nil {
		return err
	}
	return checkAt(at)
}

func checkAt(at time.Time) error {
	if at.IsZero() {
		return fmt.Errorf("execution: missing time: %w", domain.ErrInvalid)
	}
	return nil
}

func commandName(c Command) string {
	name := fmt.Sprintf("%T", c)
	return strings.ToLower(strings.TrimPrefix(name, "execution."))
}

func decideCreate(c Create) ([]Event, error) {
	bad := func(format string, args ...any) ([]Event, error) {
		return nil, fmt.Errorf("create execution: %s: %w", fmt.Sprintf(format, args...), domain.ErrInvalid)
	}
	wrap := func(err error) ([]Event, error) { return nil, fmt.Errorf("create execution: %w", err) }
	if err := domain.CheckID("execution", c.Execution); err != nil {
		return wrap(err)
	}
	if err := domain.CheckID("project", c.Project); err != nil {
		return wrap(err)
	}
	if c.Number < 1 {
		return bad("number %d: want the project counter, 1 or more", c.Number)
	}
	if err := checkAt(c.At); err != nil {
		return wrap(err)
	}
	if err := domain.CheckText("step name", c.Step.Name, domain.MaxTextLen); err != nil {
		return wrap(err)
	}
	if err := checkCode(c.Code); err != nil {
		return wrap(err)
	}
	if err := domain.CheckText("image", c.Image, 512); err != nil {
		return wrap(err)
	} else if strings.ContainsRune(c.Image, ' ') {
		return bad("image %q: space not allowed", c.Image)
	}
	if len(c.Commands) == 0 {
		return bad("commands: missing")
	}
	for i, cmd := range c.Commands {
		if strings.TrimSpace(cmd) == "" || len(cmd) > MaxCommandLen || !utf8.ValidString(cmd) || strings.ContainsRune(cmd, 0) {
			return bad("command %d: want non-blank UTF-8 text without NUL, at most %d bytes", i, MaxCommandLen)
		}
	}
	params, err := ValidateParameters(c.Step.Parameters, c.Parameters)
	if err != nil {
		return wrap(err)
	}
	inputs, err := resolveInputs(c.Step.Inputs, c.Inputs, c.Resolved)
	if err != nil {
		return wrap(err)
	}
	if err := domain.CheckID("environment", c.Environment); err != nil {
		return wrap(err)
	}
	vars, err := checkEnvironmentVariables(c.EnvironmentVariables)
	if err != nil {
		return wrap(err)
	}
	if err := domain.CheckUser(c.Creator); err != nil {
		return wrap(err)
	}
	if c.Title != "" {
		if err := domain.CheckText("title", c.Title, domain.MaxTextLen); err != nil {
			return wrap(err)
		}
	}
	if c.Task != "" {
		if err := domain.CheckID("task", c.Task); err != nil {
			return wrap(err)
		}
	}
	tags, err := domain.NormalizeTags(c.Tags)
	if err != nil {
		return wrap(err)
	}
	if c.TimeLimit < 0 || c.NoOutputTimeout < 0 {
		return bad("time limit and no-output timeout must not be negative")
	}
	return []Event{Created{
		Execution: c.Execution, Project: c.Project, Number: c.Number, Step: c.Step.Name, Code: c.Code,
		Image: c.Image, Commands: slices.Clone(c.Commands), Parameters: params, Inputs: inputs,
		Environment: c.Environment, EnvironmentVariables: vars, Creator: c.Creator, Title: c.Title,
		Task: c.Task, Tags: tags, Priority: c.Priority, TimeLimit: c.TimeLimit,
		NoOutputTimeout: c.NoOutputTimeout, Network: c.Network, At: c.At,
	}}, nil
}

func checkCode(c Code) error {
	switch {
	case c.Adhoc != "" && (c.Commit != "" || c.Repository != ""):
		return fmt.Errorf("code: want a commit or an ad-hoc datum, not both: %w", domain.ErrInvalid)
	case c.Adhoc != "":
		return domain.CheckID("ad-hoc code datum", c.Adhoc)
	case c.Commit == "" && c.Repository == "":
		return fmt.Errorf("code: missing (want a repository and commit, or an ad-hoc datum): %w", domain.ErrInvalid)
	}
	if err := domain.CheckRepositoryURL(c.Repository); err != nil {
		return fmt.Errorf("code repository: %w", err)
	}
	return domain.CheckCommit(c.Commit)
}

func resolveInputs(defs []InputDef, given map[string][]string, resolved map[string][]domain.DatumID) ([]Input, error) {
	declared := make(map[string]bool, len(defs))
	used := make(map[string]bool)
	var out []Input
	for _, d := range defs {
		if err := domain.CheckName("input name", d.Name); err != nil {
			return nil, err
		}
		if len(d.Name) > 64 {
			return nil, fmt.Errorf("input %q: name longer than 64 bytes: %w", d.Name, domain.ErrInvalid)
		}
		if declared[d.Name] {
			return nil, fmt.Errorf("input %q: defined twice: %w", d.Name, domain.ErrInvalid)
		}
		declared[d.Name] = true
		keep, err := checkPlacement(d)
		if err != nil {
			return nil, err
		}
		uris := given[d.Name]
		if len(uris) == 0 {
			if !d.Optional {
				return nil, fmt.Errorf("input %q: required, and no URI given: %w", d.Name, domain.ErrInvalid)
			}
			continue
		}
		if len(uris) > MaxInputURIs {
			return nil, fmt.Errorf("input %q: more than %d URIs: %w", d.Name, MaxInputURIs, domain.ErrInvalid)
		}
		in := Input{Name: d.Name, URIs: make([]ResolvedURI, len(uris)), Filename: d.Filename, KeepDirectories: keep}
		for i, raw := range uris {
			u, err := domain.ParseInputURI(raw)
			if err != nil {
				return nil, fmt.Errorf("input %q: %w", d.Name, err)
			}
			r := ResolvedURI{URI: raw}
			switch {
			case u.Datum.ID != "":
				r.Datums = []domain.DatumID{u.Datum.ID}
			case u.Datum.Alias != "" || !u.Dataset.IsZero():
				ids, ok := resolved[raw]
				if !ok {
					return nil, fmt.Errorf("input %q: %s was not resolved to datums: %w", d.Name, raw, domain.ErrInvalid)
				}
				if u.Datum.Alias != "" && len(ids) != 1 {
					return nil, fmt.Errorf("input %q: alias %s resolved to %d datums, want 1: %w", d.Name, raw, len(ids), domain.ErrInvalid)
				}
				for _, id := range ids {
					if err := domain.CheckID("datum", id); err != nil {
						return nil, fmt.Errorf("input %q: %s: %w", d.Name, raw, err)
					}
				}
				used[raw] = true
				r.Datums = slices.Clone(ids)
			}
			in.URIs[i] = r
		}
		out = append(out, in)
	}
	if name := firstKeyNotIn(given, declared); name != "" {
		return nil, fmt.Errorf("input %q: not defined by the step: %w", name, domain.ErrInvalid)
	}
	if uri := firstKeyNotIn(resolved, used); uri != "" {
		return nil, fmt.Errorf("resolution of %.80q: no input requests it as an alias or dataset: %w", uri, domain.ErrInvalid)
	}
	return out, nil
}

// checkPlacement validates an input's filename and keep-directories and returns the
// keep-directories mode as recorded ("" for none).
func checkPlacement(d InputDef) (string, error) {
	if d.Filename != "" {
		if err := domain.CheckPath(fmt.Sprintf("input %q: filename", d.Name), d.Filename); err != nil {
			return "", err
		}
		if strings.Contains(d.Filename, "/") || len(d.Filename) > 255 {
			return "", fmt.Errorf("input %q: filename %.80q: want one file name of at most 255 bytes, without '/': %w", d.Name, d.Filename, domain.ErrInvalid)
		}
	}
	switch d.KeepDirectories {
	case "", KeepNone:
		return "", nil
	case KeepFull, KeepSuffix:
		return d.KeepDirectories, nil
	}
	return "", fmt.Errorf("input %q: keep-directories %.80q: want %q, %q or %q: %w", d.Name, d.KeepDirectories, KeepNone, KeepFull, KeepSuffix, domain.ErrInvalid)
}

func firstKeyNotIn[V any](m map[string]V, in map[string]bool) string {
	var missing []string
	for k := range m {
		if !in[k] {
			missing = append(missing, k)
		}
	}
	if len(missing) == 0 {
		return ""
	}
	sort.Strings(missing)
	return missing[0]
}

func checkEnvironmentVariables(vars []EnvironmentVariable) ([]EnvironmentVariable, error) {
	out := make([]EnvironmentVariable, 0, len(vars))
	seen := make(map[string]bool, len(vars))
	for _, v := range vars {
		if !isEnvName(v.Name) {
			return nil, fmt.Errorf("environment variable %.80q: want letters, digits and '_', not starting with a digit: %w", v.Name, domain.ErrInvalid)
		}
		if seen[v.Name] {
			return nil, fmt.Errorf("environment variable %s: given twice: %w", v.Name, domain.ErrInvalid)
		}
		seen[v.Name] = true
		if len(v.Value) > MaxEnvValueLen || !utf8.ValidString(v.Value) || strings.ContainsRune(v.Value, 0) {
			return nil, fmt.Errorf("environment variable %s: value must be UTF-8 without NUL, at most %d bytes: %w", v.Name, MaxEnvValueLen, domain.ErrInvalid)
		}
		if v.Secret {
			v.Value = "" // never stored: the runner reads it from the secret configuration
		}
		out = append(out, v)
	}
	if len(out) == 0 {
		return nil, nil
	}
	return out, nil
}

func isEnvName(s string) bool {
	if s == "" || len(s) > 256 || '0' <= s[0] && s[0] <= '9' {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c == '_' || '0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' {
			continue
		}
		return false
	}
	return true
}

func checkStart(c Start) error {
	if err := domain.CheckText("host", c.Host, 256); err != nil {
		return fmt.Errorf("start: %w", err)
	}
	h := c.Hardware
	if h.CPUs < 0 || math.IsNaN(h.CPUs) || math.IsInf(h.CPUs, 0) || h.MemoryBytes < 0 || h.GPUs < 0 {
		return fmt.Errorf("start: hardware: negative or non-finite amounts: %w", domain.ErrInvalid)
	}
	if h.GPUModel != "" {
		if err := domain.CheckText("gpu model", h.GPUModel, 256); err != nil {
			return fmt.Errorf("start: %w", err)
		}
	}
	if c.ImageDigest != "" {
		alg, hex, ok := strings.Cut(c.ImageDigest, ":")
		if !ok || alg == "" || len(hex) < 32 || strings.Trim(alg, "abcdefghijklmnopqrstuvwxyz0123456789") != "" || strings.Trim(hex, "0123456789abcdef") != "" {
			return fmt.Errorf("start: image digest %.80q: want <algorithm>:<lowercase hex>: %w", c.ImageDigest, domain.ErrInvalid)
		}
	}
	return nil
}

func (s State) checkHashInput(c HashInput) error {
	if !slices.ContainsFunc(s.spec.Inputs, func(in Input) bool { return in.Name == c.Input }) {
		return fmt.Errorf("hash input %q: the execution has no such input: %w", c.Input, domain.ErrInvalid)
	}
	if _, err := domain.ParseInputURI(c.URI); err != nil {
		return fmt.Errorf("hash input %q: %w", c.Input, err)
	}
	if c.Datum != "" {
		if err := domain.CheckID("datum", c.Datum); err != nil {
			return fmt.Errorf("hash input %q: %w", c.Input, err)
		}
	}
	if err := domain.CheckPath("file name", c.FileName); err != nil {
		return fmt.Errorf("hash input %q: %w", c.Input, err)
	}
	if c.Size < 0 {
		return fmt.Errorf("hash input %q: negative size: %w", c.Input, domain.ErrInvalid)
	}
	d := c.Digests
	if d.MD5.IsZero() || d.SHA1.IsZero() || d.SHA256.IsZero() || d.BLAKE3.IsZero() {
		return fmt.Errorf("hash input %q: want all four digests (md5, sha1, sha256, blake3): %w", c.Input, domain.ErrInvalid)
	}
	return nil
}

func checkPoints(points []MetadataPoint) ([]MetadataPoint, error) {
	if len(points) == 0 || len(points) > MaxMetadataPoints {
		return nil, fmt.Errorf("record metadata: want 1 to %d points, got %d: %w", MaxMetadataPoints, len(points), domain.ErrInvalid)
	}
	out := make([]MetadataPoint, len(points))
	for i, p := range points {
		if p.Time.IsZero() {
			return nil, fmt.Errorf("record metadata: point %d: missing _time: %w", i, domain.ErrInvalid)
		}
		if len(p.Values) == 0 {
			return nil, fmt.Errorf("record metadata: point %d: no values: %w", i, domain.ErrInvalid)
		}
		if _, ok := p.Values["_time"]; ok {
			return nil, fmt.Errorf("record metadata: point %d: key _time is reserved: %w", i, domain.ErrInvalid)
		}
		values, err := compactJSON("metadata key", p.Values)
		if err != nil {
			return nil, fmt.Errorf("record metadata: point %d: %w", i, err)
		}
		out[i] = MetadataPoint{Time: p.Time, Values: values}
	}
	return out, nil
}

// compactJSON checks every key and JSON value of m and returns a copy with the values in
// compact form, nil for an empty map.
func compactJSON(what string, m map[string]json.RawMessage) (map[string]json.RawMessage, error) {
	if len(m) == 0 {
		return nil, nil
	}
	out := make(map[string]json.RawMessage, len(m))
	for k, v := range m {
		if err := domain.CheckText(what, k, 256); err != nil {
			return nil, err
		}
		var b bytes.Buffer
		if err := json.Compact(&b, v); err != nil {
			return nil, fmt.Errorf("%s %q: value is not JSON: %w", what, k, domain.ErrInvalid)
		}
		out[k] = b.Bytes()
	}
	return out, nil
}

func checkSample(c SampleResources) error {
	finite := func(f float64) bool { return f >= 0 && !math.IsNaN(f) && !math.IsInf(f, 0) }
	if !finite(c.CPUPercent) || c.MemoryBytes < 0 {
		return fmt.Errorf("sample resources: negative or non-finite cpu or memory: %w", domain.ErrInvalid)
	}
	for _, g := range c.GPUs {
		if g.Index < 0 || !finite(g.UtilizationPercent) || g.UtilizationPercent > 100 || g.MemoryBytes < 0 {
			return fmt.Errorf("sample resources: gpu %d: want utilisation 0 to 100 and non-negative memory: %w", g.Index, domain.ErrInvalid)
		}
		if len(g.UUID) > 128 || !utf8.ValidString(g.UUID) || strings.ContainsFunc(g.UUID, func(r rune) bool { return r < ' ' }) {
			return fmt.Errorf("sample resources: gpu %d: uuid must be printable, at most 128 bytes: %w", g.Index, domain.ErrInvalid)
		}
	}
	return nil
}
