package app

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/stratahq/strata/blob"
	"github.com/stratahq/strata/domain"
	"github.com/stratahq/strata/domain/datum"
	"github.com/stratahq/strata/domain/project"
	"github.com/stratahq/strata/events"
)

// Datum describes one datum as the application reports it.
type Datum struct {
	ID         domain.DatumID
	Project    domain.ProjectID
	Name       string
	Size       int64
	Digests    domain.Digests
	Store      string // the configured store's name, "" if no configured store is located there
	Location   string // the store's location URL, "" for the built-in store
	Key        string // the content's key relative to Location
	Execution  domain.ExecutionID
	Uploader   domain.UserID
	CreatedAt  time.Time
	Purged     bool
	Tags       []string
	Properties map[string]json.RawMessage
}

func (s *Service) datumOf(st datum.State) Datum {
	loc, key := st.Location()
	d := Datum{ID: st.ID(), Project: st.Project(), Name: st.Name(), Size: st.Size(), Digests: st.Digests(), Location: loc,
		Key: key, Execution: st.Producer(), Uploader: st.Uploader(), CreatedAt: st.CreatedAt(), Tags: st.Tags(), Properties: st.Properties()}
	if info, err := s.stores.byLocation(loc); err == nil {
		d.Store = info.cfg.Name
	}
	_, d.Purged = st.Purged()
	return d
}

// Upload is a user's upload of one local file as a new datum.
type Upload struct {
	Project domain.ProjectID
	// Name is the datum's file name or relative path ("model.pb", "ckpt/epoch-3.pt").
	Name string
	// Store names the data store to upload to; "" means the project's default, then the
	// configured defaults.
	Store string
	// Content is read once, to EOF, and hashed as it streams into the store.
	Content io.Reader
	// ReuseExisting returns the oldest live datum of the project with the same content
	// instead of creating a new one, when there is one.
	ReuseExisting bool
	// Progress, if set, is called with the number of bytes read so far as the upload
	// proceeds (from the uploading goroutine; keep it quick).
	Progress func(read int64)
}

// UploadResult is what Upload did.
type UploadResult struct {
	// Datum is the datum created, or the existing one reused.
	Datum Datum
	// Created is false when an existing datum was reused.
	Created bool
	// Duplicates are the live datums of the project that had the same content before this
	// upload, oldest first: "this file was uploaded before".
	Duplicates []domain.DatumID
	// Position is where the datum's creation was written, 0 if nothing was.
	Position events.Position
}

// ErrContentGone: content stored by an upload was deleted by a purge running at the same
// moment, before the upload could record its datum; uploading again succeeds.
var ErrContentGone = fmt.Errorf("content deleted by a concurrent purge, upload again: %w", domain.ErrConflict)

// Upload streams u.Content into the project's upload store (content-addressed: content
// already stored there is kept once) and records a new datum for it; every upload is a new
// datum unless u.ReuseExisting finds one with the same content. It needs the editor role.
func (s *Service) Upload(ctx context.Context, u Upload) (UploadResult, error) {
	p, actor, err := s.authorize(ctx, u.Project, project.RoleEditor)
	if err != nil {
		return UploadResult{}, fmt.Errorf("upload %q: %w", u.Name, err)
	}
	if err := domain.CheckPath("datum name", u.Name); err != nil {
		return UploadResult{}, fmt.Errorf("upload: %w", err)
	}
	info, err := s.stores.upload(p, u.Store)
	if err != nil {
		return UploadResult{}, fmt.Errorf("upload %q: %w", u.Name, err)
	}
	bs, err := s.blobStore(info)
	if err != nil {
		return UploadResult{}, fmt.Errorf("upload %q: %w", u.Name, err)
	}
	r := u.Content
	if u.Progress != nil {
		r = &progressReader{r: r, fn: u.Progress}
	}
	obj, err := bs.Put(ctx, r)
	if err != nil {
		return UploadResult{}, fmt.Errorf("upload %q to store %q: %w", u.Name, info.cfg.Name, err)
	}
	b3 := obj.Digests.BLAKE3
	unlock := s.locks.lock(info.url, b3)
	defer unlock()
	dups, err := s.sameContent(ctx, u.Project, b3)
	if err != nil {
		return UploadResult{}, err
	}
	if u.ReuseExisting && len(dups) > 0 {
		st, err := s.loadDatum(ctx, dups[0])
		if err != nil {
			return UploadResult{}, err
		}
		// The content just stored is garbage if no live datum of this store keeps it.
		if n, err := s.references(ctx, info.url, b3); err != nil {
			return UploadResult{}, err
		} else if n == 0 {
			if err := bs.Delete(ctx, b3); err != nil {
				return UploadResult{}, fmt.Errorf("upload %q: remove unused content: %w", u.Name, err)
			}
		}
		return UploadResult{Datum: s.datumOf(st), Duplicates: dups}, nil
	}
	// A purge may have deleted the content between Put and taking the lock.
	if _, err := bs.Stat(ctx, b3); errors.Is(err, blob.ErrNotFound) {
		return UploadResult{}, fmt.Errorf("upload %q: %w", u.Name, ErrContentGone)
	} else if err != nil {
		return UploadResult{}, fmt.Errorf("upload %q: %w", u.Name, err)
	}
	id := domain.DatumID(s.newID())
	res, err := execute(ctx, s, DatumStream(id), datumDecider, datum.Command(datum.Create{
		Datum: id, Project: u.Project, Name: u.Name, Size: obj.Size, Digests: obj.Digests,
		Store: info.url, Key: blob.Key(b3), Uploader: actor, At: s.at(),
	}))
	if err != nil {
		return UploadResult{}, fmt.Errorf("upload %q: %w", u.Name, err)
	}
	return UploadResult{Datum: s.datumOf(res.State), Created: true, Duplicates: dups, Position: res.Last()}, nil
}

type progressReader struct {
	r    io.Reader
	n    int64
	fn   func(int64)
	last int64
}

func (p *progressReader) Read(b []byte) (int, error) {
	n, err := p.r.Read(b)
	p.n += int64(n)
	if p.n-p.last >= 1<<20 || (err != nil && p.n != p.last) {
		p.last = p.n
		p.fn(p.n)
	}
	return n, err
}

// GetDatum returns datum id. It needs the viewer role in the datum's project.
func (s *Service) GetDatum(ctx context.Context, id domain.DatumID) (Datum, error) {
	st, err := s.loadDatum(ctx, id)
	if err != nil {
		return Datum{}, err
	}
	if _, _, err := s.authorize(ctx, st.Project(), project.RoleViewer); err != nil {
		return Datum{}, fmt.Errorf("datum %s: %w", id, err)
	}
	return s.datumOf(st), nil
}

// datumCommand runs c on datum id after checking the caller has role
// need in its project.
func (s *Service) datumCommand(ctx context.Context, id domain.DatumID, what string, need project.Role, c datum.Command) (events.Position, error) {
	st, err := s.loadDatum(ctx, id)
	if err != nil {
		return 0, fmt.Errorf("%s: %w", what, err)
	}
	if _, _, err := s.authorize(ctx, st.Project(), need); err != nil {
		return 0, fmt.Errorf("%s: datum %s: %w", what, id, err)
	}
	res, err := execute(ctx, s, DatumStream(id), datumDecider, c)
	if err != nil {
		return 0, fmt.Errorf("datum %s: %w", id, err) // the domain's error says what was done
	}
	return res.Last(), nil
}

// AddDatumTags adds tags to datum id. It needs the editor role.
func (s *Service) AddDatumTags(ctx context.Context, id domain.DatumID, tags []string) (events.Position, error) {
	return s.datumCommand(ctx, id, "add tags", project.RoleEditor, datum.AddTags{Tags: tags, At: s.at()})
}

// RemoveDatumTags removes tags from datum id. It needs the editor role.
func (s *Service) RemoveDatumTags(ctx context.Context, id domain.DatumID, tags []string) (events.Position, error) {
	return s.datumCommand(ctx, id, "remove tags", project.RoleEditor, datum.RemoveTags{Tags: tags, At: s.at()})
}

// SetDatumProperties sets properties of datum id to JSON values; a JSON null removes one.
// It needs the editor role.
func (s *Service) SetDatumProperties(ctx context.Context, id domain.DatumID, props map[string]json.RawMessage) (events.Position, error) {
	return s.datumCommand(ctx, id, "set properties", project.RoleEditor, datum.SetProperties{Properties: props, At: s.at()})
}

// OpenDatum returns a reader of datum id's content, verified against its BLAKE3 as it is
// read, and the datum. A purged datum's content is refused with an error matching
// datum.ErrPurged. It needs the viewer role.
func (s *Service) OpenDatum(ctx context.Context, id domain.DatumID) (io.ReadCloser, Datum, error) {
	st, err := s.loadDatum(ctx, id)
	if err != nil {
		return nil, Datum{}, err
	}
	if _, _, err := s.authorize(ctx, st.Project(), project.RoleViewer); err != nil {
		return nil, Datum{}, fmt.Errorf("datum %s: %w", id, err)
	}
	rc, err := s.openContent(ctx, st)
	if err != nil {
		return nil, Datum{}, err
	}
	return rc, s.datumOf(st), nil
}

func (s *Service) openContent(ctx context.Context, st datum.State) (io.ReadCloser, error) {
	if err := st.CheckReadable(); err != nil {
		if p, ok := st.Purged(); ok {
			return nil, fmt.Errorf("read datum %s (%s): purged by %s on %s: %w", st.ID(), st.Name(), p.By, p.At.Format(time.DateOnly), datum.ErrPurged)
		}
		return nil, err
	}
	loc, _ := st.Location()
	info, err := s.stores.byLocation(loc)
	if err != nil {
		return nil, fmt.Errorf("read datum %s: %w", st.ID(), err)
	}
	bs, err := s.blobStore(info)
	if err != nil {
		return nil, fmt.Errorf("read datum %s: %w", st.ID(), err)
	}
	rc, err := bs.Open(ctx, st.Digests().BLAKE3)
	if err != nil {
		return nil, fmt.Errorf("read datum %s from store %q: %w", st.ID(), info.cfg.Name, err)
	}
	return rc, nil
}

// PurgeResult is what Purge did.
type PurgeResult struct {
	// Position is where the purge was recorded; 0 if the datum was purged before.
	Position events.Position
	// ContentDeleted reports that the content was deleted from its store: no live datum
	// of that store shares it any more.
	ContentDeleted bool
	// SharedBy is how many live datums of the same store still keep the content.
	SharedBy int
}

// Purge records that datum id's content is purged, for reason, and deletes the content
// from its store unless another live datum of that store has the same content. The
// record, digests and lineage remain. Purging again is a success that retries the
// deletion (of an interrupted purge). It needs the admin role.
func (s *Service) Purge(ctx context.Context, id domain.DatumID, reason string) (PurgeResult, error) {
	st, err := s.loadDatum(ctx, id)
	if err != nil {
		return PurgeResult{}, err
	}
	_, actor, err := s.authorize(ctx, st.Project(), project.RoleAdmin)
	if err != nil {
		return PurgeResult{}, fmt.Errorf("purge datum %s: %w", id, err)
	}
	res, err := execute(ctx, s, DatumStream(id), datumDecider, datum.Command(datum.Purge{By: actor, Reason: reason, At: s.at()}))
	if err != nil {
		return PurgeResult{}, fmt.Errorf("purge datum %s: %w", id, err)
	}
	out := PurgeResult{Position: res.Last()}
	loc, _ := st.Location()
	b3 := st.Digests().BLAKE3
	info, err := s.stores.byLocation(loc)
	if err != nil {
		return out, fmt.Errorf("purge datum %s: delete content: %w", id, err)
	}
	bs, err := s.blobStore(info)
	if err != nil {
		return out, fmt.Errorf("purge datum %s: delete content: %w", id, err)
	}
	unlock := s.locks.lock(loc, b3)
	defer unlock()
	n, err := s.references(ctx, loc, b3)
	if err != nil {
		return out, fmt.Errorf("purge datum %s: %w", id, err)
	}
	if out.SharedBy = n; n > 0 {
		return out, nil
	}
	if err := bs.Delete(ctx, b3); err != nil {
		return out, fmt.Errorf("purge datum %s: delete content from store %q: %w", id, info.cfg.Name, err)
	}
	out.ContentDeleted = true
	return out, nil
}
