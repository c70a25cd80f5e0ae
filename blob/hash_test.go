package blob_test

import (
	"bytes"
	"context"
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"errors"
	"io"
	"math/rand/v2"
	"testing"
	"testing/iotest"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/zeebo/blake3"

	"github.com/stratahq/strata/blob"
	"github.com/stratahq/strata/domain"
)

func want(b []byte) domain.Digests {
	return domain.Digests{MD5: md5.Sum(b), SHA1: sha1.Sum(b), SHA256: sha256.Sum256(b), BLAKE3: blake3.Sum256(b)}
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	r := rand.NewChaCha8([32]byte{1})
	_, _ = r.Read(b)
	return b
}

func TestDigest(t *testing.T) {
	t.Parallel()
	const chunk = 256 << 10
	for _, n := range []int{0, 1, 1000, chunk - 1, chunk, chunk + 1, 3*chunk + 5, 40*chunk + 17} {
		data := randomBytes(n)
		got, size, err := blob.Digest(iotest.HalfReader(bytes.NewReader(data)))
		if err != nil || size != int64(n) {
			t.Fatalf("Digest(%d bytes) = size %d, error %v; want size %d, nil", n, size, err, n)
		}
		if diff := cmp.Diff(want(data), got); diff != "" {
			t.Errorf("Digest(%d bytes) (-want +got):\n%s", n, diff)
		}
		// Write in uneven pieces.
		h := blob.NewHasher()
		for rest := data; len(rest) > 0; {
			k := min(len(rest), 1+len(rest)%7919)
			_, _ = h.Write(rest[:k])
			rest = rest[k:]
		}
		if diff := cmp.Diff(want(data), h.Sum()); diff != "" {
			t.Errorf("Hasher.Write(%d bytes) (-want +got):\n%s", n, diff)
		}
		if _, err := h.Write([]byte("x")); err == nil {
			t.Errorf("Write after Sum = nil error, want an error")
		}
		if diff := cmp.Diff(want(data), blob.DigestBytes(data)); diff != "" {
			t.Errorf("DigestBytes(%d bytes) (-want +got):\n%s", n, diff)
		}
	}
}

func TestDigest_readError(t *testing.T) {
	t.Parallel()
	boom := errors.New("boom")
	r := io.MultiReader(bytes.NewReader(randomBytes(1<<20)), iotest.ErrReader(boom))
	if _, _, err := blob.Digest(r); !errors.Is(err, boom) {
		t.Fatalf("Digest() error = %v, want %v", err, boom)
	}
}

func TestVerify(t *testing.T) {
	t.Parallel()
	data := randomBytes(300 << 10)
	d := blob.Blake3(data)
	got, err := io.ReadAll(blob.Verify(t.Context(), io.NopCloser(bytes.NewReader(data)), d))
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("ReadAll(Verify(good)) = %d bytes, %v; want %d bytes, nil", len(got), err, len(data))
	}
	bad := bytes.Clone(data)
	bad[len(bad)/2] ^= 1
	_, err = io.ReadAll(blob.Verify(t.Context(), io.NopCloser(bytes.NewReader(bad)), d))
	if !errors.Is(err, blob.ErrDigestMismatch) {
		t.Fatalf("ReadAll(Verify(corrupt)) error = %v, want ErrDigestMismatch", err)
	}
	var mm *blob.DigestMismatchError
	if !errors.As(err, &mm) || mm.Want != d || mm.Got != blob.Blake3(bad) {
		t.Errorf("ReadAll(Verify(corrupt)) error = %#v, want a *DigestMismatchError with both digests", err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := io.ReadAll(blob.Verify(ctx, io.NopCloser(bytes.NewReader(data)), d)); !errors.Is(err, context.Canceled) {
		t.Errorf("ReadAll(Verify(cancelled ctx)) error = %v, want context.Canceled", err)
	}
}

func TestSource(t *testing.T) {
	t.Parallel()
	data := randomBytes(1 << 20)
	src := blob.NewSource(t.Context(), bytes.NewReader(data))
	if _, err := io.Copy(io.Discard, src); err != nil {
		t.Fatal(err)
	}
	if got, w := src.Object(), (blob.Object{Digests: want(data), Size: int64(len(data))}); got != w {
		t.Errorf("Object() = %+v, want %+v", got, w)
	}
	ctx, cancel := context.WithTimeout(t.Context(), time.Hour)
	boom := errors.New("boom")
	src = blob.NewSource(ctx, io.MultiReader(bytes.NewReader(data), iotest.ErrReader(boom)))
	_, _ = io.Copy(io.Discard, src)
	cancel()
	src.Object()
	if err := src.PutError(errors.New("sdk said so")); !errors.Is(err, boom) {
		t.Errorf("PutError() = %v, want it to match the read error", err)
	}
}

func TestCheckList(t *testing.T) {
	t.Parallel()
	tests := []struct {
		prefix, after string
		limit         int
		ok            bool
	}{
		{"", "", 1, true},
		{"ab", "ab01", 10, true},
		{"", "", 0, false},
		{"AB", "", 1, false},
		{"xy", "", 1, false},
		{"", "g", 1, false},
		{"", string(bytes.Repeat([]byte("a"), 65)), 1, false},
	}
	for _, tt := range tests {
		err := blob.CheckList(tt.prefix, tt.after, tt.limit)
		if (err == nil) != tt.ok || (err != nil && !errors.Is(err, domain.ErrInvalid)) {
			t.Errorf("CheckList(%q, %q, %d) = %v, want ok=%v or ErrInvalid", tt.prefix, tt.after, tt.limit, err, tt.ok)
		}
	}
}

// repeater streams n bytes by copying from a fixed random block: cheap next to hashing.
type repeater struct {
	block []byte
	left  int64
}

func (r *repeater) Read(p []byte) (int, error) {
	if r.left == 0 {
		return 0, io.EOF
	}
	p = p[:min(int64(len(p)), r.left)]
	n := 0
	for n < len(p) {
		n += copy(p[n:], r.block)
	}
	r.left -= int64(n)
	return n, nil
}

// BenchmarkDigests hashes a 1 GiB stream with md5, sha1, sha256 and BLAKE3 in one pass.
func BenchmarkDigests(b *testing.B) {
	const size = 1 << 30
	block := randomBytes(1 << 20)
	b.SetBytes(size)
	b.ReportAllocs()
	start := time.Now()
	for b.Loop() {
		if _, n, err := blob.Digest(&repeater{block: block, left: size}); err != nil || n != size {
			b.Fatalf("Digest() = %d bytes, %v", n, err)
		}
	}
	b.ReportMetric(float64(size)*float64(b.N)/time.Since(start).Seconds()/1e6, "MB/s")
}
