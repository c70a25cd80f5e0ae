package main

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
)

// progress draws "uploading x [=====>    ]  45%  12.3 MiB of 27.0 MiB  4.1 MiB/s  5s left" on
// one line of w, for any long job: transfers, verification, import, rebuild. Quick jobs
// (under half a second) print nothing.
type progress struct {
	w           io.Writer
	label       string
	total       int64 // 0 or less: unknown
	start, last time.Time
	n           int64
	quiet       time.Duration      // how long before the first line
	amount      func(int64) string // renders a quantity: "12.3 MiB", "12345 events"
}

// newByteProgress measures bytes.
func newByteProgress(w io.Writer, label string, total int64) *progress {
	return &progress{w: w, label: label, total: total, start: time.Now(), quiet: 500 * time.Millisecond, amount: humanBytes}
}

// newCountProgress measures a number of things, such as events; set total when it is known.
func newCountProgress(w io.Writer, label, noun string) *progress {
	p := newByteProgress(w, label, 0)
	p.amount = func(n int64) string { return strconv.FormatInt(n, 10) + " " + noun }
	return p
}

// count is update for callbacks that count in ints.
func (p *progress) count(n int) { p.update(int64(n)) }

func (p *progress) update(n int64) {
	p.n = n
	now := time.Now()
	if now.Sub(p.start) < p.quiet || now.Sub(p.last) < 200*time.Millisecond {
		return
	}
	p.last = now
	_, _ = io.WriteString(p.w, "\r"+p.line(now.Sub(p.start))) // a terminal that fails to draw changes nothing
}

// line renders the progress after elapsed.
func (p *progress) line(elapsed time.Duration) string {
	rate := float64(p.n) / max(elapsed.Seconds(), 1e-3)
	if p.total <= 0 {
		return fmt.Sprintf("%s %s  %s/s    ", p.label, p.amount(p.n), p.amount(int64(rate)))
	}
	const width = 24
	frac := min(float64(p.n)/float64(p.total), 1)
	fill := int(frac * width)
	bar := strings.Repeat("=", fill)
	if fill < width {
		bar += ">" + strings.Repeat(" ", width-fill-1)
	}
	eta := "--"
	if rate > 0 {
		eta = time.Duration(float64(p.total-p.n) / rate * float64(time.Second)).Round(time.Second).String()
	}
	return fmt.Sprintf("%s [%s] %3.0f%%  %s of %s  %s/s  %s left    ", p.label, bar, frac*100, p.amount(p.n), p.amount(p.total), p.amount(int64(rate)), eta)
}

func (p *progress) done() {
	if !p.last.IsZero() {
		elapsed := time.Since(p.start)
		fmt.Fprintf(p.w, "\r%s %s in %s (%s/s)%s\n", p.label, p.amount(p.n), elapsed.Round(time.Millisecond),
			p.amount(int64(float64(p.n)/max(elapsed.Seconds(), 1e-3))), strings.Repeat(" ", 40))
	}
}
