package app_test

import (
	"errors"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stratahq/strata/app"
	"github.com/stratahq/strata/domain"
	"github.com/stratahq/strata/domain/project"
)

func TestService_CreateProject_slugIsUnique(t *testing.T) {
	h := newHarness(t)
	var wins atomic.Int32
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			switch _, err := h.svc.CreateProject(h.ctx(alice), app.CreateProject{Slug: "shared", Name: "Shared"}); {
			case err == nil:
				wins.Add(1)
			case !errors.Is(err, project.ErrSlugTaken):
				t.Errorf("CreateProject() error = %v, want nil or ErrSlugTaken", err)
			}
		}()
	}
	wg.Wait()
	if got := wins.Load(); got != 1 {
		t.Fatalf("projects created with one slug = %d, want 1", got)
	}
	if _, err := h.svc.CreateProject(h.ctx(bob), app.CreateProject{Slug: "Bad Slug", Name: "x"}); !errors.Is(err, domain.ErrInvalid) {
		t.Errorf("CreateProject(bad slug) error = %v, want ErrInvalid", err)
	}
	if _, err := h.svc.CreateProject(h.ctx(bob), app.CreateProject{Slug: "fresh", Name: ""}); !errors.Is(err, domain.ErrInvalid) {
		t.Fatalf("CreateProject(no name) error = %v, want ErrInvalid", err)
	}
	// A refused create claims nothing: the slug is still free.
	if _, err := h.svc.CreateProject(h.ctx(bob), app.CreateProject{Slug: "fresh", Name: "Fresh"}); err != nil {
		t.Errorf("CreateProject(fresh) after a refused create: %v", err)
	}
}
