package domain

import (
	"fmt"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Length limits shared by the aggregates, in bytes.
const (
	MaxNameLen  = 128  // names addressed in URIs: aliases, datasets, versions, stores
	MaxSlugLen  = 64   // project and environment slugs
	MaxTextLen  = 1024 // one-line free text: titles, step names, reasons
	MaxTagLen   = 128  // one tag
	MaxUserLen  = 128  // a user ID
	MaxURILen   = 2048 // any URI or URL
	MaxKeyLen   = 1024 // an object key in a store
	maxQuoteLen = 80   // how much of a bad value an error message quotes
)

// UserID identifies a person or machine acting on Strata ("alice", "alice@example.com",
// "runner:host-1"). Identity is the auth layer's business; the domain only records it.
type UserID string

// ParseUserID parses a user ID: 1 to MaxUserLen bytes of UTF-8 without spaces or control
// characters.
func ParseUserID(s string) (UserID, error) {
	if err := CheckUser(UserID(s)); err != nil {
		return "", fmt.Errorf("parse %w", err)
	}
	return UserID(s), nil
}

// CheckUser reports whether u is a valid user ID.
func CheckUser(u UserID) error {
	s := string(u)
	if s == "" {
		return fmt.Errorf("user: missing: %w", ErrInvalid)
	}
	if why := textProblem(s, MaxUserLen); why != "" {
		return fmt.Errorf("user %.*q: %s: %w", maxQuoteLen, s, why, ErrInvalid)
	}
	if i := strings.IndexFunc(s, unicode.IsSpace); i >= 0 {
		return fmt.Errorf("user %.*q: space at offset %d: %w", maxQuoteLen, s, i, ErrInvalid)
	}
	return nil
}

// CheckText reports whether s is acceptable one-line free text of at most max bytes:
// non-empty, valid UTF-8, no control characters, not only spaces. what names the field in
// the error.
func CheckText(what, s string, max int) error {
	if strings.TrimSpace(s) == "" {
		return fmt.Errorf("%s: missing: %w", what, ErrInvalid)
	}
	if why := textProblem(s, max); why != "" {
		return fmt.Errorf("%s %.*q: %s: %w", what, maxQuoteLen, s, why, ErrInvalid)
	}
	return nil
}

// CheckName reports whether s is a valid name for something addressed in a URI (a datum
// alias, a dataset, a dataset version or alias, a store): 1 to MaxNameLen characters of
// ASCII letters, digits, '.', '_' and '-', starting with a letter or digit.
func CheckName(what, s string) error {
	if s == "" {
		return fmt.Errorf("%s: missing: %w", what, ErrInvalid)
	}
	if len(s) > MaxNameLen {
		return fmt.Errorf("%s %.*q: longer than %d bytes: %w", what, maxQuoteLen, s, MaxNameLen, ErrInvalid)
	}
	if !isAlnum(s[0]) {
		return fmt.Errorf("%s %.*q: must start with a letter or digit: %w", what, maxQuoteLen, s, ErrInvalid)
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !isAlnum(c) && c != '.' && c != '_' && c != '-' {
			return fmt.Errorf("%s %.*q: character %q at offset %d not allowed (letters, digits, '.', '_', '-'): %w", what, maxQuoteLen, s, rune(c), i, ErrInvalid)
		}
	}
	return nil
}

// CheckSlug reports whether s is a valid slug: 1 to MaxSlugLen lowercase ASCII letters,
// digits and single '-' between them ("my-project", "gpu-a100-x1").
func CheckSlug(what, s string) error {
	if s == "" {
		return fmt.Errorf("%s: missing: %w", what, ErrInvalid)
	}
	if len(s) > MaxSlugLen {
		return fmt.Errorf("%s %.*q: longer than %d bytes: %w", what, maxQuoteLen, s, MaxSlugLen, ErrInvalid)
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', '0' <= c && c <= '9':
		case c == '-' && i > 0 && i < len(s)-1 && s[i-1] != '-':
		default:
			return fmt.Errorf("%s %.*q: character %q at offset %d not allowed (lowercase letters, digits, single inner '-'): %w", what, maxQuoteLen, s, rune(c), i, ErrInvalid)
		}
	}
	return nil
}

// NormalizeTags validates tags (each is one-line text of at most MaxTagLen bytes, without
// leading or trailing space) and returns them without duplicates, in their first-seen order.
func NormalizeTags(tags []string) ([]string, error) {
	var out []string
	for _, t := range tags {
		if err := CheckText("tag", t, MaxTagLen); err != nil {
			return nil, err
		}
		if strings.TrimSpace(t) != t {
			return nil, fmt.Errorf("tag %.*q: leading or trailing space: %w", maxQuoteLen, t, ErrInvalid)
		}
		if !slices.Contains(out, t) {
			out = append(out, t)
		}
	}
	return out, nil
}

// TagsToAdd normalizes tags and keeps those not in have: what adding them changes.
func TagsToAdd(have, tags []string) ([]string, error) {
	tags, err := NormalizeTags(tags)
	if err != nil {
		return nil, fmt.Errorf("add tags: %w", err)
	}
	return slices.DeleteFunc(tags, func(t string) bool { return slices.Contains(have, t) }), nil
}

// TagsToRemove normalizes tags and keeps those in have: what removing them changes.
func TagsToRemove(have, tags []string) ([]string, error) {
	tags, err := NormalizeTags(tags)
	if err != nil {
		return nil, fmt.Errorf("remove tags: %w", err)
	}
	return slices.DeleteFunc(tags, func(t string) bool { return !slices.Contains(have, t) }), nil
}

// textProblem says what keeps s from being acceptable one-line text, or "" if nothing does.
func textProblem(s string, max int) string {
	if len(s) > max {
		return fmt.Sprintf("longer than %d bytes", max)
	}
	if !utf8.ValidString(s) {
		return "not valid UTF-8"
	}
	for i, r := range s {
		if unicode.IsControl(r) || r == '\u2028' || r == '\u2029' {
			return fmt.Sprintf("control character %U at offset %d", r, i)
		}
	}
	return ""
}

func isAlnum(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9'
}

// CheckPath reports whether p is a clean relative slash-separated path of at most
// MaxKeyLen bytes ("model.pb", "checkpoints/epoch-3.pt"): no leading '/', no empty, "." or
// ".." segment, no backslash or control character.
func CheckPath(what, p string) error {
	if p == "" {
		return fmt.Errorf("%s: missing: %w", what, ErrInvalid)
	}
	if why := textProblem(p, MaxKeyLen); why != "" {
		return fmt.Errorf("%s %.*q: %s: %w", what, maxQuoteLen, p, why, ErrInvalid)
	}
	if strings.Contains(p, `\`) {
		return fmt.Errorf("%s %.*q: backslash not allowed: %w", what, maxQuoteLen, p, ErrInvalid)
	}
	for _, seg := range strings.Split(p, "/") {
		if seg == "" || seg == "." || seg == ".." {
			return fmt.Errorf("%s %.*q: segment %q not allowed (want a clean relative path): %w", what, maxQuoteLen, p, seg, ErrInvalid)
		}
	}
	return nil
}
