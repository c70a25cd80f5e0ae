package blob

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"time"

	"github.com/stratahq/strata/domain"
)

// The object layout every bucket-backed store uses under its configured prefix. Datum events
// record Key(d) as the object's key relative to the store, so the layout is part of the
// stored schema: it changes only with a migration.
const (
	// KeyPrefix holds the content, one object per address.
	KeyPrefix = "blake3/"
	// TempPrefix holds uploads in progress; a crash can leave some, and a lifecycle rule on
	// it cleans them up.
	TempPrefix = "tmp/"
)

// Key returns the key of the object holding the content addressed d.
func Key(d domain.Digest) string { return KeyPrefix + d.String() }

// TempKey returns a fresh key for an upload in progress.
func TempKey() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails
	return TempPrefix + hex.EncodeToString(b[:])
}

// CleanupContext returns a context for removing a temporary object after a Put failed or
// its ctx was cancelled: not cancelled with ctx, and bounded to a minute.
func CleanupContext(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
}
