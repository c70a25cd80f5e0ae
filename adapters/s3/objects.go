package s3

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/stratahq/strata/domain"
)

// OpenObject returns a reader of the object key of the store's bucket from byte offset
// on, and the object's size: plain object access for input URLs (s3://bucket/key), which
// name full keys in the bucket (the store's prefix does not apply). It implements the
// application's ObjectReader.
func (s *Store) OpenObject(ctx context.Context, key string, offset int64) (io.ReadCloser, int64, error) {
	if err := checkObjectKey(key, offset); err != nil {
		return nil, 0, err
	}
	op := "open object " + key
	head, err := s.client.HeadObject(ctx, &awss3.HeadObjectInput{Bucket: &s.cfg.Bucket, Key: aws.String(key)})
	if err != nil {
		return nil, 0, fail(ctx, op, err)
	}
	size := aws.ToInt64(head.ContentLength)
	switch {
	case offset > size:
		return nil, 0, fmt.Errorf("%s: offset %d beyond its %d bytes: %w", op, offset, size, domain.ErrInvalid)
	case offset == size && offset > 0:
		return io.NopCloser(strings.NewReader("")), size, nil
	}
	in := &awss3.GetObjectInput{Bucket: &s.cfg.Bucket, Key: aws.String(key)}
	if head.ETag != nil {
		in.IfMatch = head.ETag // the bytes read belong to the object measured
	}
	if offset > 0 {
		in.Range = aws.String(fmt.Sprintf("bytes=%d-", offset))
	}
	out, err := s.client.GetObject(ctx, in)
	if err != nil {
		return nil, 0, fail(ctx, op, err)
	}
	return out.Body, size, nil
}

// ListObjects calls fn for every object of the bucket whose key starts with prefix, in key
// order. It implements the application's ObjectReader.
func (s *Store) ListObjects(ctx context.Context, prefix string, fn func(key string, size int64) error) error {
	in := &awss3.ListObjectsV2Input{Bucket: &s.cfg.Bucket, Prefix: aws.String(prefix), MaxKeys: aws.Int32(1000)}
	for {
		page, err := s.client.ListObjectsV2(ctx, in)
		if err != nil {
			return fail(ctx, "list objects "+prefix, err)
		}
		for _, o := range page.Contents {
			key := aws.ToString(o.Key)
			if strings.HasSuffix(key, "/") {
				continue
			}
			if err := fn(key, aws.ToInt64(o.Size)); err != nil {
				return err
			}
		}
		if !aws.ToBool(page.IsTruncated) || page.NextContinuationToken == nil {
			return nil
		}
		in.ContinuationToken = page.NextContinuationToken
	}
}

func checkObjectKey(key string, offset int64) error {
	switch {
	case key == "" || len(key) > 1024 || strings.HasSuffix(key, "/"):
		return fmt.Errorf("open object %.80q: want a key of 1 to 1024 bytes, not ending in '/': %w", key, domain.ErrInvalid)
	case offset < 0:
		return fmt.Errorf("open object %.80q: negative offset %d: %w", key, offset, domain.ErrInvalid)
	}
	return nil
}
