package execution

import (
	"fmt"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/stratahq/strata/domain"
)

// ParameterType is the type of a step parameter, as in valohai.yaml.
type ParameterType string

// The parameter types. The empty type means TypeString, as in valohai.yaml.
const (
	TypeString  ParameterType = "string"
	TypeInteger ParameterType = "integer"
	TypeFloat   ParameterType = "float"
	TypeFlag    ParameterType = "flag"
)

// Multiple says whether a parameter takes a list of values and how the command line
// receives them ("repeat": once per value; "separate": joined by a separator). The domain
// only needs to know whether a list is allowed; rendering is the caller's business.
type Multiple string

// The multiple modes. The empty mode is the same as MultipleNone.
const (
	MultipleNone     Multiple = "none"
	MultipleRepeat   Multiple = "repeat"
	MultipleSeparate Multiple = "separate"
)

// IsList reports whether m allows a list of values.
func (m Multiple) IsList() bool { return m == MultipleRepeat || m == MultipleSeparate }

// Limits on parameter values.
const (
	MaxParameterValueLen = 64 << 10 // bytes of one value
	MaxParameterValues   = 1000     // values of one multiple parameter
)

// ParameterDef is one parameter of a step definition: the valohai.yaml parameter item
// reduced to what validation needs. The valohai.yaml adapter converts to it; pass-as and
// widgets stay there because the rendered commands arrive already built.
type ParameterDef struct {
	Name     string
	Type     ParameterType // "" means TypeString
	Default  []string      // nil: no default; more than one value only when Multiple is a list
	Optional bool          // flags are always optional
	Min, Max *float64      // integer and float only; nil: unbounded
	Choices  []string      // not for flags
	Multiple Multiple      // not for flags
}

// Parameter is one parameter value as recorded on Created: typed, validated against its
// definition, defaults applied. Values hold the canonical text of each value (integers in
// base 10, floats in Go's shortest 'g' form, flags as "true" or "false"); one value unless
// Multiple is a list. It is part of the Created event's stored schema.
type Parameter struct {
	Name     string        `json:"name"`
	Type     ParameterType `json:"type"`
	Multiple Multiple      `json:"multiple,omitempty"`
	Values   []string      `json:"values"`
}

// Value returns p as a JSON-ready Go value, as parameters.json holds it: int64, float64,
// string or bool, or a []any of them when p is a list parameter.
func (p Parameter) Value() any {
	one := func(s string) any {
		switch p.Type {
		case TypeInteger:
			n, _ := strconv.ParseInt(s, 10, 64)
			return n
		case TypeFloat:
			f, _ := strconv.ParseFloat(s, 64)
			return f
		case TypeFlag:
			return s == "true"
		}
		return s
	}
	if !p.Multiple.IsList() {
		if len(p.Values) == 0 {
			return nil
		}
		return one(p.Values[0])
	}
	out := make([]any, len(p.Values))
	for i, v := range p.Values {
		out[i] = one(v)
	}
	return out
}

func (d ParameterDef) typ() ParameterType {
	if d.Type == "" {
		return TypeString
	}
	return d.Type
}

// Check reports whether the definition itself is usable: a known type, bounds and choices
// that fit the type, min not above max.
func (d ParameterDef) Check() error {
	if err := domain.CheckText("parameter name", d.Name, domain.MaxNameLen); err != nil {
		return err
	}
	bad := func(why string, args ...any) error {
		return fmt.Errorf("parameter %q: %s: %w", d.Name, fmt.Sprintf(why, args...), domain.ErrInvalid)
	}
	t := d.typ()
	switch t {
	case TypeString, TypeInteger, TypeFloat, TypeFlag:
	default:
		return bad("unknown type %q (want integer, float, string or flag)", d.Type)
	}
	switch d.Multiple {
	case "", MultipleNone, MultipleRepeat, MultipleSeparate:
	default:
		return bad("unknown multiple mode %q (want none, repeat or separate)", d.Multiple)
	}
	if (d.Min != nil || d.Max != nil) && t != TypeInteger && t != TypeFloat {
		return bad("min and max apply to integer and float parameters only")
	}
	for _, b := range []*float64{d.Min, d.Max} {
		if b != nil && (math.IsNaN(*b) || math.IsInf(*b, 0)) {
			return bad("min and max must be finite")
		}
	}
	if d.Min != nil && d.Max != nil && *d.Min > *d.Max {
		return bad("min %g is above max %g", *d.Min, *d.Max)
	}
	if t == TypeFlag && len(d.Choices) > 0 {
		return bad("a flag takes no choices")
	}
	if t == TypeFlag && d.Multiple.IsList() {
		return bad("a flag cannot be multiple")
	}
	for _, c := range d.Choices {
		if _, why := canonical(t, c); why != "" {
			return bad("choice %.80q: %s", c, why)
		}
	}
	return nil
}

// Validate checks values against d and returns the recorded Parameter. With no values the
// default applies; with no default either, a flag is false, an optional parameter is
// omitted (ok is false) and a required one is an error.
func (d ParameterDef) Validate(values []string) (p Parameter, ok bool, err error) {
	if err := d.Check(); err != nil {
		return Parameter{}, false, err
	}
	t := d.typ()
	bad := func(why string, args ...any) (Parameter, bool, error) {
		return Parameter{}, false, fmt.Errorf("parameter %q: %s: %w", d.Name, fmt.Sprintf(why, args...), domain.ErrInvalid)
	}
	source := "value"
	if len(values) == 0 {
		values, source = d.Default, "default"
	}
	if len(values) == 0 {
		switch {
		case t == TypeFlag:
			values = []string{"false"}
		case d.Optional:
			return Parameter{}, false, nil
		default:
			return bad("required, and no value or default given")
		}
	}
	if len(values) > 1 && !d.Multiple.IsList() {
		return bad("only a single value is allowed, got %d", len(values))
	}
	if len(values) > MaxParameterValues {
		return bad("more than %d values", MaxParameterValues)
	}
	p = Parameter{Name: d.Name, Type: t, Values: make([]string, len(values))}
	if d.Multiple.IsList() {
		p.Multiple = d.Multiple
	}
	for i, v := range values {
		c, why := canonical(t, v)
		if why != "" {
			return bad("%s %.80q: %s", source, v, why)
		}
		if t == TypeInteger || t == TypeFloat {
			f, _ := strconv.ParseFloat(c, 64)
			if d.Min != nil && f < *d.Min {
				return bad("%s %s is below the minimum %g", source, c, *d.Min)
			}
			if d.Max != nil && f > *d.Max {
				return bad("%s %s is above the maximum %g", source, c, *d.Max)
			}
		}
		if len(d.Choices) > 0 && !slices.ContainsFunc(d.Choices, func(ch string) bool { cc, _ := canonical(t, ch); return cc == c }) {
			return bad("%s %.80q is not one of the choices %q", source, v, d.Choices)
		}
		p.Values[i] = c
	}
	return p, true, nil
}

// ValidateParameters validates the given values (by parameter name) against the step's
// definitions and returns the recorded parameters in declaration order. A name that the
// step does not define, or a definition declared twice, is an error.
func ValidateParameters(defs []ParameterDef, given map[string][]string) ([]Parameter, error) {
	seen := make(map[string]bool, len(defs))
	var out []Parameter
	for _, d := range defs {
		if seen[d.Name] {
			return nil, fmt.Errorf("parameter %q: defined twice: %w", d.Name, domain.ErrInvalid)
		}
		seen[d.Name] = true
		p, ok, err := d.Validate(given[d.Name])
		if err != nil {
			return nil, err
		}
		if ok {
			out = append(out, p)
		}
	}
	var unknown []string
	for name := range given {
		if !seen[name] {
			unknown = append(unknown, name)
		}
	}
	if len(unknown) > 0 {
		sort.Strings(unknown)
		return nil, fmt.Errorf("parameter %q: not defined by the step: %w", unknown[0], domain.ErrInvalid)
	}
	return out, nil
}

// canonical parses v as type t and returns its canonical text, or why it cannot.
func canonical(t ParameterType, v string) (text, why string) {
	switch t {
	case TypeInteger:
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return "", "not a base-10 integer"
		}
		return strconv.FormatInt(n, 10), ""
	case TypeFloat:
		f, err := strconv.ParseFloat(v, 64)
		if err != nil || math.IsNaN(f) || math.IsInf(f, 0) || strings.ContainsAny(v, "xXpP_") {
			return "", "not a finite decimal number"
		}
		return strconv.FormatFloat(f, 'g', -1, 64), ""
	case TypeFlag:
		switch strings.ToLower(v) {
		case "true", "yes", "1":
			return "true", ""
		case "false", "no", "0":
			return "false", ""
		}
		return "", "not a flag value (true, false, yes, no, 1 or 0)"
	}
	switch {
	case len(v) > MaxParameterValueLen:
		return "", fmt.Sprintf("longer than %d bytes", MaxParameterValueLen)
	case !utf8.ValidString(v):
		return "", "not valid UTF-8"
	case strings.ContainsRune(v, 0):
		return "", "NUL character not allowed"
	}
	return v, ""
}
