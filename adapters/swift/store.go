package swift

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	ncw "github.com/ncw/swift/v2"

	"github.com/stratahq/strata/blob"
	"github.com/stratahq/strata/blob/storecfg"
	"github.com/stratahq/strata/domain"
)

var _ blob.Store = (*Store)(nil)

// Config locates a Swift store and says how to authenticate. Key is a secret: it is never
// part of an error, and Config prints it redacted.
type Config struct {
	AuthURL   string // Keystone or TempAuth URL
	User      string
	Key       storecfg.Secret // API key or password
	Tenant    string          // project (v2/v3 auth)
	Domain    string          // user's domain (v3 auth)
	Region    string          // "" picks the first
	Container string
	Prefix    string // prepended to every object name; "" or ending in "/"
	// BufferSize is the largest content written in one request of known length; larger
	// content streams through a temporary object. Default 8 MiB.
	BufferSize int
	// Transport, if set, sends the requests.
	Transport http.RoundTripper
}

func (c Config) withDefaults() Config {
	if c.BufferSize == 0 {
		c.BufferSize = 8 << 20
	}
	return c
}

// Validate reports every problem with c, after defaults, joined.
func (c Config) Validate() error {
	var errs []error
	if u, err := url.Parse(c.AuthURL); c.AuthURL == "" || err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		errs = append(errs, fmt.Errorf("swift store: auth URL %.200q is not an http(s) URL: %w", c.AuthURL, domain.ErrInvalid))
	}
	if c.User == "" || c.Key == "" {
		errs = append(errs, fmt.Errorf("swift store: user and key are required: %w", domain.ErrInvalid))
	}
	if c.Container == "" {
		errs = append(errs, fmt.Errorf("swift store: container is required: %w", domain.ErrInvalid))
	}
	if c.Prefix != "" && !strings.HasSuffix(c.Prefix, "/") {
		errs = append(errs, fmt.Errorf("swift store: prefix %.80q must end in '/': %w", c.Prefix, domain.ErrInvalid))
	}
	if c.BufferSize < 64<<10 {
		errs = append(errs, fmt.Errorf("swift store: buffer size %d is below 64 KiB: %w", c.BufferSize, domain.ErrInvalid))
	}
	return errors.Join(errs...)
}

// Store is a blob.Store in one Swift container under a prefix. It is safe for concurrent use.
type Store struct {
	cfg     Config
	conn    *ncw.Connection
	buffers sync.Pool // of *[]byte of cfg.BufferSize
}

// New returns a Store for cfg. It authenticates on first use, not here.
func New(cfg Config) (*Store, error) {
	cfg = cfg.withDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	conn := &ncw.Connection{
		AuthUrl:   cfg.AuthURL,
		UserName:  cfg.User,
		ApiKey:    cfg.Key.Reveal(),
		Tenant:    cfg.Tenant,
		Domain:    cfg.Domain,
		Region:    cfg.Region,
		Transport: cfg.Transport,
		Retries:   3,
		Timeout:   5 * time.Minute,
	}
	s := &Store{cfg: cfg, conn: conn}
	s.buffers.New = func() any { b := make([]byte, cfg.BufferSize); return &b }
	return s, nil
}

func (s *Store) name(d domain.Digest) string { return s.cfg.Prefix + blob.Key(d) }

func (s *Store) tmpName() string { return s.cfg.Prefix + blob.TempKey() }

// errSwift marks a failure the service reported, kept as text so client types never escape.
var errSwift = errors.New("swift")

// fail translates a client error at the boundary: a cancelled ctx and a missing object
// keep their kinds; anything else becomes text, so client types never escape.
func fail(ctx context.Context, op string, err error) error {
	if cerr := ctx.Err(); cerr != nil {
		return fmt.Errorf("%s: %w", op, cerr)
	}
	if errors.Is(err, ncw.ObjectNotFound) {
		return fmt.Errorf("%s: %w", op, blob.ErrNotFound)
	}
	var serr *ncw.Error
	if errors.As(err, &serr) {
		return fmt.Errorf("%s: %w %d %s", op, errSwift, serr.StatusCode, serr.Text)
	}
	return fmt.Errorf("%s: %w: %s", op, errSwift, err.Error())
}

func (s *Store) exists(ctx context.Context, name string) (bool, error) {
	_, _, err := s.conn.Object(ctx, s.cfg.Container, name)
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, ncw.ObjectNotFound) && ctx.Err() == nil:
		return false, nil
	}
	return false, err
}

// Put implements blob.Store.
func (s *Store) Put(ctx context.Context, r io.Reader) (blob.Object, error) {
	src := blob.NewSource(ctx, r)
	buf := s.buffers.Get().(*[]byte)
	defer s.buffers.Put(buf)
	n, err := io.ReadFull(src, *buf)
	switch {
	case errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF): // it fits in the buffer: its address is known
		obj := src.Object()
		if err := src.Err(); err != nil {
			return blob.Object{}, src.PutError(err)
		}
		return obj, s.putSmall(ctx, obj, (*buf)[:n])
	case err != nil:
		src.Object()
		return blob.Object{}, src.PutError(err)
	}
	tmp := s.tmpName()
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
	if derr := s.conn.ObjectDelete(cctx, s.cfg.Container, tmp); derr != nil && !errors.Is(derr, ncw.ObjectNotFound) && err == nil {
		err = fail(cctx, "put: delete temporary object", derr)
	}
	if err != nil {
		return blob.Object{}, err
	}
	return obj, nil
}

func (s *Store) putSmall(ctx context.Context, obj blob.Object, data []byte) error {
	name := s.name(obj.Digests.BLAKE3)
	if ok, err := s.exists(ctx, name); err != nil {
		return fail(ctx, "put", err)
	} else if ok {
		return nil
	}
	// The server checks the MD5 we already have against what it received.
	_, err := s.conn.ObjectPut(ctx, s.cfg.Container, name, bytes.NewReader(data), true, obj.Digests.MD5.String(), "application/octet-stream", nil)
	if err != nil {
		return fail(ctx, "put", err)
	}
	return nil
}

// upload streams r to the object name with chunked transfer encoding.
func (s *Store) upload(ctx context.Context, name string, r io.Reader) error {
	w, err := s.conn.ObjectCreate(ctx, s.cfg.Container, name, true, "", "application/octet-stream", nil)
	if err != nil {
		return fail(ctx, "upload", err)
	}
	if _, err := io.Copy(w, r); err != nil {
		_ = w.CloseWithError(err) // abandons the request; the copy error is the one to report
		return fail(ctx, "upload", err)
	}
	if err := w.Close(); err != nil {
		return fail(ctx, "upload", err)
	}
	return nil
}

// publish copies the temporary object tmp to the address of obj unless that exists.
func (s *Store) publish(ctx context.Context, tmp string, obj blob.Object) error {
	name := s.name(obj.Digests.BLAKE3)
	if ok, err := s.exists(ctx, name); err != nil {
		return fail(ctx, "put", err)
	} else if ok {
		return nil
	}
	if _, err := s.conn.ObjectCopy(ctx, s.cfg.Container, tmp, s.cfg.Container, name, nil); err != nil {
		return fail(ctx, "put: copy to "+obj.Digests.BLAKE3.String(), err)
	}
	return nil
}

// Open implements blob.Store.
func (s *Store) Open(ctx context.Context, d domain.Digest) (io.ReadCloser, error) {
	f, _, err := s.conn.ObjectOpen(ctx, s.cfg.Container, s.name(d), false, nil)
	if err != nil {
		return nil, fail(ctx, "open "+d.String(), err)
	}
	return blob.Verify(ctx, f, d), nil
}

// Stat implements blob.Store.
func (s *Store) Stat(ctx context.Context, d domain.Digest) (blob.Info, error) {
	info, _, err := s.conn.Object(ctx, s.cfg.Container, s.name(d))
	if err != nil {
		return blob.Info{}, fail(ctx, "stat "+d.String(), err)
	}
	return blob.Info{Digest: d, Size: info.Bytes}, nil
}

// Delete implements blob.Store.
func (s *Store) Delete(ctx context.Context, d domain.Digest) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("delete %s: %w", d, err)
	}
	if err := s.conn.ObjectDelete(ctx, s.cfg.Container, s.name(d)); err != nil && !errors.Is(err, ncw.ObjectNotFound) {
		return fail(ctx, "delete "+d.String(), err)
	}
	return nil
}

// List implements blob.Store; Swift's marker is List's after.
func (s *Store) List(ctx context.Context, prefix, after string, limit int) ([]blob.Info, error) {
	if err := blob.CheckList(prefix, after, limit); err != nil {
		return nil, err
	}
	base := s.cfg.Prefix + blob.KeyPrefix
	opts := &ncw.ObjectsOpts{Prefix: base + prefix}
	if after != "" {
		opts.Marker = base + after
	}
	var out []blob.Info
	for len(out) < limit {
		opts.Limit = min(limit-len(out), 10000)
		page, err := s.conn.Objects(ctx, s.cfg.Container, opts)
		if err != nil {
			return nil, fail(ctx, "list", err)
		}
		for _, o := range page {
			name := strings.TrimPrefix(o.Name, base)
			if d, ok := blob.ParseKey(name); ok && name > after && len(out) < limit {
				out = append(out, blob.Info{Digest: d, Size: o.Bytes})
			}
		}
		if len(page) < opts.Limit {
			break
		}
		opts.Marker = page[len(page)-1].Name
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("list: %w", err)
	}
	return out, nil
}
