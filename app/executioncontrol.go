package app

import (
	"context"
	"errors"
	"fmt"

	"github.com/stratahq/strata/domain"
	"github.com/stratahq/strata/domain/execution"
	"github.com/stratahq/strata/domain/project"
	"github.com/stratahq/strata/events"
)

// executionCommand runs the command made by mk on execution id after checking the
// caller's role in its project: an execution of a project the caller cannot see is
// ErrForbidden, as is one that does not exist.
func (s *Service) executionCommand(ctx context.Context, id domain.ExecutionID, what string, need project.Role, mk func(actor domain.UserID) execution.Command) (events.Position, error) {
	actor, err := requireActor(ctx)
	if err != nil {
		return 0, fmt.Errorf("%s: %w", what, err)
	}
	st, err := s.loadExecution(ctx, id)
	if errors.Is(err, execution.ErrNotFound) {
		return 0, fmt.Errorf("%s: execution %s: %w", what, id, ErrForbidden)
	} else if err != nil {
		return 0, fmt.Errorf("%s: %w", what, err)
	}
	if _, err := s.Access(ctx, st.Project(), need); err != nil {
		return 0, fmt.Errorf("%s: %w", what, err)
	}
	res, err := execute(ctx, s, ExecutionStream(id), executionDecider, mk(actor))
	if err != nil {
		return 0, fmt.Errorf("%s #%d: %w", what, st.Spec().Number, err)
	}
	return res.Last(), nil
}

// StopExecution asks execution id to stop: one that has not started stops at once, a
// running one is stopping until its runner reports it stopped. It needs the editor role.
func (s *Service) StopExecution(ctx context.Context, id domain.ExecutionID) (events.Position, error) {
	return s.executionCommand(ctx, id, "stop execution", project.RoleEditor, func(actor domain.UserID) execution.Command {
		return execution.RequestStop{By: actor, At: s.at()}
	})
}

// AddTags adds tags to execution id. It needs the editor role.
func (s *Service) AddTags(ctx context.Context, id domain.ExecutionID, tags []string) (events.Position, error) {
	return s.executionCommand(ctx, id, "add tags", project.RoleEditor, func(domain.UserID) execution.Command {
		return execution.AddTags{Tags: tags, At: s.at()}
	})
}

// RemoveTags removes tags from execution id. It needs the editor role.
func (s *Service) RemoveTags(ctx context.Context, id domain.ExecutionID, tags []string) (events.Position, error) {
	return s.executionCommand(ctx, id, "remove tags", project.RoleEditor, func(domain.UserID) execution.Command {
		return execution.RemoveTags{Tags: tags, At: s.at()}
	})
}
