package valohaiyaml

import (
	"fmt"
	"time"
)

// Config is a parsed valohai.yaml: its top-level items, each kind in file order.
type Config struct {
	Steps       []*Step
	Pipelines   []*Pipeline
	Endpoints   []*Endpoint
	Tasks       []*Task
	Deployments []*Deployment
}

// Step returns the step called name, or nil. With duplicate names (a
// warning) the last one wins, as in Valohai.
func (c *Config) Step(name string) *Step {
	return lookup(c.Steps, name, func(s *Step) string { return s.Name })
}

// Pipeline returns the pipeline called name, or nil; the last one wins.
func (c *Config) Pipeline(name string) *Pipeline {
	return lookup(c.Pipelines, name, func(p *Pipeline) string { return p.Name })
}

// Endpoint returns the endpoint called name, or nil; the last one wins.
func (c *Config) Endpoint(name string) *Endpoint {
	return lookup(c.Endpoints, name, func(e *Endpoint) string { return e.Name })
}

// Task returns the task blueprint called name, or nil; the last one wins.
func (c *Config) Task(name string) *Task {
	return lookup(c.Tasks, name, func(t *Task) string { return t.Name })
}

// Deployment returns the deployment called name, or nil; the last one wins.
func (c *Config) Deployment(name string) *Deployment {
	return lookup(c.Deployments, name, func(d *Deployment) string { return d.Name })
}

func lookup[T any](items []*T, name string, key func(*T) string) *T {
	for i := len(items) - 1; i >= 0; i-- {
		if key(items[i]) == name {
			return items[i]
		}
	}
	return nil
}

// Step is a `step`: a command run in a Docker image with parameters and inputs.
type Step struct {
	Name        string
	Image       string
	Command     []string // one entry per command; a string `command` gives one entry
	Description string
	Icon        string
	Category    string
	SourcePath  string

	Parameters                []*Parameter
	Inputs                    []*Input
	Outputs                   []*Output
	EnvironmentVariables      []*EnvironmentVariable
	EnvironmentVariableGroups []string
	Mounts                    []*Mount
	CacheVolumes              []string

	Environment         string     // environment ID or slug; "" for the project default
	RuntimeConfigPreset string     // requires Environment
	Autorestart         *bool      // nil when not set
	Resources           *Resources // nil when not set
	UploadStore         string     // output store name or UUID, at most 64 characters

	TimeLimit       time.Duration // 0: no limit
	NoOutputTimeout time.Duration // 0: platform default
	StopCondition   string        // expression over metadata, e.g. "loss < 0.1"

	Line int
}

// Parameter returns the step's parameter called name, or nil.
func (s *Step) Parameter(name string) *Parameter {
	return lookup(s.Parameters, name, func(p *Parameter) string { return p.Name })
}

// Input returns the step's input called name, or nil.
func (s *Step) Input(name string) *Input {
	return lookup(s.Inputs, name, func(i *Input) string { return i.Name })
}

// ParameterType is the `type` of a parameter.
type ParameterType string

// The parameter types.
const (
	TypeString  ParameterType = "string"
	TypeInteger ParameterType = "integer"
	TypeFloat   ParameterType = "float"
	TypeFlag    ParameterType = "flag"
)

// MultipleMode is how a parameter with several values is passed.
type MultipleMode string

// The multiple modes. MultipleNone is the default: a single value only.
const (
	MultipleNone     MultipleMode = ""
	MultipleRepeat   MultipleMode = "repeat"   // the pass-as template once per value
	MultipleSeparate MultipleMode = "separate" // the values joined by the separator into one {value}
)

// Parameter is one item of a step's `parameters`.
//
// Values (Default, Choices and the values given to FormatCLI) are plain Go
// values: nil, bool, int64, float64, string, or []any of those for multiple
// parameters.
type Parameter struct {
	Name        string
	Type        ParameterType // TypeString when not set
	Description string
	Category    string
	Default     any  // nil: no default; a []any when Multiple is set
	Optional    bool // always true for flags
	Min, Max    *float64
	Choices     []any

	PassAs      string // "" means the default: --{name}={value}, or --{name} for flags
	PassTrueAs  string // flags only
	PassFalseAs string // flags only

	Multiple          MultipleMode
	MultipleSeparator string // "," when not set

	Widget *Widget
	Line   int
}

// Widget is the UI widget of a parameter, e.g. {Type: "sql"} or {Type: "DatumAlias", Settings: {...}}.
type Widget struct {
	Type     string
	Settings map[string]any
}

// KeepDirectories says how much of the source path an input's files keep under /valohai/inputs/<name>/.
type KeepDirectories string

// The keep-directories modes; `false` reads as KeepNone and `true` as KeepFull.
const (
	KeepNone   KeepDirectories = "none"
	KeepFull   KeepDirectories = "full"
	KeepSuffix KeepDirectories = "suffix"
)

// Input is one item of a step's `inputs`.
type Input struct {
	Name            string // at most 64 characters
	Default         []string
	Optional        bool
	Description     string
	Filename        string
	KeepDirectories KeepDirectories // KeepNone when not set
	Download        string          // "always" (default) or "on-demand"
	EdgeMergeMode   string          // "", "replace" or "append"
	Line            int
}

// Required reports whether an execution needs a value for the input: it has no default and is not optional.
func (i *Input) Required() bool { return len(i.Default) == 0 && !i.Optional }

// Output is one item of a step's `outputs`; declarative only.
type Output struct {
	Name        string
	Description string
	Line        int
}

// EnvironmentVariable is one item of a step's `environment-variables`.
type EnvironmentVariable struct {
	Name        string
	Default     string
	HasDefault  bool
	Description string
	Optional    bool // true when not set
	Line        int
}

// Mount is one item of a step's `mounts`; the short form "/src:/dst" fills Source and Destination.
type Mount struct {
	Source      string
	Destination string
	Readonly    bool
	Type        string
	Options     map[string]any
	Line        int
}

// Resources are Kubernetes-style requests and limits.
type Resources struct {
	CPU              *MinMax            // vCPUs
	Memory           *MinMax            // MB
	EphemeralStorage *MinMax            // MB; endpoints only
	Devices          map[string]float64 // e.g. "nvidia.com/gpu": 1
}

// MinMax is a resource range; nil bounds are unset.
type MinMax struct {
	Min, Max *float64
}

// Task is a top-level `task`: a blueprint for a hyperparameter search over a step.
type Task struct {
	Name          string
	Step          string
	Description   string
	Type          string // normalized: grid_search (default), random_search, manual_search, bayesian_tpe, distributed
	Parameters    []*VariantParameter
	ParameterSets []map[string]any

	ExecutionCount           *int64
	ExecutionBatchSize       *int64
	MaximumQueuedExecutions  *int64
	OnChildError             string // normalized: continue-and-complete, continue-and-error, stop-all-and-error
	Engine                   string
	OptimizationTargetMetric string
	OptimizationTargetValue  *float64
	StopCondition            string
	ReuseChildren            bool
	Line                     int
}

// VariantParameter is one item of a task's `parameters`.
type VariantParameter struct {
	Name  string
	Style string // single, multiple, linear, logspace, random
	Rules map[string]any
	Line  int
}

// Pipeline is a `pipeline` (or legacy `blueprint`): nodes joined by edges.
type Pipeline struct {
	Name            string
	Nodes           []*Node
	Edges           []*Edge
	Parameters      []*PipelineParameter
	ReuseExecutions bool
	Line            int
}

// Node returns the pipeline's node called name, or nil.
func (p *Pipeline) Node(name string) *Node {
	return lookup(p.Nodes, name, func(n *Node) string { return n.Name })
}

// NodeType is the `type` of a pipeline node.
type NodeType string

// The node types.
const (
	NodeExecution  NodeType = "execution"
	NodeTask       NodeType = "task"
	NodeDeployment NodeType = "deployment"
)

// Node is one item of a pipeline's `nodes`.
type Node struct {
	Name string
	Type NodeType

	Step          string    // execution and task nodes
	Task          string    // task nodes: a task blueprint name instead of Step
	Commit        string    // execution and task nodes: run the step from this commit
	Override      *Override // execution and task nodes
	EdgeMergeMode string    // execution and task nodes: "replace" (default) or "append"

	Deployment string   // deployment nodes
	Aliases    []string // deployment nodes
	Endpoints  []string // deployment nodes

	OnError string // stop-all (default), stop-next, continue, or retry (not for deployments)
	Actions []*NodeAction
	Line    int
}

// Override holds the step fields a pipeline node replaces.
type Override struct {
	Image                string
	Command              []string
	Environment          string
	RuntimeConfigPreset  string
	Autorestart          *bool
	Parameters           []*Parameter
	Inputs               []*Input
	Mounts               []*Mount
	EnvironmentVariables []*EnvironmentVariable
	Line                 int
}

// NodeAction is one item of a node's `actions`.
type NodeAction struct {
	When []string // node-starting, node-complete, node-error
	If   []string // expressions, all of which must hold
	Then []string // noop, stop-pipeline, error-pipeline
	Line int
}

// Socket is one end of an edge, "node.type.key"; the key may contain dots.
type Socket struct {
	Node string
	Type string // output, input, parameter, metadata, file, environment-variable, dependency, deployment
	Key  string
}

// String returns "node.type.key".
func (s Socket) String() string { return fmt.Sprintf("%s.%s.%s", s.Node, s.Type, s.Key) }

// Edge is one item of a pipeline's `edges`, in shorthand or full form.
type Edge struct {
	Source        Socket
	Target        Socket
	Configuration map[string]any
	Line          int
}

// PipelineParameter is one item of a pipeline's `parameters`.
type PipelineParameter struct {
	Name        string
	Default     any
	Description string
	Category    string
	Targets     []string // "node.parameter.name"; `target` and `targets` both land here
	Line        int
}

// Endpoint is a top-level `endpoint`: a deployable HTTP server.
type Endpoint struct {
	Name          string
	Image         string
	Description   string
	ServerCommand []string
	WSGI          string // "module" or "module:callable"; exclusive with ServerCommand
	Port          int    // 8000 when not set
	Files         []*EndpointFile
	NodeSelector  string
	Resources     *Resources
	Tolerations   []*Toleration
	Line          int
}

// EndpointFile is one item of an endpoint's `files`, fed by `file` edges.
type EndpointFile struct {
	Name        string
	Path        string
	Description string
	Line        int
}

// Toleration is one Kubernetes toleration of an endpoint.
type Toleration struct {
	Key, Operator, Value, Effect string
	Line                         int
}

// Deployment is a top-level `deployment`, used to create a missing deployment that a pipeline node names.
type Deployment struct {
	Name     string
	Defaults map[string]any // includes "target"
	Line     int
}
