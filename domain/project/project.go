package project

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"time"

	"github.com/stratahq/strata/domain"
)

// Role is a member's role in a project.
type Role string

// The roles, from least to most allowed.
const (
	RoleViewer Role = "viewer" // reads everything
	RoleEditor Role = "editor" // also runs executions and changes data
	RoleAdmin  Role = "admin"  // also manages the project and its members
)

func (r Role) rank() int {
	switch r {
	case RoleViewer:
		return 1
	case RoleEditor:
		return 2
	case RoleAdmin:
		return 3
	}
	return 0
}

// Allows reports whether r grants at least what need grants.
func (r Role) Allows(need Role) bool { return r.rank() > 0 && r.rank() >= need.rank() }

// Counter names one of a project's counters.
type Counter string

// The counters.
const (
	CounterExecution Counter = "execution" // #N
	CounterTask      Counter = "task"      // !N
	CounterPipeline  Counter = "pipeline"  // =N
)

// Prefix returns the display prefix of c: "#", "!" or "=".
func (c Counter) Prefix() string {
	switch c {
	case CounterExecution:
		return "#"
	case CounterTask:
		return "!"
	case CounterPipeline:
		return "="
	}
	return ""
}

// Format returns number n of c as displayed: "#42", "!2", "=21".
func (c Counter) Format(n int) string { return c.Prefix() + strconv.Itoa(n) }

// Errors Decide returns.
var (
	// ErrNotFound: the command needs a project that does not exist.
	ErrNotFound = fmt.Errorf("project does not exist: %w", domain.ErrNotFound)
	// ErrExists: Create on a project that exists.
	ErrExists = fmt.Errorf("project already exists: %w", domain.ErrConflict)
	// ErrLastAdmin: the command would leave the project without an admin.
	ErrLastAdmin = fmt.Errorf("project must keep an admin: %w", domain.ErrConflict)
	// ErrNotMember: the user named is not a member.
	ErrNotMember = fmt.Errorf("not a member of the project: %w", domain.ErrNotFound)
)

// Command is a project command. The set is sealed: only this package declares commands.
type Command interface{ isCommand() }

// Create creates the project; Owner becomes its first admin. See the package
// documentation for slug uniqueness.
type Create struct {
	Project domain.ProjectID
	Slug    string
	Name    string
	Owner   domain.UserID
	At      time.Time
}

// LinkRepository links the project to the git repository at URL. Linking the current one
// again is a no-op.
type LinkRepository struct {
	URL string
	At  time.Time
}

// SetDefaultStore sets the project's default data store (a store URL without wildcards or
// query). Setting the current one again is a no-op.
type SetDefaultStore struct {
	Store string
	At    time.Time
}

// SetStoreOverride makes the store name Name mean Store in this project. Setting the same
// again is a no-op.
type SetStoreOverride struct {
	Name  string
	Store string
	At    time.Time
}

// RemoveStoreOverride removes the project's store for Name; a no-op if there is none.
type RemoveStoreOverride struct {
	Name string
	At   time.Time
}

// EnableEnvironment lets executions of the project run on Environment (idempotent).
type EnableEnvironment struct {
	Environment domain.EnvironmentID
	At          time.Time
}

// DisableEnvironment stops executions of the project from running on Environment
// (idempotent).
type DisableEnvironment struct {
	Environment domain.EnvironmentID
	At          time.Time
}

// SetMember makes User a member with Role, or changes their role (idempotent).
type SetMember struct {
	User domain.UserID
	Role Role
	At   time.Time
}

// RemoveMember removes User from the project.
type RemoveMember struct {
	User domain.UserID
	At   time.Time
}

// AllocateNumber gives the next number of Counter to the thing with ID For (an execution,
// task or pipeline ID). It is idempotent by (Counter, For); read the number with
// State.Number.
type AllocateNumber struct {
	Counter Counter
	For     string
	At      time.Time
}

func (Create) isCommand()              {}
func (LinkRepository) isCommand()      {}
func (SetDefaultStore) isCommand()     {}
func (SetStoreOverride) isCommand()    {}
func (RemoveStoreOverride) isCommand() {}
func (EnableEnvironment) isCommand()   {}
func (DisableEnvironment) isCommand()  {}
func (SetMember) isCommand()           {}
func (RemoveMember) isCommand()        {}
func (AllocateNumber) isCommand()      {}

// State is a project folded from its events. The zero State is a project that does not
// exist yet.
type State struct {
	id           domain.ProjectID
	slug, name   string
	createdAt    time.Time
	repository   string
	defaultStore string
	overrides    map[string]string
	environments []domain.EnvironmentID
	members      map[domain.UserID]Role
	last         map[Counter]int
	numbers      map[Counter]map[string]int
}

// Exists reports whether the project was created.
func (s State) Exists() bool { return s.id != "" }

// ID returns the project's ID.
func (s State) ID() domain.ProjectID { return s.id }

// Slug returns the project's slug.
func (s State) Slug() string { return s.slug }

// Name returns the project's display name.
func (s State) Name() string { return s.name }

// CreatedAt returns when the project was created.
func (s State) CreatedAt() time.Time { return s.createdAt }

// Repository returns the linked repository URL, empty if none.
func (s State) Repository() string { return s.repository }

// DefaultStore returns the default data store URL, empty if none is set.
func (s State) DefaultStore() string { return s.defaultStore }

// Store returns the store URL the store name means in this project: the override if there
// is one, else the default store when name is empty.
func (s State) Store(name string) (string, bool) {
	if name == "" {
		return s.defaultStore, s.defaultStore != ""
	}
	u, ok := s.overrides[name]
	return u, ok
}

// StoreOverrides returns a copy of the store overrides by name.
func (s State) StoreOverrides() map[string]string { return maps.Clone(s.overrides) }

// Environments returns the enabled environments in the order they were enabled.
func (s State) Environments() []domain.EnvironmentID { return slices.Clone(s.environments) }

// EnvironmentEnabled reports whether executions may run on env.
func (s State) EnvironmentEnabled(env domain.EnvironmentID) bool {
	return slices.Contains(s.environments, env)
}

// Role returns user's role, and false if user is not a member.
func (s State) Role(user domain.UserID) (Role, bool) {
	r, ok := s.members[user]
	return r, ok
}

// Members returns a copy of the members and their roles.
func (s State) Members() map[domain.UserID]Role { return maps.Clone(s.members) }

// Number returns the number of counter c allocated to id, and false if none was.
func (s State) Number(c Counter, id string) (int, bool) {
	n, ok := s.numbers[c][id]
	return n, ok
}

// Last returns the last number of counter c allocated, 0 if none.
func (s State) Last(c Counter) int { return s.last[c] }

// Settings returns a copy of s without the numbers allocated to each thing (Number
// answers false; Last still answers): everything else, with its maps and slices copied,
// so it stays valid while s evolves further. It costs the size of the settings, not of
// the project's history, which is what a cache of project states hands out per request.
func (s State) Settings() State {
	s.overrides = maps.Clone(s.overrides)
	s.environments = slices.Clone(s.environments)
	s.members = maps.Clone(s.members)
	s.last = maps.Clone(s.last)
	s.numbers = nil
	return s
}

// Decide validates c against s and returns the events it causes.
func Decide(s State, c Command) ([]Event, error) {
	if create, ok := c.(Create); ok {
		return decideCreate(s, create)
	}
	if !s.Exists() {
		return nil, fmt.Errorf("project: %T: %w", c, ErrNotFound)
	}
	id := s.id
	switch c := c.(type) {
	case LinkRepository:
		if err := checkAt(c.At); err != nil {
			return nil, err
		}
		if err := domain.CheckRepositoryURL(c.URL); err != nil {
			return nil, fmt.Errorf("link repository: %w", err)
		}
		if c.URL == s.repository {
			return nil, nil
		}
		return []Event{RepositoryLinked{Project: id, URL: c.URL, Previous: s.repository, At: c.At}}, nil
	case SetDefaultStore:
		if err := checkAt(c.At); err != nil {
			return nil, err
		}
		store, err := parseStore(c.Store)
		if err != nil {
			return nil, fmt.Errorf("set default store: %w", err)
		}
		if store == s.defaultStore {
			return nil, nil
		}
		return []Event{DefaultStoreSet{Project: id, Store: store, Previous: s.defaultStore, At: c.At}}, nil
	case SetStoreOverride:
		if err := checkAt(c.At); err != nil {
			return nil, err
		}
		if err := domain.CheckName("store name", c.Name); err != nil {
			return nil, fmt.Errorf("set store override: %w", err)
		}
		if len(c.Name) > 64 {
			return nil, fmt.Errorf("set store override: store name %q: longer than 64 bytes: %w", c.Name, domain.ErrInvalid)
		}
		store, err := parseStore(c.Store)
		if err != nil {
			return nil, fmt.Errorf("set store override %s: %w", c.Name, err)
		}
		if cur, ok := s.overrides[c.Name]; ok && cur == store {
			return nil, nil
		}
		return []Event{StoreOverrideSet{Project: id, Name: c.Name, Store: store, At: c.At}}, nil
	case RemoveStoreOverride:
		if err := checkAt(c.At); err != nil {
			return nil, err
		}
		if _, ok := s.overrides[c.Name]; !ok {
			return nil, nil
		}
		return []Event{StoreOverrideRemoved{Project: id, Name: c.Name, At: c.At}}, nil
	case EnableEnvironment:
		if err := checkAt(c.At); err != nil {
			return nil, err
		}
		if err := domain.CheckID("environment", c.Environment); err != nil {
			return nil, fmt.Errorf("enable environment: %w", err)
		}
		if s.EnvironmentEnabled(c.Environment) {
			return nil, nil
		}
		return []Event{EnvironmentEnabled{Project: id, Environment: c.Environment, At: c.At}}, nil
	case DisableEnvironment:
		if err := checkAt(c.At); err != nil {
			return nil, err
		}
		if !s.EnvironmentEnabled(c.Environment) {
			return nil, nil
		}
		return []Event{EnvironmentDisabled{Project: id, Environment: c.Environment, At: c.At}}, nil
	case SetMember:
		if err := checkAt(c.At); err != nil {
			return nil, err
		}
		if err := domain.CheckUser(c.User); err != nil {
			return nil, fmt.Errorf("set member: %w", err)
		}
		if c.Role.rank() == 0 {
			return nil, fmt.Errorf("set member %s: unknown role %q (want viewer, editor or admin): %w", c.User, c.Role, domain.ErrInvalid)
		}
		cur, ok := s.members[c.User]
		if ok && cur == c.Role {
			return nil, nil
		}
		if cur == RoleAdmin && s.admins() == 1 {
			return nil, fmt.Errorf("set member %s to %s: %w", c.User, c.Role, ErrLastAdmin)
		}
		return []Event{MemberSet{Project: id, User: c.User, Role: c.Role, At: c.At}}, nil
	case RemoveMember:
		if err := checkAt(c.At); err != nil {
			return nil, err
		}
		cur, ok := s.members[c.User]
		if !ok {
			return nil, fmt.Errorf("remove member %s: %w", c.User, ErrNotMember)
		}
		if cur == RoleAdmin && s.admins() == 1 {
			return nil, fmt.Errorf("remove member %s: %w", c.User, ErrLastAdmin)
		}
		return []Event{MemberRemoved{Project: id, User: c.User, At: c.At}}, nil
	case AllocateNumber:
		if err := checkAt(c.At); err != nil {
			return nil, err
		}
		if c.Counter.Prefix() == "" {
			return nil, fmt.Errorf("allocate number: unknown counter %q (want execution, task or pipeline): %w", c.Counter, domain.ErrInvalid)
		}
		if err := domain.CheckID(string(c.Counter), c.For); err != nil {
			return nil, fmt.Errorf("allocate number: %w", err)
		}
		if _, ok := s.Number(c.Counter, c.For); ok {
			return nil, nil
		}
		return []Event{NumberAllocated{Project: id, Counter: c.Counter, Number: s.last[c.Counter] + 1, For: c.For, At: c.At}}, nil
	}
	return nil, fmt.Errorf("project: unknown command %T: %w", c, domain.ErrInvalid)
}

// Evolve applies e to s. It never fails: history is fact. Like append, it may reuse the
// memory of s, so fold forward and keep only the result.
func Evolve(s State, e Event) State {
	switch e := e.(type) {
	case Created:
		s.id, s.slug, s.name, s.createdAt = e.Project, e.Slug, e.Name, e.At
		s.members = map[domain.UserID]Role{e.Owner: RoleAdmin}
	case RepositoryLinked:
		s.repository = e.URL
	case DefaultStoreSet:
		s.defaultStore = e.Store
	case StoreOverrideSet:
		if s.overrides == nil {
			s.overrides = make(map[string]string)
		}
		s.overrides[e.Name] = e.Store
	case StoreOverrideRemoved:
		delete(s.overrides, e.Name)
	case EnvironmentEnabled:
		if !slices.Contains(s.environments, e.Environment) {
			s.environments = append(s.environments, e.Environment)
		}
	case EnvironmentDisabled:
		s.environments = slices.DeleteFunc(s.environments, func(x domain.EnvironmentID) bool { return x == e.Environment })
	case MemberSet:
		if s.members == nil {
			s.members = make(map[domain.UserID]Role)
		}
		s.members[e.User] = e.Role
	case MemberRemoved:
		delete(s.members, e.User)
	case NumberAllocated:
		if s.last == nil {
			s.last, s.numbers = make(map[Counter]int), make(map[Counter]map[string]int)
		}
		if s.numbers[e.Counter] == nil {
			s.numbers[e.Counter] = make(map[string]int)
		}
		s.numbers[e.Counter][e.For] = e.Number
		s.last[e.Counter] = max(s.last[e.Counter], e.Number)
	}
	return s
}

func decideCreate(s State, c Create) ([]Event, error) {
	if s.Exists() {
		return nil, fmt.Errorf("create project %s: %w", c.Project, ErrExists)
	}
	if err := domain.CheckID("project", c.Project); err != nil {
		return nil, fmt.Errorf("create project: %w", err)
	}
	if err := domain.CheckSlug("project slug", c.Slug); err != nil {
		return nil, fmt.Errorf("create project: %w", err)
	}
	if err := domain.CheckText("project name", c.Name, 256); err != nil {
		return nil, fmt.Errorf("create project: %w", err)
	}
	if err := domain.CheckUser(c.Owner); err != nil {
		return nil, fmt.Errorf("create project: owner: %w", err)
	}
	if err := checkAt(c.At); err != nil {
		return nil, err
	}
	return []Event{Created(c)}, nil
}

func (s State) admins() int {
	n := 0
	for _, r := range s.members {
		if r == RoleAdmin {
			n++
		}
	}
	return n
}

func parseStore(raw string) (string, error) {
	u, err := domain.ParseStoreURL(raw)
	if err != nil {
		return "", err
	}
	if u.HasWildcard() || u.Query != "" {
		return "", fmt.Errorf("store %.80q: a store is a location, without wildcards or query: %w", raw, domain.ErrInvalid)
	}
	return u.String(), nil
}

func checkAt(at time.Time) error {
	if at.IsZero() {
		return fmt.Errorf("project: missing time: %w", domain.ErrInvalid)
	}
	return nil
}
