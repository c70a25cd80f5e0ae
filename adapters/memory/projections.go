package memory

import (
	"bytes"
	"context"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/stratahq/strata/projections"
)

var _ projections.Store = (*Projections)(nil)

// Projections is a projections.Store in memory: the reference implementation of the
// contract, and the scratch store projections.Reads replays into. Updates are serialised
// and exclude Views, so a View is trivially a snapshot. The zero value is not usable; call
// NewProjections.
type Projections struct {
	mu   sync.RWMutex // guards data and keys
	data map[string][]byte
	keys []string // the keys of data, sorted
}

// NewProjections returns an empty store.
func NewProjections() *Projections {
	return &Projections{data: map[string][]byte{}}
}

// Update implements projections.Store.
func (p *Projections) Update(ctx context.Context, fn func(projections.Txn) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	tx := &projTxn{p: p, writes: map[string][]byte{}}
	if err := fn(tx); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	for k, v := range tx.writes {
		_, had := p.data[k]
		switch {
		case v == nil && had:
			delete(p.data, k)
			i, _ := slices.BinarySearch(p.keys, k)
			p.keys = slices.Delete(p.keys, i, i+1)
		case v != nil:
			p.data[k] = v
			if !had {
				i, _ := slices.BinarySearch(p.keys, k)
				p.keys = slices.Insert(p.keys, i, k)
			}
		}
	}
	return nil
}

// View implements projections.Store.
func (p *Projections) View(ctx context.Context, fn func(projections.Reader) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	p.mu.RLock()
	defer p.mu.RUnlock()
	return fn(projReader{p})
}

type projReader struct{ p *Projections }

func (r projReader) Get(key []byte) ([]byte, bool, error) {
	v, ok := r.p.data[string(key)]
	return v, ok, nil
}

func (r projReader) Scan(prefix, seek []byte, reverse bool, fn func(key, value []byte) bool) error {
	r.p.scan(prefix, seek, reverse, nil, fn)
	return nil
}

// scan walks the committed keys with prefix from seek, merged with a transaction's
// writes (nil: none; a nil value in writes is a deletion).
func (p *Projections) scan(prefix, seek []byte, reverse bool, writes map[string][]byte, fn func(key, value []byte) bool) {
	lo, hi := p.bounds(string(prefix))
	base := p.keys[lo:hi]
	var over []string
	for k := range writes {
		if strings.HasPrefix(k, string(prefix)) {
			over = append(over, k)
		}
	}
	sort.Strings(over)
	if reverse {
		slices.Reverse(over)
	}
	// Walk base and over in order, with over winning on equal keys.
	i, j := 0, 0
	if reverse {
		i = len(base) - 1
	}
	if seek != nil {
		s := string(seek)
		if reverse {
			i = sort.SearchStrings(base, s)
			if i == len(base) || base[i] != s {
				i--
			}
			j = sort.Search(len(over), func(n int) bool { return over[n] <= s })
		} else {
			i = sort.SearchStrings(base, s)
			j = sort.SearchStrings(over, s)
		}
	}
	inBase := func() bool { return i >= 0 && i < len(base) }
	for inBase() || j < len(over) {
		var k string
		switch {
		case !inBase():
			k = over[j]
			j++
		case j >= len(over):
			k = base[i]
			i = next(i, reverse)
		default:
			b, o := base[i], over[j]
			switch {
			case b == o:
				k = o
				i, j = next(i, reverse), j+1
			case (b < o) != reverse:
				k = b
				i = next(i, reverse)
			default:
				k = o
				j++
			}
		}
		v, written := writes[k]
		if !written {
			v = p.data[k]
		} else if v == nil {
			continue
		}
		if !fn([]byte(k), v) {
			return
		}
	}
}

func next(i int, reverse bool) int {
	if reverse {
		return i - 1
	}
	return i + 1
}

// bounds returns the range of p.keys with prefix.
func (p *Projections) bounds(prefix string) (lo, hi int) {
	lo = sort.SearchStrings(p.keys, prefix)
	hi = lo + sort.Search(len(p.keys)-lo, func(n int) bool { return !strings.HasPrefix(p.keys[lo+n], prefix) })
	return lo, hi
}

type projTxn struct {
	p      *Projections
	writes map[string][]byte // nil value: deleted
}

func (t *projTxn) Get(key []byte) ([]byte, bool, error) {
	if v, ok := t.writes[string(key)]; ok {
		return v, v != nil, nil
	}
	v, ok := t.p.data[string(key)]
	return v, ok, nil
}

func (t *projTxn) Scan(prefix, seek []byte, reverse bool, fn func(key, value []byte) bool) error {
	t.p.scan(prefix, seek, reverse, t.writes, fn)
	return nil
}

func (t *projTxn) Set(key, value []byte) error {
	if value == nil {
		value = []byte{}
	}
	t.writes[string(key)] = bytes.Clone(value)
	return nil
}

func (t *projTxn) Delete(key []byte) error {
	t.writes[string(key)] = nil
	return nil
}
