package token

import (
	"encoding/hex"
	"fmt"
	"time"

	"github.com/stratahq/strata/domain"
)

// ID identifies a token: a canonical lowercase UUID.
type ID string

// Errors Decide returns.
var (
	// ErrNotFound: the command needs a token that does not exist.
	ErrNotFound = fmt.Errorf("token does not exist: %w", domain.ErrNotFound)
	// ErrExists: Create on a token that exists.
	ErrExists = fmt.Errorf("token already exists: %w", domain.ErrConflict)
)

// Event is a token event. The set is sealed: only this package declares events.
//
//sumtype:decl
type Event interface {
	// EventType is the stable wire name, "token.<Type>".
	EventType() string
	// EventSchema is the payload schema version, 1 until a breaking change.
	EventSchema() int
	isEvent()
}

// Events returns one zero value of every token event type, for the event codec.
func Events() []Event { return []Event{Created{}, Revoked{}} }

// Created: a token exists for User; requests bearing a secret whose SHA-256 is Hash act
// as User. Admin tokens may also manage other users' tokens and read the whole log.
type Created struct {
	Token     ID            `json:"token"`
	User      domain.UserID `json:"user"`
	Name      string        `json:"name"`
	Hash      string        `json:"hash"` // lowercase hex SHA-256 of the secret
	Admin     bool          `json:"admin,omitempty"`
	CreatedBy domain.UserID `json:"created_by"`
	At        time.Time     `json:"at"`
}

// Revoked: the token no longer authenticates anything, from now on.
type Revoked struct {
	Token ID            `json:"token"`
	By    domain.UserID `json:"by"`
	At    time.Time     `json:"at"`
}

// EventType returns "token.Created".
func (Created) EventType() string { return "token.Created" }

// EventType returns "token.Revoked".
func (Revoked) EventType() string { return "token.Revoked" }

// EventSchema returns 1.
func (Created) EventSchema() int { return 1 }

// EventSchema returns 1.
func (Revoked) EventSchema() int { return 1 }

func (Created) isEvent() {}
func (Revoked) isEvent() {}

// Command is a token command. The set is sealed: only this package declares commands.
type Command interface{ isCommand() }

// Create creates token Token for User with the hash of its secret.
type Create struct {
	Token     ID
	User      domain.UserID
	Name      string
	Hash      string
	Admin     bool
	CreatedBy domain.UserID
	At        time.Time
}

// Revoke revokes the token. Revoking a revoked token is a no-op.
type Revoke struct {
	By domain.UserID
	At time.Time
}

func (Create) isCommand() {}
func (Revoke) isCommand() {}

// State is a token folded from its events. The zero State is a token that does not exist.
type State struct {
	id        ID
	user      domain.UserID
	name      string
	hash      string
	admin     bool
	createdAt time.Time
	revoked   bool
}

// Exists reports whether the token was created.
func (s State) Exists() bool { return s.id != "" }

// ID returns the token's ID.
func (s State) ID() ID { return s.id }

// User returns whom the token authenticates.
func (s State) User() domain.UserID { return s.user }

// Name returns the token's display name.
func (s State) Name() string { return s.name }

// Hash returns the lowercase hex SHA-256 of the token's secret.
func (s State) Hash() string { return s.hash }

// Admin reports whether the token is a server-admin token.
func (s State) Admin() bool { return s.admin }

// CreatedAt returns when the token was created.
func (s State) CreatedAt() time.Time { return s.createdAt }

// Revoked reports whether the token was revoked.
func (s State) Revoked() bool { return s.revoked }

// Decide validates c against s and returns the events it causes.
func Decide(s State, c Command) ([]Event, error) {
	switch c := c.(type) {
	case Create:
		if s.Exists() {
			return nil, fmt.Errorf("create token %s: %w", c.Token, ErrExists)
		}
		if err := domain.CheckID("token", c.Token); err != nil {
			return nil, fmt.Errorf("create token: %w", err)
		}
		if err := domain.CheckUser(c.User); err != nil {
			return nil, fmt.Errorf("create token: %w", err)
		}
		if err := domain.CheckUser(c.CreatedBy); err != nil {
			return nil, fmt.Errorf("create token: created by: %w", err)
		}
		if err := domain.CheckText("token name", c.Name, 256); err != nil {
			return nil, fmt.Errorf("create token: %w", err)
		}
		if b, err := hex.DecodeString(c.Hash); err != nil || len(b) != 32 || hex.EncodeToString(b) != c.Hash {
			return nil, fmt.Errorf("create token: hash: want 64 lowercase hex digits: %w", domain.ErrInvalid)
		}
		if err := checkAt(c.At); err != nil {
			return nil, err
		}
		return []Event{Created(c)}, nil
	case Revoke:
		if !s.Exists() {
			return nil, fmt.Errorf("revoke token: %w", ErrNotFound)
		}
		if err := checkAt(c.At); err != nil {
			return nil, err
		}
		if err := domain.CheckUser(c.By); err != nil {
			return nil, fmt.Errorf("revoke token %s: by: %w", s.id, err)
		}
		if s.revoked {
			return nil, nil
		}
		return []Event{Revoked{Token: s.id, By: c.By, At: c.At}}, nil
	}
	return nil, fmt.Errorf("token: unknown command %T: %w", c, domain.ErrInvalid)
}

// Evolve applies e to s. It never fails: history is fact.
func Evolve(s State, e Event) State {
	switch e := e.(type) {
	case Created:
		s.id, s.user, s.name, s.hash, s.admin, s.createdAt = e.Token, e.User, e.Name, e.Hash, e.Admin, e.At
	case Revoked:
		s.revoked = true
	}
	return s
}

func checkAt(at time.Time) error {
	if at.IsZero() {
		return fmt.Errorf("token: missing time: %w", domain.ErrInvalid)
	}
	return nil
}
