package blobtest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"runtime"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stratahq/strata/blob"
	"github.com/stratahq/strata/domain"
)

// Features declares how a backend differs, never by type-switching on the store.
type Features struct {
	// Corrupt replaces the content stored under d in s (a store newStore returned) with other
	// bytes, going around the Store (the raw file or object API), so the suite can check that
	// Open detects it. Required.
	Corrupt func(s blob.Store, d domain.Digest) error
	// HeapHoldsContent: stored content lives in this process's heap (memory.Blobs, or an
	// in-process server that keeps objects in memory), so the 200 MiB subtest checks streaming
	// by construction only and skips the heap bound.
	HeapHoldsContent bool
	// LargeSize is the size of the "large" round trip; zero means 12 MiB + 7 bytes, enough
	// to cross a multipart threshold of 5 MiB twice.
	LargeSize int
}

// HugeSize is the size of the object the Huge subtest streams through Put and Open.
const HugeSize = 200 << 20

// maxHeapGrowth bounds how much the heap may grow while Huge streams HugeSize bytes in and
// out: far below HugeSize, so a store that buffers the object whole fails.
const maxHeapGrowth = 64 << 20

// Run checks the blob.Store contract. newStore must return an empty store, isolated from
// every other store it returns (a fresh directory, bucket or random prefix), and clean it
// up with t.Cleanup. The 200 MiB subtest is skipped under testing.Short.
func Run(t *testing.T, f Features, newStore func(t *testing.T) blob.Store) {
	t.Helper()
	if f.Corrupt == nil {
		t.Fatal("blobtest.Run: Features.Corrupt is required")
	}
	if f.LargeSize == 0 {
		f.LargeSize = 12<<20 + 7
	}
	// Huge runs first and alone: its heap bound must not see the other subtests' buffers.
	t.Run("Huge", func(t *testing.T) { testHuge(t, f, newStore(t)) })
	t.Run("RoundTrip", func(t *testing.T) { t.Parallel(); testRoundTrip(t, f, newStore(t)) })
	t.Run("PutIdempotent", func(t *testing.T) { t.Parallel(); testIdempotent(t, f, newStore(t)) })
	t.Run("ConcurrentPutSameContent", func(t *testing.T) { t.Parallel(); testConcurrentPut(t, f, newStore(t)) })
	t.Run("Missing", func(t *testing.T) { t.Parallel(); testMissing(t, newStore(t)) })
	t.Run("Delete", func(t *testing.T) { t.Parallel(); testDelete(t, newStore(t)) })
	t.Run("CorruptionDetected", func(t *testing.T) { t.Parallel(); testCorruption(t, f, newStore(t)) })
	t.Run("CancelledContext", func(t *testing.T) { t.Parallel(); testCancelled(t, newStore(t)) })
	t.Run("ReadError", func(t *testing.T) { t.Parallel(); testReadError(t, newStore(t)) })
	t.Run("ListPaging", func(t *testing.T) { t.Parallel(); testList(t, newStore(t)) })
	t.Run("ListInvalid", func(t *testing.T) { t.Parallel(); testListInvalid(t, newStore(t)) })
}

func testRoundTrip(t *testing.T, f Features, s blob.Store) {
	sizes := map[string]int{"empty": 0, "one byte": 1, "small": 4093, "large": f.LargeSize}
	for name, n := range sizes {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			data := randomBytes(n, uint64(n))
			obj := mustPut(t, s, data)
			if got := mustStat(t, s, obj.Digests.BLAKE3); got != obj.Info() {
				t.Errorf("Stat() = %+v, want %+v", got, obj.Info())
			}
			if got := mustRead(t, s, obj.Digests.BLAKE3); !bytes.Equal(got, data) {
				t.Errorf("Open() read %d bytes, want the %d bytes put", len(got), len(data))
			}
			infos, err := s.List(t.Context(), obj.Digests.BLAKE3.String(), "", 10)
			if err != nil || len(infos) != 1 || infos[0] != obj.Info() {
				t.Errorf("List(its own address) = %+v, %v; want [%+v], nil", infos, err, obj.Info())
			}
		})
	}
	t.Run("close before EOF", func(t *testing.T) {
		t.Parallel()
		obj := mustPut(t, s, randomBytes(1<<20, 99))
		rc, err := s.Open(t.Context(), obj.Digests.BLAKE3)
		if err != nil {
			t.Fatalf("Open() error = %v", err)
		}
		if _, err := rc.Read(make([]byte, 10)); err != nil {
			t.Errorf("Read() error = %v", err)
		}
		if err := rc.Close(); err != nil {
			t.Errorf("Close() before EOF error = %v", err)
		}
	})
}

// testIdempotent puts small and large content twice each: backends often take different
// paths for content that fits one request and content that does not.
func testIdempotent(t *testing.T, f Features, s blob.Store) {
	for i, size := range []int{70000, f.LargeSize} {
		data := randomBytes(size, uint64(7+i))
		first := mustPut(t, s, data)
		second := mustPut(t, s, data)
		if first != second {
			t.Errorf("second Put(%d bytes) = %+v, want %+v", size, second, first)
		}
		if got := mustRead(t, s, first.Digests.BLAKE3); !bytes.Equal(got, data) {
			t.Errorf("Open() after second Put read %d bytes, want the %d bytes put", len(got), len(data))
		}
		if got := mustList(t, s, "", "", 10); len(got) != i+1 {
			t.Errorf("List() after two Puts each of %d contents = %+v, want %d objects", i+1, got, i+1)
		}
	}
}

func testConcurrentPut(t *testing.T, f Features, s blob.Store) {
	for i, size := range []int{1<<20 + 3, f.LargeSize} {
		t.Run(fmt.Sprint(size), func(t *testing.T) {
			t.Parallel()
			testConcurrentPutOf(t, s, randomBytes(size, uint64(8+i)), 8/(i+1))
		})
	}
}

func testConcurrentPutOf(t *testing.T, s blob.Store, data []byte, n int) {
	want := blob.DigestBytes(data)
	results := make([]blob.Object, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { results[i], errs[i] = s.Put(t.Context(), bytes.NewReader(data)) })
	}
	wg.Wait()
	for i := range n {
		if errs[i] != nil {
			t.Errorf("concurrent Put() #%d error = %v, want nil", i, errs[i])
		} else if results[i].Digests != want || results[i].Size != int64(len(data)) {
			t.Errorf("concurrent Put() #%d = %+v, want digests %+v and size %d", i, results[i], want, len(data))
		}
	}
	if got := mustRead(t, s, want.BLAKE3); !bytes.Equal(got, data) {
		t.Errorf("Open() after concurrent Puts read %d bytes, want the %d bytes put", len(got), len(data))
	}
	if got := mustList(t, s, want.BLAKE3.String(), "", 10); len(got) != 1 {
		t.Errorf("List() after concurrent Puts = %+v, want one object", got)
	}
}

func testMissing(t *testing.T, s blob.Store) {
	d := blob.Blake3([]byte("never stored"))
	if _, err := s.Stat(t.Context(), d); !errors.Is(err, blob.ErrNotFound) || !errors.Is(err, domain.ErrNotFound) {
		t.Errorf("Stat(missing) error = %v, want ErrNotFound", err)
	}
	rc, err := s.Open(t.Context(), d)
	if err == nil {
		// A backend may only learn on the first Read; it must still say ErrNotFound.
		_, err = io.ReadAll(rc)
		_ = rc.Close()
	}
	if !errors.Is(err, blob.ErrNotFound) || !errors.Is(err, domain.ErrNotFound) {
		t.Errorf("Open(missing) error = %v, want ErrNotFound", err)
	}
	if err := s.Delete(t.Context(), d); err != nil {
		t.Errorf("Delete(missing) error = %v, want nil", err)
	}
	if got := mustList(t, s, "", "", 10); len(got) != 0 {
		t.Errorf("List() of an empty store = %+v, want none", got)
	}
}

func testDelete(t *testing.T, s blob.Store) {
	keep := mustPut(t, s, []byte("keep me"))
	data := randomBytes(5000, 5)
	obj := mustPut(t, s, data)
	if err := s.Delete(t.Context(), obj.Digests.BLAKE3); err != nil {
		t.Fatalf("Delete() error = %v", err)
	}
	if _, err := s.Stat(t.Context(), obj.Digests.BLAKE3); !errors.Is(err, blob.ErrNotFound) {
		t.Errorf("Stat(deleted) error = %v, want ErrNotFound", err)
	}
	if rc, err := s.Open(t.Context(), obj.Digests.BLAKE3); err == nil {
		_, err = io.ReadAll(rc)
		_ = rc.Close()
		if !errors.Is(err, blob.ErrNotFound) {
			t.Errorf("Open(deleted) then Read() error = %v, want ErrNotFound", err)
		}
	} else if !errors.Is(err, blob.ErrNotFound) {
		t.Errorf("Open(deleted) error = %v, want ErrNotFound", err)
	}
	if got := mustList(t, s, "", "", 10); len(got) != 1 || got[0] != keep.Info() {
		t.Errorf("List() after Delete = %+v, want only %+v", got, keep.Info())
	}
	if err := s.Delete(t.Context(), obj.Digests.BLAKE3); err != nil {
		t.Errorf("Delete() again error = %v, want nil", err)
	}
	if again := mustPut(t, s, data); again != obj {
		t.Errorf("Put() after Delete = %+v, want %+v", again, obj)
	}
	if got := mustRead(t, s, obj.Digests.BLAKE3); !bytes.Equal(got, data) {
		t.Errorf("Open() after Put, Delete, Put read %d bytes, want the %d bytes put", len(got), len(data))
	}
}

func testCorruption(t *testing.T, f Features, s blob.Store) {
	obj := mustPut(t, s, randomBytes(300<<10, 3))
	if err := f.Corrupt(s, obj.Digests.BLAKE3); err != nil {
		t.Fatalf("Features.Corrupt() error = %v", err)
	}
	rc, err := s.Open(t.Context(), obj.Digests.BLAKE3)
	if err == nil {
		_, err = io.ReadAll(rc)
		if cerr := rc.Close(); cerr != nil {
			t.Errorf("Close() error = %v", cerr)
		}
	}
	if !errors.Is(err, blob.ErrDigestMismatch) {
		t.Errorf("reading corrupt content: error = %v, want ErrDigestMismatch", err)
	}
}

func testCancelled(t *testing.T, s blob.Store) {
	stored := mustPut(t, s, []byte("stored before cancel"))
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	data := randomBytes(4000, 4)
	if _, err := s.Put(ctx, bytes.NewReader(data)); !errors.Is(err, context.Canceled) {
		t.Errorf("Put(cancelled ctx) error = %v, want context.Canceled", err)
	}
	if _, err := s.Stat(ctx, stored.Digests.BLAKE3); !errors.Is(err, context.Canceled) {
		t.Errorf("Stat(cancelled ctx) error = %v, want context.Canceled", err)
	}
	if _, err := s.List(ctx, "", "", 10); !errors.Is(err, context.Canceled) {
		t.Errorf("List(cancelled ctx) error = %v, want context.Canceled", err)
	}
	if err := s.Delete(ctx, stored.Digests.BLAKE3); !errors.Is(err, context.Canceled) {
		t.Errorf("Delete(cancelled ctx) error = %v, want context.Canceled", err)
	}
	if rc, err := s.Open(ctx, stored.Digests.BLAKE3); err == nil {
		_, err = io.ReadAll(rc)
		_ = rc.Close()
		if !errors.Is(err, context.Canceled) {
			t.Errorf("Open(cancelled ctx) then Read() error = %v, want context.Canceled", err)
		}
	} else if !errors.Is(err, context.Canceled) {
		t.Errorf("Open(cancelled ctx) error = %v, want context.Canceled", err)
	}

	// Cancelled in the middle of a large Put: nothing is stored.
	const size = 12 << 20
	ctx, cancel = context.WithCancel(t.Context())
	defer cancel()
	full := generated(size, 44)
	want := mustDigest(t, generated(size, 44))
	r := &hookReader{r: full, at: 3 << 20, hook: func() error { cancel(); return nil }}
	if _, err := s.Put(ctx, r); !errors.Is(err, context.Canceled) {
		t.Errorf("Put() cancelled midway: error = %v, want context.Canceled", err)
	}
	if _, err := s.Stat(t.Context(), want); !errors.Is(err, blob.ErrNotFound) {
		t.Errorf("Stat() of a Put cancelled midway: error = %v, want ErrNotFound", err)
	}
	if got := mustList(t, s, "", "", 10); len(got) != 1 {
		t.Errorf("List() after cancelled Puts = %+v, want only the object stored before", got)
	}
	if _, err := s.Stat(t.Context(), stored.Digests.BLAKE3); err != nil {
		t.Errorf("Stat() after cancelled Delete error = %v, want nil", err)
	}
}

var errBoom = errors.New("blobtest: reader failed on purpose")

func testReadError(t *testing.T, s blob.Store) {
	const size = 7 << 20
	want := mustDigest(t, generated(size, 45))
	r := &hookReader{r: generated(size, 45), at: 6 << 20, hook: func() error { return errBoom }}
	if _, err := s.Put(t.Context(), r); !errors.Is(err, errBoom) {
		t.Errorf("Put(failing reader) error = %v, want the reader's error", err)
	}
	if _, err := s.Stat(t.Context(), want); !errors.Is(err, blob.ErrNotFound) {
		t.Errorf("Stat() after a failed Put: error = %v, want ErrNotFound", err)
	}
	if got := mustList(t, s, "", "", 10); len(got) != 0 {
		t.Errorf("List() after a failed Put = %+v, want none", got)
	}
}

func testList(t *testing.T, s blob.Store) {
	const n = 7
	var all []blob.Info
	for i := range n {
		all = append(all, mustPut(t, s, fmt.Appendf(nil, "object %d", i)).Info())
	}
	slices.SortFunc(all, func(a, b blob.Info) int { return bytes.Compare(a.Digest[:], b.Digest[:]) })

	for _, limit := range []int{1, 3, n - 1, n, n + 1, 1000} {
		var got []blob.Info
		after := ""
		for pages := 0; ; pages++ {
			if pages > n+1 {
				t.Fatalf("List(limit %d) pages never end", limit)
			}
			page := mustList(t, s, "", after, limit)
			if len(page) > limit {
				t.Fatalf("List(limit %d) returned %d objects", limit, len(page))
			}
			got = append(got, page...)
			if len(page) < limit {
				break
			}
			after = page[len(page)-1].Digest.String()
		}
		if !slices.Equal(got, all) {
			t.Errorf("List() pages of %d = %+v, want %+v", limit, got, all)
		}
	}
	last := all[n-1].Digest.String()
	if got := mustList(t, s, "", last, 10); len(got) != 0 {
		t.Errorf("List(after the last) = %+v, want none", got)
	}
	if got := mustList(t, s, "", all[2].Digest.String()[:10], 10); !slices.Equal(got, all[2:]) {
		t.Errorf("List(after a proper prefix of an address) = %+v, want %+v", got, all[2:])
	}
	for _, p := range []string{all[3].Digest.String()[:1], all[3].Digest.String()[:2], all[3].Digest.String()} {
		var want []blob.Info
		for _, in := range all {
			if in.Digest.String()[:len(p)] == p {
				want = append(want, in)
			}
		}
		if got := mustList(t, s, p, "", 10); !slices.Equal(got, want) {
			t.Errorf("List(prefix %q) = %+v, want %+v", p, got, want)
		}
		if got := mustList(t, s, p, want[0].Digest.String(), 10); !slices.Equal(got, want[1:]) {
			t.Errorf("List(prefix %q, after its first) = %+v, want %+v", p, got, want[1:])
		}
	}
	// A prefix no address has.
	unused := "0"
	for _, c := range "0123456789abcdef" {
		if !slices.ContainsFunc(all, func(in blob.Info) bool { return in.Digest.String()[0] == byte(c) }) {
			unused = string(c)
			break
		}
	}
	if got := mustList(t, s, unused+"f", "", 10); len(got) != 0 {
		t.Errorf("List(prefix %q no address has) = %+v, want none", unused+"f", got)
	}
}

func testListInvalid(t *testing.T, s blob.Store) {
	mustPut(t, s, []byte("x"))
	tests := []struct {
		name, prefix, after string
		limit               int
	}{
		{"zero limit", "", "", 0},
		{"negative limit", "", "", -1},
		{"uppercase prefix", "AB", "", 10},
		{"non-hex prefix", "zz", "", 10},
		{"non-hex after", "", "../", 10},
		{"long after", "", string(bytes.Repeat([]byte("0"), 65)), 10},
	}
	for _, tt := range tests {
		if _, err := s.List(t.Context(), tt.prefix, tt.after, tt.limit); !errors.Is(err, domain.ErrInvalid) {
			t.Errorf("List(%s) error = %v, want domain.ErrInvalid", tt.name, err)
		}
	}
}

func testHuge(t *testing.T, f Features, s blob.Store) {
	if testing.Short() {
		t.Skip("blobtest: skipping the 200 MiB stream in -short mode")
	}
	want := blob.Object{Size: HugeSize}
	var err error
	want.Digests, _, err = blob.Digest(generated(HugeSize, 200))
	if err != nil {
		t.Fatal(err)
	}

	peak := watchHeap(t)
	obj, err := s.Put(t.Context(), generated(HugeSize, 200))
	if err != nil {
		t.Fatalf("Put(200 MiB) error = %v", err)
	}
	if obj != want {
		t.Fatalf("Put(200 MiB) = %+v, want %+v", obj, want)
	}
	rc, err := s.Open(t.Context(), want.Digests.BLAKE3)
	if err != nil {
		t.Fatalf("Open(200 MiB) error = %v", err)
	}
	got, n, err := blob.Digest(rc)
	if cerr := rc.Close(); cerr != nil {
		t.Errorf("Close() error = %v", cerr)
	}
	if err != nil || n != HugeSize || got != want.Digests {
		t.Fatalf("reading 200 MiB back: %d bytes, digests %+v, error %v; want %d bytes, %+v, nil", n, got, err, HugeSize, want.Digests)
	}
	growth := peak()
	t.Logf("heap grew by at most %d MiB while streaming %d MiB in and out", growth>>20, HugeSize>>20)
	if !f.HeapHoldsContent && growth > maxHeapGrowth {
		t.Errorf("heap grew by %d MiB streaming %d MiB, want at most %d MiB: the store buffers content", growth>>20, HugeSize>>20, maxHeapGrowth>>20)
	}
}

// watchHeap samples the heap until the returned function is called, which returns the
// largest growth of HeapInuse over the level at the start.
func watchHeap(t *testing.T) func() uint64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	base, peak := ms.HeapInuse, ms.HeapInuse
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-done:
				return
			case <-tick.C:
				runtime.ReadMemStats(&ms)
				peak = max(peak, ms.HeapInuse)
			}
		}
	})
	stopped := false
	stop := func() uint64 {
		if !stopped {
			stopped = true
			close(done)
			wg.Wait()
		}
		return peak - base
	}
	t.Cleanup(func() { stop() })
	return stop
}

// generated returns a reader of size pseudo-random bytes made on the fly from seed: each
// 64 KiB block is a fixed random block stamped with its index, so nothing is held whole.
func generated(size int64, seed uint64) io.Reader {
	return &generator{block: randomBytes(64<<10, seed), left: size}
}

type generator struct {
	block []byte
	off   int64
	left  int64
}

func (g *generator) Read(p []byte) (int, error) {
	if g.left == 0 {
		return 0, io.EOF
	}
	p = p[:min(int64(len(p)), g.left)]
	n := 0
	for n < len(p) {
		bs := int64(len(g.block))
		idx, in := g.off/bs, g.off%bs
		c := copy(p[n:], g.block[in:])
		for i := range 8 { // stamp the block index over its first bytes
			if pos := int64(i) - in; pos >= 0 && pos < int64(c) {
				p[n+int(pos)] ^= byte(idx >> (8 * i))
			}
		}
		n += c
		g.off += int64(c)
	}
	g.left -= int64(n)
	return n, nil
}

// hookReader calls hook once after at bytes and fails with its error, if any.
type hookReader struct {
	r    io.Reader
	at   int64
	read int64
	hook func() error
	done bool
}

func (h *hookReader) Read(p []byte) (int, error) {
	if !h.done && h.read >= h.at {
		h.done = true
		if err := h.hook(); err != nil {
			return 0, err
		}
	}
	if !h.done {
		p = p[:min(int64(len(p)), h.at-h.read)]
	}
	n, err := h.r.Read(p)
	h.read += int64(n)
	return n, err
}

func randomBytes(n int, seed uint64) []byte {
	b := make([]byte, n)
	var s [32]byte
	s[0], s[1] = byte(seed), byte(seed>>8)
	_, _ = rand.NewChaCha8(s).Read(b)
	return b
}

func mustDigest(tb testing.TB, r io.Reader) domain.Digest {
	tb.Helper()
	d, _, err := blob.Digest(r)
	if err != nil {
		tb.Fatal(err)
	}
	return d.BLAKE3
}

func mustPut(tb testing.TB, s blob.Store, data []byte) blob.Object {
	tb.Helper()
	obj, err := s.Put(tb.Context(), bytes.NewReader(data))
	if err != nil {
		tb.Fatalf("Put(%d bytes) error = %v", len(data), err)
	}
	if want := (blob.Object{Digests: blob.DigestBytes(data), Size: int64(len(data))}); obj != want {
		tb.Fatalf("Put(%d bytes) = %+v, want %+v", len(data), obj, want)
	}
	return obj
}

func mustStat(tb testing.TB, s blob.Store, d domain.Digest) blob.Info {
	tb.Helper()
	in, err := s.Stat(tb.Context(), d)
	if err != nil {
		tb.Fatalf("Stat(%s) error = %v", d, err)
	}
	return in
}

func mustRead(tb testing.TB, s blob.Store, d domain.Digest) []byte {
	tb.Helper()
	rc, err := s.Open(tb.Context(), d)
	if err != nil {
		tb.Fatalf("Open(%s) error = %v", d, err)
	}
	b, err := io.ReadAll(rc)
	if err != nil {
		tb.Fatalf("reading %s: %v", d, err)
	}
	if err := rc.Close(); err != nil {
		tb.Fatalf("closing %s: %v", d, err)
	}
	return b
}

func mustList(tb testing.TB, s blob.Store, prefix, after string, limit int) []blob.Info {
	tb.Helper()
	infos, err := s.List(tb.Context(), prefix, after, limit)
	if err != nil {
		tb.Fatalf("List(%q, %q, %d) error = %v", prefix, after, limit, err)
	}
	return infos
}
