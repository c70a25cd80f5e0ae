package s3

import (
	"bytes"
	"context"
	"net/http/httptest"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"

	"github.com/stratahq/strata/app"
	"github.com/stratahq/strata/app/objecttest"
)

var _ app.ObjectReader = (*Store)(nil)

func TestStore_objects(t *testing.T) {
	t.Parallel()
	t.Run("gofakes3", func(t *testing.T) {
		t.Parallel()
		srv := httptest.NewServer(gofakes3.New(s3mem.New(), gofakes3.WithAutoBucket(true)).Server())
		t.Cleanup(srv.Close)
		runObjects(t, Config{Bucket: bucket, Endpoint: srv.URL, PathStyle: true, AccessKeyID: accessKey, SecretAccessKey: secretKey})
	})
	t.Run("versitygw", func(t *testing.T) {
		t.Parallel()
		runObjects(t, Config{Bucket: bucket, Endpoint: startVersityGW(t), PathStyle: true, AccessKeyID: accessKey, SecretAccessKey: secretKey})
	})
}

func runObjects(t *testing.T, cfg Config) {
	mustCreateBucket(t, cfg)
	s := mustNew(t, withRandomPrefix(cfg)) // the prefix must not apply to object keys
	objecttest.Run(t, s, func(ctx context.Context, key string, content []byte) error {
		_, err := s.client.PutObject(ctx, &awss3.PutObjectInput{Bucket: &s.cfg.Bucket, Key: aws.String(key), Body: bytes.NewReader(content)})
		return err
	})
}
