package azure

import (
	"bytes"
	"context"
	"testing"

	"github.com/stratahq/strata/app"
	"github.com/stratahq/strata/app/objecttest"
)

var _ app.ObjectReader = (*Store)(nil)

func TestStore_objects(t *testing.T) {
	t.Parallel()
	cfg := Config{Endpoint: startAzurite(t), Container: "strata-objects", AccountName: account, AccountKey: accountKey}
	s := mustNew(t, withRandomPrefix(cfg))
	if _, err := s.container.Create(t.Context(), nil); err != nil {
		t.Fatalf("create container: %v", err)
	}
	objecttest.Run(t, s, func(ctx context.Context, key string, content []byte) error {
		_, err := s.container.NewBlockBlobClient(key).Upload(ctx, nopSeekCloser{bytes.NewReader(content)}, nil)
		return err
	})
}
