package execution

import (
	"encoding/json"
	"time"

	"github.com/stratahq/strata/domain"
)

// Event is an execution event. The set is sealed: only this package declares events.
//
//sumtype:decl
type Event interface {
	// EventType is the stable wire name, "execution.<Type>".
	EventType() string
	// EventSchema is the payload schema version, 1 until a breaking change.
	EventSchema() int
	isEvent()
}

// Events returns one zero value of every execution event type, for the event codec.
func Events() []Event {
	return []Event{
		Created{}, Queued{}, Started{}, InputHashed{}, MetadataRecorded{}, ResourcesSampled{},
		OutputRecorded{}, Finished{}, StopRequested{}, Stopped{}, Crashed{}, TagsAdded{}, TagsRemoved{},
	}
}

// Code says what code an execution runs: a commit of the project's repository, or an
// ad-hoc code package uploaded as a datum. Exactly one of Commit and Adhoc is set. It is
// part of the Created event's stored schema.
type Code struct {
	Repository string         `json:"repository,omitempty"` // URL the commit was fetched from
	Commit     string         `json:"commit,omitempty"`     // full lowercase hex SHA
	Adhoc      domain.DatumID `json:"adhoc,omitempty"`      // datum holding the code archive
}

// Input is one input of an execution, as requested and as resolved at creation. It is part
// of the Created event's stored schema.
//
// Filename and KeepDirectories place the files (see InputDef); both are empty in events
// recorded before they existed, which means flat base names.
type Input struct {
	Name            string        `json:"name"`
	URIs            []ResolvedURI `json:"uris"`
	Filename        string        `json:"filename,omitempty"`
	KeepDirectories string        `json:"keep_directories,omitempty"` // "", KeepFull or KeepSuffix
}

// The keep-directories modes of an input. KeepNone is accepted on Create and recorded as "".
const (
	KeepNone   = "none"
	KeepFull   = "full"
	KeepSuffix = "suffix"
)

// ResolvedURI is one requested URI of an input with the datums it was pinned to when the
// execution was created: datum://<id> pins that datum, datum://<alias> the alias's target
// at that moment, dataset://<name>/<version> every file of the version. Store URLs pin
// nothing here: the runner resolves them when it downloads (see InputHashed). A copy of the
// execution reuses the pins; aliases are never re-resolved.
type ResolvedURI struct {
	URI    string           `json:"uri"`
	Datums []domain.DatumID `json:"datums,omitempty"`
}

// EnvironmentVariable is one environment variable given to an execution. For a secret one
// the value is never recorded: Created carries the name and Secret only, and the runner
// fetches the value from the secret configuration by name.
type EnvironmentVariable struct {
	Name   string `json:"name"`
	Value  string `json:"value,omitempty"`
	Secret bool   `json:"secret,omitempty"`
}

// Hardware describes the machine an execution started on. Part of the Started event.
type Hardware struct {
	CPUs        float64 `json:"cpus,omitempty"`
	MemoryBytes int64   `json:"memory_bytes,omitempty"`
	GPUs        int     `json:"gpus,omitempty"`
	GPUModel    string  `json:"gpu_model,omitempty"`
}

// MetadataPoint is one metadata line the execution printed: free-form JSON values by key,
// stamped with the time it was seen ("_time", as Valohai). Part of MetadataRecorded.
type MetadataPoint struct {
	Time   time.Time                  `json:"_time"`
	Values map[string]json.RawMessage `json:"values"`
}

// GPUSample is one GPU's utilisation in a resource sample. Part of ResourcesSampled.
type GPUSample struct {
	Index int `json:"index"`
	// UUID is the GPU's UUID as nvidia-smi reports it (GPU-...), which names one device
	// across reboots and hosts; empty in samples recorded before it was kept.
	UUID               string  `json:"uuid,omitempty"`
	UtilizationPercent float64 `json:"utilization_percent"`
	MemoryBytes        int64   `json:"memory_bytes"`
}

// Created: the execution exists, in status created. It records everything needed to run it
// again: code, image, rendered commands, validated parameters, inputs pinned to datums,
// environment and variables (secret values excepted). Number is the project's execution
// counter (#Number) allocated on the project stream before creation.
type Created struct {
	Execution            domain.ExecutionID    `json:"execution"`
	Project              domain.ProjectID      `json:"project"`
	Number               int                   `json:"number"`
	Step                 string                `json:"step"`
	Code                 Code                  `json:"code"`
	Image                string                `json:"image"`
	Commands             []string              `json:"commands"`
	Parameters           []Parameter           `json:"parameters,omitempty"`
	Inputs               []Input               `json:"inputs,omitempty"`
	Environment          domain.EnvironmentID  `json:"environment"`
	EnvironmentVariables []EnvironmentVariable `json:"environment_variables,omitempty"`
	Creator              domain.UserID         `json:"creator"`
	Title                string                `json:"title,omitempty"`
	Task                 domain.TaskID         `json:"task,omitempty"`
	Tags                 []string              `json:"tags,omitempty"`
	Priority             int                   `json:"priority,omitempty"`
	TimeLimit            time.Duration         `json:"time_limit_ns,omitempty"`        // 0: none
	NoOutputTimeout      time.Duration         `json:"no_output_timeout_ns,omitempty"` // 0: platform default
	// Network: the step asked for network access; without it the run has none where the
	// launcher can isolate it.
	Network bool      `json:"network,omitempty"`
	At      time.Time `json:"at"`
}

// Queued: the execution was handed to the scheduler (created → queued).
type Queued struct {
	Execution domain.ExecutionID `json:"execution"`
	At        time.Time          `json:"at"`
}

// Started: a worker started the execution (queued → started). ImageDigest is the resolved
// digest of the image ("sha256:<hex>"), empty where the launcher has none.
type Started struct {
	Execution   domain.ExecutionID `json:"execution"`
	Host        string             `json:"host"`
	Hardware    Hardware           `json:"hardware"`
	ImageDigest string             `json:"image_digest,omitempty"`
	At          time.Time          `json:"at"`
}

// InputHashed: one input file was downloaded and hashed. Datum is the datum the file is
// (pinned, or adopted from a store URL), empty if none. The digests let lineage spot a
// file at the same URI changing between executions.
type InputHashed struct {
	Execution domain.ExecutionID `json:"execution"`
	Input     string             `json:"input"`
	URI       string             `json:"uri"`
	Datum     domain.DatumID     `json:"datum,omitempty"`
	FileName  string             `json:"file_name"`
	Size      int64              `json:"size"`
	MD5       domain.MD5         `json:"md5"`
	SHA1      domain.SHA1        `json:"sha1"`
	SHA256    domain.SHA256      `json:"sha256"`
	BLAKE3    domain.Digest      `json:"blake3"`
	At        time.Time          `json:"at"`
}

// MetadataRecorded: a batch of metadata points the execution printed, in order.
type MetadataRecorded struct {
	Execution domain.ExecutionID `json:"execution"`
	Points    []MetadataPoint    `json:"points"`
}

// ResourcesSampled: one sample of the execution's resource use. CPUPercent is of one core
// (a busy 4-core process reads 400).
type ResourcesSampled struct {
	Execution   domain.ExecutionID `json:"execution"`
	CPUPercent  float64            `json:"cpu_percent"`
	MemoryBytes int64              `json:"memory_bytes"`
	GPUs        []GPUSample        `json:"gpus,omitempty"`
	At          time.Time          `json:"at"`
}

// OutputRecorded: an output file was stored as Datum. Path is relative to the outputs
// directory; Properties are the file's free-form properties (sidecar metadata).
type OutputRecorded struct {
	Execution  domain.ExecutionID         `json:"execution"`
	Datum      domain.DatumID             `json:"datum"`
	Path       string                     `json:"path"`
	Properties map[string]json.RawMessage `json:"properties,omitempty"`
	At         time.Time                  `json:"at"`
}

// Finished: the commands exited on their own (started → complete if ExitCode is 0, else
// started → error). Status is the resulting status. Resources summarises the resource
// samples taken (nil when none were, and in events recorded before it was kept).
type Finished struct {
	Execution domain.ExecutionID     `json:"execution"`
	ExitCode  int                    `json:"exit_code"`
	Reason    string                 `json:"reason,omitempty"`
	Status    domain.ExecutionStatus `json:"status"`
	Resources *ResourceSummary       `json:"resources,omitempty"`
	At        time.Time              `json:"at"`
}

// ResourceSummary is the peak and the average of an execution's resource samples. CPU is
// in percent of one core, as in ResourcesSampled. Part of Finished.
type ResourceSummary struct {
	Samples         int     `json:"samples"`
	PeakCPUPercent  float64 `json:"peak_cpu_percent"`
	AvgCPUPercent   float64 `json:"avg_cpu_percent"`
	PeakMemoryBytes int64   `json:"peak_memory_bytes"`
	AvgMemoryBytes  int64   `json:"avg_memory_bytes"`
}

// StopRequested: By asked to stop the execution (→ stopping).
type StopRequested struct {
	Execution domain.ExecutionID `json:"execution"`
	By        domain.UserID      `json:"by"`
	At        time.Time          `json:"at"`
}

// Stopped: the execution ended because of a stop request (stopping → stopped).
type Stopped struct {
	Execution domain.ExecutionID `json:"execution"`
	At        time.Time          `json:"at"`
}

// Crashed: the platform failed the execution (any non-final status → crashed).
type Crashed struct {
	Execution domain.ExecutionID `json:"execution"`
	Reason    string             `json:"reason"`
	At        time.Time          `json:"at"`
}

// TagsAdded: Tags (none of which the execution had) were added.
type TagsAdded struct {
	Execution domain.ExecutionID `json:"execution"`
	Tags      []string           `json:"tags"`
	At        time.Time          `json:"at"`
}

// TagsRemoved: Tags (all of which the execution had) were removed.
type TagsRemoved struct {
	Execution domain.ExecutionID `json:"execution"`
	Tags      []string           `json:"tags"`
	At        time.Time          `json:"at"`
}

// EventType returns "execution.Created".
func (Created) EventType() string { return "execution.Created" }

// EventType returns "execution.Queued".
func (Queued) EventType() string { return "execution.Queued" }

// EventType returns "execution.Started".
func (Started) EventType() string { return "execution.Started" }

// EventType returns "execution.InputHashed".
func (InputHashed) EventType() string { return "execution.InputHashed" }

// EventType returns "execution.MetadataRecorded".
func (MetadataRecorded) EventType() string { return "execution.MetadataRecorded" }

// EventType returns "execution.ResourcesSampled".
func (ResourcesSampled) EventType() string { return "execution.ResourcesSampled" }

// EventType returns "execution.OutputRecorded".
func (OutputRecorded) EventType() string { return "execution.OutputRecorded" }

// EventType returns "execution.Finished".
func (Finished) EventType() string { return "execution.Finished" }

// EventType returns "execution.StopRequested".
func (StopRequested) EventType() string { return "execution.StopRequested" }

// EventType returns "execution.Stopped".
func (Stopped) EventType() string { return "execution.Stopped" }

// EventType returns "execution.Crashed".
func (Crashed) EventType() string { return "execution.Crashed" }

// EventType returns "execution.TagsAdded".
func (TagsAdded) EventType() string { return "execution.TagsAdded" }

// EventType returns "execution.TagsRemoved".
func (TagsRemoved) EventType() string { return "execution.TagsRemoved" }

// EventSchema returns 1.
func (Created) EventSchema() int { return 1 }

// EventSchema returns 1.
func (Queued) EventSchema() int { return 1 }

// EventSchema returns 1.
func (Started) EventSchema() int { return 1 }

// EventSchema returns 1.
func (InputHashed) EventSchema() int { return 1 }

// EventSchema returns 1.
func (MetadataRecorded) EventSchema() int { return 1 }

// EventSchema returns 1.
func (ResourcesSampled) EventSchema() int { return 1 }

// EventSchema returns 1.
func (OutputRecorded) EventSchema() int { return 1 }

// EventSchema returns 1.
func (Finished) EventSchema() int { return 1 }

// EventSchema returns 1.
func (StopRequested) EventSchema() int { return 1 }

// EventSchema returns 1.
func (Stopped) EventSchema() int { return 1 }

// EventSchema returns 1.
func (Crashed) EventSchema() int { return 1 }

// EventSchema returns 1.
func (TagsAdded) EventSchema() int { return 1 }

// EventSchema returns 1.
func (TagsRemoved) EventSchema() int { return 1 }

func (Created) isEvent()          {}
func (Queued) isEvent()           {}
func (Started) isEvent()          {}
func (InputHashed) isEvent()      {}
func (MetadataRecorded) isEvent() {}
func (ResourcesSampled) isEvent() {}
func (OutputRecorded) isEvent()   {}
func (Finished) isEvent()         {}
func (StopRequested) isEvent()    {}
func (Stopped) isEvent()          {}
func (Crashed) isEvent()          {}
func (TagsAdded) isEvent()        {}
func (TagsRemoved) isEvent()      {}
