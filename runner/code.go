package runner

import (
	"context"
	"fmt"
	"io"

	"github.com/stratahq/strata/domain"
)

// AdhocOpener opens the ad-hoc code archive (a tar, tar.gz or zip of a working
// directory, stored as a datum of the execution's project) of an execution;
// *app.Service is one.
type AdhocOpener interface {
	OpenAdhocCode(ctx context.Context, id domain.ExecutionID) (io.ReadCloser, error)
}

// unpackAdhoc unpacks the ad-hoc code of execution id into dir within the configured
// limits.
func (r *Runner) unpackAdhoc(ctx context.Context, id domain.ExecutionID, adhoc domain.DatumID, dir string) error {
	if r.adhoc == nil {
		return fmt.Errorf("ad-hoc code %s: no ad-hoc code opener configured: %w", adhoc, domain.ErrInvalid)
	}
	rc, err := r.adhoc.OpenAdhocCode(ctx, id)
	if err != nil {
		return err
	}
	err = Unpack(ctx, rc, dir, r.cfg.CodeLimits)
	if cerr := rc.Close(); err == nil && cerr != nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("ad-hoc code %s: %w", adhoc, err)
	}
	return nil
}
