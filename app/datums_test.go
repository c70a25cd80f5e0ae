package app_test

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/stratahq/strata/app"
	"github.com/stratahq/strata/blob"
	"github.com/stratahq/strata/domain"
	"github.com/stratahq/strata/domain/datum"
)

func TestEvents_codec(t *testing.T) {
	t.Parallel()
	c := mustCodec(t)
	for _, name := range []string{"project.Created", "datum.Purged", "execution.InputHashed", "alias.Moved", "dataset.VersionCreated", "task.Created"} {
		found := false
		for _, got := range c.Types() {
			found = found || got == name
		}
		if !found {
			t.Errorf("codec from app.Events() lacks %s", name)
		}
	}
}

func TestService_Upload(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	ctx := h.ctx(carol)
	upload := func(name, content, store string, reuse bool) app.UploadResult {
		t.Helper()
		var progress int64
		res, err := h.svc.Upload(ctx, app.Upload{Project: h.project, Name: name, Store: store, Content: strings.NewReader(content),
			ReuseExisting: reuse, Progress: func(n int64) { progress = n }})
		if err != nil {
			t.Fatalf("Upload(%s) error = %v", name, err)
		}
		if progress != int64(len(content)) {
			t.Errorf("Upload(%s) last progress = %d, want %d", name, progress, len(content))
		}
		return res
	}
	first := upload("a.csv", "x,y\n1,2\n", "", false)
	want := app.Datum{ID: first.Datum.ID, Project: h.project, Name: "a.csv", Size: 8, Digests: blob.DigestBytes([]byte("x,y\n1,2\n")),
		Store: "local", Location: "", Key: "blake3/" + blob.Blake3([]byte("x,y\n1,2\n")).String(), Uploader: carol,
		CreatedAt: first.Datum.CreatedAt}
	if diff := cmp.Diff(want, first.Datum); diff != "" {
		t.Errorf("Upload() datum (-want +got):\n%s", diff)
	}
	if !first.Created || len(first.Duplicates) != 0 || first.Position == 0 {
		t.Errorf("first Upload() = %+v, want created, no duplicates, a position", first)
	}

	tests := []struct {
		name        string
		content     string
		store       string
		reuse       bool
		wantCreated bool
		wantSame    bool // the result is the first datum
		wantDups    []domain.DatumID
	}{
		{"same content again is a new datum that names the duplicate", "x,y\n1,2\n", "", false, true, false, []domain.DatumID{first.Datum.ID}},
		{"reuse returns the oldest datum with that content", "x,y\n1,2\n", "", true, false, true, nil},
		{"reuse across stores returns it too", "x,y\n1,2\n", "team", true, false, true, nil},
		{"other content is no duplicate", "other", "", true, true, false, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := upload("b.csv", tt.content, tt.store, tt.reuse)
			if res.Created != tt.wantCreated || (res.Datum.ID == first.Datum.ID) != tt.wantSame {
				t.Errorf("Upload() = created %v, datum %s; want created %v, same as first %v", res.Created, res.Datum.ID, tt.wantCreated, tt.wantSame)
			}
			if tt.wantDups != nil {
				if diff := cmp.Diff(tt.wantDups, res.Duplicates); diff != "" {
					t.Errorf("Upload() duplicates (-want +got):\n%s", diff)
				}
			}
		})
	}
	// Identical content is stored once; the reuse in "team" left nothing behind there.
	if got := len(mustList(t, h.local)); got != 2 {
		t.Errorf("objects in local store = %d, want 2 (two distinct contents)", got)
	}
	if got := len(mustList(t, h.team)); got != 0 {
		t.Errorf("objects in team store = %d, want 0 (the reused upload's content is removed)", got)
	}
	// A datum uploaded to the S3 store records the store's location, never its credentials.
	res := upload("c.csv", "in the team bucket", "team", false)
	if res.Datum.Store != "team" || res.Datum.Location != "s3://team-data/strata" {
		t.Errorf("Upload(team) store = %q at %q, want team at s3://team-data/strata", res.Datum.Store, res.Datum.Location)
	}
	envs, err := h.log.ReadAll(t.Context(), 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range envs {
		if strings.Contains(string(e.Data), s3Key) || strings.Contains(string(e.Data), "AKIATEST") {
			t.Errorf("event %s holds a credential: %s", e.Type, e.Data)
		}
		if e.Type == "datum.Created" && (e.Actor != string(carol) || e.CorrelationID != "req-carol") {
			t.Errorf("datum.Created meta = actor %q, correlation %q; want carol, req-carol", e.Actor, e.CorrelationID)
		}
	}
}

func TestService_Upload_refused(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	tests := []struct {
		name    string
		ctx     func() (ctxActor domain.UserID, ok bool)
		store   string
		fname   string
		wantErr error
	}{
		{"viewer may not upload", func() (domain.UserID, bool) { return bob, true }, "", "a", app.ErrForbidden},
		{"non-member sees no project", func() (domain.UserID, bool) { return "mallory", true }, "", "a", domain.ErrNotFound},
		{"no actor", func() (domain.UserID, bool) { return "", false }, "", "a", app.ErrNoActor},
		{"unknown store", func() (domain.UserID, bool) { return alice, true }, "nope", "a", domain.ErrNotFound},
		{"bad name", func() (domain.UserID, bool) { return alice, true }, "", "../etc/passwd", domain.ErrInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ctx := t.Context()
			if a, ok := tt.ctx(); ok {
				ctx = app.WithActor(ctx, a)
			}
			_, err := h.svc.Upload(ctx, app.Upload{Project: h.project, Name: tt.fname, Store: tt.store, Content: strings.NewReader("data")})
			if !errors.Is(err, tt.wantErr) {
				t.Errorf("Upload() error = %v, want %v", err, tt.wantErr)
			}
		})
	}
}

func TestService_Purge(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	ctx := h.ctx(alice)
	up := func(name, content, store string) domain.DatumID {
		t.Helper()
		res, err := h.svc.Upload(ctx, app.Upload{Project: h.project, Name: name, Store: store, Content: strings.NewReader(content)})
		if err != nil {
			t.Fatalf("Upload(%s) error = %v", name, err)
		}
		return res.Datum.ID
	}
	d1, d2, d3 := up("a.bin", "shared", ""), up("b.bin", "shared", ""), up("c.bin", "shared", "team")
	other := up("d.bin", "alone", "")

	if _, err := h.svc.Purge(h.ctx(carol), d1, "gdpr"); !errors.Is(err, app.ErrForbidden) {
		t.Fatalf("Purge() by an editor error = %v, want ErrForbidden", err)
	}
	steps := []struct {
		name        string
		datum       domain.DatumID
		wantDeleted bool
		wantShared  int
		wantRecord  bool // a Purged event is written
	}{
		{"content shared in the same store is kept", d1, false, 1, true},
		{"last live datum of the store deletes the content", d2, true, 0, true},
		{"purging again retries the deletion and records nothing", d2, true, 0, false},
		{"the other store's copy is its own", d3, true, 0, true},
		{"unshared content is deleted", other, true, 0, true},
	}
	for _, st := range steps {
		res, err := h.svc.Purge(ctx, st.datum, "GDPR request")
		if err != nil {
			t.Fatalf("%s: Purge() error = %v", st.name, err)
		}
		if res.ContentDeleted != st.wantDeleted || res.SharedBy != st.wantShared || (res.Position != 0) != st.wantRecord {
			t.Errorf("%s: Purge() = %+v, want deleted %v, shared by %d, recorded %v", st.name, res, st.wantDeleted, st.wantShared, st.wantRecord)
		}
	}
	if n := len(mustList(t, h.local)) + len(mustList(t, h.team)); n != 0 {
		t.Errorf("objects left after purging every datum = %d, want 0", n)
	}
	_, _, err := h.svc.OpenDatum(ctx, d1)
	if !errors.Is(err, datum.ErrPurged) || !strings.Contains(err.Error(), "purged by alice") {
		t.Errorf("OpenDatum(purged) error = %v, want datum.ErrPurged saying who purged it", err)
	}
	got, err := h.svc.GetDatum(ctx, d1)
	if err != nil || !got.Purged || got.Digests.BLAKE3 != blob.Blake3([]byte("shared")) {
		t.Errorf("GetDatum(purged) = %+v, %v; want the record with its digests, purged", got, err)
	}
	// The same content uploaded again is stored again and readable.
	d5 := up("e.bin", "shared", "")
	rc, _, err := h.svc.OpenDatum(ctx, d5)
	if err != nil {
		t.Fatalf("OpenDatum(re-uploaded) error = %v", err)
	}
	b, err := io.ReadAll(rc)
	if cerr := rc.Close(); err != nil || cerr != nil || string(b) != "shared" {
		t.Errorf("read re-uploaded datum = %q, %v, %v; want %q", b, err, cerr, "shared")
	}
	if _, err := h.svc.Purge(ctx, domain.DatumID("0190f5a2-0000-7000-8000-00000000dead"), "x"); !errors.Is(err, domain.ErrNotFound) {
		t.Errorf("Purge(missing) error = %v, want domain.ErrNotFound", err)
	}
}

// TestService_PurgeUpload_concurrent races uploads and purges of the same content: no
// live datum may ever be left without its content.
func TestService_PurgeUpload_concurrent(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	ctx := h.ctx(alice)
	errs := make(chan error, 40)
	ids := make(chan domain.DatumID, 40)
	for i := range 20 {
		go func() {
			res, err := h.svc.Upload(ctx, app.Upload{Project: h.project, Name: fmt.Sprintf("f%d", i), Content: strings.NewReader("racy")})
			if errors.Is(err, app.ErrContentGone) {
				errs <- nil
				ids <- ""
				return
			}
			errs <- err
			ids <- res.Datum.ID
			if err == nil && i%2 == 0 {
				_, err = h.svc.Purge(ctx, res.Datum.ID, "race")
			}
			errs <- err
		}()
	}
	var live []domain.DatumID
	for range 20 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
		id := <-ids
		if id != "" {
			live = append(live, id)
		}
	}
	for range len(live) {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	for _, id := range live {
		d, err := h.svc.GetDatum(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if d.Purged {
			continue
		}
		if _, err := h.local.Stat(t.Context(), d.Digests.BLAKE3); err != nil {
			t.Errorf("live datum %s: content Stat() error = %v, want present", id, err)
		}
	}
}
