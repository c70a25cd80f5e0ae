package azure

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	azblob "github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/blob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/bloberror"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/blockblob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/container"

	"github.com/stratahq/strata/blob"
	"github.com/stratahq/strata/blob/storecfg"
	"github.com/stratahq/strata/domain"
)

var _ blob.Store = (*Store)(nil)

// Config locates an Azure Blob store and says how to reach it. AccountKey is a secret:
// it is never part of an error, and Config prints it redacted.
type Config struct {
	// Endpoint is the account's blob service URL: "https://<account>.blob.core.windows.net"
	// or, for Azurite, "http://127.0.0.1:10000/<account>".
	Endpoint  string
	Container string
	Prefix    string // prepended to every blob name; "" or ending in "/"
	// AccountName and AccountKey (base64) authenticate with a shared key.
	AccountName string
	AccountKey  storecfg.Secret
	// BlockSize is the size of each staged block and the largest content uploaded in a
	// single request; also the memory one Put holds. Default 8 MiB.
	BlockSize int64
	// HTTPClient, if set, sends the requests.
	HTTPClient *http.Client
}

func (c Config) withDefaults() Config {
	if c.BlockSize == 0 {
		c.BlockSize = 8 << 20
	}
	return c
}

// Validate reports every problem with c, after defaults, joined.
func (c Config) Validate() error {
	var errs []error
	if u, err := url.Parse(c.Endpoint); c.Endpoint == "" || err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		errs = append(errs, fmt.Errorf("azure store: endpoint %.200q is not an http(s) URL: %w", c.Endpoint, domain.ErrInvalid))
	}
	if c.Container == "" {
		errs = append(errs, fmt.Errorf("azure store: container is required: %w", domain.ErrInvalid))
	}
	if c.Prefix != "" && !strings.HasSuffix(c.Prefix, "/") {
		errs = append(errs, fmt.Errorf("azure store: prefix %.80q must end in '/': %w", c.Prefix, domain.ErrInvalid))
	}
	if c.AccountName == "" || c.AccountKey == "" {
		errs = append(errs, fmt.Errorf("azure store: account name and key are required: %w", domain.ErrInvalid))
	}
	if c.BlockSize < 1<<20 || c.BlockSize > 4000<<20 {
		errs = append(errs, fmt.Errorf("azure store: block size %d is not in 1 MiB..4000 MiB: %w", c.BlockSize, domain.ErrInvalid))
	}
	return errors.Join(errs...)
}

// Store is a blob.Store in one Azure container under a prefix. It is safe for concurrent use.
type Store struct {
	cfg       Config
	container *container.Client
	blocks    sync.Pool // of *[]byte of cfg.BlockSize
}

// New returns a Store for cfg. It does not contact the server.
func New(cfg Config) (*Store, error) {
	cfg = cfg.withDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cred, err := azblob.NewSharedKeyCredential(cfg.AccountName, cfg.AccountKey.Reveal())
	if err != nil {
		return nil, fmt.Errorf("azure store %q: account key is not valid base64: %w", cfg.AccountName, domain.ErrInvalid)
	}
	opts := &container.ClientOptions{}
	if cfg.HTTPClient != nil {
		opts.Transport = cfg.HTTPClient
	}
	opts.Retry = policy.RetryOptions{MaxRetries: 3}
	c, err := container.NewClientWithSharedKeyCredential(strings.TrimSuffix(cfg.Endpoint, "/")+"/"+cfg.Container, cred, opts)
	if err != nil {
		return nil, fmt.Errorf("azure store %q: %w", cfg.Container, err)
	}
	s := &Store{cfg: cfg, container: c}
	s.blocks.New = func() any { b := make([]byte, cfg.BlockSize); return &b }
	return s, nil
}

func (s *Store) name(d domain.Digest) string { return s.cfg.Prefix + blob.Key(d) }

func (s *Store) blockBlob(d domain.Digest) *blockblob.Client {
	return s.container.NewBlockBlobClient(s.name(d))
}

func (s *Store) tmpName() string { return s.cfg.Prefix + blob.TempKey() }

var (
	// errAzure marks a failure the service reported, kept as text so SDK types never escape.
	errAzure = errors.New("azure")
	// errCopy marks a server-side copy that ended other than successfully.
	errCopy = errors.New("copy ended")
)

// fail translates an SDK error at the boundary: a cancelled ctx and a missing blob keep
// their kinds; anything else becomes the status and error code only, so SDK types never
// escape and no request detail (headers, signatures) reaches a message.
func fail(ctx context.Context, op string, err error) error {
	if cerr := ctx.Err(); cerr != nil {
		return fmt.Errorf("%s: %w", op, cerr)
	}
	if bloberror.HasCode(err, bloberror.BlobNotFound) {
		return fmt.Errorf("%s: %w", op, blob.ErrNotFound)
	}
	var re *azcore.ResponseError
	if errors.As(err, &re) {
		return fmt.Errorf("%s: %w %d %s", op, errAzure, re.StatusCode, re.ErrorCode)
	}
	return fmt.Errorf("%s: %w: %s", op, errAzure, err.Error())
}

// exists reports an if-none-match precondition that found the blob.
func exists(err error) bool {
	return bloberror.HasCode(err, bloberror.BlobAlreadyExists, bloberror.ConditionNotMet)
}

var ifAbsent = &azblob.AccessConditions{ModifiedAccessConditions: &azblob.ModifiedAccessConditions{IfNoneMatch: to.Ptr(azcore.ETagAny)}}

type nopSeekCloser struct{ *bytes.Reader }

func (nopSeekCloser) Close() error { return nil }

// Put implements blob.Store.
func (s *Store) Put(ctx context.Context, r io.Reader) (blob.Object, error) {
	src := blob.NewSource(ctx, r)
	buf := s.blocks.Get().(*[]byte)
	defer s.blocks.Put(buf)
	n, err := io.ReadFull(src, *buf)
	switch {
	case errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF): // it fits in one block: its address is known
		obj := src.Object()
		if err := src.Err(); err != nil {
			return blob.Object{}, src.PutError(err)
		}
		_, err := s.blockBlob(obj.Digests.BLAKE3).Upload(ctx, nopSeekCloser{bytes.NewReader((*buf)[:n])}, &blockblob.UploadOptions{AccessConditions: ifAbsent})
		if err != nil && !exists(err) {
			return blob.Object{}, fail(ctx, "put", err)
		}
		return obj, nil
	case err != nil:
		src.Object()
		return blob.Object{}, src.PutError(err)
	}
	tmp := s.container.NewBlockBlobClient(s.tmpName())
	err = s.stage(ctx, tmp, src, *buf)
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
	if _, derr := tmp.Delete(cctx, nil); derr != nil && err == nil {
		err = fail(cctx, "put: delete temporary blob", derr)
	}
	if err != nil {
		return blob.Object{}, err
	}
	return obj, nil
}

// stage uploads src to tmp block by block; the first block is already in buf (full).
// Uncommitted blocks of a failed upload are discarded by the service after a week.
func (s *Store) stage(ctx context.Context, tmp *blockblob.Client, src *blob.Source, buf []byte) error {
	var ids []string
	n := len(buf)
	for {
		var raw [8]byte
		binary.BigEndian.PutUint64(raw[:], uint64(len(ids)))
		id := base64.StdEncoding.EncodeToString(raw[:]) // all IDs of a blob have the same length
		if _, err := tmp.StageBlock(ctx, id, nopSeekCloser{bytes.NewReader(buf[:n])}, nil); err != nil {
			return fail(ctx, fmt.Sprintf("stage block %d", len(ids)), err)
		}
		ids = append(ids, id)
		var err error
		n, err = io.ReadFull(src, buf)
		if errors.Is(err, io.EOF) {
			break
		} else if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) {
			return err
		}
		if len(ids) == 50000 {
			return fmt.Errorf("stage: more than 50000 blocks of %d bytes: %w", len(buf), domain.ErrInvalid)
		}
	}
	if err := src.Err(); err != nil {
		return err
	}
	if _, err := tmp.CommitBlockList(ctx, ids, nil); err != nil {
		return fail(ctx, "commit block list", err)
	}
	return nil
}

// publish copies the committed temporary blob tmp to the address of obj unless that
// exists, waiting for the server-side copy to finish.
func (s *Store) publish(ctx context.Context, tmp *blockblob.Client, obj blob.Object) error {
	dst := s.blockBlob(obj.Digests.BLAKE3)
	op := "put: copy to " + obj.Digests.BLAKE3.String()
	resp, err := dst.StartCopyFromURL(ctx, tmp.URL(), &azblob.StartCopyFromURLOptions{AccessConditions: ifAbsent})
	if exists(err) {
		return nil
	} else if err != nil {
		return fail(ctx, op, err)
	}
	status := resp.CopyStatus
	for wait := 10 * time.Millisecond; status != nil && *status == azblob.CopyStatusTypePending; wait = min(2*wait, time.Second) {
		select {
		case <-ctx.Done():
			cctx, cancel := blob.CleanupContext(ctx)
			defer cancel()
			_, _ = dst.AbortCopyFromURL(cctx, *resp.CopyID, nil) // best effort; the error below is what matters
			return fmt.Errorf("%s: %w", op, ctx.Err())
		case <-time.After(wait):
		}
		props, err := dst.GetProperties(ctx, nil)
		if err != nil {
			return fail(ctx, op, err)
		}
		status = props.CopyStatus
	}
	if status != nil && *status != azblob.CopyStatusTypeSuccess {
		return fmt.Errorf("%s: %w %s", op, errCopy, *status)
	}
	return nil
}

// Open implements blob.Store.
func (s *Store) Open(ctx context.Context, d domain.Digest) (io.ReadCloser, error) {
	resp, err := s.blockBlob(d).DownloadStream(ctx, nil)
	if err != nil {
		return nil, fail(ctx, "open "+d.String(), err)
	}
	return blob.Verify(ctx, resp.Body, d), nil
}

// Stat implements blob.Store.
func (s *Store) Stat(ctx context.Context, d domain.Digest) (blob.Info, error) {
	props, err := s.blockBlob(d).GetProperties(ctx, nil)
	if err != nil {
		return blob.Info{}, fail(ctx, "stat "+d.String(), err)
	}
	return blob.Info{Digest: d, Size: *props.ContentLength}, nil
}

// Delete implements blob.Store.
func (s *Store) Delete(ctx context.Context, d domain.Digest) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("delete %s: %w", d, err)
	}
	if _, err := s.blockBlob(d).Delete(ctx, nil); err != nil && !bloberror.HasCode(err, bloberror.BlobNotFound) {
		return fail(ctx, "delete "+d.String(), err)
	}
	return nil
}

// List implements blob.Store. Azure has no start-after, so it lists from the prefix and
// skips names up to after; callers page with prefixes to keep that short.
func (s *Store) List(ctx context.Context, prefix, after string, limit int) ([]blob.Info, error) {
	if err := blob.CheckList(prefix, after, limit); err != nil {
		return nil, err
	}
	base := s.cfg.Prefix + blob.KeyPrefix
	pager := s.container.NewListBlobsFlatPager(&container.ListBlobsFlatOptions{Prefix: to.Ptr(base + prefix), MaxResults: to.Ptr(int32(5000))})
	var out []blob.Info
	for pager.More() && len(out) < limit {
		page, err := pager.NextPage(ctx)
		if err != nil {
			return nil, fail(ctx, "list", err)
		}
		for _, item := range page.Segment.BlobItems {
			name := strings.TrimPrefix(*item.Name, base)
			d, ok := blob.ParseKey(name)
			if !ok || name <= after || len(out) == limit {
				continue
			}
			var size int64
			if item.Properties != nil && item.Properties.ContentLength != nil {
				size = *item.Properties.ContentLength
			}
			out = append(out, blob.Info{Digest: d, Size: size})
		}
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("list: %w", err)
	}
	return out, nil
}
