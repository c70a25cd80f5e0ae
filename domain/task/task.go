package task

import (
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/stratahq/strata/domain"
)

// Type is the kind of search a task runs.
type Type string

// The task types.
const (
	GridSearch   Type = "grid_search"
	RandomSearch Type = "random_search"
	ManualSearch Type = "manual_search"
	BayesianTPE  Type = "bayesian_tpe"
)

// Style is how one parameter varies.
type Style string

// The parameter styles.
const (
	StyleSingle   Style = "single"
	StyleMultiple Style = "multiple"
	StyleLinear   Style = "linear"
	StyleLogspace Style = "logspace"
	StyleRandom   Style = "random"
)

// Status is a task's overall status, derived from its executions.
type Status string

// The task statuses.
const (
	StatusCreated  Status = "created"  // no execution attached yet
	StatusStarted  Status = "started"  // some execution has not ended
	StatusComplete Status = "complete" // every execution has ended
	StatusStopping Status = "stopping" // stop requested; some execution has not ended
	StatusStopped  Status = "stopped"  // stop requested; every execution has ended
)

// Limits on a task's definition.
const (
	MaxVariantValues = 100_000 // values one variant may generate
	MaxExecutions    = 100_000 // executions of one task
)

// Errors Decide returns.
var (
	// ErrNotFound: the command needs a task that does not exist.
	ErrNotFound = fmt.Errorf("task does not exist: %w", domain.ErrNotFound)
	// ErrExists: Create on a task that exists.
	ErrExists = fmt.Errorf("task already exists: %w", domain.ErrConflict)
	// ErrStopped: the task was asked to stop; no execution can be attached.
	ErrStopped = fmt.Errorf("task is stopped: %w", domain.ErrConflict)
	// ErrFull: the task already has ExecutionCount executions.
	ErrFull = fmt.Errorf("task has all its executions: %w", domain.ErrConflict)
	// ErrNotAttached: the execution is not part of the task.
	ErrNotAttached = fmt.Errorf("execution is not attached to the task: %w", domain.ErrNotFound)
)

// Command is a task command. The set is sealed: only this package declares commands.
type Command interface{ isCommand() }

// Create creates the task with its project number (!Number).
type Create struct {
	Task           domain.TaskID
	Project        domain.ProjectID
	Number         int
	Step           string
	Type           Type
	Variants       []Variant
	ParameterSets  []map[string]string
	ExecutionCount int
	BatchSize      int
	Planned        int // how many executions will be attached (see Created.Planned)
	Creator        domain.UserID
	At             time.Time
}

// AttachExecution makes Execution part of the task (idempotent).
type AttachExecution struct {
	Execution domain.ExecutionID
	At        time.Time
}

// RecordExecutionStatus records the status an attached execution reached. It is
// idempotent and safe to deliver late or twice: an execution's status only moves forward
// (created, queued, started, stopping, then one of the ends), so a status the task has
// already recorded, or one before it, changes nothing. A second, different end is
// domain.ErrConflict.
type RecordExecutionStatus struct {
	Execution domain.ExecutionID
	Status    domain.ExecutionStatus
	At        time.Time
}

// Stop asks to stop the task (idempotent).
type Stop struct {
	By domain.UserID
	At time.Time
}

func (Create) isCommand()                {}
func (AttachExecution) isCommand()       {}
func (RecordExecutionStatus) isCommand() {}
func (Stop) isCommand()                  {}

// Summary counts a task's executions by status, as Valohai's status_summary.
type Summary struct {
	Count    int
	Created  int
	Queued   int
	Started  int
	Stopping int
	Stopped  int
	Complete int
	Error    int
	Crashed  int
}

// State is a task folded from its events. The zero State is a task that does not exist.
type State struct {
	spec          Created
	executions    []domain.ExecutionID
	statuses      map[domain.ExecutionID]domain.ExecutionStatus
	stopRequested bool
}

// Exists reports whether the task was created.
func (s State) Exists() bool { return s.spec.Task != "" }

// ID returns the task's ID.
func (s State) ID() domain.TaskID { return s.spec.Task }

// Project returns the task's project.
func (s State) Project() domain.ProjectID { return s.spec.Project }

// Number returns the task's counter in its project (!Number).
func (s State) Number() int { return s.spec.Number }

// Spec returns the creation record. Its slices are shared: read, don't modify.
func (s State) Spec() Created { return s.spec }

// Executions returns the attached executions in the order they were attached.
func (s State) Executions() []domain.ExecutionID { return slices.Clone(s.executions) }

// StopRequested reports whether the task was asked to stop.
func (s State) StopRequested() bool { return s.stopRequested }

// Summary counts the attached executions by their last recorded status; an execution
// with none recorded counts as created.
func (s State) Summary() Summary {
	sum := Summary{Count: len(s.executions)}
	for _, id := range s.executions {
		switch s.statuses[id] {
		case domain.StatusQueued:
			sum.Queued++
		case domain.StatusStarted:
			sum.Started++
		case domain.StatusStopping:
			sum.Stopping++
		case domain.StatusStopped:
			sum.Stopped++
		case domain.StatusComplete:
			sum.Complete++
		case domain.StatusError:
			sum.Error++
		case domain.StatusCrashed:
			sum.Crashed++
		default:
			sum.Created++
		}
	}
	return sum
}

// Status derives the task's status from its executions, how many are still to be
// attached, and any stop request.
func (s State) Status() Status {
	running := slices.ContainsFunc(s.executions, func(id domain.ExecutionID) bool { return !s.statuses[id].IsTerminal() })
	switch {
	case s.stopRequested && running:
		return StatusStopping
	case s.stopRequested:
		return StatusStopped
	case len(s.executions) == 0:
		return StatusCreated
	case running || len(s.executions) < s.spec.Planned:
		return StatusStarted
	}
	return StatusComplete
}

// Decide validates c against s and returns the events it causes.
func Decide(s State, c Command) ([]Event, error) {
	if create, ok := c.(Create); ok {
		if s.Exists() {
			return nil, fmt.Errorf("create task %s: %w", create.Task, ErrExists)
		}
		return decideCreate(create)
	}
	if !s.Exists() {
		return nil, fmt.Errorf("task: %T: %w", c, ErrNotFound)
	}
	id := s.spec.Task
	switch c := c.(type) {
	case AttachExecution:
		if err := checkAt(c.At); err != nil {
			return nil, err
		}
		if err := domain.CheckID("execution", c.Execution); err != nil {
			return nil, fmt.Errorf("attach execution: %w", err)
		}
		if slices.Contains(s.executions, c.Execution) {
			return nil, nil
		}
		if s.stopRequested {
			return nil, fmt.Errorf("attach execution %s: %w", c.Execution, ErrStopped)
		}
		if n := s.spec.ExecutionCount; n > 0 && len(s.executions) >= n || len(s.executions) >= MaxExecutions {
			return nil, fmt.Errorf("attach execution %s: %w", c.Execution, ErrFull)
		}
		return []Event{ExecutionAttached{Task: id, Execution: c.Execution, At: c.At}}, nil
	case RecordExecutionStatus:
		if err := checkAt(c.At); err != nil {
			return nil, err
		}
		if !slices.Contains(s.executions, c.Execution) {
			return nil, fmt.Errorf("record status of %s: %w", c.Execution, ErrNotAttached)
		}
		if !c.Status.IsValid() {
			return nil, fmt.Errorf("record status of %s: unknown status %q: %w", c.Execution, c.Status, domain.ErrInvalid)
		}
		cur := s.statuses[c.Execution]
		switch {
		case cur == c.Status:
			return nil, nil
		case cur.IsTerminal() && c.Status.IsTerminal():
			return nil, fmt.Errorf("record status of %s: it already ended %s, cannot end %s: %w", c.Execution, cur, c.Status, domain.ErrConflict)
		case stage(c.Status) <= stage(cur):
			return nil, nil // an earlier status delivered late (a replay): the task is past it
		}
		return []Event{ExecutionStatusRecorded{Task: id, Execution: c.Execution, Status: c.Status, At: c.At}}, nil
	case Stop:
		if err := checkAt(c.At); err != nil {
			return nil, err
		}
		if err := domain.CheckUser(c.By); err != nil {
			return nil, fmt.Errorf("stop task: %w", err)
		}
		if s.stopRequested {
			return nil, nil
		}
		return []Event{StopRequested{Task: id, By: c.By, At: c.At}}, nil
	}
	return nil, fmt.Errorf("task: unknown command %T: %w", c, domain.ErrInvalid)
}

// Evolve applies e to s. It never fails: history is fact. Like append, it may reuse the
// memory of s, so fold forward and keep only the result.
func Evolve(s State, e Event) State {
	switch e := e.(type) {
	case Created:
		s.spec = e
	case ExecutionAttached:
		s.executions = append(s.executions, e.Execution)
	case ExecutionStatusRecorded:
		if s.statuses == nil {
			s.statuses = make(map[domain.ExecutionID]domain.ExecutionStatus)
		}
		s.statuses[e.Execution] = e.Status
	case StopRequested:
		s.stopRequested = true
	}
	return s
}

func decideCreate(c Create) ([]Event, error) {
	bad := func(format string, args ...any) ([]Event, error) {
		return nil, fmt.Errorf("create task: %s: %w", fmt.Sprintf(format, args...), domain.ErrInvalid)
	}
	wrap := func(err error) ([]Event, error) { return nil, fmt.Errorf("create task: %w", err) }
	if err := domain.CheckID("task", c.Task); err != nil {
		return wrap(err)
	}
	if err := domain.CheckID("project", c.Project); err != nil {
		return wrap(err)
	}
	if c.Number < 1 {
		return bad("number %d: want the project counter, 1 or more", c.Number)
	}
	if err := domain.CheckText("step name", c.Step, domain.MaxTextLen); err != nil {
		return wrap(err)
	}
	if err := domain.CheckUser(c.Creator); err != nil {
		return wrap(err)
	}
	if err := checkAt(c.At); err != nil {
		return nil, err
	}
	if c.ExecutionCount < 0 || c.ExecutionCount > MaxExecutions || c.BatchSize < 0 {
		return bad("execution count must be 0 to %d and batch size not negative", MaxExecutions)
	}
	if c.Planned < 0 || c.Planned > MaxExecutions {
		return bad("planned executions %d: want 0 to %d", c.Planned, MaxExecutions)
	}
	if c.ExecutionCount > 0 && c.BatchSize > c.ExecutionCount {
		return bad("batch size %d is above the execution count %d", c.BatchSize, c.ExecutionCount)
	}
	switch c.Type {
	case ManualSearch:
		if len(c.ParameterSets) == 0 || len(c.Variants) > 0 {
			return bad("manual search takes parameter sets and no variants")
		}
		if len(c.ParameterSets) > MaxExecutions {
			return bad("more than %d parameter sets", MaxExecutions)
		}
		for i, set := range c.ParameterSets {
			if len(set) == 0 {
				return bad("parameter set %d is empty", i)
			}
			for name := range set {
				if err := domain.CheckText("parameter name", name, domain.MaxNameLen); err != nil {
					return wrap(fmt.Errorf("parameter set %d: %w", i, err))
				}
			}
		}
	case GridSearch, RandomSearch, BayesianTPE:
		if len(c.ParameterSets) > 0 {
			return bad("parameter sets are for manual search only")
		}
		if len(c.Variants) == 0 {
			return bad("%s needs at least one parameter variant", c.Type)
		}
		if c.Type != GridSearch && c.ExecutionCount == 0 {
			return bad("%s needs an execution count", c.Type)
		}
	default:
		return bad("unknown type %q (want grid_search, random_search, manual_search or bayesian_tpe)", c.Type)
	}
	seen := make(map[string]bool)
	for _, v := range c.Variants {
		if seen[v.Name] {
			return bad("parameter %q varies twice", v.Name)
		}
		seen[v.Name] = true
		if err := checkVariant(v); err != nil {
			return wrap(err)
		}
	}
	return []Event{Created{
		Task: c.Task, Project: c.Project, Number: c.Number, Step: c.Step, Type: c.Type,
		Variants: slices.Clone(c.Variants), ParameterSets: slices.Clone(c.ParameterSets),
		ExecutionCount: c.ExecutionCount, BatchSize: c.BatchSize, Planned: c.Planned, Creator: c.Creator, At: c.At,
	}}, nil
}

func checkVariant(v Variant) error {
	if err := domain.CheckText("parameter name", v.Name, domain.MaxNameLen); err != nil {
		return err
	}
	bad := func(why string, args ...any) error {
		return fmt.Errorf("parameter %q (%s): %s: %w", v.Name, v.Style, fmt.Sprintf(why, args...), domain.ErrInvalid)
	}
	for _, f := range []float64{v.Start, v.End, v.Step, v.Base, v.Min, v.Max} {
		if math.IsNaN(f) || math.IsInf(f, 0) {
			return bad("numbers must be finite")
		}
	}
	switch v.Style {
	case StyleSingle:
		if v.Value == "" {
			return bad("missing value")
		}
	case StyleMultiple:
		if len(v.Items) == 0 || len(v.Items) > MaxVariantValues {
			return bad("want 1 to %d items", MaxVariantValues)
		}
	case StyleLinear:
		if v.Step <= 0 || v.Start > v.End {
			return bad("want step > 0 and start <= end")
		}
		if (v.End-v.Start)/v.Step >= MaxVariantValues {
			return bad("more than %d values", MaxVariantValues)
		}
	case StyleLogspace:
		if v.Count < 1 || v.Count > MaxVariantValues {
			return bad("want a count of 1 to %d", MaxVariantValues)
		}
		if v.Base != 0 && (v.Base <= 0 || v.Base == 1) {
			return bad("base must be positive and not 1 (0 means 10)")
		}
	case StyleRandom:
		if v.Count < 1 || v.Count > MaxVariantValues {
			return bad("want a count of 1 to %d", MaxVariantValues)
		}
		if v.Min > v.Max {
			return bad("min %g is above max %g", v.Min, v.Max)
		}
		switch v.Distribution {
		case "", "uniform", "normal":
		case "loguniform":
			if v.Min <= 0 {
				return bad("loguniform needs min > 0")
			}
		default:
			return bad("unknown distribution %q (want uniform, loguniform or normal)", v.Distribution)
		}
	default:
		return bad("unknown style (want single, multiple, linear, logspace or random)")
	}
	return nil
}

// stage orders execution statuses along the lifecycle: every transition an execution
// makes goes to a higher stage (see package execution), and the ends share the last one.
func stage(s domain.ExecutionStatus) int {
	switch s {
	case domain.StatusQueued:
		return 1
	case domain.StatusStarted:
		return 2
	case domain.StatusStopping:
		return 3
	case domain.StatusStopped, domain.StatusComplete, domain.StatusError, domain.StatusCrashed:
		return 4
	}
	return 0 // created, or none recorded
}

func checkAt(at time.Time) error {
	if at.IsZero() {
		return fmt.Errorf("task: missing time: %w", domain.ErrInvalid)
	}
	return nil
}
