package valohaiyaml

import (
	"errors"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"gopkg.in/yaml.v3"
)

// This file checks the syntax of stop-condition and action `if` expressions.
// Valohai evaluates them with leval, a safe subset of Python expressions, so
// this is a recursive-descent recognizer for Python expression syntax:
// literals, names, attribute access, subscripts, calls, unary and binary
// operators, comparisons (chained, with `in`, `not in`, `is`, `is not`),
// `not`/`and`/`or`, conditional expressions, tuples and lists.

// maxExprDepth bounds the parser's recursion on nested parentheses.
const maxExprDepth = 100

// Errors of CheckExpression, wrapped with the column and the offending text.
var (
	errSyntax           = errors.New("invalid syntax")
	errUnterminated     = errors.New("unterminated string literal")
	errInvalidCharacter = errors.New("invalid character")
	errTooDeep          = fmt.Errorf("expression nests deeper than %d levels", maxExprDepth)
)

// CheckExpression reports whether expr is a syntactically valid expression
// for a stop-condition or a node action's `if`.
func CheckExpression(expr string) error {
	toks, err := tokenize(expr)
	if err != nil {
		return err
	}
	p := &exprParser{toks: toks}
	if err := p.expr(0); err != nil {
		return err
	}
	if p.peek().kind != tokEOF {
		return p.syntaxError("")
	}
	return nil
}

func (d *decoder) expression(n *yaml.Node, field, expr string) {
	if err := CheckExpression(expr); err != nil {
		d.errorf(resolve(n), field, "%q is not a valid expression: %v", expr, err)
	}
}

type tokKind int

const (
	tokEOF tokKind = iota
	tokName
	tokNumber
	tokString
	tokOp
)

type token struct {
	kind tokKind
	text string
	col  int // 1-based, in runes
}

var threeCharOps = []string{"**=", "//=", ">>=", "<<="}
var twoCharOps = []string{"**", "//", "<=", ">=", "==", "!=", "<<", ">>"}

const oneCharOps = "()[]{},.:+-*/%<>~&|^@"

var keywords = map[string]bool{
	"and": true, "or": true, "not": true, "in": true, "is": true, "if": true, "else": true,
	"lambda": true, "for": true, "while": true, "def": true, "class": true, "return": true,
	"import": true, "from": true, "as": true, "with": true, "try": true, "except": true,
	"finally": true, "raise": true, "pass": true, "break": true, "continue": true,
	"del": true, "global": true, "nonlocal": true, "assert": true, "yield": true,
	"elif": true, "async": true, "await": true,
}

func tokenize(s string) ([]token, error) {
	var toks []token
	col := 0
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		col++
		start := col
		switch {
		case r == ' ' || r == '\t' || r == '\n' || r == '\r':
			i += size
		case r == '\'' || r == '"':
			j := i + 1
			closed := false
			for j < len(s) {
				if s[j] == '\\' {
					j += 2
					continue
				}
				if s[j] == '\n' {
					break
				}
				if rune(s[j]) == r {
					closed = true
					break
				}
				j++
			}
			if !closed {
				return nil, fmt.Errorf("%w at column %d", errUnterminated, start)
			}
			toks = append(toks, token{tokString, s[i : j+1], start})
			col += utf8.RuneCountInString(s[i+1 : j+1])
			i = j + 1
		case r < utf8.RuneSelf && (r >= '0' && r <= '9' || r == '.' && i+1 < len(s) && s[i+1] >= '0' && s[i+1] <= '9'):
			j := scanNumber(s, i)
			if j < len(s) && isNameRune(rune(s[j])) {
				return nil, fmt.Errorf("%w at column %d: bad number %q", errSyntax, start, s[i:j+1])
			}
			toks = append(toks, token{tokNumber, s[i:j], start})
			col += j - i - 1
			i = j
		case isNameStart(r):
			j := i + size
			for j < len(s) {
				r2, sz := utf8.DecodeRuneInString(s[j:])
				if !isNameRune(r2) {
					break
				}
				j += sz
			}
			toks = append(toks, token{tokName, s[i:j], start})
			col += utf8.RuneCountInString(s[i:j]) - 1
			i = j
		default:
			op := ""
			for _, cands := range [][]string{threeCharOps, twoCharOps} {
				for _, c := range cands {
					if op == "" && strings.HasPrefix(s[i:], c) {
						op = c
					}
				}
			}
			if op == "" && strings.ContainsRune(oneCharOps, r) {
				op = string(r)
			}
			if op == "" {
				return nil, fmt.Errorf("%w %q at column %d", errInvalidCharacter, r, start)
			}
			toks = append(toks, token{tokOp, op, start})
			col += len(op) - 1
			i += len(op)
		}
	}
	return append(toks, token{tokEOF, "", col + 1}), nil
}

func isNameStart(r rune) bool { return r == '_' || unicode.IsLetter(r) }
func isNameRune(r rune) bool  { return r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r) }

type exprParser struct {
	toks []token
	pos  int
}

func (p *exprParser) peek() token { return p.toks[p.pos] }
func (p *exprParser) next() token {
	t := p.toks[p.pos]
	if t.kind != tokEOF {
		p.pos++
	}
	return t
}

func (p *exprParser) is(kind tokKind, text string) bool {
	t := p.peek()
	return t.kind == kind && t.text == text
}

func (p *exprParser) accept(kind tokKind, text string) bool {
	if p.is(kind, text) {
		p.pos++
		return true
	}
	return false
}

// syntaxError reports errSyntax at the next token; expected, when not empty,
// says what should have come there ("expected 'else'").
func (p *exprParser) syntaxError(expected string) error {
	if expected != "" {
		expected = ", " + expected
	}
	t := p.peek()
	if t.kind == tokEOF {
		return fmt.Errorf("%w%s: unexpected end of expression", errSyntax, expected)
	}
	return fmt.Errorf("%w%s at column %d near %q", errSyntax, expected, t.col, t.text)
}

// expr := or_test ['if' or_test 'else' expr]
func (p *exprParser) expr(depth int) error {
	if depth > maxExprDepth {
		return errTooDeep
	}
	if err := p.binary(depth, 0); err != nil {
		return err
	}
	if p.accept(tokName, "if") {
		if err := p.binary(depth, 0); err != nil {
			return err
		}
		if !p.accept(tokName, "else") {
			return p.syntaxError("expected 'else'")
		}
		return p.expr(depth + 1)
	}
	return nil
}

// binary levels, loosest first; "not" and comparisons are handled specially.
var binaryLevels = [][]string{
	{"or"}, {"and"}, nil /* not */, nil, /* comparison */
	{"|"}, {"^"}, {"&"}, {"<<", ">>"}, {"+", "-"}, {"*", "/", "//", "%", "@"},
}

func (p *exprParser) binary(depth, level int) error {
	if depth > maxExprDepth {
		return errTooDeep
	}
	if level == len(binaryLevels) {
		return p.factor(depth)
	}
	switch level {
	case 2: // not_test
		if p.accept(tokName, "not") {
			return p.binary(depth+1, level)
		}
		return p.binary(depth, level+1)
	case 3: // comparison
		if err := p.binary(depth, level+1); err != nil {
			return err
		}
		for p.compOp() {
			if err := p.binary(depth, level+1); err != nil {
				return err
			}
		}
		return nil
	}
	if err := p.binary(depth, level+1); err != nil {
		return err
	}
	for p.binOp(binaryLevels[level]) {
		if err := p.binary(depth, level+1); err != nil {
			return err
		}
	}
	return nil
}

func (p *exprParser) binOp(ops []string) bool {
	t := p.peek()
	for _, op := range ops {
		if t.text == op && (t.kind == tokOp || t.kind == tokName && keywords[op]) {
			p.pos++
			return true
		}
	}
	return false
}

func (p *exprParser) compOp() bool {
	for _, op := range []string{"<", ">", "==", ">=", "<=", "!="} {
		if p.accept(tokOp, op) {
			return true
		}
	}
	if p.accept(tokName, "in") {
		return true
	}
	if p.is(tokName, "not") && p.pos+1 < len(p.toks) && p.toks[p.pos+1].kind == tokName && p.toks[p.pos+1].text == "in" {
		p.pos += 2
		return true
	}
	if p.accept(tokName, "is") {
		p.accept(tokName, "not")
		return true
	}
	return false
}

// factor := ('+'|'-'|'~') factor | power
func (p *exprParser) factor(depth int) error {
	if depth > maxExprDepth {
		return errTooDeep
	}
	if p.accept(tokOp, "+") || p.accept(tokOp, "-") || p.accept(tokOp, "~") {
		return p.factor(depth + 1)
	}
	if err := p.atomExpr(depth); err != nil {
		return err
	}
	if p.accept(tokOp, "**") {
		return p.factor(depth + 1)
	}
	return nil
}

// atomExpr := atom trailer*
func (p *exprParser) atomExpr(depth int) error {
	if err := p.atom(depth); err != nil {
		return err
	}
	for {
		switch {
		case p.accept(tokOp, "."):
			if t := p.peek(); t.kind != tokName || keywords[t.text] {
				return p.syntaxError("expected an attribute name")
			}
			p.next()
		case p.accept(tokOp, "("):
			if err := p.sequence(depth, ")"); err != nil {
				return err
			}
		case p.accept(tokOp, "["):
			if err := p.subscript(depth); err != nil {
				return err
			}
		default:
			return nil
		}
	}
}

func (p *exprParser) subscript(depth int) error {
	// expr, or a slice [a:b:c] with every part optional
	parts := 0
	for {
		if !p.is(tokOp, ":") && !p.is(tokOp, "]") {
			if err := p.expr(depth + 1); err != nil {
				return err
			}
		}
		if p.accept(tokOp, "]") {
			return nil
		}
		if !p.accept(tokOp, ":") || parts == 2 {
			return p.syntaxError("expected ']'")
		}
		parts++
	}
}

// sequence parses comma-separated expressions up to the closing bracket.
func (p *exprParser) sequence(depth int, closer string) error {
	for {
		if p.accept(tokOp, closer) {
			return nil
		}
		if err := p.expr(depth + 1); err != nil {
			return err
		}
		if p.accept(tokOp, closer) {
			return nil
		}
		if !p.accept(tokOp, ",") {
			return p.syntaxError(fmt.Sprintf("expected ',' or '%s'", closer))
		}
	}
}

func (p *exprParser) atom(depth int) error {
	t := p.peek()
	switch {
	case t.kind == tokNumber:
		p.next()
		return nil
	case t.kind == tokString:
		for p.peek().kind == tokString { // implicit concatenation
			p.next()
		}
		return nil
	case t.kind == tokName && !keywords[t.text]:
		p.next()
		if p.peek().kind == tokString && len(t.text) <= 2 && strings.Trim(strings.ToLower(t.text), "rbuf") == "" {
			p.next() // string prefix such as r"..." or b'...'
		}
		return nil
	case t.kind == tokOp && t.text == "(":
		p.next()
		return p.sequence(depth, ")")
	case t.kind == tokOp && t.text == "[":
		p.next()
		return p.sequence(depth, "]")
	}
	return p.syntaxError("")
}

// scanNumber returns the end of the Python number literal starting at i.
func scanNumber(s string, i int) int {
	digits := func(j int) int {
		for j < len(s) && (s[j] >= '0' && s[j] <= '9' || s[j] == '_') {
			j++
		}
		return j
	}
	if s[i] == '0' && i+1 < len(s) && strings.ContainsRune("xXoObB", rune(s[i+1])) {
		j := i + 2
		for j < len(s) && (s[j] >= '0' && s[j] <= '9' || s[j] >= 'a' && s[j] <= 'f' || s[j] >= 'A' && s[j] <= 'F' || s[j] == '_') {
			j++
		}
		return j
	}
	j := digits(i)
	if j < len(s) && s[j] == '.' {
		j = digits(j + 1)
	}
	if j < len(s) && (s[j] == 'e' || s[j] == 'E') {
		k := j + 1
		if k < len(s) && (s[k] == '+' || s[k] == '-') {
			k++
		}
		if k < len(s) && s[k] >= '0' && s[k] <= '9' {
			j = digits(k)
		}
	}
	if j < len(s) && (s[j] == 'j' || s[j] == 'J') {
		j++
	}
	return j
}
