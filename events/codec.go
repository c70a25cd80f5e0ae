package events

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
)

// Event is a payload with a stable wire name. Aggregates define their events as plain
// structs; the codec encodes them as JSON.
type Event interface {
	// EventType returns the wire name, "<aggregate>.<Event>", fixed forever.
	EventType() string
}

// Schemaed is implemented by events whose payload has changed shape: EventSchema returns
// the current schema version. Events without it are schema 1.
type Schemaed interface {
	EventSchema() int
}

// Upcaster turns the stored payload of Type at schema From into schema From+1.
type Upcaster struct {
	Type string
	From int
	Up   func(data []byte) ([]byte, error)
}

// Meta is who and why, copied onto every record of one command.
type Meta struct {
	Actor         string
	CorrelationID string
	CausationID   string
}

// Codec turns events into records and envelopes back into events. It knows exactly the
// types it was given: no init() registry, no reflection on names.
type Codec struct {
	types map[string]registration
}

type registration struct {
	typ    reflect.Type
	schema int
	ups    map[int]func([]byte) ([]byte, error) // from schema → to schema+1
}

// NewCodec registers evs (typically the concatenation of every aggregate's Events()) and the
// upcasters. A duplicate wire name, an event that is not a struct value, or an upcaster for
// an unregistered type or an impossible schema is an error.
func NewCodec(evs []Event, ups ...Upcaster) (*Codec, error) {
	c := &Codec{types: make(map[string]registration, len(evs))}
	var errs []error
	for _, e := range evs {
		if e == nil {
			errs = append(errs, fmt.Errorf("register nil event: %w", ErrInvalid))
			continue
		}
		name, t := e.EventType(), reflect.TypeOf(e)
		if t.Kind() != reflect.Struct {
			errs = append(errs, fmt.Errorf("register %s: %s is not a struct value: %w", name, t, ErrInvalid))
			continue
		}
		if err := validText("event type", name, MaxTypeLen); err != nil {
			errs = append(errs, fmt.Errorf("register %s: %w", t, err))
			continue
		}
		if prev, dup := c.types[name]; dup {
			errs = append(errs, fmt.Errorf("register %s: wire name already used by %s: %w", t, prev.typ, ErrInvalid))
			continue
		}
		c.types[name] = registration{typ: t, schema: schemaOf(e), ups: map[int]func([]byte) ([]byte, error){}}
	}
	for _, u := range ups {
		r, ok := c.types[u.Type]
		switch {
		case !ok:
			errs = append(errs, fmt.Errorf("register upcaster %s v%d: %w", u.Type, u.From, ErrUnknownType))
		case u.From < 1 || u.From >= r.schema || u.Up == nil:
			errs = append(errs, fmt.Errorf("register upcaster %s v%d: current schema is %d: %w", u.Type, u.From, r.schema, ErrInvalid))
		case r.ups[u.From] != nil:
			errs = append(errs, fmt.Errorf("register upcaster %s v%d: registered twice: %w", u.Type, u.From, ErrInvalid))
		default:
			r.ups[u.From] = u.Up
		}
	}
	return c, errors.Join(errs...)
}

func schemaOf(e Event) int {
	if s, ok := e.(Schemaed); ok {
		return s.EventSchema()
	}
	return 1
}

// Types returns the registered wire names.
func (c *Codec) Types() []string {
	out := make([]string, 0, len(c.types))
	for name := range c.types {
		out = append(out, name)
	}
	return out
}

// Record encodes e as a new record with a fresh ID and meta.
func (c *Codec) Record(e Event, m Meta) (Record, error) {
	name := e.EventType()
	r, ok := c.types[name]
	if !ok {
		return Record{}, fmt.Errorf("encode %s: %w", name, ErrUnknownType)
	}
	if t := reflect.TypeOf(e); t != r.typ {
		return Record{}, fmt.Errorf("encode %s: registered as %s, got %s: %w", name, r.typ, t, ErrInvalid)
	}
	data, err := json.Marshal(e)
	if err != nil {
		return Record{}, fmt.Errorf("encode %s: %w", name, err)
	}
	return Record{ID: NewID(), Type: name, Schema: r.schema, Actor: m.Actor, CorrelationID: m.CorrelationID, CausationID: m.CausationID, Data: data}, nil
}

// Decode returns the event an envelope holds, upcast to the current schema. An unregistered
// type, or a stored schema with no upcaster path to the current one, is ErrUnknownType.
func (c *Codec) Decode(env Envelope) (Event, error) {
	r, ok := c.types[env.Type]
	if !ok {
		return nil, fmt.Errorf("decode %s at position %d: %w", env.Type, env.Position, ErrUnknownType)
	}
	data := []byte(env.Data)
	for s := env.Schema; s < r.schema; s++ {
		up := r.ups[s]
		if up == nil {
			return nil, fmt.Errorf("decode %s v%d at position %d: no upcaster from v%d: %w", env.Type, env.Schema, env.Position, s, ErrUnknownType)
		}
		var err error
		if data, err = up(data); err != nil {
			return nil, fmt.Errorf("decode %s at position %d: upcast v%d: %w", env.Type, env.Position, s, err)
		}
	}
	if env.Schema > r.schema {
		return nil, fmt.Errorf("decode %s v%d at position %d: newer than this build's v%d: %w", env.Type, env.Schema, env.Position, r.schema, ErrUnknownType)
	}
	v := reflect.New(r.typ)
	if err := json.Unmarshal(data, v.Interface()); err != nil {
		return nil, fmt.Errorf("decode %s at position %d: %w", env.Type, env.Position, err)
	}
	return v.Elem().Interface().(Event), nil
}
