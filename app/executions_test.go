package app_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/stratahq/strata/app"
	"github.com/stratahq/strata/domain"
	"github.com/stratahq/strata/domain/execution"
)

// A rejected request must not consume an execution number: #N stays gapless.
func TestService_CreateExecution_rejectedLeavesNoGap(t *testing.T) {
	h := newHarness(t)
	valid := app.CreateExecution{
		Project: h.project, Step: execution.Step{Name: "train"}, Image: "python:3.12", Commands: []string{"python train.py"},
		Code: execution.Code{Repository: "https://github.com/acme/ml", Commit: strings.Repeat("ab", 20)}, Environment: h.env,
	}
	noCode := valid
	noCode.Code = execution.Code{}
	if _, err := h.svc.CreateExecution(h.ctx(alice), noCode); !errors.Is(err, domain.ErrInvalid) {
		t.Fatalf("CreateExecution(no code) error = %v, want ErrInvalid", err)
	}
	x, err := h.svc.CreateExecution(h.ctx(alice), valid)
	if err != nil {
		t.Fatal(err)
	}
	if x.Number != 1 {
		t.Errorf("first accepted execution is #%d, want #1", x.Number)
	}
}
