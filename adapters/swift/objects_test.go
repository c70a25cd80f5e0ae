package swift

import (
	"context"
	"testing"

	"github.com/ncw/swift/v2/swifttest"

	"github.com/stratahq/strata/app"
	"github.com/stratahq/strata/app/objecttest"
)

var _ app.ObjectReader = (*Store)(nil)

func TestStore_objects(t *testing.T) {
	t.Parallel()
	srv, err := swifttest.NewSwiftServer("127.0.0.1")
	if err != nil {
		t.Fatalf("start swifttest: %v", err)
	}
	t.Cleanup(srv.Close)
	s := mustNew(t, withRandomPrefix(Config{AuthURL: srv.AuthURL, User: swifttest.TEST_ACCOUNT, Key: "swifttest", Container: "strata-objects"}))
	if err := s.conn.ContainerCreate(t.Context(), s.cfg.Container, nil); err != nil {
		t.Fatalf("create container: %v", err)
	}
	objecttest.Run(t, s, func(ctx context.Context, key string, content []byte) error {
		return s.conn.ObjectPutBytes(ctx, s.cfg.Container, key, content, "")
	})
}
