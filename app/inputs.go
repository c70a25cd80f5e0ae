package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/stratahq/strata/blob"
	"github.com/stratahq/strata/domain"
	"github.com/stratahq/strata/domain/alias"
	"github.com/stratahq/strata/domain/dataset"
	"github.com/stratahq/strata/domain/datum"
	"github.com/stratahq/strata/domain/project"
	"github.com/stratahq/strata/events"
)

// Errors of input resolution and download.
var (
	// ErrTooLarge: an input file is larger than DownloadConfig.MaxSize.
	ErrTooLarge = fmt.Errorf("input file larger than the download limit: %w", domain.ErrInvalid)
	// ErrNoMatch: a wildcard URL matches no object.
	ErrNoMatch = fmt.Errorf("no object matches: %w", domain.ErrNotFound)
	// ErrTooManyFiles: a wildcard URL matches more objects than DownloadConfig.MaxFiles.
	ErrTooManyFiles = fmt.Errorf("too many matching objects: %w", domain.ErrInvalid)
)

type sourceKind int

const (
	sourceDatum  sourceKind = iota + 1 // a datum's content in a blob store
	sourceObject                       // an object of a configured store's bucket
	sourceHTTP                         // an http(s) URL
)

// InputFile is one file an input URI names, ready to download.
type InputFile struct {
	// URI is the input URI as requested (datum://, dataset://, a store URL).
	URI string
	// Name is the file's name: a datum's name, the object key below the wildcard's
	// directory for wildcard URLs (so keep-directories "suffix" keeps it and "none" takes
	// its base), the key's base name otherwise.
	Name string
	// Key is the object's full key in its bucket (store URLs), or the URL (http, https).
	Key string
	// Datum is set for datum:// and dataset:// files.
	Datum domain.DatumID
	// Size is the size in bytes, -1 when unknown before downloading.
	Size int64
	// Digests are known beforehand for datums, zero otherwise.
	Digests domain.Digests

	kind  sourceKind
	store *storeInfo
}

// fullPath is the file's whole source path, for keep-directories "full": the object key,
// the URL's unescaped path (its name when that is no clean path), the datum's name.
func (f InputFile) fullPath() string {
	switch f.kind {
	case sourceObject:
		return f.Key
	case sourceHTTP:
		if u, err := url.Parse(f.Key); err == nil {
			if p := strings.TrimPrefix(u.Path, "/"); domain.CheckPath("path", p) == nil {
				return p
			}
		}
	}
	return f.Name
}

// ResolveInput lists the files input URI uri names in project p: the datum, the files of
// the dataset version, the objects a store URL (with * and ** wildcards) matches, or the
// http(s) URL's file. Aliases and dataset aliases resolve to their current targets. It
// needs the viewer role.
func (s *Service) ResolveInput(ctx context.Context, p domain.ProjectID, uri string) ([]InputFile, error) {
	if _, _, err := s.authorize(ctx, p, project.RoleViewer); err != nil {
		return nil, fmt.Errorf("resolve %.200s: %w", uri, err)
	}
	return s.resolve(ctx, p, uri)
}

func (s *Service) resolve(ctx context.Context, p domain.ProjectID, uri string) ([]InputFile, error) {
	u, err := domain.ParseInputURI(uri)
	if err != nil {
		return nil, err
	}
	switch {
	case !u.Datum.IsZero() || !u.Dataset.IsZero():
		ids, err := s.pin(ctx, p, u)
		if err != nil {
			return nil, err
		}
		return s.datumFiles(ctx, p, uri, ids)
	case u.Store.Scheme == domain.SchemeHTTP || u.Store.Scheme == domain.SchemeHTTPS:
		if err := s.checkScheme(u.Store.Scheme); err != nil {
			return nil, fmt.Errorf("resolve %s: %w", uri, err)
		}
		name := "download"
		if p, err := url.PathUnescape(path.Base("/" + u.Store.Key)); err == nil && domain.CheckPath("file name", p) == nil && !strings.Contains(p, "/") {
			name = p
		}
		return []InputFile{{URI: uri, Name: name, Key: u.Store.String(), Size: -1, kind: sourceHTTP}}, nil
	}
	return s.storeFiles(ctx, uri, u.Store)
}

// pin resolves a datum or dataset URI of project p to datum IDs, as of now.
func (s *Service) pin(ctx context.Context, p domain.ProjectID, u domain.InputURI) ([]domain.DatumID, error) {
	switch {
	case u.Datum.ID != "":
		return []domain.DatumID{u.Datum.ID}, nil
	case u.Datum.Alias != "":
		st, _, err := events.Fold(ctx, s.log, s.codec, AliasStream(p, u.Datum.Alias), alias.State{}, alias.Evolve)
		if err != nil {
			return nil, err
		}
		target, ok := st.Target()
		if !ok {
			return nil, fmt.Errorf("resolve %s: %w", u.Datum, alias.ErrNotFound)
		}
		return []domain.DatumID{target}, nil
	case !u.Dataset.IsZero():
		st, _, err := events.Fold(ctx, s.log, s.codec, DatasetStream(p, u.Dataset.Dataset), dataset.State{}, dataset.Evolve)
		if err != nil {
			return nil, err
		}
		if !st.Exists() {
			return nil, fmt.Errorf("resolve %s: %w", u.Dataset, dataset.ErrNotFound)
		}
		_, ids, err := st.Resolve(u.Dataset.Version)
		if err != nil {
			return nil, err
		}
		return ids, nil
	}
	return nil, nil
}

func (s *Service) datumFiles(ctx context.Context, p domain.ProjectID, uri string, ids []domain.DatumID) ([]InputFile, error) {
	out := make([]InputFile, 0, len(ids))
	for _, id := range ids {
		st, err := s.loadDatum(ctx, id)
		if err != nil {
			return nil, fmt.Errorf("resolve %s: %w", uri, err)
		}
		if st.Project() != p {
			return nil, fmt.Errorf("resolve %s: datum %s is not in project %s: %w", uri, id, p, datum.ErrNotFound)
		}
		if err := st.CheckReadable(); err != nil {
			return nil, fmt.Errorf("resolve %s: datum %s (%s): %w", uri, id, st.Name(), err)
		}
		loc, _ := st.Location()
		info, err := s.stores.byLocation(loc)
		if err != nil {
			return nil, fmt.Errorf("resolve %s: datum %s: %w", uri, id, err)
		}
		out = append(out, InputFile{URI: uri, Name: st.Name(), Datum: id, Size: st.Size(), Digests: st.Digests(), kind: sourceDatum, store: info})
	}
	return out, nil
}

func (s *Service) storeFiles(ctx context.Context, uri string, u domain.StoreURL) ([]InputFile, error) {
	info, err := s.stores.forInput(u)
	if err != nil {
		return nil, fmt.Errorf("resolve %s: %w", uri, err)
	}
	objs, err := s.objectReader(info)
	if err != nil {
		return nil, fmt.Errorf("resolve %s: %w", uri, err)
	}
	if !u.HasWildcard() {
		if u.Key == "" || strings.HasSuffix(u.Key, "/") {
			return nil, fmt.Errorf("resolve %s: names a directory, not a file (add a wildcard: %s*): %w", uri, uri, domain.ErrInvalid)
		}
		return []InputFile{{URI: uri, Name: path.Base(u.Key), Key: u.Key, Size: -1, kind: sourceObject, store: info}}, nil
	}
	prefix := u.Key[:strings.IndexByte(u.Key, '*')]
	root := prefix[:strings.LastIndexByte(prefix, '/')+1]
	re := wildcard(u.Key)
	var out []InputFile
	err = objs.ListObjects(ctx, prefix, func(key string, size int64) error {
		if !re.MatchString(key) {
			return nil
		}
		if len(out) == s.cfg.Download.MaxFiles {
			return fmt.Errorf("resolve %s: more than %d: %w", uri, s.cfg.Download.MaxFiles, ErrTooManyFiles)
		}
		name := key[len(root):]
		if err := domain.CheckPath("file name", name); err != nil {
			return fmt.Errorf("resolve %s: object %.200q: %w", uri, key, err) // "..": never written outside the input directory
		}
		out = append(out, InputFile{URI: uri, Name: name, Key: key, Size: size, kind: sourceObject, store: info})
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("resolve %s: %w", uri, err)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("resolve %s: %w", uri, ErrNoMatch)
	}
	return out, nil
}

// wildcard compiles a key pattern: "**" matches any characters, "/" included; "*" any
// characters but "/"; everything else itself.
func wildcard(pattern string) *regexp.Regexp {
	var b strings.Builder
	b.WriteString("^")
	for i := 0; i < len(pattern); {
		switch {
		case strings.HasPrefix(pattern[i:], "**"):
			b.WriteString(".*")
			i += 2
		case pattern[i] == '*':
			b.WriteString("[^/]*")
			i++
		default:
			j := i
			for j < len(pattern) && pattern[j] != '*' {
				j++
			}
			b.WriteString(regexp.QuoteMeta(pattern[i:j]))
			i = j
		}
	}
	b.WriteString("$")
	return regexp.MustCompile(b.String())
}

// Downloaded is a file Download wrote.
type Downloaded struct {
	Path    string
	Size    int64
	Digests domain.Digests
	// Resumed is how many bytes were kept from an earlier, interrupted download.
	Resumed int64
}

// opener opens a file's content from offset on; atOffset false means the reader starts
// at 0 after all (the source cannot resume). total is the whole size, -1 if unknown.
type opener func(ctx context.Context, offset int64) (rc io.ReadCloser, total int64, atOffset bool, err error)

func (s *Service) opener(f InputFile) (opener, error) {
	switch f.kind {
	case sourceDatum:
		bs, err := s.blobStore(f.store)
		if err != nil {
			return nil, err
		}
		return func(ctx context.Context, offset int64) (io.ReadCloser, int64, bool, error) {
			rc, err := bs.Open(ctx, f.Digests.BLAKE3)
			if err != nil {
				return nil, 0, false, fmt.Errorf("read datum %s: %w", f.Datum, err)
			}
			return rc, f.Size, offset == 0, nil
		}, nil
	case sourceObject:
		objs, err := s.objectReader(f.store)
		if err != nil {
			return nil, err
		}
		return func(ctx context.Context, offset int64) (io.ReadCloser, int64, bool, error) {
			rc, total, err := objs.OpenObject(ctx, f.Key, offset)
			return rc, total, true, err
		}, nil
	case sourceHTTP:
		h := &httpSource{s: s, url: f.Key}
		return h.open, nil
	}
	return nil, fmt.Errorf("download %s: not a resolved input file: %w", f.URI, domain.ErrInvalid)
}

// Download streams f to the file dest, hashing it with md5, sha1, sha256 and BLAKE3 as it
// is written. It writes dest+".part" first and renames it when complete; a ".part" left by
// an interrupted download is resumed where the source allows ranged reads (store objects,
// http servers that answer Range), else restarted. Read errors are resumed the same way,
// at most DownloadConfig.Retries times. A file larger than DownloadConfig.MaxSize is
// refused (ErrTooLarge) and its part removed. A datum's content must hash to its digests.
func (s *Service) Download(ctx context.Context, f InputFile, dest string) (Downloaded, error) {
	open, err := s.opener(f)
	if err != nil {
		return Downloaded{}, err
	}
	if f.Size > s.cfg.Download.MaxSize {
		return Downloaded{}, fmt.Errorf("download %s: %d bytes: %w", f.URI, f.Size, ErrTooLarge)
	}
	if err := os.MkdirAll(filepath.Dir(dest), 0o755); err != nil {
		return Downloaded{}, fmt.Errorf("download %s: %w", f.URI, err)
	}
	part := dest + ".part"
	file, err := os.OpenFile(part, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return Downloaded{}, fmt.Errorf("download %s: %w", f.URI, err)
	}
	d, err := s.download(ctx, f, open, file)
	if cerr := file.Close(); cerr != nil && err == nil {
		err = fmt.Errorf("close %s: %w", part, cerr)
	}
	if err != nil {
		err = fmt.Errorf("download %s: %w", f.URI, err)
	}
	if errors.Is(err, ErrTooLarge) || errors.Is(err, blob.ErrDigestMismatch) {
		_ = os.Remove(part) // useless for a resume
	}
	if err != nil {
		return Downloaded{}, err
	}
	if err := os.Rename(part, dest); err != nil {
		return Downloaded{}, fmt.Errorf("download %s: %w", f.URI, err)
	}
	d.Path = dest
	return d, nil
}

func (s *Service) download(ctx context.Context, f InputFile, open opener, file *os.File) (Downloaded, error) {
	limit := s.cfg.Download.MaxSize
	fi, err := file.Stat()
	if err != nil {
		return Downloaded{}, err
	}
	have := fi.Size()
	h := blob.NewHasher()
	defer func() { h.Sum() }() // stops the hashing goroutines on every path; Sum is idempotent
	if have > 0 {
		if _, err := h.ReadFrom(io.LimitReader(file, have)); err != nil {
			return Downloaded{}, fmt.Errorf("read the partial file: %w", err)
		}
	}
	resumed := have
	restart := func() error {
		h.Sum()
		h, have, resumed = blob.NewHasher(), 0, 0
		return file.Truncate(0)
	}
	for attempt := 0; ; attempt++ {
		rc, total, atOffset, err := open(ctx, have)
		if err == nil && !atOffset && have > 0 {
			err = restart()
		}
		if err == nil && total > limit {
			err = fmt.Errorf("%d bytes: %w", total, ErrTooLarge)
		}
		if err == nil {
			var n int64
			if _, err = file.Seek(have, io.SeekStart); err == nil {
				n, err = io.Copy(io.MultiWriter(file, h), io.LimitReader(rc, limit-have+1))
				have += n
			}
			if cerr := rc.Close(); cerr != nil && err == nil {
				err = cerr
			}
			if err == nil && have > limit {
				err = fmt.Errorf("more than %d bytes: %w", limit, ErrTooLarge)
			}
			if err == nil && total >= 0 && have != total {
				err = fmt.Errorf("got %d of %d bytes: %w", have, total, io.ErrUnexpectedEOF)
			}
		} else if rc != nil {
			_ = rc.Close()
		}
		if err == nil {
			break
		}
		if rc == nil || attempt >= s.cfg.Download.Retries || ctx.Err() != nil || !retryable(err) {
			if cerr := ctx.Err(); cerr != nil && !errors.Is(err, cerr) {
				err = cerr
			}
			return Downloaded{}, err
		}
	}
	if err := file.Sync(); err != nil {
		return Downloaded{}, fmt.Errorf("sync: %w", err)
	}
	sum := h.Sum()
	if f.kind == sourceDatum && sum != f.Digests {
		return Downloaded{}, fmt.Errorf("datum %s: %w", f.Datum, &blob.DigestMismatchError{Want: f.Digests.BLAKE3, Got: sum.BLAKE3})
	}
	return Downloaded{Size: have, Digests: sum, Resumed: resumed}, nil
}

// retryable reports whether a failed read may succeed when resumed: not a refusal, a
// missing file, an oversized one or corrupt content.
func retryable(err error) bool {
	return !errors.Is(err, domain.ErrInvalid) && !errors.Is(err, domain.ErrNotFound) && !errors.Is(err, blob.ErrDigestMismatch)
}
