package execution

import (
	"encoding/json"
	"time"

	"github.com/stratahq/strata/domain"
)

// Command is an execution command. The set is sealed: only this package declares commands.
type Command interface{ isCommand() }

// Step is the step definition an execution is created from, as the valohai.yaml adapter
// reads it: the parameters and inputs it declares. Parameter values and inputs of Create
// are validated against it.
type Step struct {
	Name       string
	Parameters []ParameterDef
	Inputs     []InputDef
}

// InputDef is one input a step declares. Default is what the caller applies when the
// input is not given (as the Valohai CLI does); a required input must end up with at least
// one URI on Create.
//
// Filename and KeepDirectories say where the runner places the files under
// /valohai/inputs/<name>/ (valohai.yaml `filename` and `keep-directories`): Filename
// renames the file of an input that has exactly one (Valohai ignores it with more);
// KeepDirectories is "" or KeepNone (flat base names), KeepFull (the whole source path)
// or KeepSuffix (the path below the wildcard's prefix).
type InputDef struct {
	Name            string
	Optional        bool
	Default         []string
	Filename        string
	KeepDirectories string
}

// Create creates the execution. Number must have been allocated on the project stream
// (project.AllocateNumber with CounterExecution and this execution's ID) before.
//
// Parameters holds raw values by parameter name (several for a multiple parameter);
// Decide validates them against Step and records typed values with defaults applied.
// Inputs holds the requested URIs by input name, defaults already applied. Resolved maps
// every datum://<alias> and dataset:// URI in Inputs to the datum IDs the caller resolved
// it to just now; datum://<id> URIs pin themselves and store URLs pin nothing.
type Create struct {
	Execution            domain.ExecutionID
	Project              domain.ProjectID
	Number               int
	Step                 Step
	Code                 Code
	Image                string
	Commands             []string
	Parameters           map[string][]string
	Inputs               map[string][]string
	Resolved             map[string][]domain.DatumID
	Environment          domain.EnvironmentID
	EnvironmentVariables []EnvironmentVariable
	Creator              domain.UserID
	Title                string
	Task                 domain.TaskID
	Tags                 []string
	Priority             int
	TimeLimit            time.Duration
	NoOutputTimeout      time.Duration
	// Network: the step asks for network access.
	Network bool
	At      time.Time
}

// Queue hands the execution to the scheduler.
type Queue struct{ At time.Time }

// Start records that a worker started the execution.
type Start struct {
	Host        string
	Hardware    Hardware
	ImageDigest string // "<algorithm>:<hex>", or empty
	At          time.Time
}

// HashInput records one downloaded input file and its digests.
type HashInput struct {
	Input    string
	URI      string
	Datum    domain.DatumID // empty if the file is no datum
	FileName string
	Size     int64
	Digests  domain.Digests
	At       time.Time
}

// RecordMetadata records a batch of metadata points (at most MaxMetadataPoints).
type RecordMetadata struct{ Points []MetadataPoint }

// SampleResources records one resource sample.
type SampleResources struct {
	CPUPercent  float64
	MemoryBytes int64
	GPUs        []GPUSample
	At          time.Time
}

// RecordOutput records an output file stored as Datum. Recording the same datum again is
// a no-op.
type RecordOutput struct {
	Datum      domain.DatumID
	Path       string
	Properties map[string]json.RawMessage
	At         time.Time
}

// Finish records that the commands exited: exit code 0 completes the execution, anything
// else ends it in error.
type Finish struct {
	ExitCode int
	Reason   string
	// Resources summarises the resource samples; nil when none were taken.
	Resources *ResourceSummary
	At        time.Time
}

// RequestStop asks to stop the execution. A started one goes to stopping until the runner
// confirms with MarkStopped; one not started yet (created, queued) stops at once; asking
// again while stopping is a no-op.
type RequestStop struct {
	By domain.UserID
	At time.Time
}

// MarkStopped records that a stopping execution has ended. The runner reports every end
// that follows a stop request this way, whatever the exit code.
type MarkStopped struct{ At time.Time }

// Crash records a platform failure.
type Crash struct {
	Reason string
	At     time.Time
}

// AddTags adds tags; tags the execution already has are ignored.
type AddTags struct {
	Tags []string
	At   time.Time
}

// RemoveTags removes tags; tags the execution does not have are ignored.
type RemoveTags struct {
	Tags []string
	At   time.Time
}

func (Create) isCommand()          {}
func (Queue) isCommand()           {}
func (Start) isCommand()           {}
func (HashInput) isCommand()       {}
func (RecordMetadata) isCommand()  {}
func (SampleResources) isCommand() {}
func (RecordOutput) isCommand()    {}
func (Finish) isCommand()          {}
func (RequestStop) isCommand()     {}
func (MarkStopped) isCommand()     {}
func (Crash) isCommand()           {}
func (AddTags) isCommand()         {}
func (RemoveTags) isCommand()      {}
