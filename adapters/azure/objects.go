package azure

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	azblob "github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/blob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/container"

	"github.com/stratahq/strata/domain"
)

// OpenObject returns a reader of the blob key of the store's container from byte offset
// on, and the blob's size: plain object access for input URLs
// (azure://account/container/key), which name full blob names in the container (the
// store's prefix does not apply). It implements the application's ObjectReader.
func (s *Store) OpenObject(ctx context.Context, key string, offset int64) (io.ReadCloser, int64, error) {
	if err := checkObjectKey(key, offset); err != nil {
		return nil, 0, err
	}
	op := "open object " + key
	b := s.container.NewBlobClient(key)
	props, err := b.GetProperties(ctx, nil)
	if err != nil {
		return nil, 0, fail(ctx, op, err)
	}
	size := *props.ContentLength
	switch {
	case offset > size:
		return nil, 0, fmt.Errorf("%s: offset %d beyond its %d bytes: %w", op, offset, size, domain.ErrInvalid)
	case offset == size && offset > 0:
		return io.NopCloser(strings.NewReader("")), size, nil
	}
	opts := &azblob.DownloadStreamOptions{Range: azblob.HTTPRange{Offset: offset}}
	if props.ETag != nil {
		// The bytes read belong to the blob measured.
		opts.AccessConditions = &azblob.AccessConditions{ModifiedAccessConditions: &azblob.ModifiedAccessConditions{IfMatch: props.ETag}}
	}
	resp, err := b.DownloadStream(ctx, opts)
	if err != nil {
		return nil, 0, fail(ctx, op, err)
	}
	return resp.Body, size, nil
}

// ListObjects calls fn for every blob of the container whose name starts with prefix, in
// name order. It implements the application's ObjectReader.
func (s *Store) ListObjects(ctx context.Context, prefix string, fn func(key string, size int64) error) error {
	pager := s.container.NewListBlobsFlatPager(&container.ListBlobsFlatOptions{Prefix: to.Ptr(prefix), MaxResults: to.Ptr(int32(5000))})
	for pager.More() {
		page, err := pager.NextPage(ctx)
		if err != nil {
			return fail(ctx, "list objects "+prefix, err)
		}
		for _, item := range page.Segment.BlobItems {
			if item.Name == nil || strings.HasSuffix(*item.Name, "/") {
				continue
			}
			var size int64
			if item.Properties != nil && item.Properties.ContentLength != nil {
				size = *item.Properties.ContentLength
			}
			if err := fn(*item.Name, size); err != nil {
				return err
			}
		}
	}
	return nil
}

func checkObjectKey(key string, offset int64) error {
	switch {
	case key == "" || len(key) > 1024 || strings.HasSuffix(key, "/"):
		return fmt.Errorf("open object %.80q: want a blob name of 1 to 1024 bytes, not ending in '/': %w", key, domain.ErrInvalid)
	case offset < 0:
		return fmt.Errorf("open object %.80q: negative offset %d: %w", key, offset, domain.ErrInvalid)
	}
	return nil
}
