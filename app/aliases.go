package app

import (
	"context"
	"fmt"

	"github.com/stratahq/strata/domain"
	"github.com/stratahq/strata/domain/alias"
	"github.com/stratahq/strata/domain/project"
	"github.com/stratahq/strata/events"
)

var aliasDecider = events.Decider[alias.State, alias.Command, alias.Event]{Decide: alias.Decide, Evolve: alias.Evolve}

// SetAlias points datum alias name of project p at datum d (a datum of p that is not
// purged). Pointing it where it points is a no-op (position 0). It needs the editor role.
func (s *Service) SetAlias(ctx context.Context, p domain.ProjectID, name string, d domain.DatumID) (events.Position, error) {
	if _, err := s.Access(ctx, p, project.RoleEditor); err != nil {
		return 0, fmt.Errorf("set alias %s: %w", name, err)
	}
	st, err := s.loadDatum(ctx, d)
	if err != nil {
		return 0, fmt.Errorf("set alias %s: %w", name, err)
	}
	if st.Project() != p {
		return 0, fmt.Errorf("set alias %s: datum %s: %w", name, d, domain.ErrNotFound)
	}
	_, purged := st.Purged()
	res, err := execute(ctx, s, AliasStream(p, name), aliasDecider, alias.Command(alias.Set{
		Project: p, Name: name, Datum: d, DatumPurged: purged, At: s.at(),
	}))
	if err != nil {
		return 0, err
	}
	return res.Last(), nil
}

// DeleteAlias deletes datum alias name of project p. It needs the editor role.
func (s *Service) DeleteAlias(ctx context.Context, p domain.ProjectID, name string) (events.Position, error) {
	if _, err := s.Access(ctx, p, project.RoleEditor); err != nil {
		return 0, fmt.Errorf("delete alias %s: %w", name, err)
	}
	if err := alias.CheckName(name); err != nil {
		return 0, fmt.Errorf("delete alias: %w", err)
	}
	res, err := execute(ctx, s, AliasStream(p, name), aliasDecider, alias.Command(alias.Delete{At: s.at()}))
	if err != nil {
		return 0, err
	}
	return res.Last(), nil
}
