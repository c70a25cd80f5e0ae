package objecttest

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"io"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/stratahq/strata/app"
	"github.com/stratahq/strata/blob"
	"github.com/stratahq/strata/domain"
)

// errStop is what the ListObjects callback returns to stop the listing early.
var errStop = errors.New("stop")

// Put writes content as the object key of the bucket the reader reads.
type Put func(ctx context.Context, key string, content []byte) error

// Run checks the ObjectReader contract. r reads the bucket put writes to; every object
// the suite writes is under a random prefix, so buckets may be shared.
func Run(t *testing.T, r app.ObjectReader, put Put) {
	t.Helper()
	var b [6]byte
	_, _ = rand.Read(b[:])
	base := "objecttest-" + hex.EncodeToString(b[:]) + "/"
	big := bytes.Repeat([]byte("0123456789abcdef"), 20<<10) // 320 KiB
	objects := map[string][]byte{
		base + "data/a.csv":           []byte("x,y\n1,2\n"),
		base + "data/big.bin":         big,
		base + "data/sub/b.csv":       []byte("b"),
		base + "data/sub/deep/c.txt":  []byte("deep"),
		base + "data/sub/deep/empty":  {},
		base + "other/x.csv":          []byte("other"),
		base + "data-sibling/not.csv": []byte("sibling"),
	}
	for k, v := range objects {
		if err := put(t.Context(), k, v); err != nil {
			t.Fatalf("put %s: %v", k, err)
		}
	}

	t.Run("OpenObject", func(t *testing.T) {
		tests := []struct {
			name    string
			key     string
			offset  int64
			want    []byte
			wantErr error
		}{
			{"whole object", base + "data/a.csv", 0, []byte("x,y\n1,2\n"), nil},
			{"from an offset", base + "data/big.bin", 100_000, big[100_000:], nil},
			{"offset at the end is empty", base + "data/a.csv", 8, []byte{}, nil},
			{"empty object", base + "data/sub/deep/empty", 0, []byte{}, nil},
			{"offset past the end", base + "data/a.csv", 9, nil, domain.ErrInvalid},
			{"negative offset", base + "data/a.csv", -1, nil, domain.ErrInvalid},
			{"missing object", base + "data/nope.csv", 0, nil, blob.ErrNotFound},
			{"a prefix is no object", base + "data/", 0, nil, domain.ErrInvalid},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				rc, size, err := r.OpenObject(t.Context(), tt.key, tt.offset)
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("OpenObject(%s, %d) error = %v, want %v", tt.key, tt.offset, err, tt.wantErr)
				}
				if err != nil {
					return
				}
				got, err := io.ReadAll(rc)
				if cerr := rc.Close(); err != nil || cerr != nil {
					t.Fatalf("read %s: %v, close: %v", tt.key, err, cerr)
				}
				if !bytes.Equal(got, tt.want) {
					t.Errorf("OpenObject(%s, %d) read %d bytes, want %d", tt.key, tt.offset, len(got), len(tt.want))
				}
				if w := int64(len(objects[tt.key])); size != w {
					t.Errorf("OpenObject(%s) size = %d, want %d", tt.key, size, w)
				}
			})
		}
		if !errors.Is(domain.ErrNotFound, domain.ErrNotFound) || !errors.Is(blob.ErrNotFound, domain.ErrNotFound) {
			t.Fatal("blob.ErrNotFound must match domain.ErrNotFound")
		}
	})

	t.Run("ListObjects", func(t *testing.T) {
		type obj struct {
			Key  string
			Size int64
		}
		tests := []struct {
			prefix string
			want   []obj
		}{
			{base + "data/", []obj{
				{base + "data/a.csv", 8}, {base + "data/big.bin", int64(len(big))}, {base + "data/sub/b.csv", 1},
				{base + "data/sub/deep/c.txt", 4}, {base + "data/sub/deep/empty", 0},
			}},
			{base + "data/sub/deep/", []obj{{base + "data/sub/deep/c.txt", 4}, {base + "data/sub/deep/empty", 0}}},
			{base + "data/sub/b", []obj{{base + "data/sub/b.csv", 1}}},
			{base + "nothing/", nil},
		}
		for _, tt := range tests {
			var got []obj
			err := r.ListObjects(t.Context(), tt.prefix, func(key string, size int64) error {
				got = append(got, obj{key, size})
				return nil
			})
			if err != nil {
				t.Fatalf("ListObjects(%s) error = %v", tt.prefix, err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("ListObjects(%s) (-want +got):\n%s", tt.prefix, diff)
			}
		}
		calls := 0
		err := r.ListObjects(t.Context(), base, func(string, int64) error { calls++; return errStop })
		if !errors.Is(err, errStop) || calls != 1 {
			t.Errorf("ListObjects() with a failing fn = %v after %d calls, want %v after 1", err, calls, errStop)
		}
	})

	t.Run("CancelledContext", func(t *testing.T) {
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		if _, _, err := r.OpenObject(ctx, base+"data/a.csv", 0); !errors.Is(err, context.Canceled) {
			t.Errorf("OpenObject(cancelled) error = %v, want context.Canceled", err)
		}
		err := r.ListObjects(ctx, base, func(string, int64) error { return nil })
		if !errors.Is(err, context.Canceled) {
			t.Errorf("ListObjects(cancelled) error = %v, want context.Canceled", err)
		}
	})
}
