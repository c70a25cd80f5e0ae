package blob

import (
	"crypto/md5"  //nolint:gosec // md5 is recorded for compatibility (S3 ETags, Valohai), never trusted
	"crypto/sha1" //nolint:gosec // sha1 likewise
	"crypto/sha256"
	"errors"
	"hash"
	"io"
	"sync"
	"sync/atomic"

	"github.com/zeebo/blake3"

	"github.com/stratahq/strata/domain"
)

// chunkSize is the unit of work handed to the hashing goroutines: large enough that channel
// hand-offs cost nothing next to hashing, small enough that a Hasher holds little memory.
const chunkSize = 256 << 10

// queueDepth is how many chunks each hashing goroutine may lag behind the writer. The
// hashes run at different speeds, so the queue lets the fast ones finish early and give
// their core to the slow ones instead of all waiting on the slowest in lock step.
const queueDepth = 16

type chunk struct {
	buf  []byte
	n    int
	refs atomic.Int32
}

var chunks = sync.Pool{New: func() any { return &chunk{buf: make([]byte, chunkSize)} }}

func (c *chunk) release() {
	if c.refs.Add(-1) == 0 {
		c.n = 0
		chunks.Put(c)
	}
}

// Hasher computes md5, sha1, sha256 and BLAKE3 of everything written to it in one pass.
// Writes copy the bytes into pooled chunks that four goroutines, one per hash, consume
// concurrently, so a Write returns before its bytes are hashed and hashing overlaps with
// whatever the writer does next (reading a socket, writing a file). Content shorter than
// one chunk is hashed inline at Sum without starting any goroutine.
//
// The zero Hasher is not usable; call NewHasher. Call Sum exactly once when done (also on
// failure paths), or the hashing goroutines are left blocked. A Hasher is not safe for
// concurrent use.
type Hasher struct {
	hashes [4]hash.Hash // md5, sha1, sha256, blake3
	cur    *chunk
	size   int64
	queues [4]chan *chunk // nil until the first full chunk
	wg     sync.WaitGroup
	summed bool
}

// NewHasher returns a Hasher with nothing written.
func NewHasher() *Hasher {
	return &Hasher{hashes: [4]hash.Hash{md5.New(), sha1.New(), sha256.New(), blake3.New()}} //nolint:gosec // see imports
}

// errSummed reports a Write after Sum: a bug in the caller.
var errSummed = errors.New("blob: write to a hasher after Sum")

// Write hashes p. It never fails except after Sum.
func (h *Hasher) Write(p []byte) (int, error) {
	if h.summed {
		return 0, errSummed
	}
	n := len(p)
	for len(p) > 0 {
		if h.cur == nil {
			h.cur = chunks.Get().(*chunk)
		}
		c := copy(h.cur.buf[h.cur.n:], p)
		h.cur.n += c
		p = p[c:]
		if h.cur.n == len(h.cur.buf) {
			h.dispatch()
		}
	}
	h.size += int64(n)
	return n, nil
}

// ReadFrom hashes r to EOF, reading straight into the pooled chunks (no extra copy), and
// returns the number of bytes read and the first read error other than io.EOF.
func (h *Hasher) ReadFrom(r io.Reader) (int64, error) {
	if h.summed {
		return 0, errSummed
	}
	var total int64
	for {
		if h.cur == nil {
			h.cur = chunks.Get().(*chunk)
		}
		n, err := r.Read(h.cur.buf[h.cur.n:])
		h.cur.n += n
		total += int64(n)
		h.size += int64(n)
		if h.cur.n == len(h.cur.buf) {
			h.dispatch()
		}
		if err == io.EOF {
			return total, nil
		}
		if err != nil {
			return total, err
		}
	}
}

// Size returns the number of bytes written so far.
func (h *Hasher) Size() int64 { return h.size }

func (h *Hasher) dispatch() {
	c := h.cur
	h.cur = nil
	if h.queues[0] == nil {
		h.start()
	}
	c.refs.Store(int32(len(h.queues)))
	for _, q := range h.queues {
		q <- c
	}
}

func (h *Hasher) start() {
	for i := range h.queues {
		q := make(chan *chunk, queueDepth)
		h.queues[i] = q
		h.wg.Add(1)
		go func(hh hash.Hash) {
			defer h.wg.Done()
			for c := range q {
				hh.Write(c.buf[:c.n]) // hash.Hash.Write never fails
				c.release()
			}
		}(h.hashes[i])
	}
}

// Sum waits for the hashing to finish and returns the digests of everything written.
// It stops the hashing goroutines; further Writes fail.
func (h *Hasher) Sum() domain.Digests {
	if !h.summed {
		h.summed = true
		if h.queues[0] != nil {
			if h.cur != nil && h.cur.n > 0 {
				h.dispatch()
			}
			for _, q := range h.queues {
				close(q)
			}
			h.wg.Wait()
		}
		if h.cur != nil { // no goroutines: hash the short tail inline
			for _, hh := range h.hashes {
				hh.Write(h.cur.buf[:h.cur.n])
			}
			h.cur.n = 0
			chunks.Put(h.cur)
			h.cur = nil
		}
	}
	var d domain.Digests
	h.hashes[0].Sum(d.MD5[:0])
	h.hashes[1].Sum(d.SHA1[:0])
	h.hashes[2].Sum(d.SHA256[:0])
	h.hashes[3].Sum(d.BLAKE3[:0])
	return d
}

// Digest reads r to EOF and returns the four digests of its content and its size, hashing
// in one pass with one goroutine per hash.
func Digest(r io.Reader) (domain.Digests, int64, error) {
	h := NewHasher()
	n, err := h.ReadFrom(r)
	d := h.Sum()
	if err != nil {
		return domain.Digests{}, n, err
	}
	return d, n, nil
}

// DigestBytes returns the four digests of b.
func DigestBytes(b []byte) domain.Digests {
	h := NewHasher()
	_, _ = h.Write(b) // cannot fail before Sum
	return h.Sum()
}

// Blake3 returns the BLAKE3 content address of b.
func Blake3(b []byte) domain.Digest { return domain.Digest(blake3.Sum256(b)) }
