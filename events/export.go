package events

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// The export format: JSON lines. Line 1 is a header, then one Envelope per line in position
// order, then a trailer with the count, head and chain digest, so a file cut short at a line
// boundary is caught too.
const exportFormat = "strata-events"

type exportHeader struct {
	Format  string `json:"format"`
	Version int    `json:"version"`
}

type exportTrailer struct {
	Events int      `json:"events"`
	Head   Position `json:"head"`
	Chain  Hash     `json:"chain"`
}

type exportLine struct {
	Envelope
	Trailer *exportTrailer `json:"trailer,omitempty"`
}

// ExportPage is how many events Export reads from the store at a time.
const ExportPage = 4096

// Export writes the whole log to w as JSON lines: a header, every envelope with its hashes in
// position order, and a trailer. It is the backup format and the way between backends.
func Export(ctx context.Context, s Store, w io.Writer) (Report, error) {
	bw := bufio.NewWriterSize(w, 1<<20)
	enc := json.NewEncoder(bw)
	enc.SetEscapeHTML(false) // Data must stay byte for byte what was hashed
	if err := enc.Encode(exportHeader{Format: exportFormat, Version: 1}); err != nil {
		return Report{}, fmt.Errorf("export: %w", err)
	}
	c := newChain(false)
	var after Position
	for {
		page, err := s.ReadAll(ctx, after, ExportPage)
		if err != nil {
			return c.report(), fmt.Errorf("export: %w", err)
		}
		for i := range page {
			if terr := c.check(&page[i]); terr != nil {
				return c.report(), fmt.Errorf("export: refusing to export a log that fails verification: %w", terr)
			}
			if err := enc.Encode(&page[i]); err != nil {
				return c.report(), fmt.Errorf("export: %w", err)
			}
		}
		if len(page) < ExportPage {
			break
		}
		after = page[len(page)-1].Position
	}
	r := c.report()
	trailer := struct {
		Trailer exportTrailer `json:"trailer"`
	}{exportTrailer{Events: r.Events, Head: r.Head, Chain: r.Chain}}
	if err := enc.Encode(trailer); err != nil {
		return r, fmt.Errorf("export: %w", err)
	}
	if err := bw.Flush(); err != nil {
		return r, fmt.Errorf("export: flush: %w", err)
	}
	return r, nil
}

// ImportOptions tunes Import.
type ImportOptions struct {
	// Progress, if set, is called now and then with the events written so far.
	Progress func(events int)
}

// maxLine bounds one line of an export file: the largest envelope JSON-escaped, plus room.
const maxLine = 2*MaxDataLen + 64<<10

// Import copies an Export file into s, which must be empty (ErrNotEmpty otherwise). It reads
// r twice: first it checks the whole file (header, JSON, hash chain, trailer) and refuses a
// tampered, truncated or malformed one with an error naming the line, writing nothing; then it
// appends the events, keeping their IDs, times and metadata, so s computes the very same
// hashes, which Import checks at the end against the trailer's chain digest.
func Import(ctx context.Context, s Store, r io.ReadSeeker, opts ImportOptions) (Report, error) {
	if page, err := s.ReadAll(ctx, 0, 1); err != nil {
		return Report{}, fmt.Errorf("import: %w", err)
	} else if len(page) > 0 {
		return Report{}, fmt.Errorf("import: %w: import only into a new, empty store", ErrNotEmpty)
	}
	want, err := scanExport(r, func(int, *Envelope) error { return nil })
	if err != nil {
		return Report{}, fmt.Errorf("import: %w", err)
	}
	if _, err := r.Seek(0, io.SeekStart); err != nil {
		return Report{}, fmt.Errorf("import: rewind: %w", err)
	}
	var (
		run     []Record
		stream  StreamID
		first   Version
		written int
	)
	flush := func() error {
		if len(run) == 0 {
			return nil
		}
		if _, err := s.Append(ctx, stream, first-1, run...); err != nil {
			return err
		}
		written += len(run)
		run = run[:0]
		if opts.Progress != nil {
			opts.Progress(written)
		}
		return nil
	}
	_, err = scanExport(r, func(line int, e *Envelope) error {
		if e.Stream != stream || len(run) == MaxAppendEvents {
			if err := flush(); err != nil {
				return err
			}
			stream, first = e.Stream, e.Version
		}
		run = append(run, Record{ID: e.ID, Type: e.Type, Schema: e.Schema, Actor: e.Actor, CorrelationID: e.CorrelationID,
			CausationID: e.CausationID, Data: e.Data, RecordedAt: e.RecordedAt})
		return nil
	})
	if err == nil {
		err = flush()
	}
	if err != nil {
		return Report{}, fmt.Errorf("import: after %d events were written: %w", written, err)
	}
	got, err := Verify(ctx, s, VerifyOptions{})
	if err != nil {
		return got, fmt.Errorf("import: the store does not verify after import: %w", err)
	}
	if got.Events != want.Events || got.Chain != want.Chain {
		return got, fmt.Errorf("import: the store holds %d events with chain %s, the file %d with chain %s: %w", got.Events, got.Chain, want.Events, want.Chain, ErrTampered)
	}
	return got, nil
}

// scanExport reads an export file, verifying it line by line, and calls fn for each event.
func scanExport(r io.Reader, fn func(line int, e *Envelope) error) (Report, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), maxLine)
	c := newChain(false)
	line := 0
	tamper := func(err *TamperError) error { err.Line = line; return err }
	invalid := func(format string, args ...any) error {
		return fmt.Errorf("line %d: %s: %w", line, fmt.Sprintf(format, args...), ErrInvalid)
	}
	var trailer *exportTrailer
	for sc.Scan() {
		line++
		b := sc.Bytes()
		if line == 1 {
			var h exportHeader
			if err := json.Unmarshal(b, &h); err != nil || h.Format != exportFormat {
				return c.report(), invalid("not a Strata events export (no %q header)", exportFormat)
			}
			if h.Version != 1 {
				return c.report(), invalid("export format version %d is newer than this build understands (1)", h.Version)
			}
			continue
		}
		if trailer != nil {
			return c.report(), invalid("data after the trailer")
		}
		var l exportLine
		dec := json.NewDecoder(bytes.NewReader(b))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&l); err != nil {
			return c.report(), invalid("not an event: %v", err)
		}
		if l.Trailer != nil {
			trailer = l.Trailer
			continue
		}
		if err := ValidateRecords(l.Stream, Any, []Record{{ID: l.ID, Type: l.Type, Schema: l.Schema, Actor: l.Actor,
			CorrelationID: l.CorrelationID, CausationID: l.CausationID, Data: l.Data}}); err != nil {
			return c.report(), fmt.Errorf("line %d: %w", line, err)
		}
		if terr := c.check(&l.Envelope); terr != nil {
			return c.report(), tamper(terr)
		}
		if err := fn(line, &l.Envelope); err != nil {
			return c.report(), err
		}
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			return c.report(), invalid("line longer than %d bytes", maxLine)
		}
		return c.report(), fmt.Errorf("read line %d: %w", line+1, err)
	}
	got := c.report()
	switch {
	case line == 0:
		return got, fmt.Errorf("line 1: empty file: %w", ErrInvalid)
	case trailer == nil:
		return got, fmt.Errorf("line %d: file ends without its trailer: it was cut short: %w", line, ErrTampered)
	case trailer.Events != got.Events || trailer.Head != got.Head || trailer.Chain != got.Chain:
		return got, fmt.Errorf("line %d: trailer says %d events up to position %d (chain %s), the file holds %d up to %d (chain %s): %w",
			line, trailer.Events, trailer.Head, trailer.Chain, got.Events, got.Head, got.Chain, ErrTampered)
	}
	return got, nil
}
