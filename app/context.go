package app

import (
	"context"
	"fmt"

	"github.com/stratahq/strata/domain"
	"github.com/stratahq/strata/events"
)

type ctxKey int

const (
	actorKey ctxKey = iota
	correlationKey
	causationKey
)

// WithActor returns ctx carrying who acts: a user, a token's owner or a runner. Every
// command the Service runs records it.
func WithActor(ctx context.Context, actor domain.UserID) context.Context {
	return context.WithValue(ctx, actorKey, actor)
}

// WithCorrelationID returns ctx carrying the ID that ties together everything done for one
// request.
func WithCorrelationID(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, correlationKey, id)
}

// WithCausationID returns ctx carrying the ID of the event or command that causes what is
// done with it (a reactor's follow-up commands carry the causing event's ID).
func WithCausationID(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, causationKey, id)
}

// ActorFrom returns the actor ctx carries, and false if none.
func ActorFrom(ctx context.Context) (domain.UserID, bool) {
	a, ok := ctx.Value(actorKey).(domain.UserID)
	return a, ok && a != ""
}

// CorrelationIDFrom returns the correlation ID ctx carries, "" if none.
func CorrelationIDFrom(ctx context.Context) string {
	id, _ := ctx.Value(correlationKey).(string)
	return id
}

// CausationIDFrom returns the causation ID ctx carries, "" if none.
func CausationIDFrom(ctx context.Context) string {
	id, _ := ctx.Value(causationKey).(string)
	return id
}

func requireActor(ctx context.Context) (domain.UserID, error) {
	a, ok := ActorFrom(ctx)
	if !ok {
		return "", ErrNoActor
	}
	if err := domain.CheckUser(a); err != nil {
		return "", fmt.Errorf("actor: %w", err)
	}
	return a, nil
}

func metaFrom(ctx context.Context) events.Meta {
	a, _ := ActorFrom(ctx)
	return events.Meta{Actor: string(a), CorrelationID: CorrelationIDFrom(ctx), CausationID: CausationIDFrom(ctx)}
}
