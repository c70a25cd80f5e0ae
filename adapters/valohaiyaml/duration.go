package valohaiyaml

import (
	"errors"
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

var durationPart = regexp.MustCompile(`^([0-9]*\.?[0-9]+|[0-9]+\.)\s*([a-zA-Z]+)`)

// durationUnits maps the first letter of a unit to its length.
var durationUnits = map[byte]time.Duration{
	's': time.Second,
	'm': time.Minute,
	'h': time.Hour,
	'd': 24 * time.Hour,
	'w': 7 * 24 * time.Hour,
}

// maxDuration keeps sums far from overflowing time.Duration (about 292 years).
const maxDuration = 100 * 365 * 24 * time.Hour

// Errors of ParseDuration, wrapped with the duration and the offending part.
var (
	errDurationEmpty       = errors.New("is empty")
	errDurationNoUnit      = errors.New("has no unit (s, m, h, d or w)")
	errDurationSyntax      = errors.New("cannot parse")
	errDurationUnknownUnit = errors.New("unknown unit")
	errDurationTooLong     = errors.New("is longer than 100 years")
	errDurationNotPositive = errors.New("is not positive")
)

// ParseDuration parses a Valohai duration string: a sequence of
// <number><unit> parts, summed, where the unit's first letter is one of s, m,
// h, d or w ("1h 30m 5s", "48h", "1.5 days"). The total must be positive.
func ParseDuration(s string) (time.Duration, error) {
	rest := strings.TrimSpace(s)
	if rest == "" {
		return 0, fmt.Errorf("duration %q %w", s, errDurationEmpty)
	}
	var total float64
	for rest != "" {
		m := durationPart.FindStringSubmatch(rest)
		if m == nil {
			if _, err := strconv.ParseFloat(rest, 64); err == nil {
				return 0, fmt.Errorf("duration %q: %q %w", s, rest, errDurationNoUnit)
			}
			return 0, fmt.Errorf("duration %q: %w %q; write e.g. \"1h 30m 5s\"", s, errDurationSyntax, rest)
		}
		unit, ok := durationUnits[strings.ToLower(m[2])[0]]
		if !ok {
			return 0, fmt.Errorf("duration %q: %w %q (use s, m, h, d or w)", s, errDurationUnknownUnit, m[2])
		}
		v, err := strconv.ParseFloat(m[1], 64)
		if err != nil {
			return 0, fmt.Errorf("duration %q: %w", s, err)
		}
		total += v * float64(unit)
		if total > float64(maxDuration) {
			return 0, fmt.Errorf("duration %q %w", s, errDurationTooLong)
		}
		rest = strings.TrimLeft(rest[len(m[0]):], " \t,")
	}
	if total <= 0 || math.IsNaN(total) {
		return 0, fmt.Errorf("duration %q %w", s, errDurationNotPositive)
	}
	return time.Duration(total).Round(time.Second), nil
}

// duration decodes time-limit and no-output-timeout: integer seconds or a duration string.
func (d *decoder) duration(n *yaml.Node, field string) (time.Duration, bool) {
	r := resolve(n)
	if r != nil && r.Kind == yaml.ScalarNode {
		switch r.ShortTag() {
		case "!!int":
			i, ok := d.integer(r, field)
			if !ok {
				return 0, false
			}
			if i < 0 || time.Duration(i) > maxDuration/time.Second {
				d.errorf(r, field, "%d seconds is out of range", i)
				return 0, false
			}
			return time.Duration(i) * time.Second, true
		case "!!str":
			if _, isBool := isYAML11Bool(r); !isBool {
				if strings.TrimSpace(r.Value) == "" {
					return 0, true
				}
				v, err := ParseDuration(r.Value)
				if err != nil {
					d.errorf(r, field, "%v", err)
					return 0, false
				}
				return v, true
			}
		}
	}
	d.errorf(r, field, "must be integer seconds or a duration such as \"1h 30m\", got %s", describe(r))
	return 0, false
}
