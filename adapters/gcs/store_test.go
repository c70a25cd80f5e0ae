package gcs

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/fsouza/fake-gcs-server/fakestorage"

	"github.com/stratahq/strata/blob"
	"github.com/stratahq/strata/blob/blobtest"
	"github.com/stratahq/strata/domain"
)

const bucket = "strata-test"

// TestStore runs the suite against fake-gcs-server in-process, over HTTP on loopback.
func TestStore(t *testing.T) {
	t.Parallel()
	srv, err := fakestorage.NewServerWithOptions(fakestorage.Options{Scheme: "http", Host: "127.0.0.1", Port: 0, Writer: io.Discard})
	if err != nil {
		t.Fatalf("start fake-gcs-server: %v", err)
	}
	t.Cleanup(srv.Stop)
	srv.CreateBucketWithOpts(fakestorage.CreateBucketOpts{Name: bucket})
	cfg := Config{Bucket: bucket, Endpoint: srv.URL() + "/storage/v1/", ChunkSize: 8 << 20}

	corrupt := func(s blob.Store, d domain.Digest) error {
		w := s.(*Store).object(d).NewWriter(context.Background())
		if _, err := io.WriteString(w, "not what was stored"); err != nil {
			return err
		}
		return w.Close()
	}
	blobtest.Run(t, blobtest.Features{Corrupt: corrupt, HeapHoldsContent: true}, func(t *testing.T) blob.Store {
		return mustOpen(t, withRandomPrefix(cfg))
	})
}

func TestOpen_badCredentialsNeverShown(t *testing.T) {
	t.Parallel()
	const secret = "-----BEGIN PRIVATE KEY-----never-print-me"
	cfg := Config{Bucket: bucket, CredentialsJSON: `{"type": "service_account", "private_key": "` + secret}
	_, err := Open(t.Context(), cfg)
	if err == nil {
		t.Fatal("Open(bad credentials) error = nil, want an error")
	}
	if !errors.Is(err, domain.ErrInvalid) || strings.Contains(err.Error(), secret) {
		t.Errorf("Open(bad credentials) error = %v, want ErrInvalid without the secret", err)
	}
	if out := fmt.Sprintf("%v %+v %#v", cfg, cfg, cfg); strings.Contains(out, secret) {
		t.Errorf("Config prints the secret: %s", out)
	}
}

func TestOpen_invalid(t *testing.T) {
	t.Parallel()
	if _, err := Open(t.Context(), Config{Prefix: "x", ChunkSize: 1000}); !errors.Is(err, domain.ErrInvalid) {
		t.Errorf("Open(bad) error = %v, want domain.ErrInvalid", err)
	}
}

func withRandomPrefix(cfg Config) Config {
	var b [8]byte
	_, _ = rand.Read(b[:])
	cfg.Prefix = "t-" + hex.EncodeToString(b[:]) + "/"
	return cfg
}

func mustOpen(tb testing.TB, cfg Config) *Store {
	tb.Helper()
	s, err := Open(tb.Context(), cfg)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		if err := s.Close(); err != nil {
			tb.Error(err)
		}
	})
	return s
}
