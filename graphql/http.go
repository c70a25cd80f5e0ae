package graphql

import (
	"encoding/json"
	"net/http"
	"slices"
	"sync"

	"github.com/stratahq/strata/domain/token"
	"github.com/stratahq/strata/events"
)

// writeErrors answers a request refused before GraphQL ran, in GraphQL's response shape.
func writeErrors(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{ // the client went away if this fails
		"errors": []any{map[string]any{"message": msg, "extensions": map[string]any{"code": code}}},
	})
}

type outcomeKey struct{}

// outcome is what aroundResponse learnt about a response, for its HTTP status and metrics.
type outcome struct {
	op     string
	codes  []string
	noData bool
}

// status is the HTTP status for a response with these errors: 401 or 403 when access
// was refused and nothing was answered, else 200 as GraphQL over HTTP has it.
func (o *outcome) status() int {
	if !o.noData {
		return http.StatusOK
	}
	switch {
	case slices.Contains(o.codes, CodeUnauthenticated):
		return http.StatusUnauthorized
	case slices.Contains(o.codes, CodeForbidden):
		return http.StatusForbidden
	}
	return http.StatusOK
}

// statusWriter replaces the 200 gqlgen writes with outcome's status.
type statusWriter struct {
	http.ResponseWriter
	outcome *outcome
	wrote   bool
}

func (w *statusWriter) WriteHeader(code int) {
	if w.wrote {
		return
	}
	w.wrote = true
	if code == http.StatusOK {
		code = w.outcome.status()
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if !w.wrote {
		w.WriteHeader(http.StatusOK)
	}
	return w.ResponseWriter.Write(b)
}

func (w *statusWriter) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// written remembers the last position each token wrote, for read-your-writes.
type written struct {
	mu sync.Mutex
	// guards last
	last map[token.ID]events.Position
}

func newWritten() *written { return &written{last: map[token.ID]events.Position{}} }

func (w *written) note(t token.ID, p events.Position) {
	if p == 0 {
		return
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	w.last[t] = max(w.last[t], p)
}

func (w *written) get(t token.ID) events.Position {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.last[t]
}
