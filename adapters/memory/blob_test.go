package memory

import (
	"fmt"
	"slices"
	"testing"

	"github.com/stratahq/strata/blob"
	"github.com/stratahq/strata/blob/blobtest"
	"github.com/stratahq/strata/domain"
)

func TestBlobs(t *testing.T) {
	t.Parallel()
	f := blobtest.Features{
		Corrupt:          func(s blob.Store, d domain.Digest) error { return s.(*Blobs).corrupt(d) },
		HeapHoldsContent: true,
	}
	blobtest.Run(t, f, func(*testing.T) blob.Store { return NewBlobs() })
}

// corrupt replaces the content of d with other bytes; for tests.
func (b *Blobs) corrupt(d domain.Digest) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	data, ok := b.objects[d]
	if !ok {
		return fmt.Errorf("corrupt %s: %w", d, blob.ErrNotFound)
	}
	data = slices.Clone(data)
	data[len(data)/2] ^= 0xff
	b.objects[d] = data
	return nil
}
