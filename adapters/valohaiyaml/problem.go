package valohaiyaml

import (
	"errors"
	"fmt"
	"strings"
)

// ErrInvalid is matched (with errors.Is) by the error Parse returns when the
// configuration has at least one problem of severity Error.
var ErrInvalid = errors.New("invalid valohai.yaml")

// Severity says whether a Problem makes the configuration unusable.
type Severity int

const (
	// Error marks a problem that Valohai rejects: the configuration cannot be used.
	Error Severity = iota
	// Warning marks a problem that Valohai only warns about: the configuration is still usable.
	Warning
)

// String returns "error" or "warning".
func (s Severity) String() string {
	if s == Warning {
		return "warning"
	}
	return "error"
}

// Problem is one error or warning found in a configuration file, located
// like a compiler diagnostic.
type Problem struct {
	File     string   // the name given to Parse
	Line     int      // 1-based; 0 when the problem concerns the whole file
	Column   int      // 1-based; 0 when unknown
	Field    string   // path of the offending field, e.g. `step "train": parameter "lr": min`
	Message  string   // what is wrong, e.g. "5 is greater than max 1"
	Severity Severity // Error or Warning
}

// String formats p as "file:line: field: message", with "warning: " before the
// field for warnings, like a compiler does.
func (p Problem) String() string {
	var b strings.Builder
	b.WriteString(p.File)
	if p.Line > 0 {
		fmt.Fprintf(&b, ":%d", p.Line)
	}
	b.WriteString(": ")
	if p.Severity == Warning {
		b.WriteString("warning: ")
	}
	if p.Field != "" {
		b.WriteString(p.Field)
		b.WriteString(": ")
	}
	b.WriteString(p.Message)
	return b.String()
}

// HasErrors reports whether any of problems has severity Error.
func HasErrors(problems []Problem) bool {
	for _, p := range problems {
		if p.Severity == Error {
			return true
		}
	}
	return false
}

// InvalidError is returned by Parse when the configuration has errors. It
// matches ErrInvalid and carries every problem found, warnings included.
type InvalidError struct {
	File     string
	Problems []Problem
}

// Error names the file, the number of errors and the first one.
func (e *InvalidError) Error() string {
	n := 0
	var first *Problem
	for i := range e.Problems {
		if e.Problems[i].Severity == Error {
			if first == nil {
				first = &e.Problems[i]
			}
			n++
		}
	}
	if first == nil {
		return fmt.Sprintf("parse %s: no errors", e.File)
	}
	if n == 1 {
		return fmt.Sprintf("parse %s: %s", e.File, first)
	}
	return fmt.Sprintf("parse %s: %s (and %d more errors)", e.File, first, n-1)
}

// Is makes errors.Is(err, ErrInvalid) true.
func (e *InvalidError) Is(target error) bool { return target == ErrInvalid }
