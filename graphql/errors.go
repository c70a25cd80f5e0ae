package graphql

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	gql "github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/stratahq/strata/app"
	"github.com/stratahq/strata/domain"
	"github.com/stratahq/strata/events"
)

// Client error codes, in extensions.code of every error.
const (
	CodeNotFound        = "NOT_FOUND"
	CodeConflict        = "CONFLICT"
	CodeInvalid         = "INVALID"
	CodeUnauthenticated = "UNAUTHENTICATED"
	CodeForbidden       = "FORBIDDEN"
	CodeInternal        = "INTERNAL"
)

// errBehind: the projections did not reach a position the client wrote in time.
var errBehind = errors.New("the read models are still catching up with your last write; retry shortly")

// Code classifies err by its kind. This is the only place kinds become client codes.
func Code(err error) string {
	switch {
	case errors.Is(err, app.ErrUnauthenticated), errors.Is(err, app.ErrNoActor):
		return CodeUnauthenticated
	case errors.Is(err, app.ErrForbidden):
		return CodeForbidden
	case errors.Is(err, errBehind):
		return CodeConflict
	case errors.Is(err, domain.ErrNotFound):
		return CodeNotFound
	case errors.Is(err, domain.ErrConflict), errors.Is(err, events.ErrConflict):
		return CodeConflict
	case errors.Is(err, domain.ErrInvalid), errors.Is(err, events.ErrInvalid):
		return CodeInvalid
	}
	return CodeInternal
}

// codedError is an error for the client whose code is already decided (limits, auth).
func codedError(code, msg string) *gqlerror.Error {
	return &gqlerror.Error{Message: msg, Extensions: map[string]any{"code": code}}
}

// presenter turns a resolver's error into the client's: its message and code, or, for
// an internal error, "internal error" while the detail is logged here, once.
func presenter(logger *slog.Logger) gql.ErrorPresenterFunc {
	return func(ctx context.Context, err error) *gqlerror.Error {
		var ge *gqlerror.Error
		if errors.As(err, &ge) && ge.Extensions["code"] != nil && ge.Err == nil {
			return ge // already coded: validation, limits
		}
		out := gql.DefaultErrorPresenter(ctx, err)
		cause := err
		if ge != nil && ge.Err != nil {
			cause = ge.Err
		}
		if ge != nil && ge.Err == nil {
			// gqlgen's own errors (argument coercion, unknown enum values): the client's fault.
			if out.Extensions == nil {
				out.Extensions = map[string]any{}
			}
			if out.Extensions["code"] == nil {
				out.Extensions["code"] = CodeInvalid
			}
			return out
		}
		code := Code(cause)
		if code == CodeInternal {
			logger.ErrorContext(ctx, "graphql: internal error", "path", out.Path.String(), "error", cause)
			out.Message = "internal error"
		} else {
			out.Message = cause.Error()
		}
		out.Extensions = map[string]any{"code": code}
		return out
	}
}

// errPanic: a resolver panicked; an internal error.
var errPanic = errors.New("panic in resolver")

// recoverFunc turns a resolver panic into an internal error; the presenter logs it.
func recoverFunc(_ context.Context, v any) error {
	return fmt.Errorf("%w: %v", errPanic, v)
}
