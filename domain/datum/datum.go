package datum

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/stratahq/strata/domain"
)

// Errors Decide and State return.
var (
	// ErrNotFound: the command needs a datum that does not exist.
	ErrNotFound = fmt.Errorf("datum does not exist: %w", domain.ErrNotFound)
	// ErrExists: Create on a datum that exists.
	ErrExists = fmt.Errorf("datum already exists: %w", domain.ErrConflict)
	// ErrPurged: the datum's content was purged; its record remains.
	ErrPurged = fmt.Errorf("datum is purged: %w", domain.ErrConflict)
)

// Event is a datum event. The set is sealed: only this package declares events.
//
//sumtype:decl
type Event interface {
	// EventType is the stable wire name, "datum.<Type>".
	EventType() string
	// EventSchema is the payload schema version, 1 until a breaking change.
	EventSchema() int
	isEvent()
}

// Events returns one zero value of every datum event type, for the event codec.
func Events() []Event {
	return []Event{Created{}, PropertiesSet{}, TagsAdded{}, TagsRemoved{}, Purged{}}
}

// Created: the datum exists. Store is the URL of the store holding the content (empty
// for Strata's built-in content-addressed store) and Key the object's key in it. Exactly
// one of Execution (an output) and Uploader (a user upload) is set.
type Created struct {
	Datum     domain.DatumID     `json:"datum"`
	Project   domain.ProjectID   `json:"project"`
	Name      string             `json:"name"`
	Size      int64              `json:"size"`
	MD5       domain.MD5         `json:"md5"`
	SHA1      domain.SHA1        `json:"sha1"`
	SHA256    domain.SHA256      `json:"sha256"`
	BLAKE3    domain.Digest      `json:"blake3"`
	Store     string             `json:"store,omitempty"`
	Key       string             `json:"key"`
	Execution domain.ExecutionID `json:"execution,omitempty"`
	Uploader  domain.UserID      `json:"uploader,omitempty"`
	At        time.Time          `json:"at"`
}

// PropertiesSet: the properties in Properties changed to the given JSON values; a JSON
// null means the property was removed. Only changed properties are listed.
type PropertiesSet struct {
	Datum      domain.DatumID             `json:"datum"`
	Properties map[string]json.RawMessage `json:"properties"`
	At         time.Time                  `json:"at"`
}

// TagsAdded: Tags (none of which the datum had) were added.
type TagsAdded struct {
	Datum domain.DatumID `json:"datum"`
	Tags  []string       `json:"tags"`
	At    time.Time      `json:"at"`
}

// TagsRemoved: Tags (all of which the datum had) were removed.
type TagsRemoved struct {
	Datum domain.DatumID `json:"datum"`
	Tags  []string       `json:"tags"`
	At    time.Time      `json:"at"`
}

// Purged: By deleted the datum's content, for Reason. The record and its lineage remain.
type Purged struct {
	Datum  domain.DatumID `json:"datum"`
	By     domain.UserID  `json:"by"`
	Reason string         `json:"reason"`
	At     time.Time      `json:"at"`
}

// EventType returns "datum.Created".
func (Created) EventType() string { return "datum.Created" }

// EventType returns "datum.PropertiesSet".
func (PropertiesSet) EventType() string { return "datum.PropertiesSet" }

// EventType returns "datum.TagsAdded".
func (TagsAdded) EventType() string { return "datum.TagsAdded" }

// EventType returns "datum.TagsRemoved".
func (TagsRemoved) EventType() string { return "datum.TagsRemoved" }

// EventType returns "datum.Purged".
func (Purged) EventType() string { return "datum.Purged" }

// EventSchema returns 1.
func (Created) EventSchema() int { return 1 }

// EventSchema returns 1.
func (PropertiesSet) EventSchema() int { return 1 }

// EventSchema returns 1.
func (TagsAdded) EventSchema() int { return 1 }

// EventSchema returns 1.
func (TagsRemoved) EventSchema() int { return 1 }

// EventSchema returns 1.
func (Purged) EventSchema() int { return 1 }

func (Created) isEvent()       {}
func (PropertiesSet) isEvent() {}
func (TagsAdded) isEvent()     {}
func (TagsRemoved) isEvent()   {}
func (Purged) isEvent()        {}

// Command is a datum command. The set is sealed: only this package declares commands.
type Command interface{ isCommand() }

// Create records a new datum. Set Execution for an execution output, Uploader for a user
// upload, not both.
type Create struct {
	Datum     domain.DatumID
	Project   domain.ProjectID
	Name      string // the file's name or relative path ("model.pb", "ckpt/epoch-3.pt")
	Size      int64
	Digests   domain.Digests
	Store     string // store URL; empty for the built-in store
	Key       string
	Execution domain.ExecutionID
	Uploader  domain.UserID
	At        time.Time
}

// SetProperties sets properties to JSON values; a JSON null removes one. Properties that
// already have the value are left out of the event; nothing changed is a no-op.
type SetProperties struct {
	Properties map[string]json.RawMessage
	At         time.Time
}

// AddTags adds tags; tags the datum has are ignored.
type AddTags struct {
	Tags []string
	At   time.Time
}

// RemoveTags removes tags; tags the datum lacks are ignored.
type RemoveTags struct {
	Tags []string
	At   time.Time
}

// Purge deletes the datum's content for good (the blob is deleted by whoever handles
// Purged); purging again is a no-op.
type Purge struct {
	By     domain.UserID
	Reason string
	At     time.Time
}

func (Create) isCommand()        {}
func (SetProperties) isCommand() {}
func (AddTags) isCommand()       {}
func (RemoveTags) isCommand()    {}
func (Purge) isCommand()         {}

// State is a datum folded from its events. The zero State is a datum that does not exist.
type State struct {
	created    Created
	properties map[string]json.RawMessage
	tags       []string
	purged     *Purged
}

// Exists reports whether the datum was created.
func (s State) Exists() bool { return s.created.Datum != "" }

// ID returns the datum's ID.
func (s State) ID() domain.DatumID { return s.created.Datum }

// Project returns the project the datum belongs to.
func (s State) Project() domain.ProjectID { return s.created.Project }

// Name returns the datum's file name.
func (s State) Name() string { return s.created.Name }

// Size returns the size in bytes.
func (s State) Size() int64 { return s.created.Size }

// Digests returns the four digests of the content.
func (s State) Digests() domain.Digests {
	c := s.created
	return domain.Digests{MD5: c.MD5, SHA1: c.SHA1, SHA256: c.SHA256, BLAKE3: c.BLAKE3}
}

// Location returns the store URL (empty for the built-in store) and key of the content.
func (s State) Location() (store, key string) { return s.created.Store, s.created.Key }

// Producer returns the execution that output the datum, empty for an upload.
func (s State) Producer() domain.ExecutionID { return s.created.Execution }

// Uploader returns who uploaded the datum, empty for an execution output.
func (s State) Uploader() domain.UserID { return s.created.Uploader }

// CreatedAt returns when the datum was created.
func (s State) CreatedAt() time.Time { return s.created.At }

// Properties returns a copy of the current properties.
func (s State) Properties() map[string]json.RawMessage { return maps.Clone(s.properties) }

// Tags returns the current tags in the order they were added.
func (s State) Tags() []string { return slices.Clone(s.tags) }

// Purged returns the purge record, and false if the datum is not purged.
func (s State) Purged() (Purged, bool) {
	if s.purged == nil {
		return Purged{}, false
	}
	return *s.purged, true
}

// CheckReadable returns nil if the datum's content may be read: ErrNotFound if there is
// no such datum, ErrPurged if its content was purged.
func (s State) CheckReadable() error {
	switch {
	case !s.Exists():
		return ErrNotFound
	case s.purged != nil:
		return fmt.Errorf("read datum %s: %w", s.created.Datum, ErrPurged)
	}
	return nil
}

// Decide validates c against s and returns the events it causes.
func Decide(s State, c Command) ([]Event, error) {
	if create, ok := c.(Create); ok {
		if s.Exists() {
			return nil, fmt.Errorf("create datum %s: %w", create.Datum, ErrExists)
		}
		return decideCreate(create)
	}
	if !s.Exists() {
		return nil, fmt.Errorf("datum: %T: %w", c, ErrNotFound)
	}
	id := s.created.Datum
	switch c := c.(type) {
	case SetProperties:
		if err := checkAt(c.At); err != nil {
			return nil, err
		}
		changed, err := domain.ChangedProperties(s.properties, c.Properties)
		if err != nil {
			return nil, fmt.Errorf("set properties: %w", err)
		}
		if len(changed) == 0 {
			return nil, nil
		}
		return []Event{PropertiesSet{Datum: id, Properties: changed, At: c.At}}, nil
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
		return []Event{TagsAdded{Datum: id, Tags: tags, At: c.At}}, nil
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
		return []Event{TagsRemoved{Datum: id, Tags: tags, At: c.At}}, nil
	case Purge:
		if err := checkAt(c.At); err != nil {
			return nil, err
		}
		if err := domain.CheckUser(c.By); err != nil {
			return nil, fmt.Errorf("purge: %w", err)
		}
		if err := domain.CheckText("reason", c.Reason, domain.MaxTextLen); err != nil {
			return nil, fmt.Errorf("purge: %w", err)
		}
		if s.purged != nil {
			return nil, nil
		}
		return []Event{Purged{Datum: id, By: c.By, Reason: c.Reason, At: c.At}}, nil
	}
	return nil, fmt.Errorf("datum: unknown command %T: %w", c, domain.ErrInvalid)
}

// Evolve applies e to s. It never fails: history is fact. Like append, it may reuse the
// memory of s, so fold forward and keep only the result.
func Evolve(s State, e Event) State {
	switch e := e.(type) {
	case Created:
		s.created = e
	case PropertiesSet:
		s.properties = domain.ApplyProperties(s.properties, e.Properties)
	case TagsAdded:
		s.tags = append(s.tags, e.Tags...)
	case TagsRemoved:
		s.tags = slices.DeleteFunc(s.tags, func(t string) bool { return slices.Contains(e.Tags, t) })
	case Purged:
		s.purged = &e
	}
	return s
}

func decideCreate(c Create) ([]Event, error) {
	wrap := func(err error) ([]Event, error) { return nil, fmt.Errorf("create datum: %w", err) }
	if err := domain.CheckID("datum", c.Datum); err != nil {
		return wrap(err)
	}
	if err := domain.CheckID("project", c.Project); err != nil {
		return wrap(err)
	}
	if err := domain.CheckPath("datum name", c.Name); err != nil {
		return wrap(err)
	}
	if c.Size < 0 {
		return wrap(fmt.Errorf("negative size %d: %w", c.Size, domain.ErrInvalid))
	}
	d := c.Digests
	if d.MD5.IsZero() || d.SHA1.IsZero() || d.SHA256.IsZero() || d.BLAKE3.IsZero() {
		return wrap(fmt.Errorf("want all four digests (md5, sha1, sha256, blake3): %w", domain.ErrInvalid))
	}
	store := c.Store
	if store != "" {
		u, err := domain.ParseStoreURL(c.Store)
		if err != nil {
			return wrap(err)
		}
		if u.HasWildcard() || u.Query != "" {
			return wrap(fmt.Errorf("store %.80q: want a location without wildcards or query: %w", c.Store, domain.ErrInvalid))
		}
		store = u.String()
	}
	if err := domain.CheckText("key", c.Key, domain.MaxKeyLen); err != nil {
		return wrap(err)
	}
	switch {
	case c.Execution != "" && c.Uploader != "":
		return wrap(fmt.Errorf("producer: want an execution or an uploader, not both: %w", domain.ErrInvalid))
	case c.Execution != "":
		if err := domain.CheckID("execution", c.Execution); err != nil {
			return wrap(err)
		}
	case c.Uploader != "":
		if err := domain.CheckUser(c.Uploader); err != nil {
			return wrap(err)
		}
	default:
		return wrap(fmt.Errorf("producer: missing (want an execution or an uploader): %w", domain.ErrInvalid))
	}
	if err := checkAt(c.At); err != nil {
		return nil, err
	}
	return []Event{Created{
		Datum: c.Datum, Project: c.Project, Name: c.Name, Size: c.Size,
		MD5: d.MD5, SHA1: d.SHA1, SHA256: d.SHA256, BLAKE3: d.BLAKE3,
		Store: store, Key: c.Key, Execution: c.Execution, Uploader: c.Uploader, At: c.At,
	}}, nil
}

func checkAt(at time.Time) error {
	if at.IsZero() {
		return fmt.Errorf("datum: missing time: %w", domain.ErrInvalid)
	}
	return nil
}
