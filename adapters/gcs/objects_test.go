package gcs

import (
	"context"
	"io"
	"testing"

	"github.com/fsouza/fake-gcs-server/fakestorage"

	"github.com/stratahq/strata/app"
	"github.com/stratahq/strata/app/objecttest"
)

var _ app.ObjectReader = (*Store)(nil)

func TestStore_objects(t *testing.T) {
	t.Parallel()
	srv, err := fakestorage.NewServerWithOptions(fakestorage.Options{Scheme: "http", Host: "127.0.0.1", Port: 0, Writer: io.Discard})
	if err != nil {
		t.Fatalf("start fake-gcs-server: %v", err)
	}
	t.Cleanup(srv.Stop)
	srv.CreateBucketWithOpts(fakestorage.CreateBucketOpts{Name: bucket})
	s := mustOpen(t, withRandomPrefix(Config{Bucket: bucket, Endpoint: srv.URL() + "/storage/v1/"}))
	objecttest.Run(t, s, func(ctx context.Context, key string, content []byte) error {
		w := s.bucket.Object(key).NewWriter(ctx)
		if _, err := w.Write(content); err != nil {
			_ = w.Close()
			return err
		}
		return w.Close()
	})
}
