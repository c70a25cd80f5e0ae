package app

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/netip"
	"time"

	"github.com/google/uuid"

	"github.com/stratahq/strata/blob"
	"github.com/stratahq/strata/blob/storecfg"
	"github.com/stratahq/strata/domain"
	"github.com/stratahq/strata/domain/alias"
	"github.com/stratahq/strata/domain/dataset"
	"github.com/stratahq/strata/domain/datum"
	"github.com/stratahq/strata/domain/deployment"
	"github.com/stratahq/strata/domain/environment"
	"github.com/stratahq/strata/domain/execution"
	"github.com/stratahq/strata/domain/project"
	"github.com/stratahq/strata/domain/task"
	"github.com/stratahq/strata/domain/token"
	"github.com/stratahq/strata/events"
)

// Events returns one zero value of every domain event type, every aggregate's Events()
// concatenated, for events.NewCodec.
func Events() []events.Event {
	var out []events.Event
	out = appendEvents(out, project.Events())
	out = appendEvents(out, project.SlugEvents())
	out = appendEvents(out, execution.Events())
	out = appendEvents(out, datum.Events())
	out = appendEvents(out, alias.Events())
	out = appendEvents(out, dataset.Events())
	out = appendEvents(out, task.Events())
	out = appendEvents(out, deployment.Events())
	out = appendEvents(out, environment.Events())
	out = appendEvents(out, token.Events())
	return out
}

func appendEvents[E events.Event](out []events.Event, evs []E) []events.Event {
	for _, e := range evs {
		out = append(out, e)
	}
	return out
}

// Config is what a Service is told by cmd. The zero value of every field but Stores has a
// usable default.
type Config struct {
	// Stores are the named data stores, the defaults and the secrets they refer to.
	Stores storecfg.Config
	// Download limits remote input downloads.
	Download DownloadConfig
}

// DownloadConfig limits and guards input downloads.
type DownloadConfig struct {
	// MaxSize is the largest input file downloaded, in bytes; default 1 TiB.
	MaxSize int64
	// MaxFiles is the most files one wildcard URL may match; default 100,000.
	MaxFiles int
	// AllowHTTP permits plain http:// inputs; by default only https:// is fetched.
	AllowHTTP bool
	// Allow lists addresses and networks a remote input may reach although they are
	// loopback, link-local or private ("127.0.0.1", "10.1.0.0/16", "fd00::/8"). Hosts are
	// checked by the address they resolve to, when connecting, so a DNS answer cannot
	// smuggle a private address past the check.
	Allow []string
	// Retries is how often a download interrupted by a read error is resumed (or restarted
	// where the source cannot resume); default 3.
	Retries int
	// Timeout bounds connecting and waiting for response headers; default 30s.
	Timeout time.Duration
}

func (c Config) withDefaults() Config {
	d := &c.Download
	if d.MaxSize <= 0 {
		d.MaxSize = 1 << 40
	}
	if d.MaxFiles <= 0 {
		d.MaxFiles = 100_000
	}
	if d.Retries <= 0 {
		d.Retries = 3
	}
	if d.Timeout <= 0 {
		d.Timeout = 30 * time.Second
	}
	return c
}

// Validate reports every problem with c, after defaults, joined. Messages never hold a
// secret.
func (c Config) Validate() error {
	c = c.withDefaults()
	var errs []error
	if err := c.Stores.Validate(); err != nil {
		errs = append(errs, err)
	}
	for _, a := range c.Download.Allow {
		if _, err := parseAllow(a); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// Deps are a Service's collaborators.
type Deps struct {
	// Log is the event store; Codec must know Events().
	Log   events.Store
	Codec *events.Codec
	// Blobs are the content-addressed stores by data store name (storecfg.Store.Name).
	Blobs map[string]blob.Store
	// Objects read plain objects of the configured stores' buckets by store name, for
	// store URL inputs (s3://bucket/path/file.csv). A store without one cannot serve them.
	Objects map[string]ObjectReader
	// Transport, if set, is the base of the HTTP transport for http(s):// inputs (TLS
	// settings, tests' certificates); its dialing and proxy settings are replaced so every
	// connection goes through the address check.
	Transport *http.Transport
	// Now returns the time commands are stamped with; default time.Now.
	Now func() time.Time
	// NewID returns a new entity ID (lowercase UUID); default UUIDv7.
	NewID func() string
}

// Service runs the application's commands. It is safe for concurrent use.
type Service struct {
	cfg     Config
	log     events.Store
	codec   *events.Codec
	blobs   map[string]blob.Store
	objects map[string]ObjectReader
	now     func() time.Time
	newID   func() string
	stores  *stores
	allow   []netip.Prefix
	http    *http.Client
	index   *contentIndex
	locks   contentLocks
	// projects and tokens keep what a role check and an authentication read, folded.
	projects *events.Folded[project.State, project.Event]
	tokens   *events.Folded[token.State, token.Event]
}

// New returns a Service for cfg and d. It checks cfg and the collaborators, and contacts
// nothing.
func New(cfg Config, d Deps) (*Service, error) {
	cfg = cfg.withDefaults()
	var errs []error
	if err := cfg.Validate(); err != nil {
		errs = append(errs, err)
	}
	if d.Log == nil || d.Codec == nil {
		errs = append(errs, fmt.Errorf("new app service: event log and codec are required: %w", domain.ErrInvalid))
	}
	st, err := newStores(cfg.Stores)
	if err != nil {
		errs = append(errs, err)
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	s := &Service{cfg: cfg, log: d.Log, codec: d.Codec, blobs: d.Blobs, objects: d.Objects, now: d.Now, newID: d.NewID,
		stores: st, index: newContentIndex(),
		projects: &events.Folded[project.State, project.Event]{Evolve: project.Evolve, Copy: project.State.Settings},
		tokens:   &events.Folded[token.State, token.Event]{Evolve: token.Evolve}}
	if s.now == nil {
		s.now = time.Now
	}
	if s.newID == nil {
		s.newID = func() string { return uuid.Must(uuid.NewV7()).String() }
	}
	for _, a := range cfg.Download.Allow {
		p, _ := parseAllow(a) // checked by Validate
		s.allow = append(s.allow, p)
	}
	s.http = s.newHTTPClient(d.Transport)
	return s, nil
}

// at returns the time to stamp a command with, in UTC.
func (s *Service) at() time.Time { return s.now().UTC() }

// execute runs cmd on stream with the context's actor and correlation.
func execute[S any, C any, E events.Event](ctx context.Context, s *Service, stream events.StreamID, d events.Decider[S, C, E], cmd C) (events.Result[S], error) {
	return events.Execute(ctx, s.log, s.codec, stream, d, cmd, metaFrom(ctx))
}

// Deciders of the aggregates the handlers run commands on.
var (
	projectDecider   = events.Decider[project.State, project.Command, project.Event]{Decide: project.Decide, Evolve: project.Evolve}
	datumDecider     = events.Decider[datum.State, datum.Command, datum.Event]{Decide: datum.Decide, Evolve: datum.Evolve}
	executionDecider = events.Decider[execution.State, execution.Command, execution.Event]{Decide: execution.Decide, Evolve: execution.Evolve}
)

func (s *Service) loadProject(ctx context.Context, id domain.ProjectID) (project.State, error) {
	st, _, err := s.projects.State(ctx, s.log, s.codec, ProjectStream(id))
	if err != nil {
		return project.State{}, err
	}
	if !st.Exists() {
		return project.State{}, fmt.Errorf("project %s: %w", id, project.ErrNotFound)
	}
	return st, nil
}

func (s *Service) loadDatum(ctx context.Context, id domain.DatumID) (datum.State, error) {
	st, _, err := events.Fold(ctx, s.log, s.codec, DatumStream(id), datum.State{}, datum.Evolve)
	if err != nil {
		return datum.State{}, err
	}
	if !st.Exists() {
		return datum.State{}, fmt.Errorf("datum %s: %w", id, datum.ErrNotFound)
	}
	return st, nil
}

func (s *Service) loadExecution(ctx context.Context, id domain.ExecutionID) (execution.State, error) {
	st, _, err := events.Fold(ctx, s.log, s.codec, ExecutionStream(id), execution.State{}, execution.Evolve)
	if err != nil {
		return execution.State{}, err
	}
	if !st.Exists() {
		return execution.State{}, fmt.Errorf("execution %s: %w", id, execution.ErrNotFound)
	}
	return st, nil
}

// authorize loads project p and checks that the context's actor has at least role need
// in it. It returns the project and the actor.
func (s *Service) authorize(ctx context.Context, p domain.ProjectID, need project.Role) (project.State, domain.UserID, error) {
	actor, err := requireActor(ctx)
	if err != nil {
		return project.State{}, "", err
	}
	st, err := s.loadProject(ctx, p)
	if err != nil {
		return project.State{}, "", err
	}
	role, ok := st.Role(actor)
	if !ok {
		// Non-members learn nothing about the project, not even that it exists.
		return project.State{}, "", fmt.Errorf("project %s: %w", p, project.ErrNotFound)
	}
	if !role.Allows(need) {
		return project.State{}, "", fmt.Errorf("%s is %s in project %s, needs %s: %w", actor, role, p, need, ErrForbidden)
	}
	return st, actor, nil
}

// Errors of the application layer. Each wraps a domain kind.
var (
	// ErrForbidden: the actor's role in the project does not allow the request.
	ErrForbidden = fmt.Errorf("permission denied: %w", domain.ErrInvalid)
	// ErrNoActor: the context carries no actor (see WithActor).
	ErrNoActor = fmt.Errorf("no actor in the request: %w", domain.ErrInvalid)
)
