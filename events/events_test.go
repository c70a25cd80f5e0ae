package events_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/uuid"

	"github.com/stratahq/strata/adapters/memory"
	"github.com/stratahq/strata/events"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata (only for new samples: old ones must keep decoding)")

// A small sample aggregate: an account that is opened, then receives deposits.

// accountEvent is the account's sealed event interface.
type accountEvent interface {
	events.Event
	isAccountEvent()
}

// opened is schema 2: schema 1 called the owner "name".
type opened struct {
	Account string `json:"account"`
	Owner   string `json:"owner"`
}

func (opened) EventType() string { return "account.Opened" }
func (opened) EventSchema() int  { return 2 }
func (opened) isAccountEvent()   {}

type deposited struct {
	Amount int `json:"amount"`
}

func (deposited) EventType() string { return "account.Deposited" }
func (deposited) isAccountEvent()   {}

type other struct{}

func (other) EventType() string { return "other.Happened" }

type account struct {
	open    bool
	balance int
}

type accountCmd struct {
	open   string // owner, to open
	amount int    // to deposit
}

var (
	errAlreadyOpen = errors.New("account already open")
	errNotOpen     = errors.New("account not open")
)

func decide(s account, c accountCmd) ([]accountEvent, error) {
	switch {
	case c.open != "" && s.open:
		return nil, errAlreadyOpen
	case c.open != "":
		return []accountEvent{opened{Account: "a", Owner: c.open}}, nil
	case !s.open:
		return nil, errNotOpen
	case c.amount == 0:
		return nil, nil
	}
	return []accountEvent{deposited{Amount: c.amount}}, nil
}

func evolve(s account, e accountEvent) account {
	switch e := e.(type) {
	case opened:
		s.open = true
	case deposited:
		s.balance += e.Amount
	}
	return s
}

var decider = events.Decider[account, accountCmd, accountEvent]{Decide: decide, Evolve: evolve}

// renameNameToOwner upcasts account.Opened v1 to v2.
func renameNameToOwner(data []byte) ([]byte, error) {
	var v1 map[string]any
	if err := json.Unmarshal(data, &v1); err != nil {
		return nil, err
	}
	v1["owner"] = v1["name"]
	delete(v1, "name")
	return json.Marshal(v1)
}

func newCodec(t *testing.T) *events.Codec {
	t.Helper()
	c, err := events.NewCodec([]events.Event{opened{}, deposited{}, other{}},
		events.Upcaster{Type: "account.Opened", From: 1, Up: renameNameToOwner})
	if err != nil {
		t.Fatalf("NewCodec() error = %v", err)
	}
	return c
}

func TestNewCodec_Rejects(t *testing.T) {
	up := func(b []byte) ([]byte, error) { return b, nil }
	tests := []struct {
		name string
		evs  []events.Event
		ups  []events.Upcaster
		want error
	}{
		{"duplicate wire name", []events.Event{opened{}, opened{}}, nil, events.ErrInvalid},
		{"pointer event", []events.Event{&deposited{}}, nil, events.ErrInvalid},
		{"nil event", []events.Event{nil}, nil, events.ErrInvalid},
		{"upcaster for an unknown type", []events.Event{opened{}}, []events.Upcaster{{Type: "x.Y", From: 1, Up: up}}, events.ErrUnknownType},
		{"upcaster from the current schema", []events.Event{opened{}}, []events.Upcaster{{Type: "account.Opened", From: 2, Up: up}}, events.ErrInvalid},
		{"upcaster twice", []events.Event{opened{}}, []events.Upcaster{{Type: "account.Opened", From: 1, Up: up}, {Type: "account.Opened", From: 1, Up: up}}, events.ErrInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := events.NewCodec(tt.evs, tt.ups...); !errors.Is(err, tt.want) {
				t.Errorf("NewCodec() error = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestCodec_RoundTripAndUpcast(t *testing.T) {
	c := newCodec(t)
	rec, err := c.Record(opened{Account: "a", Owner: "alice"}, events.Meta{Actor: "user:alice", CorrelationID: "req-9"})
	if err != nil {
		t.Fatal(err)
	}
	if rec.Type != "account.Opened" || rec.Schema != 2 || rec.Actor != "user:alice" || rec.ID.Version() != 7 {
		t.Errorf("Record() = %+v, want type account.Opened, schema 2, actor, a UUIDv7", rec)
	}
	got, err := c.Decode(events.Envelope{Type: rec.Type, Schema: rec.Schema, Data: rec.Data})
	if err != nil || got != (opened{Account: "a", Owner: "alice"}) {
		t.Errorf("Decode(Record()) = %v, %v", got, err)
	}
	got, err = c.Decode(events.Envelope{Type: "account.Opened", Schema: 1, Data: []byte(`{"account":"a","name":"bob"}`)})
	if err != nil || got != (opened{Account: "a", Owner: "bob"}) {
		t.Errorf("Decode(v1) = %v, %v; want it upcast to v2", got, err)
	}
	for _, env := range []events.Envelope{
		{Type: "nope.Happened", Schema: 1, Data: []byte(`{}`)},
		{Type: "account.Opened", Schema: 3, Data: []byte(`{}`)},
		{Type: "account.Deposited", Schema: 0, Data: []byte(`{}`)},
	} {
		if _, err := c.Decode(env); !errors.Is(err, events.ErrUnknownType) {
			t.Errorf("Decode(%s v%d) error = %v, want ErrUnknownType", env.Type, env.Schema, err)
		}
	}
	if _, err := c.Decode(events.Envelope{Type: "account.Deposited", Schema: 1, Data: []byte(`{"amount":"x"}`)}); err == nil {
		t.Errorf("Decode(bad payload) succeeded")
	}
	if _, err := c.Record(struct{ events.Event }{deposited{}}, events.Meta{}); !errors.Is(err, events.ErrInvalid) {
		t.Errorf("Record(a type registered under another Go type) error = %v, want ErrInvalid", err)
	}
}

func TestExecute(t *testing.T) {
	s, c := memory.NewStore(), newCodec(t)
	ctx := t.Context()
	res, err := events.Execute(ctx, s, c, "account-a", decider, accountCmd{open: "alice"}, events.Meta{Actor: "user:alice"})
	if err != nil || res.Version != 1 || len(res.Positions) != 1 || !res.State.open {
		t.Fatalf("Execute(open) = %+v, %v", res, err)
	}
	if _, err := events.Execute(ctx, s, c, "account-a", decider, accountCmd{open: "bob"}, events.Meta{}); !errors.Is(err, errAlreadyOpen) {
		t.Errorf("Execute(open again) error = %v, want the decider's error", err)
	}
	if res, err := events.Execute(ctx, s, c, "account-a", decider, accountCmd{}, events.Meta{}); err != nil || res.Version != 1 || len(res.Positions) != 0 || res.Last() != 0 {
		t.Errorf("Execute(no-op) = %+v, %v; want nothing written", res, err)
	}
	// Concurrent deposits conflict and are retried until every one lands.
	var wg sync.WaitGroup
	const n = 6
	for range n {
		wg.Go(func() {
			if _, err := events.Execute(ctx, s, c, "account-a", decider, accountCmd{amount: 10}, events.Meta{}); err != nil {
				t.Errorf("Execute(deposit) error = %v", err)
			}
		})
	}
	wg.Wait()
	st, v, err := events.Fold(ctx, s, c, "account-a", account{}, evolve)
	if err != nil || st.balance != n*10 || v != n+1 {
		t.Errorf("Fold() = %+v at %d, %v; want balance %d at version %d", st, v, err, n*10, n+1)
	}
	// A stream of another aggregate is refused.
	rec, _ := c.Record(other{}, events.Meta{})
	if _, err := s.Append(ctx, "account-b", events.NoStream, rec); err != nil {
		t.Fatal(err)
	}
	if _, err := events.Execute(ctx, s, c, "account-b", decider, accountCmd{amount: 1}, events.Meta{}); !errors.Is(err, events.ErrInvalid) {
		t.Errorf("Execute(on a foreign stream) error = %v, want ErrInvalid", err)
	}
}

// conflicting is a store whose appends always conflict.
type conflicting struct{ events.Store }

func (conflicting) Append(_ context.Context, stream events.StreamID, expected events.Version, _ ...events.Record) (events.AppendResult, error) {
	return events.AppendResult{}, &events.ConflictError{Stream: stream, Expected: expected, Actual: expected + 1}
}

func TestExecute_GivesUpAfterBoundedRetries(t *testing.T) {
	s := conflicting{memory.NewStore()}
	_, err := events.Execute(t.Context(), s, newCodec(t), "account-a", decider, accountCmd{open: "x"}, events.Meta{})
	var ce *events.ConflictError
	if !errors.Is(err, events.ErrConflict) || !errors.As(err, &ce) {
		t.Errorf("Execute() error = %v, want the last *ConflictError", err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := events.Execute(ctx, s, newCodec(t), "account-a", decider, accountCmd{open: "x"}, events.Meta{}); !errors.Is(err, context.Canceled) {
		t.Errorf("Execute(cancelled) error = %v, want context.Canceled", err)
	}
}

// goldenLog builds the same small log every time: fixed IDs, times and payloads, one of
// them stored at schema 1.
func goldenLog(t *testing.T) *memory.Store {
	t.Helper()
	s := memory.NewStore()
	at := time.Date(2026, 11, 24, 9, 30, 0, 123456789, time.UTC)
	s.Now = func() time.Time { at = at.Add(time.Second); return at }
	id := func(n int) uuid.UUID { return uuid.MustParse(fmt.Sprintf("0193a1b2-c3d4-7e5f-8a9b-%012d", n)) }
	appends := []struct {
		stream events.StreamID
		rec    events.Record
	}{
		{"account-a", events.Record{ID: id(1), Type: "account.Opened", Schema: 1, Actor: "user:alice", CorrelationID: "req-1", Data: []byte(`{"account":"a","name":"alice"}`)}},
		{"account-b", events.Record{ID: id(2), Type: "account.Opened", Schema: 2, Actor: "user:bob", Data: []byte(`{"account":"b","owner":"bob <b@example.com>"}`)}},
		{"account-a", events.Record{ID: id(3), Type: "account.Deposited", Schema: 1, Actor: "runner:r1", CausationID: id(1).String(), Data: []byte(`{"amount":42}`)}},
		{"account-b", events.Record{ID: id(4), Type: "account.Deposited", Schema: 1, Actor: "user:bob", Data: []byte(`{"amount":-7}`)}},
	}
	for _, a := range appends {
		if _, err := s.Append(t.Context(), a.stream, events.Any, a.rec); err != nil {
			t.Fatal(err)
		}
	}
	return s
}

func golden(t *testing.T, name string, got []byte) []byte {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read golden file (create it with -update): %v", err)
	}
	return want
}

// TestGolden_Export: an export written by the first version of Strata imports, verifies and
// decodes forever. The file is never regenerated once committed.
func TestGolden_Export(t *testing.T) {
	var buf bytes.Buffer
	if _, err := events.Export(t.Context(), goldenLog(t), &buf); err != nil {
		t.Fatal(err)
	}
	want := golden(t, "export.v1.jsonl", buf.Bytes())
	if !bytes.Equal(want, buf.Bytes()) {
		t.Errorf("the export format changed: the same log no longer exports to testdata/export.v1.jsonl")
	}
	s := memory.NewStore()
	r, err := events.Import(t.Context(), s, bytes.NewReader(want), events.ImportOptions{})
	if err != nil || r.Events != 4 {
		t.Fatalf("Import(golden) = %+v, %v", r, err)
	}
	c := newCodec(t)
	all, _ := s.ReadAll(t.Context(), 0, 10)
	var got []events.Event
	for _, env := range all {
		ev, err := c.Decode(env)
		if err != nil {
			t.Fatalf("Decode(%s at %d) error = %v", env.Type, env.Position, err)
		}
		got = append(got, ev)
	}
	wantEvents := []events.Event{opened{"a", "alice"}, opened{"b", "bob <b@example.com>"}, deposited{42}, deposited{-7}}
	if diff := cmp.Diff(wantEvents, got); diff != "" {
		t.Errorf("decoded golden events (-want +got):\n%s", diff)
	}
}

// TestGolden_Binary: the canonical binary encoding (the hash input and the badger storage
// format) of a fixed envelope never changes.
func TestGolden_Binary(t *testing.T) {
	all, _ := goldenLog(t).ReadAll(t.Context(), 0, 10)
	env := all[2]
	got, _ := env.MarshalBinary()
	want := golden(t, "envelope.v1.bin", got)
	if !bytes.Equal(want, got) {
		t.Fatalf("the canonical encoding changed: hashes of stored events would no longer verify")
	}
	var back events.Envelope
	if err := back.UnmarshalBinary(want); err != nil {
		t.Fatal(err)
	}
	back.Position = env.Position
	if diff := cmp.Diff(env, back); diff != "" {
		t.Errorf("UnmarshalBinary(golden) (-want +got):\n%s", diff)
	}
	if back.ComputeHash() != back.Hash {
		t.Errorf("golden envelope's hash does not verify")
	}
	for i := range len(want) {
		var e events.Envelope
		if err := e.UnmarshalBinary(want[:i]); !errors.Is(err, events.ErrInvalid) {
			t.Fatalf("UnmarshalBinary(first %d bytes) error = %v, want ErrInvalid", i, err)
		}
	}
	if err := back.UnmarshalBinary(append(want, 0)); !errors.Is(err, events.ErrInvalid) {
		t.Errorf("UnmarshalBinary(trailing byte) error = %v, want ErrInvalid", err)
	}
}

func TestHash_Text(t *testing.T) {
	var h events.Hash
	for _, bad := range []string{"", "zz", string(bytes.Repeat([]byte("g"), 64))} {
		if err := h.UnmarshalText([]byte(bad)); !errors.Is(err, events.ErrInvalid) {
			t.Errorf("UnmarshalText(%q) error = %v, want ErrInvalid", bad, err)
		}
	}
	h[0], h[31] = 0xab, 0x01
	text, _ := h.MarshalText()
	var back events.Hash
	if err := back.UnmarshalText(text); err != nil || back != h {
		t.Errorf("hash text round trip = %s, %v", back, err)
	}
}
