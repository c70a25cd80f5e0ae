package events

import (
	"context"
	"fmt"

	"github.com/zeebo/blake3"
)

// Report summarises a verified log.
type Report struct {
	// Events and Streams count what was verified.
	Events  int
	Streams int
	// Head is the last position verified.
	Head Position
	// Chain is BLAKE3 over every event's Hash in position order: two logs with the same
	// Chain hold the same events in the same order.
	Chain Hash
}

// VerifyOptions tunes Verify.
type VerifyOptions struct {
	// Gapless also requires positions 1, 2, 3 … with none missing, which the badger and
	// memory stores guarantee, so that removing any event is detected.
	Gapless bool
	// Progress, if set, is called after each page with the number of events verified so far.
	Progress func(events int)
}

// VerifyPage is how many events Verify reads at a time.
const VerifyPage = 4096

// Verify walks the whole log and proves that no event was edited, removed or reordered:
// every event's Hash matches its content, every Prev is the Hash of the stream's previous
// event, versions run 1, 2, 3 … in position order, and positions increase (without gaps if
// opts.Gapless). The first event that fails is returned as a *TamperError (ErrTampered).
// Removing the very last events of the log leaves a valid shorter log; compare Report.Chain
// or Head with a copy kept elsewhere to detect that.
func Verify(ctx context.Context, s Store, opts VerifyOptions) (Report, error) {
	c := newChain(opts.Gapless)
	var after Position
	for {
		page, err := s.ReadAll(ctx, after, VerifyPage)
		if err != nil {
			return c.report(), fmt.Errorf("verify: %w", err)
		}
		for i := range page {
			if terr := c.check(&page[i]); terr != nil {
				return c.report(), terr
			}
		}
		if opts.Progress != nil {
			opts.Progress(c.events)
		}
		if len(page) < VerifyPage {
			return c.report(), nil
		}
		after = page[len(page)-1].Position
	}
}

// chain checks envelopes one by one, in position order.
type chain struct {
	gapless bool
	heads   map[StreamID]streamHead
	last    Position
	events  int
	digest  *blake3.Hasher
}

type streamHead struct {
	version Version
	hash    Hash
}

func newChain(gapless bool) *chain {
	return &chain{gapless: gapless, heads: map[StreamID]streamHead{}, digest: blake3.New()}
}

func (c *chain) check(e *Envelope) *TamperError {
	fail := func(format string, args ...any) *TamperError {
		return &TamperError{Position: e.Position, Stream: e.Stream, Version: e.Version, Problem: fmt.Sprintf(format, args...)}
	}
	switch {
	case e.Position <= c.last:
		return fail("position does not increase (previous event is at %d): events are out of order", c.last)
	case c.gapless && e.Position != c.last+1:
		return fail("positions %d to %d are missing: events were removed", c.last+1, e.Position-1)
	}
	if e.ComputeHash() != e.Hash {
		return fail("hash does not match content: the event was edited")
	}
	h := c.heads[e.Stream]
	switch {
	case e.Version <= h.version:
		return fail("version %d comes after version %d of its stream: events are duplicated or out of order", e.Version, h.version)
	case e.Version != h.version+1:
		return fail("stream jumps from version %d to %d: events are missing or out of order", h.version, e.Version)
	case e.Prev != h.hash:
		return fail("prev does not match the hash of version %d: an earlier event of the stream was edited or replaced", h.version)
	}
	c.heads[e.Stream] = streamHead{version: e.Version, hash: e.Hash}
	c.last = e.Position
	c.events++
	_, _ = c.digest.Write(e.Hash[:]) // a hash.Hash never fails to write
	return nil
}

func (c *chain) report() Report {
	var sum Hash
	copy(sum[:], c.digest.Sum(nil))
	return Report{Events: c.events, Streams: len(c.heads), Head: c.last, Chain: sum}
}
