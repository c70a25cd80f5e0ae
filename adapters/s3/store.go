package s3

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

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/credentials"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"

	"github.com/stratahq/strata/blob"
	"github.com/stratahq/strata/blob/storecfg"
	"github.com/stratahq/strata/domain"
)

var _ blob.Store = (*Store)(nil)

// Limits of the S3 API.
const (
	minPartSize = 5 << 20
	maxParts    = 10000
	maxCopySize = 5 << 30 // the largest object CopyObject copies in one request
)

// Config locates an S3 store and says how to reach it. Credentials are secrets: they are
// never part of an error, and Config prints them redacted.
type Config struct {
	Bucket string
	Prefix string // prepended to every key; "" or ending in "/"
	// Endpoint is the URL of an S3-compatible server; "" means AWS.
	Endpoint string
	Region   string // default "us-east-1"
	// PathStyle addresses buckets as endpoint/bucket rather than bucket.endpoint, as most
	// S3-compatible servers need.
	PathStyle bool
	// AccessKeyID and SecretAccessKey (and SessionToken, for temporary credentials) sign
	// requests; when AccessKeyID is empty the SDK's default chain is not consulted and
	// requests go unsigned, so cmd passes credentials explicitly.
	AccessKeyID     string
	SecretAccessKey storecfg.Secret
	SessionToken    storecfg.Secret
	// PartSize is the size of each part of a multipart upload, and the largest content
	// written in a single PutObject; also the memory one Put holds. Default 8 MiB, at least 5 MiB.
	PartSize int64
	// MaxCopySize is the largest object copied with one CopyObject; larger ones are copied
	// with UploadPartCopy in parts of CopyPartSize. Defaults 5 GiB and 512 MiB.
	MaxCopySize  int64
	CopyPartSize int64
	// HTTPClient, if set, sends the requests.
	HTTPClient *http.Client
}

func (c Config) withDefaults() Config {
	if c.Region == "" {
		c.Region = "us-east-1"
	}
	if c.PartSize == 0 {
		c.PartSize = 8 << 20
	}
	if c.MaxCopySize == 0 {
		c.MaxCopySize = maxCopySize
	}
	if c.CopyPartSize == 0 {
		c.CopyPartSize = 512 << 20
	}
	return c
}

// Validate reports every problem with c, after defaults, joined.
func (c Config) Validate() error {
	var errs []error
	if c.Bucket == "" {
		errs = append(errs, fmt.Errorf("s3 store: bucket is required: %w", domain.ErrInvalid))
	}
	if c.Prefix != "" && !strings.HasSuffix(c.Prefix, "/") {
		errs = append(errs, fmt.Errorf("s3 store: prefix %.80q must end in '/': %w", c.Prefix, domain.ErrInvalid))
	}
	if c.Endpoint != "" {
		if u, err := url.Parse(c.Endpoint); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			errs = append(errs, fmt.Errorf("s3 store: endpoint %.200q is not an http(s) URL: %w", c.Endpoint, domain.ErrInvalid))
		}
	}
	if c.PartSize < minPartSize {
		errs = append(errs, fmt.Errorf("s3 store: part size %d is below 5 MiB: %w", c.PartSize, domain.ErrInvalid))
	}
	if c.MaxCopySize > maxCopySize || c.MaxCopySize < 1 {
		errs = append(errs, fmt.Errorf("s3 store: max copy size %d is not in 1..5 GiB: %w", c.MaxCopySize, domain.ErrInvalid))
	}
	if c.CopyPartSize < minPartSize || c.CopyPartSize > maxCopySize {
		errs = append(errs, fmt.Errorf("s3 store: copy part size %d is not in 5 MiB..5 GiB: %w", c.CopyPartSize, domain.ErrInvalid))
	}
	if (c.AccessKeyID == "") != (c.SecretAccessKey == "") {
		errs = append(errs, fmt.Errorf("s3 store: access key ID and secret access key go together: %w", domain.ErrInvalid))
	}
	return errors.Join(errs...)
}

// Store is a blob.Store in one S3 bucket under a prefix. It is safe for concurrent use.
type Store struct {
	cfg    Config
	client *awss3.Client
	parts  sync.Pool // of *[]byte of cfg.PartSize
}

// New returns a Store for cfg. It does not contact the server.
func New(cfg Config) (*Store, error) {
	cfg = cfg.withDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	opts := awss3.Options{
		Region:       cfg.Region,
		UsePathStyle: cfg.PathStyle,
		// S3-compatible servers differ in the flexible checksums they accept; Open
		// verifies content with BLAKE3, so ask for checksums only where the API requires them.
		RequestChecksumCalculation: aws.RequestChecksumCalculationWhenRequired,
		ResponseChecksumValidation: aws.ResponseChecksumValidationWhenRequired,
		RetryMaxAttempts:           3,
	}
	if cfg.Endpoint != "" {
		opts.BaseEndpoint = aws.String(cfg.Endpoint)
	}
	if cfg.AccessKeyID != "" {
		opts.Credentials = credentials.NewStaticCredentialsProvider(cfg.AccessKeyID, cfg.SecretAccessKey.Reveal(), cfg.SessionToken.Reveal())
	}
	if cfg.HTTPClient != nil {
		opts.HTTPClient = cfg.HTTPClient
	}
	s := &Store{cfg: cfg, client: awss3.New(opts)}
	s.parts.New = func() any { b := make([]byte, cfg.PartSize); return &b }
	return s, nil
}

func (s *Store) key(d domain.Digest) string { return s.cfg.Prefix + blob.Key(d) }

func (s *Store) tmpKey() string { return s.cfg.Prefix + blob.TempKey() }

// fail translates an SDK error at the boundary: a cancelled ctx and a missing object keep
// their kinds; anything else becomes text, so SDK types never escape.
func fail(ctx context.Context, op string, err error) error {
	if cerr := ctx.Err(); cerr != nil {
		return fmt.Errorf("%s: %w", op, cerr)
	}
	if isNotFound(err) {
		return fmt.Errorf("%s: %w", op, blob.ErrNotFound)
	}
	return fmt.Errorf("%s: %w", op, describe(err))
}

func isNotFound(err error) bool {
	var api smithy.APIError
	if errors.As(err, &api) {
		switch api.ErrorCode() {
		case "NoSuchKey", "NotFound":
			return true
		}
	}
	return false
}

// errS3 marks a failure the service reported, kept as text so SDK types never escape.
var errS3 = errors.New("s3")

// describe renders an SDK error as errS3 with the HTTP status and the service's code and
// message. Requests are signed, never carrying secrets, so none can appear here.
func describe(err error) error {
	var api smithy.APIError
	var resp *awshttp.ResponseError
	switch {
	case errors.As(err, &api) && errors.As(err, &resp):
		return fmt.Errorf("%w %d %s: %s", errS3, resp.HTTPStatusCode(), api.ErrorCode(), api.ErrorMessage())
	case errors.As(err, &api):
		return fmt.Errorf("%w %s: %s", errS3, api.ErrorCode(), api.ErrorMessage())
	}
	return fmt.Errorf("%w: %s", errS3, err.Error())
}

// cleanupCtx returns a context for removing temporary objects after ctx failed.

// Put implements blob.Store.
func (s *Store) Put(ctx context.Context, r io.Reader) (blob.Object, error) {
	src := blob.NewSource(ctx, r)
	buf := s.parts.Get().(*[]byte)
	defer s.parts.Put(buf)
	n, err := io.ReadFull(src, *buf)
	switch {
	case errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF): // it fits in one part: its address is known
		obj := src.Object()
		if err := src.Err(); err != nil {
			return blob.Object{}, src.PutError(err)
		}
		return obj, s.putSmall(ctx, obj, (*buf)[:n])
	case err != nil:
		src.Object()
		return blob.Object{}, src.PutError(err)
	}
	tmp := s.tmpKey()
	if err := s.upload(ctx, src, tmp, *buf); err != nil {
		src.Object()
		return blob.Object{}, src.PutError(err)
	}
	obj := src.Object()
	err = s.publish(ctx, tmp, obj)
	cctx, cancel := blob.CleanupContext(ctx)
	defer cancel()
	if _, derr := s.client.DeleteObject(cctx, &awss3.DeleteObjectInput{Bucket: &s.cfg.Bucket, Key: &tmp}); derr != nil && err == nil {
		err = fail(cctx, "put: delete temporary object", derr)
	}
	if err != nil {
		return blob.Object{}, err
	}
	return obj, nil
}

func (s *Store) exists(ctx context.Context, key string) (bool, error) {
	_, err := s.client.HeadObject(ctx, &awss3.HeadObjectInput{Bucket: &s.cfg.Bucket, Key: &key})
	switch {
	case err == nil:
		return true, nil
	case isNotFound(err) && ctx.Err() == nil:
		return false, nil
	}
	return false, err
}

func (s *Store) putSmall(ctx context.Context, obj blob.Object, data []byte) error {
	key := s.key(obj.Digests.BLAKE3)
	if ok, err := s.exists(ctx, key); err != nil {
		return fail(ctx, "put", err)
	} else if ok {
		return nil
	}
	_, err := s.client.PutObject(ctx, &awss3.PutObjectInput{
		Bucket:        &s.cfg.Bucket,
		Key:           &key,
		Body:          bytes.NewReader(data),
		ContentLength: aws.Int64(int64(len(data))),
		ContentType:   aws.String("application/octet-stream"),
	})
	if err != nil {
		return fail(ctx, "put", err)
	}
	return nil
}

// upload streams src to key as a multipart upload whose first part is already in first
// (full); buf is reused for the following parts.
func (s *Store) upload(ctx context.Context, src *blob.Source, key string, buf []byte) (err error) {
	created, err := s.client.CreateMultipartUpload(ctx, &awss3.CreateMultipartUploadInput{
		Bucket: &s.cfg.Bucket, Key: &key, ContentType: aws.String("application/octet-stream"),
	})
	if err != nil {
		return fail(ctx, "start multipart upload", err)
	}
	defer func() {
		if err != nil {
			cctx, cancel := blob.CleanupContext(ctx)
			defer cancel()
			// Best effort: an abandoned upload is also reclaimed by a lifecycle rule.
			_, _ = s.client.AbortMultipartUpload(cctx, &awss3.AbortMultipartUploadInput{Bucket: &s.cfg.Bucket, Key: &key, UploadId: created.UploadId})
		}
	}()
	var parts []types.CompletedPart
	n, last := len(buf), false
	for number := int32(1); ; number++ {
		if number > maxParts {
			return fmt.Errorf("upload: more than %d parts of %d bytes: %w", maxParts, len(buf), domain.ErrInvalid)
		}
		out, err := s.client.UploadPart(ctx, &awss3.UploadPartInput{
			Bucket: &s.cfg.Bucket, Key: &key, UploadId: created.UploadId,
			PartNumber: aws.Int32(number), Body: bytes.NewReader(buf[:n]), ContentLength: aws.Int64(int64(n)),
		})
		if err != nil {
			return fail(ctx, fmt.Sprintf("upload part %d", number), err)
		}
		parts = append(parts, types.CompletedPart{ETag: out.ETag, PartNumber: aws.Int32(number)})
		if last {
			break
		}
		n, err = io.ReadFull(src, buf)
		switch {
		case errors.Is(err, io.EOF):
			last, n = true, 0
		case errors.Is(err, io.ErrUnexpectedEOF):
			last = true
		case err != nil:
			return err
		}
		if n == 0 {
			break
		}
	}
	if err := src.Err(); err != nil {
		return err
	}
	_, err = s.client.CompleteMultipartUpload(ctx, &awss3.CompleteMultipartUploadInput{
		Bucket: &s.cfg.Bucket, Key: &key, UploadId: created.UploadId,
		MultipartUpload: &types.CompletedMultipartUpload{Parts: parts},
	})
	if err != nil {
		return fail(ctx, "complete multipart upload", err)
	}
	return nil
}

// publish copies the uploaded temporary object tmp to the address of obj, unless that
// already holds the content.
func (s *Store) publish(ctx context.Context, tmp string, obj blob.Object) error {
	key := s.key(obj.Digests.BLAKE3)
	if ok, err := s.exists(ctx, key); err != nil {
		return fail(ctx, "put", err)
	} else if ok {
		return nil
	}
	source := s.cfg.Bucket + "/" + tmp // keys are hex and '/': nothing to escape
	if obj.Size <= s.cfg.MaxCopySize {
		_, err := s.client.CopyObject(ctx, &awss3.CopyObjectInput{Bucket: &s.cfg.Bucket, Key: &key, CopySource: &source})
		if err != nil {
			return fail(ctx, "put: copy to "+obj.Digests.BLAKE3.String(), err)
		}
		return nil
	}
	return s.copyParts(ctx, source, key, obj.Size)
}

// copyParts copies source to key with UploadPartCopy, for objects CopyObject cannot copy.
func (s *Store) copyParts(ctx context.Context, source, key string, size int64) (err error) {
	created, err := s.client.CreateMultipartUpload(ctx, &awss3.CreateMultipartUploadInput{
		Bucket: &s.cfg.Bucket, Key: &key, ContentType: aws.String("application/octet-stream"),
	})
	if err != nil {
		return fail(ctx, "put: start multipart copy", err)
	}
	defer func() {
		if err != nil {
			cctx, cancel := blob.CleanupContext(ctx)
			defer cancel()
			_, _ = s.client.AbortMultipartUpload(cctx, &awss3.AbortMultipartUploadInput{Bucket: &s.cfg.Bucket, Key: &key, UploadId: created.UploadId})
		}
	}()
	partSize := max(s.cfg.CopyPartSize, (size+maxParts-1)/maxParts)
	var parts []types.CompletedPart
	for number, off := int32(1), int64(0); off < size; number, off = number+1, off+partSize {
		rng := fmt.Sprintf("bytes=%d-%d", off, min(off+partSize, size)-1)
		out, err := s.client.UploadPartCopy(ctx, &awss3.UploadPartCopyInput{
			Bucket: &s.cfg.Bucket, Key: &key, UploadId: created.UploadId, PartNumber: aws.Int32(number),
			CopySource: &source, CopySourceRange: &rng,
		})
		if err != nil {
			return fail(ctx, fmt.Sprintf("put: copy part %d", number), err)
		}
		parts = append(parts, types.CompletedPart{ETag: out.CopyPartResult.ETag, PartNumber: aws.Int32(number)})
	}
	_, err = s.client.CompleteMultipartUpload(ctx, &awss3.CompleteMultipartUploadInput{
		Bucket: &s.cfg.Bucket, Key: &key, UploadId: created.UploadId,
		MultipartUpload: &types.CompletedMultipartUpload{Parts: parts},
	})
	if err != nil {
		return fail(ctx, "put: complete multipart copy", err)
	}
	return nil
}

// Open implements blob.Store.
func (s *Store) Open(ctx context.Context, d domain.Digest) (io.ReadCloser, error) {
	out, err := s.client.GetObject(ctx, &awss3.GetObjectInput{Bucket: &s.cfg.Bucket, Key: aws.String(s.key(d))})
	if err != nil {
		return nil, fail(ctx, "open "+d.String(), err)
	}
	return blob.Verify(ctx, out.Body, d), nil
}

// Stat implements blob.Store.
func (s *Store) Stat(ctx context.Context, d domain.Digest) (blob.Info, error) {
	out, err := s.client.HeadObject(ctx, &awss3.HeadObjectInput{Bucket: &s.cfg.Bucket, Key: aws.String(s.key(d))})
	if err != nil {
		return blob.Info{}, fail(ctx, "stat "+d.String(), err)
	}
	return blob.Info{Digest: d, Size: aws.ToInt64(out.ContentLength)}, nil
}

// Delete implements blob.Store.
func (s *Store) Delete(ctx context.Context, d domain.Digest) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("delete %s: %w", d, err)
	}
	_, err := s.client.DeleteObject(ctx, &awss3.DeleteObjectInput{Bucket: &s.cfg.Bucket, Key: aws.String(s.key(d))})
	if err != nil && !isNotFound(err) {
		return fail(ctx, "delete "+d.String(), err)
	}
	return nil
}

// List implements blob.Store with ListObjectsV2, whose StartAfter is List's after.
func (s *Store) List(ctx context.Context, prefix, after string, limit int) ([]blob.Info, error) {
	if err := blob.CheckList(prefix, after, limit); err != nil {
		return nil, err
	}
	base := s.cfg.Prefix + blob.KeyPrefix
	in := &awss3.ListObjectsV2Input{Bucket: &s.cfg.Bucket, Prefix: aws.String(base + prefix)}
	if after != "" {
		in.StartAfter = aws.String(base + after)
	}
	var out []blob.Info
	for len(out) < limit {
		in.MaxKeys = aws.Int32(int32(min(limit-len(out), 1000)))
		page, err := s.client.ListObjectsV2(ctx, in)
		if err != nil {
			return nil, fail(ctx, "list", err)
		}
		for _, o := range page.Contents {
			name := strings.TrimPrefix(aws.ToString(o.Key), base)
			if d, ok := blob.ParseKey(name); ok && name > after && len(out) < limit {
				out = append(out, blob.Info{Digest: d, Size: aws.ToInt64(o.Size)})
			}
		}
		if !aws.ToBool(page.IsTruncated) || page.NextContinuationToken == nil {
			break
		}
		in.ContinuationToken = page.NextContinuationToken
	}
	return out, nil
}
