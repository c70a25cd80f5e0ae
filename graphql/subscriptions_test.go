package graphql_test

import (
	"context"
	"encoding/json"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/coder/websocket/wsjson"

	"github.com/stratahq/strata/adapters/memory"
	"github.com/stratahq/strata/app"
	"github.com/stratahq/strata/blob"
	"github.com/stratahq/strata/blob/storecfg"
	"github.com/stratahq/strata/domain"
	"github.com/stratahq/strata/domain/execution"
	"github.com/stratahq/strata/events"
	"github.com/stratahq/strata/graphql"
	"github.com/stratahq/strata/projections"
)

// afterView is a projection store that runs a hook once, right after the next View
// returns: as if the engine applied events the moment a reader had taken its snapshot.
type afterView struct {
	projections.Store
	mu   sync.Mutex // guards hook
	hook func()
}

func (s *afterView) View(ctx context.Context, fn func(projections.Reader) error) error {
	err := s.Store.View(ctx, fn)
	s.mu.Lock()
	h := s.hook
	s.hook = nil
	s.mu.Unlock()
	if h != nil {
		h()
	}
	return err
}

func (s *afterView) arm(h func()) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.hook = h
}

// TestServer_ExecutionSubscriptionSeesTheEnd: an execution that ends between the
// subscription's first read and the feed's wait is reported ended, and the subscription
// completes. The projections are applied by hand, so the end lands exactly in that gap
// every time: before the fix the feed waited for an event after the end that never came.
func TestServer_ExecutionSubscriptionSeesTheEnd(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	log := memory.NewStore()
	codec, err := events.NewCodec(app.Events())
	if err != nil {
		t.Fatal(err)
	}
	svc, err := app.New(app.Config{Stores: storecfg.Config{
		Stores: []storecfg.Store{{Name: "local", Kind: storecfg.KindFS, Bucket: "/var/lib/strata"}}, Default: "local",
	}}, app.Deps{Log: log, Codec: codec, Blobs: map[string]blob.Store{"local": memory.NewBlobs()}})
	if err != nil {
		t.Fatal(err)
	}
	tok, _, err := svc.BootstrapAdminToken(ctx)
	if err != nil {
		t.Fatal(err)
	}
	actx := app.WithActor(ctx, "admin")
	cp, err := svc.CreateProject(actx, app.CreateProject{Slug: "vision", Name: "Vision"})
	if err != nil {
		t.Fatal(err)
	}
	envID := domain.EnvironmentID("0190f5a2-0000-7000-8000-0000000000e1")
	if _, err := svc.EnableEnvironment(actx, cp.ID, envID); err != nil {
		t.Fatal(err)
	}

	store := &afterView{Store: memory.NewProjections()}
	var mu sync.Mutex // guards head: catchUp also runs on the server's goroutine
	var head events.Position
	eng, err := projections.Replay(ctx, log, codec, store, 0, projections.All()...)
	if err != nil {
		t.Fatal(err)
	}
	catchUp := func() {
		mu.Lock()
		defer mu.Unlock()
		envs, err := log.ReadAll(ctx, head, 10_000)
		if err != nil {
			t.Error(err)
			return
		}
		if len(envs) == 0 {
			return
		}
		if err := eng.Apply(ctx, head, envs...); err != nil {
			t.Error(err)
			return
		}
		head = envs[len(envs)-1].Position
	}
	reads := &projections.Reads{Engine: eng, Log: log, Codec: codec, Scratch: func() projections.Store { return memory.NewProjections() }}
	srv, err := graphql.New(graphql.Config{}, graphql.Deps{App: svc, Log: log, Reads: reads, Gapless: true})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv.Handler())
	defer hs.Close()

	const rounds = 20
	for i := range rounds {
		x, err := svc.CreateExecution(actx, app.CreateExecution{Project: cp.ID, Step: execution.Step{Name: "train"}, Image: "busybox",
			Commands: []string{"true"}, Environment: envID, Code: execution.Code{Repository: "https://example.com/r.git", Commit: "0123456789abcdef0123456789abcdef01234567"}})
		if err != nil {
			t.Fatal(err)
		}
		stream := app.ExecutionStream(x.ID)
		now := time.Now().UTC()
		for _, c := range []execution.Command{execution.Queue{At: now}, execution.Start{Host: "h1", At: now}} {
			if _, err := events.Execute(ctx, log, codec, stream, events.Decider[execution.State, execution.Command, execution.Event]{Decide: execution.Decide, Evolve: execution.Evolve}, c, events.Meta{Actor: "runner"}); err != nil {
				t.Fatal(err)
			}
		}
		catchUp()
		// The end is in the log but not yet applied; it is applied right after the
		// subscription's first read of the execution.
		if _, err := events.Execute(ctx, log, codec, stream, events.Decider[execution.State, execution.Command, execution.Event]{Decide: execution.Decide, Evolve: execution.Evolve},
			execution.Command(execution.Finish{ExitCode: 0, At: now}), events.Meta{Actor: "runner"}); err != nil {
			t.Fatal(err)
		}
		store.arm(catchUp)
		statuses := followExecution(ctx, t, hs.URL, tok.Secret, string(x.ID))
		if len(statuses) == 0 || statuses[len(statuses)-1] != "COMPLETE" {
			t.Fatalf("round %d: statuses = %v, want the last to be COMPLETE", i, statuses)
		}
	}
}

// followExecution subscribes to execution id and returns the statuses it sends until the
// server completes the subscription. It fails the test if ctx ends first.
func followExecution(ctx context.Context, t *testing.T, url, token, id string) []string {
	t.Helper()
	c, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(url, "http"), &websocket.DialOptions{Subprotocols: []string{"graphql-transport-ws"}})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = c.CloseNow() }()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("execution subscription: %v", err)
		}
	}
	must(wsjson.Write(ctx, c, map[string]any{"type": "connection_init", "payload": map[string]any{"Authorization": "Bearer " + token}}))
	var msg struct {
		Type    string          `json:"type"`
		Payload json.RawMessage `json:"payload"`
	}
	must(wsjson.Read(ctx, c, &msg))
	if msg.Type != "connection_ack" {
		t.Fatalf("got %s %s, want connection_ack", msg.Type, msg.Payload)
	}
	must(wsjson.Write(ctx, c, map[string]any{"id": "1", "type": "subscribe", "payload": map[string]any{
		"query": `subscription($x: ID!) { execution(id: $x) { status } }`, "variables": map[string]any{"x": id}}}))
	var statuses []string
	for {
		if err := wsjson.Read(ctx, c, &msg); err != nil {
			t.Fatalf("execution subscription: statuses %v and then no end: %v", statuses, err)
		}
		switch msg.Type {
		case "next":
			var p struct {
				Data   struct{ Execution struct{ Status string } }
				Errors []gqlError
			}
			must(json.Unmarshal(msg.Payload, &p))
			if len(p.Errors) > 0 {
				t.Fatalf("execution subscription: %+v", p.Errors)
			}
			statuses = append(statuses, p.Data.Execution.Status)
		case "complete":
			return statuses
		default:
			t.Fatalf("execution subscription: got %s %s", msg.Type, msg.Payload)
		}
	}
}
