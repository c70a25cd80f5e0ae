package gcs

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"

	"cloud.google.com/go/storage"
	"google.golang.org/api/googleapi"
	"google.golang.org/api/iterator"
	"google.golang.org/api/option"

	"github.com/stratahq/strata/blob"
	"github.com/stratahq/strata/blob/storecfg"
	"github.com/stratahq/strata/domain"
)

var _ blob.Store = (*Store)(nil)

// Config locates a GCS store and says how to reach it. CredentialsJSON is a secret: it
// is never part of an error, and Config prints it redacted.
type Config struct {
	Bucket string
	Prefix string // prepended to every object name; "" or ending in "/"
	// Endpoint is the JSON API URL of an emulator ("http://127.0.0.1:4443/storage/v1/");
	// "" means Google.
	Endpoint string
	// CredentialsJSON is a service-account key. Empty with an Endpoint means no
	// authentication (emulators); empty without one means the machine's default credentials.
	CredentialsJSON storecfg.Secret
	// ChunkSize is the size of each chunk of a resumable upload and the largest content
	// written in a single request; also the memory one Put holds. Default 8 MiB.
	ChunkSize int
	// HTTPClient, if set, sends the requests (emulators, tests).
	HTTPClient *http.Client
}

func (c Config) withDefaults() Config {
	if c.ChunkSize == 0 {
		c.ChunkSize = 8 << 20
	}
	return c
}

// Validate reports every problem with c, after defaults, joined.
func (c Config) Validate() error {
	var errs []error
	if c.Bucket == "" {
		errs = append(errs, fmt.Errorf("gcs store: bucket is required: %w", domain.ErrInvalid))
	}
	if c.Prefix != "" && !strings.HasSuffix(c.Prefix, "/") {
		errs = append(errs, fmt.Errorf("gcs store: prefix %.80q must end in '/': %w", c.Prefix, domain.ErrInvalid))
	}
	if c.ChunkSize < 256<<10 || c.ChunkSize%(256<<10) != 0 {
		errs = append(errs, fmt.Errorf("gcs store: chunk size %d is not a positive multiple of 256 KiB: %w", c.ChunkSize, domain.ErrInvalid))
	}
	return errors.Join(errs...)
}

// Store is a blob.Store in one GCS bucket under a prefix. It is safe for concurrent use.
// Close it when done.
type Store struct {
	cfg    Config
	client *storage.Client
	bucket *storage.BucketHandle
	chunks sync.Pool // of *[]byte of cfg.ChunkSize
}

// Open returns a Store for cfg. It does not contact the server.
func Open(ctx context.Context, cfg Config) (*Store, error) {
	cfg = cfg.withDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	var opts []option.ClientOption
	if cfg.Endpoint != "" {
		// Emulators serve the JSON API only, so read through it too.
		opts = append(opts, option.WithEndpoint(cfg.Endpoint), storage.WithJSONReads())
	}
	switch {
	case cfg.CredentialsJSON != "":
		opts = append(opts, option.WithAuthCredentialsJSON(option.ServiceAccount, []byte(cfg.CredentialsJSON.Reveal())))
	case cfg.Endpoint != "":
		opts = append(opts, option.WithoutAuthentication())
	}
	if cfg.HTTPClient != nil {
		opts = append(opts, option.WithHTTPClient(cfg.HTTPClient))
	}
	client, err := storage.NewClient(ctx, opts...)
	if err != nil {
		// The client's message may quote the credentials document it failed to parse.
		return nil, fmt.Errorf("open gcs store %q: cannot create client (check the credentials): %w", cfg.Bucket, domain.ErrInvalid)
	}
	s := &Store{cfg: cfg, client: client, bucket: client.Bucket(cfg.Bucket)}
	s.chunks.New = func() any { b := make([]byte, cfg.ChunkSize); return &b }
	return s, nil
}

// Close releases the client.
func (s *Store) Close() error {
	if err := s.client.Close(); err != nil {
		return fmt.Errorf("close gcs store: %w", err)
	}
	return nil
}

func (s *Store) name(d domain.Digest) string { return s.cfg.Prefix + blob.Key(d) }

func (s *Store) object(d domain.Digest) *storage.ObjectHandle { return s.bucket.Object(s.name(d)) }

func (s *Store) tmpName() string { return s.cfg.Prefix + blob.TempKey() }

// errGCS marks a failure the service reported, kept as text so client types never escape.
var errGCS = errors.New("gcs")

// fail translates a client error at the boundary: a cancelled ctx and a missing object
// keep their kinds; anything else becomes text, so client types never escape.
func fail(ctx context.Context, op string, err error) error {
	if cerr := ctx.Err(); cerr != nil {
		return fmt.Errorf("%s: %w", op, cerr)
	}
	if errors.Is(err, storage.ErrObjectNotExist) {
		return fmt.Errorf("%s: %w", op, blob.ErrNotFound)
	}
	var gerr *googleapi.Error
	if errors.As(err, &gerr) {
		return fmt.Errorf("%s: %w %d: %s", op, errGCS, gerr.Code, gerr.Message)
	}
	return fmt.Errorf("%s: %w: %s", op, errGCS, err.Error())
}

// isPreconditionFailed reports a does-not-exist precondition that found the object.
func isPreconditionFailed(err error) bool {
	var gerr *googleapi.Error
	return errors.As(err, &gerr) && gerr.Code == http.StatusPreconditionFailed
}

// Put implements blob.Store.
func (s *Store) Put(ctx context.Context, r io.Reader) (blob.Object, error) {
	src := blob.NewSource(ctx, r)
	buf := s.chunks.Get().(*[]byte)
	defer s.chunks.Put(buf)
	n, err := io.ReadFull(src, *buf)
	switch {
	case errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF): // it fits in one chunk: its address is known
		obj := src.Object()
		if err := src.Err(); err != nil {
			return blob.Object{}, src.PutError(err)
		}
		return obj, s.putSmall(ctx, obj, (*buf)[:n])
	case err != nil:
		src.Object()
		return blob.Object{}, src.PutError(err)
	}
	tmp := s.bucket.Object(s.tmpName())
	err = s.upload(ctx, tmp, io.MultiReader(bytes.NewReader((*buf)[:n]), src))
	obj := src.Object()
	if err != nil {
		return blob.Object{}, src.PutError(err)
	}
	if cerr := ctx.Err(); cerr != nil {
		err = src.PutError(cerr)
	} else {
		err = s.publish(ctx, tmp, obj)
	}
	cctx, cancel := blob.CleanupContext(ctx)
	defer cancel()
	if derr := tmp.Delete(cctx); derr != nil && err == nil {
		err = fail(cctx, "put: delete temporary object", derr)
	}
	if err != nil {
		return blob.Object{}, err
	}
	return obj, nil
}

func (s *Store) putSmall(ctx context.Context, obj blob.Object, data []byte) error {
	o := s.object(obj.Digests.BLAKE3).If(storage.Conditions{DoesNotExist: true})
	w := o.NewWriter(ctx)
	w.ChunkSize = 0 // one request: the content is all here
	w.ContentType = "application/octet-stream"
	if _, err := w.Write(data); err != nil {
		_ = w.Close() // the write error is the one to report
		return fail(ctx, "put", err)
	}
	if err := w.Close(); err != nil && !isPreconditionFailed(err) {
		return fail(ctx, "put", err)
	}
	return nil // written, or already there
}

// upload streams r to o as a resumable upload.
func (s *Store) upload(ctx context.Context, o *storage.ObjectHandle, r io.Reader) error {
	ctx, cancel := context.WithCancel(ctx) // cancelling abandons the upload
	defer cancel()
	w := o.NewWriter(ctx)
	w.ChunkSize = s.cfg.ChunkSize
	w.ContentType = "application/octet-stream"
	if _, err := io.Copy(w, r); err != nil {
		cancel()
		_ = w.Close() // the copy error is the one to report
		return fail(ctx, "upload", err)
	}
	if err := w.Close(); err != nil {
		return fail(ctx, "upload", err)
	}
	return nil
}

// publish copies the temporary object tmp to the address of obj unless that exists.
func (s *Store) publish(ctx context.Context, tmp *storage.ObjectHandle, obj blob.Object) error {
	dst := s.object(obj.Digests.BLAKE3).If(storage.Conditions{DoesNotExist: true})
	c := dst.CopierFrom(tmp)
	c.ContentType = "application/octet-stream"
	if _, err := c.Run(ctx); err != nil && !isPreconditionFailed(err) {
		return fail(ctx, "put: copy to "+obj.Digests.BLAKE3.String(), err)
	}
	return nil
}

// Open implements blob.Store.
func (s *Store) Open(ctx context.Context, d domain.Digest) (io.ReadCloser, error) {
	r, err := s.object(d).NewReader(ctx)
	if err != nil {
		return nil, fail(ctx, "open "+d.String(), err)
	}
	return blob.Verify(ctx, r, d), nil
}

// Stat implements blob.Store.
func (s *Store) Stat(ctx context.Context, d domain.Digest) (blob.Info, error) {
	attrs, err := s.object(d).Attrs(ctx)
	if err != nil {
		return blob.Info{}, fail(ctx, "stat "+d.String(), err)
	}
	return blob.Info{Digest: d, Size: attrs.Size}, nil
}

// Delete implements blob.Store.
func (s *Store) Delete(ctx context.Context, d domain.Digest) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("delete %s: %w", d, err)
	}
	if err := s.object(d).Delete(ctx); err != nil && !errors.Is(err, storage.ErrObjectNotExist) {
		return fail(ctx, "delete "+d.String(), err)
	}
	return nil
}

// List implements blob.Store; StartOffset is inclusive, so after itself is skipped.
func (s *Store) List(ctx context.Context, prefix, after string, limit int) ([]blob.Info, error) {
	if err := blob.CheckList(prefix, after, limit); err != nil {
		return nil, err
	}
	base := s.cfg.Prefix + blob.KeyPrefix
	q := &storage.Query{Prefix: base + prefix, Projection: storage.ProjectionNoACL}
	if after != "" {
		q.StartOffset = base + after
	}
	if err := q.SetAttrSelection([]string{"Name", "Size"}); err != nil {
		return nil, fmt.Errorf("list: %w", err)
	}
	it := s.bucket.Objects(ctx, q)
	it.PageInfo().MaxSize = min(limit+1, 1000)
	var out []blob.Info
	for len(out) < limit {
		attrs, err := it.Next()
		if errors.Is(err, iterator.Done) {
			break
		} else if err != nil {
			return nil, fail(ctx, "list", err)
		}
		name := strings.TrimPrefix(attrs.Name, base)
		if d, ok := blob.ParseKey(name); ok && name > after {
			out = append(out, blob.Info{Digest: d, Size: attrs.Size})
		}
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("list: %w", err)
	}
	return out, nil
}
