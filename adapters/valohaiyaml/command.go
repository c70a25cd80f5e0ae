package valohaiyaml

import (
	"errors"
	"fmt"
	"math"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// This file renders commands the way Valohai does (valohai-yaml's
// commands.py and Parameter.format_cli), including Python's str() of values,
// so that a step runs with the same argv here as there.

// FormatCLI returns the command-line arguments that pass value for p,
// unquoted, or nil when the parameter is left out (a nil value, a false
// flag without pass-false-as, an empty multiple list).
//
// The pass-as template (default "--{name}={value}", "--{name}" for flags)
// is split on whitespace and each piece formatted with {name}, {value} and
// {v}. Flags use pass-true-as / pass-false-as when either is set and follow
// Python truthiness, so pass a bool. Multiple parameters take a []any:
// repeat emits the template once per value, separate joins the values with
// the separator into one {value}.
func (p *Parameter) FormatCLI(value any) ([]string, error) {
	tmpl := p.passAsTemplate(value)
	if tmpl == "" {
		return nil, nil
	}
	bits := strings.Fields(tmpl)
	format := func(v any) ([]string, error) {
		out := make([]string, 0, len(bits))
		for _, b := range bits {
			s, err := formatTemplate(b, p.Name, v)
			if err != nil {
				return nil, fmt.Errorf("parameter %q: pass-as: %w", p.Name, err)
			}
			out = append(out, s)
		}
		return out, nil
	}
	switch p.Multiple {
	case MultipleRepeat:
		var out []string
		for _, atom := range listify(value) {
			if _, nested := atom.([]any); nested {
				return nil, fmt.Errorf("parameter %q: nested list value %s not allowed: %w", p.Name, pyRepr(atom), ErrInvalid)
			}
			bs, err := format(atom)
			if err != nil {
				return nil, err
			}
			out = append(out, bs...)
		}
		return out, nil
	case MultipleSeparate:
		atoms := listify(value)
		if len(atoms) == 0 {
			return nil, nil
		}
		strs := make([]string, len(atoms))
		for i, a := range atoms {
			strs[i] = pyStr(a)
		}
		sep := p.MultipleSeparator
		if sep == "" {
			sep = ","
		}
		return format(strings.Join(strs, sep))
	default:
		if _, isList := value.([]any); isList {
			return nil, fmt.Errorf("parameter %q: list value %s for a non-multiple parameter not allowed: %w", p.Name, pyRepr(value), ErrInvalid)
		}
		return format(value)
	}
}

func (p *Parameter) passAsTemplate(value any) string {
	if p.Type == TypeFlag {
		if p.PassTrueAs != "" || p.PassFalseAs != "" {
			if truthy(value) {
				return p.PassTrueAs
			}
			return p.PassFalseAs
		}
		if !truthy(value) {
			return ""
		}
	}
	if value == nil {
		return ""
	}
	if p.PassAs != "" {
		return p.PassAs
	}
	if p.Type == TypeFlag {
		return "--{name}"
	}
	return "--{name}={value}"
}

// Errors of formatTemplate; their text follows Python's str.format messages.
var (
	errSingleClose            = errors.New("single '}' encountered")
	errSingleOpen             = errors.New("single '{' encountered")
	errUnsupportedPlaceholder = errors.New("unsupported placeholder")
	errUnknownPlaceholder     = errors.New("unknown placeholder")
	errUnknownConversion      = errors.New("unknown conversion")
)

// formatTemplate is Python's str.format_map with {name}, {value} and {v}:
// "{{" and "}}" are literal braces, "!s" and "!r" conversions are allowed,
// format specs are not.
func formatTemplate(tmpl, name string, value any) (string, error) {
	var b strings.Builder
	for i := 0; i < len(tmpl); i++ {
		c := tmpl[i]
		switch {
		case c == '{' && i+1 < len(tmpl) && tmpl[i+1] == '{':
			b.WriteByte('{')
			i++
		case c == '}' && i+1 < len(tmpl) && tmpl[i+1] == '}':
			b.WriteByte('}')
			i++
		case c == '}':
			return "", fmt.Errorf("%w in %q", errSingleClose, tmpl)
		case c == '{':
			end := strings.IndexByte(tmpl[i:], '}')
			if end < 0 {
				return "", fmt.Errorf("%w in %q", errSingleOpen, tmpl)
			}
			field := tmpl[i+1 : i+end]
			conv := "s"
			if k := strings.IndexByte(field, '!'); k >= 0 {
				field, conv = field[:k], field[k+1:]
			}
			if strings.ContainsAny(field, ":[.{") || strings.Contains(conv, ":") {
				return "", fmt.Errorf("%w {%s} in %q; use {name}, {value} or {v}", errUnsupportedPlaceholder, tmpl[i+1:i+end], tmpl)
			}
			var v any
			switch field {
			case "name":
				v = name
			case "value", "v":
				v = value
			default:
				return "", fmt.Errorf("%w {%s} in %q; use {name}, {value} or {v}", errUnknownPlaceholder, field, tmpl)
			}
			switch conv {
			case "s":
				b.WriteString(pyStr(v))
			case "r":
				b.WriteString(pyRepr(v))
			default:
				return "", fmt.Errorf("%w !%s in %q", errUnknownConversion, conv, tmpl)
			}
			i += end
		default:
			b.WriteByte(c)
		}
	}
	return b.String(), nil
}

var interpolation = regexp.MustCompile(`\{(.+?)\}`)

// BuildCommand interpolates placeholders into each command and returns the
// commands trimmed, one per entry:
//
//   - {parameters} and {params}: every parameter with a value, in
//     declaration order, each argument shell-quoted;
//   - {parameter:NAME}: that parameter's arguments, shell-quoted;
//   - {parameter-value:NAME}: the bare value, shell-quoted;
//   - {KEY} for KEY in special (e.g. "source-path"): that string, shell-quoted.
//
// Anything else in braces, such as the shell's ${VAR}, or a NAME that is
// not a parameter (or, for parameter-value, has no value), is left as it is.
// values maps parameter names to values as FormatCLI takes them.
func BuildCommand(commands []string, params []*Parameter, values map[string]any, special map[string]string) ([]string, error) {
	order, byName := uniqueParameters(params)
	var firstErr error
	fail := func(err error) {
		if firstErr == nil {
			firstErr = err
		}
	}
	replace := func(m string) string {
		key := m[1 : len(m)-1]
		if v, ok := special[key]; ok {
			return Quote(v)
		}
		if key == "parameters" || key == "params" {
			var args []string
			for _, name := range order {
				bits, err := byName[name].FormatCLI(values[name])
				if err != nil {
					fail(err)
				}
				args = append(args, bits...)
			}
			return quoteMultiple(args)
		}
		if name, ok := strings.CutPrefix(key, "parameter:"); ok {
			if p := byName[name]; p != nil {
				bits, err := p.FormatCLI(values[name])
				if err != nil {
					fail(err)
				}
				return quoteMultiple(bits)
			}
		}
		if name, ok := strings.CutPrefix(key, "parameter-value:"); ok {
			if v, ok := values[name]; ok {
				return Quote(pyStr(v))
			}
		}
		return m
	}
	out := make([]string, 0, len(commands))
	for _, c := range commands {
		out = append(out, strings.TrimSpace(interpolation.ReplaceAllStringFunc(c, replace)))
	}
	if firstErr != nil {
		return nil, firstErr
	}
	return out, nil
}

// uniqueParameters orders parameters like a Python dict keyed by name:
// first position, last definition.
func uniqueParameters(params []*Parameter) ([]string, map[string]*Parameter) {
	var order []string
	byName := make(map[string]*Parameter, len(params))
	for _, p := range params {
		if _, seen := byName[p.Name]; !seen {
			order = append(order, p.Name)
		}
		byName[p.Name] = p
	}
	return order, byName
}

// BuildCommand renders the step's commands (see the package-level
// BuildCommand) with values laid over the defaults of its non-flag
// parameters: as in Valohai, a flag stays unset unless values sets it. The
// step's SourcePath is available as {source-path}.
func (s *Step) BuildCommand(values map[string]any) ([]string, error) {
	merged := make(map[string]any, len(s.Parameters)+len(values))
	for _, p := range s.Parameters {
		if p.Default != nil && p.Type != TypeFlag {
			merged[p.Name] = p.Default
		}
	}
	for k, v := range values {
		merged[k] = v
	}
	special := map[string]string{}
	if s.SourcePath != "" {
		special["source-path"] = s.SourcePath
	}
	return BuildCommand(s.Command, s.Parameters, merged, special)
}

// DefaultValues returns the defaults of the step's parameters that have
// one, flags included, keyed by name.
func (s *Step) DefaultValues() map[string]any {
	out := map[string]any{}
	for _, p := range s.Parameters {
		if p.Default != nil {
			out[p.Name] = p.Default
		}
	}
	return out
}

// Quote returns s quoted for a POSIX shell the way Python's shlex.quote
// does: unchanged when it has only safe characters, else in single quotes.
func Quote(s string) string {
	if s == "" {
		return "''"
	}
	safe := true
	for i := 0; i < len(s) && safe; i++ {
		c := s[i]
		safe = c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("@%+=:,./-_", c) >= 0
	}
	if safe {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'"'"'`) + "'"
}

func quoteMultiple(args []string) string {
	q := make([]string, len(args))
	for i, a := range args {
		q[i] = Quote(a)
	}
	return strings.Join(q, " ")
}

// Validate checks value against p as Valohai does when an execution is
// created (type, min, max, choices; one value unless multiple) and returns
// it converted: integers to int64, floats to float64, multiple values to a
// []any. The error lists every problem and matches ErrInvalid.
func (p *Parameter) Validate(value any) (any, error) {
	var msgs []string
	if _, isList := value.([]any); isList && p.Multiple == MultipleNone {
		msgs = append(msgs, "only a single value is allowed")
	}
	if value == nil {
		msgs = append(msgs, "no value supplied")
	}
	var out []any
	for _, atom := range listify(value) {
		if _, nested := atom.([]any); nested {
			msgs = append(msgs, fmt.Sprintf("nested list %s not allowed", pyRepr(atom)))
			continue
		}
		atom, ms := p.convert(atom)
		msgs = append(msgs, ms...)
		msgs = append(msgs, p.checkRange(atom)...)
		out = append(out, atom)
	}
	if len(msgs) > 0 {
		return nil, &ValueError{Parameter: p.Name, Problems: msgs}
	}
	if p.Multiple != MultipleNone {
		return out, nil
	}
	return out[0], nil
}

// ValueError is a parameter value Validate refused, with every problem found. It matches
// ErrInvalid; its message names the parameter and the problems only, since the value, not
// the file, is at fault.
type ValueError struct {
	Parameter string
	Problems  []string
}

func (e *ValueError) Error() string {
	return fmt.Sprintf("parameter %q: %s", e.Parameter, strings.Join(e.Problems, "; "))
}

// Is reports whether target is ErrInvalid.
func (e *ValueError) Is(target error) bool { return target == ErrInvalid }

// check returns the messages Valohai's validation gives for one value.
func (p *Parameter) check(atom any) []string {
	atom, msgs := p.convert(atom)
	return append(msgs, p.checkRange(atom)...)
}

// convert is int(str(v), 10) for integers and float(str(v)) for floats.
func (p *Parameter) convert(atom any) (any, []string) {
	s := strings.TrimSpace(pyStr(atom))
	switch p.Type {
	case TypeInteger:
		i, err := strconv.ParseInt(strings.ReplaceAll(s, "_", ""), 10, 64)
		if err != nil || strings.HasPrefix(s, "_") || strings.HasSuffix(s, "_") || strings.Contains(s, "__") {
			if atom == "" {
				return atom, []string{"no value supplied"}
			}
			return atom, []string{fmt.Sprintf("%s is not an integer", pyStr(atom))}
		}
		return i, nil
	case TypeFloat:
		f, err := strconv.ParseFloat(strings.ReplaceAll(s, "_", ""), 64)
		if err != nil {
			if atom == "" {
				return atom, []string{"no value supplied"}
			}
			return atom, []string{fmt.Sprintf("%s is not a floating-point number", pyStr(atom))}
		}
		return f, nil
	}
	return atom, nil
}

func (p *Parameter) checkRange(atom any) []string {
	var msgs []string
	if f, ok := toFloat(atom); ok {
		if p.Min != nil && f < *p.Min {
			msgs = append(msgs, fmt.Sprintf("%s is less than the minimum allowed (%s)", pyStr(atom), formatNumber(*p.Min)))
		}
		if p.Max != nil && f > *p.Max {
			msgs = append(msgs, fmt.Sprintf("%s is greater than the maximum allowed (%s)", pyStr(atom), formatNumber(*p.Max)))
		}
	}
	if p.Choices != nil && p.Type != TypeFlag {
		found := false
		for _, c := range p.Choices {
			found = found || pyEqual(atom, c)
		}
		if !found {
			msgs = append(msgs, fmt.Sprintf("%s is not among the choices allowed (%s)", pyStr(atom), pyRepr(p.Choices)))
		}
	}
	return msgs
}

func toFloat(v any) (float64, bool) {
	switch v := v.(type) {
	case int64:
		return float64(v), true
	case int:
		return float64(v), true
	case float64:
		return v, true
	case bool:
		if v {
			return 1, true
		}
		return 0, true
	}
	return 0, false
}

func pyEqual(a, b any) bool {
	fa, okA := toFloat(a)
	fb, okB := toFloat(b)
	if okA && okB {
		return fa == fb
	}
	sa, okA := a.(string)
	sb, okB := b.(string)
	return okA && okB && sa == sb
}

// listify is valohai-yaml's: nil → [], a list as is, anything else → [v].
func listify(v any) []any {
	switch v := v.(type) {
	case nil:
		return []any{}
	case []any:
		return v
	case []string:
		out := make([]any, len(v))
		for i, s := range v {
			out[i] = s
		}
		return out
	}
	return []any{v}
}

// truthy is Python truthiness.
func truthy(v any) bool {
	switch v := v.(type) {
	case nil:
		return false
	case bool:
		return v
	case string:
		return v != ""
	case []any:
		return len(v) > 0
	case map[string]any:
		return len(v) > 0
	}
	if f, ok := toFloat(v); ok {
		return f != 0
	}
	return true
}

// pyStr is Python's str() of a plain value.
func pyStr(v any) string {
	switch v := v.(type) {
	case nil:
		return "None"
	case string:
		return v
	case bool:
		if v {
			return "True"
		}
		return "False"
	case int64:
		return strconv.FormatInt(v, 10)
	case int:
		return strconv.Itoa(v)
	case float64:
		return pyFloat(v)
	}
	return pyRepr(v)
}

// pyRepr is Python's repr() of a plain value.
func pyRepr(v any) string {
	switch v := v.(type) {
	case string:
		return pyQuote(v)
	case []any:
		parts := make([]string, len(v))
		for i, x := range v {
			parts[i] = pyRepr(x)
		}
		return "[" + strings.Join(parts, ", ") + "]"
	case map[string]any:
		keys := make([]string, 0, len(v))
		for k := range v {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		parts := make([]string, len(keys))
		for i, k := range keys {
			parts[i] = pyQuote(k) + ": " + pyRepr(v[k])
		}
		return "{" + strings.Join(parts, ", ") + "}"
	case nil, bool, int64, int, float64:
		return pyStr(v)
	}
	return fmt.Sprint(v)
}

func pyQuote(s string) string {
	q := byte('\'')
	if strings.ContainsRune(s, '\'') && !strings.ContainsRune(s, '"') {
		q = '"'
	}
	var b strings.Builder
	b.WriteByte(q)
	for _, r := range s {
		switch {
		case r == '\\':
			b.WriteString(`\\`)
		case r == rune(q):
			b.WriteByte('\\')
			b.WriteRune(r)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case r < 0x20 || r == 0x7f:
			fmt.Fprintf(&b, `\x%02x`, r)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte(q)
	return b.String()
}

// pyFloat is Python's repr() of a float: the shortest round-tripping
// digits, fixed notation for exponents in [-4, 16), with ".0" on integers.
func pyFloat(f float64) string {
	switch {
	case math.IsInf(f, 1):
		return "inf"
	case math.IsInf(f, -1):
		return "-inf"
	case math.IsNaN(f):
		return "nan"
	}
	if f == 0 {
		if math.Signbit(f) {
			return "-0.0"
		}
		return "0.0"
	}
	exp := int(math.Floor(math.Log10(math.Abs(f))))
	e := strconv.FormatFloat(f, 'e', -1, 64)
	if k := strings.IndexByte(e, 'e'); k >= 0 {
		exp, _ = strconv.Atoi(e[k+1:])
	}
	if exp < -4 || exp >= 16 {
		return e
	}
	s := strconv.FormatFloat(f, 'f', -1, 64)
	if !strings.ContainsRune(s, '.') {
		s += ".0"
	}
	return s
}
