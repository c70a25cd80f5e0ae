package memory

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"

	"github.com/stratahq/strata/blob"
	"github.com/stratahq/strata/domain"
)

var _ blob.Store = (*Blobs)(nil)

// Blobs is a blob.Store that keeps content in memory: the test double for code that needs
// files. It passes blobtest.Run, except that it holds every object in the heap by design.
// The zero value is an empty store ready to use.
type Blobs struct {
	mu      sync.RWMutex // guards objects
	objects map[domain.Digest][]byte
}

// NewBlobs returns an empty Blobs.
func NewBlobs() *Blobs { return &Blobs{} }

// Put implements blob.Store.
func (b *Blobs) Put(ctx context.Context, r io.Reader) (blob.Object, error) {
	src := blob.NewSource(ctx, r)
	var buf bytes.Buffer
	_, err := buf.ReadFrom(src)
	obj := src.Object()
	if err != nil {
		return blob.Object{}, src.PutError(err)
	}
	if err := ctx.Err(); err != nil {
		return blob.Object{}, src.PutError(err)
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.objects == nil {
		b.objects = make(map[domain.Digest][]byte)
	}
	if _, ok := b.objects[obj.Digests.BLAKE3]; !ok {
		b.objects[obj.Digests.BLAKE3] = buf.Bytes()
	}
	return obj, nil
}

// Open implements blob.Store.
func (b *Blobs) Open(ctx context.Context, d domain.Digest) (io.ReadCloser, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("open %s: %w", d, err)
	}
	b.mu.RLock()
	data, ok := b.objects[d]
	b.mu.RUnlock()
	if !ok {
		return nil, fmt.Errorf("open %s: %w", d, blob.ErrNotFound)
	}
	return blob.Verify(ctx, io.NopCloser(bytes.NewReader(data)), d), nil
}

// Stat implements blob.Store.
func (b *Blobs) Stat(ctx context.Context, d domain.Digest) (blob.Info, error) {
	if err := ctx.Err(); err != nil {
		return blob.Info{}, fmt.Errorf("stat %s: %w", d, err)
	}
	b.mu.RLock()
	data, ok := b.objects[d]
	b.mu.RUnlock()
	if !ok {
		return blob.Info{}, fmt.Errorf("stat %s: %w", d, blob.ErrNotFound)
	}
	return blob.Info{Digest: d, Size: int64(len(data))}, nil
}

// Delete implements blob.Store.
func (b *Blobs) Delete(ctx context.Context, d domain.Digest) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("delete %s: %w", d, err)
	}
	b.mu.Lock()
	delete(b.objects, d)
	b.mu.Unlock()
	return nil
}

// List implements blob.Store.
func (b *Blobs) List(ctx context.Context, prefix, after string, limit int) ([]blob.Info, error) {
	if err := blob.CheckList(prefix, after, limit); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("list: %w", err)
	}
	b.mu.RLock()
	var out []blob.Info
	for d, data := range b.objects {
		if key := d.String(); strings.HasPrefix(key, prefix) && key > after {
			out = append(out, blob.Info{Digest: d, Size: int64(len(data))})
		}
	}
	b.mu.RUnlock()
	slices.SortFunc(out, func(x, y blob.Info) int { return bytes.Compare(x.Digest[:], y.Digest[:]) })
	return out[:min(len(out), limit)], nil
}
