package domain

import (
	"fmt"
	"math"
	"math/bits"
	"strconv"
	"strings"
	"time"
)

// Money is an amount of US dollars in millionths (micro-dollars), exact in integer
// arithmetic. Environment prices and execution costs are Money. Its text form is a decimal
// number of dollars ("0.9", "12.345678").
type Money int64

// ParseMoney parses a non-negative decimal amount of dollars with at most six fractional
// digits ("0", "0.90", "12.5").
func ParseMoney(s string) (Money, error) {
	bad := func(why string) (Money, error) {
		return 0, fmt.Errorf("parse amount %.*q: %s: %w", maxQuoteLen, s, why, ErrInvalid)
	}
	if s == "" {
		return bad("empty")
	}
	whole, frac, hasDot := strings.Cut(s, ".")
	if whole == "" || hasDot && frac == "" {
		return bad("want digits on both sides of '.'")
	}
	if len(frac) > 6 {
		return bad("more than 6 fractional digits")
	}
	for _, part := range []string{whole, frac} {
		for i := 0; i < len(part); i++ {
			if part[i] < '0' || part[i] > '9' {
				return bad("not a non-negative decimal number")
			}
		}
	}
	w, err := strconv.ParseInt(whole, 10, 64)
	if err != nil || w > math.MaxInt64/1_000_000-1 {
		return bad("too large")
	}
	f, _ := strconv.ParseInt((frac + "000000")[:6], 10, 64)
	return Money(w*1e6 + f), nil
}

// String returns m as a decimal number of dollars without trailing zeros ("0.9").
func (m Money) String() string {
	b := make([]byte, 0, 28)
	u := uint64(m)
	if m < 0 {
		b, u = append(b, '-'), -u
	}
	b = strconv.AppendUint(b, u/1e6, 10)
	if frac := u % 1e6; frac != 0 {
		n := len(b)
		b = strconv.AppendUint(b, 1e6+frac, 10) // 1 and the six digits
		b[n] = '.'
		for b[len(b)-1] == '0' {
			b = b[:len(b)-1]
		}
	}
	return string(b)
}

// MarshalText encodes m as a decimal number of dollars.
func (m Money) MarshalText() ([]byte, error) { return []byte(m.String()), nil }

// UnmarshalText decodes a decimal number of dollars.
func (m *Money) UnmarshalText(b []byte) (err error) {
	*m, err = ParseMoney(string(b))
	return err
}

// PerHour returns the cost of running for d at m per hour, rounded down to a micro-dollar.
// A negative m or d costs nothing; a result beyond the range of Money saturates.
func (m Money) PerHour(d time.Duration) Money {
	if m <= 0 || d <= 0 {
		return 0
	}
	hi, lo := bits.Mul64(uint64(m), uint64(d))
	if hi >= uint64(time.Hour) {
		return math.MaxInt64
	}
	q, _ := bits.Div64(hi, lo, uint64(time.Hour))
	if q > math.MaxInt64 {
		return math.MaxInt64
	}
	return Money(q)
}
