package swift

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/ncw/swift/v2/swifttest"

	"github.com/stratahq/strata/blob"
	"github.com/stratahq/strata/blob/blobtest"
	"github.com/stratahq/strata/domain"
)

// TestStore runs the suite against swifttest in-process, over HTTP on loopback.
func TestStore(t *testing.T) {
	t.Parallel()
	srv, err := swifttest.NewSwiftServer("127.0.0.1")
	if err != nil {
		t.Fatalf("start swifttest: %v", err)
	}
	t.Cleanup(srv.Close)
	cfg := Config{AuthURL: srv.AuthURL, User: swifttest.TEST_ACCOUNT, Key: "swifttest", Container: "strata-test", BufferSize: 1 << 20}
	if err := mustNew(t, cfg).conn.ContainerCreate(t.Context(), cfg.Container, nil); err != nil {
		t.Fatalf("create container: %v", err)
	}
	corrupt := func(s blob.Store, d domain.Digest) error {
		st := s.(*Store)
		return st.conn.ObjectPutBytes(context.Background(), st.cfg.Container, st.name(d), []byte("not what was stored"), "")
	}
	blobtest.Run(t, blobtest.Features{Corrupt: corrupt, HeapHoldsContent: true}, func(t *testing.T) blob.Store {
		return mustNew(t, withRandomPrefix(cfg))
	})

	t.Run("WrongKeyNeverShown", func(t *testing.T) {
		t.Parallel()
		const wrong = "wrong-key-never-print-me"
		bad := withRandomPrefix(cfg)
		bad.Key = wrong
		s := mustNew(t, bad)
		_, perr := s.Put(t.Context(), strings.NewReader("hello"))
		_, serr := s.Stat(t.Context(), blob.Blake3([]byte("hello")))
		_, lerr := s.List(t.Context(), "", "", 10)
		for _, err := range []error{perr, serr, lerr} {
			if err == nil {
				t.Fatal("wrong key: error = nil, want an authentication failure")
			}
			if errors.Is(err, blob.ErrNotFound) || strings.Contains(err.Error(), wrong) {
				t.Errorf("wrong key: error = %v, want an error without ErrNotFound or the key", err)
			}
		}
		if out := fmt.Sprintf("%v %+v %#v", bad, bad, bad); strings.Contains(out, wrong) {
			t.Errorf("Config prints the key: %s", out)
		}
	})
}

func TestNew_invalid(t *testing.T) {
	t.Parallel()
	if _, err := New(Config{AuthURL: "nope", Prefix: "x", BufferSize: 1}); !errors.Is(err, domain.ErrInvalid) {
		t.Errorf("New(bad) error = %v, want domain.ErrInvalid", err)
	}
}

func withRandomPrefix(cfg Config) Config {
	var b [8]byte
	_, _ = rand.Read(b[:])
	cfg.Prefix = "t-" + hex.EncodeToString(b[:]) + "/"
	return cfg
}

func mustNew(tb testing.TB, cfg Config) *Store {
	tb.Helper()
	s, err := New(cfg)
	if err != nil {
		tb.Fatal(err)
	}
	return s
}
