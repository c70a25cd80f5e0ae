package app

import (
	"context"
	"fmt"
	"io"

	"github.com/stratahq/strata/domain"
	"github.com/stratahq/strata/domain/datum"
)

// ErrNoAdhocCode: the execution runs a commit, not an ad-hoc code archive.
var ErrNoAdhocCode = fmt.Errorf("execution has no ad-hoc code: %w", domain.ErrInvalid)

// OpenAdhocCode returns a reader of the ad-hoc code archive of execution id, verified
// against its BLAKE3 as it is read. The datum must belong to the execution's project
// (otherwise an error matching datum.ErrNotFound), and it must not be purged. The runner
// calls it for an execution it was given, so it checks no project role.
func (s *Service) OpenAdhocCode(ctx context.Context, id domain.ExecutionID) (io.ReadCloser, error) {
	ex, err := s.loadExecution(ctx, id)
	if err != nil {
		return nil, err
	}
	spec := ex.Spec()
	if spec.Code.Adhoc == "" {
		return nil, fmt.Errorf("execution %s: %w", id, ErrNoAdhocCode)
	}
	st, err := s.loadDatum(ctx, spec.Code.Adhoc)
	if err != nil {
		return nil, fmt.Errorf("ad-hoc code of execution %s: %w", id, err)
	}
	if st.Project() != spec.Project {
		// Another project's datum: as if it did not exist, as for a non-member.
		return nil, fmt.Errorf("ad-hoc code of execution %s: datum %s: %w", id, spec.Code.Adhoc, datum.ErrNotFound)
	}
	rc, err := s.openContent(ctx, st)
	if err != nil {
		return nil, fmt.Errorf("ad-hoc code of execution %s: %w", id, err)
	}
	return rc, nil
}
