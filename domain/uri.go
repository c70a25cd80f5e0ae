package domain

import (
	"fmt"
	"net/url"
	"strings"
	"unicode"
	"unicode/utf8"
)

// URI schemes Strata understands.
const (
	SchemeDatum   = "datum"
	SchemeDataset = "dataset"
	SchemeS3      = "s3"
	SchemeGS      = "gs"
	SchemeAzure   = "azure"
	SchemeSwift   = "swift"
	SchemeHTTPS   = "https"
	SchemeHTTP    = "http"
)

// DatumURI addresses a datum: datum://<datum-id> or datum://<alias-name>. Exactly one of ID
// and Alias is set. Alias names never look like IDs, so the two forms cannot be confused.
type DatumURI struct {
	ID    DatumID
	Alias string
}

// ParseDatumURI parses datum://<id> (normalising the ID to lowercase) or datum://<alias>.
func ParseDatumURI(s string) (DatumURI, error) {
	rest, err := cutScheme(s, SchemeDatum)
	if err != nil {
		return DatumURI{}, err
	}
	if rest == "" {
		return DatumURI{}, uriError(s, "missing datum ID or alias name after datum://")
	}
	if IsUUID(rest) {
		return DatumURI{ID: DatumID(strings.ToLower(rest))}, nil
	}
	if err := CheckName("alias", rest); err != nil {
		return DatumURI{}, fmt.Errorf("parse uri %.*q: %w", maxQuoteLen, s, err)
	}
	return DatumURI{Alias: rest}, nil
}

// IsZero reports whether u is the zero DatumURI.
func (u DatumURI) IsZero() bool { return u == DatumURI{} }

// String returns the URI, datum://<id> or datum://<alias>.
func (u DatumURI) String() string {
	if u.ID != "" {
		return "datum://" + string(u.ID)
	}
	return "datum://" + u.Alias
}

// MarshalText encodes u as its URI.
func (u DatumURI) MarshalText() ([]byte, error) { return []byte(u.String()), nil }

// UnmarshalText parses a datum URI.
func (u *DatumURI) UnmarshalText(b []byte) (err error) {
	*u, err = ParseDatumURI(string(b))
	return err
}

// DatasetURI addresses a dataset version: dataset://<dataset>/<version-or-alias>. Version is
// a version name or one of the dataset's aliases ("production", "latest").
type DatasetURI struct {
	Dataset string
	Version string
}

// ParseDatasetURI parses dataset://<dataset>/<version-or-alias>.
func ParseDatasetURI(s string) (DatasetURI, error) {
	rest, err := cutScheme(s, SchemeDataset)
	if err != nil {
		return DatasetURI{}, err
	}
	name, version, ok := strings.Cut(rest, "/")
	if name == "" {
		return DatasetURI{}, uriError(s, "missing dataset name after dataset://")
	}
	if !ok || version == "" {
		return DatasetURI{}, uriError(s, "missing version or alias after the dataset name (dataset://<dataset>/<version>)")
	}
	if err := CheckName("dataset", name); err != nil {
		return DatasetURI{}, fmt.Errorf("parse uri %.*q: %w", maxQuoteLen, s, err)
	}
	if err := CheckName("dataset version", version); err != nil {
		return DatasetURI{}, fmt.Errorf("parse uri %.*q: %w", maxQuoteLen, s, err)
	}
	return DatasetURI{Dataset: name, Version: version}, nil
}

// IsZero reports whether u is the zero DatasetURI.
func (u DatasetURI) IsZero() bool { return u == DatasetURI{} }

// String returns the URI, dataset://<dataset>/<version>.
func (u DatasetURI) String() string { return "dataset://" + u.Dataset + "/" + u.Version }

// MarshalText encodes u as its URI.
func (u DatasetURI) MarshalText() ([]byte, error) { return []byte(u.String()), nil }

// UnmarshalText parses a dataset URI.
func (u *DatasetURI) UnmarshalText(b []byte) (err error) {
	*u, err = ParseDatasetURI(string(b))
	return err
}

// StoreURL locates an object or prefix in an external store:
//
//	s3://<bucket>/<key>
//	gs://<bucket>/<key>
//	azure://<account>/<container>/<blob>
//	swift://<project>/<container>/<key>
//	https://<host>[:port]/<path>[?query]   (and http://)
//
// Keys are kept as written (percent-escapes are not decoded) and may hold the wildcards '*'
// (one level) and '**' (recursive). A key may be empty (the whole bucket) and may end in '/'
// (a prefix).
type StoreURL struct {
	Scheme    string // one of s3, gs, azure, swift, https, http; lowercase
	Host      string // bucket (s3, gs), storage account (azure), project (swift), host[:port] (http, https)
	Container string // azure and swift only
	Key       string // object key or path, without the leading '/'
	Query     string // http and https only, without the '?'
}

// ParseStoreURL parses a store URL, rejecting malformed input with an error that says what
// is wrong.
func ParseStoreURL(s string) (StoreURL, error) {
	if err := rawURIProblem(s); err != nil {
		return StoreURL{}, err
	}
	scheme, rest, ok := strings.Cut(s, "://")
	if !ok {
		return StoreURL{}, uriError(s, "missing scheme (want s3://, gs://, azure://, swift:// or https://)")
	}
	u := StoreURL{Scheme: strings.ToLower(scheme)}
	switch u.Scheme {
	case SchemeHTTP, SchemeHTTPS:
		return parseHTTPURL(s, u)
	case SchemeS3, SchemeGS:
		u.Host, u.Key, _ = strings.Cut(rest, "/")
	case SchemeAzure, SchemeSwift:
		var more string
		u.Host, more, _ = strings.Cut(rest, "/")
		u.Container, u.Key, _ = strings.Cut(more, "/")
	default:
		return StoreURL{}, uriError(s, fmt.Sprintf("scheme %q is not a store (want s3, gs, azure, swift or https)", scheme))
	}
	if why := u.hostProblem(); why != "" {
		return StoreURL{}, uriError(s, why)
	}
	if why := keyProblem(u.Key); why != "" {
		return StoreURL{}, uriError(s, why)
	}
	return u, nil
}

func parseHTTPURL(s string, u StoreURL) (StoreURL, error) {
	p, err := url.Parse(s)
	if err != nil {
		return StoreURL{}, uriError(s, "not a URL")
	}
	switch {
	case p.User != nil:
		return StoreURL{}, uriError(s, "credentials in the URL are not allowed")
	case p.Host == "" || p.Hostname() == "":
		return StoreURL{}, uriError(s, "missing host")
	case p.Fragment != "" || strings.Contains(s, "#"):
		return StoreURL{}, uriError(s, "fragment ('#') not allowed")
	}
	u.Host, u.Key, u.Query = strings.ToLower(p.Host), strings.TrimPrefix(p.EscapedPath(), "/"), p.RawQuery
	for _, seg := range strings.Split(u.Key, "/") {
		if seg == "." || seg == ".." {
			return StoreURL{}, uriError(s, fmt.Sprintf("path segment %q not allowed", seg))
		}
	}
	if len(u.Key) > MaxKeyLen {
		return StoreURL{}, uriError(s, fmt.Sprintf("path longer than %d bytes", MaxKeyLen))
	}
	return u, nil
}

// IsZero reports whether u is the zero StoreURL.
func (u StoreURL) IsZero() bool { return u == StoreURL{} }

// String returns the URL in canonical form (lowercase scheme).
func (u StoreURL) String() string {
	var b strings.Builder
	b.WriteString(u.Scheme)
	b.WriteString("://")
	b.WriteString(u.Host)
	if u.Container != "" {
		b.WriteString("/")
		b.WriteString(u.Container)
	}
	if u.Key != "" || u.Query != "" {
		b.WriteString("/")
		b.WriteString(u.Key)
	}
	if u.Query != "" {
		b.WriteString("?")
		b.WriteString(u.Query)
	}
	return b.String()
}

// MarshalText encodes u as its URL.
func (u StoreURL) MarshalText() ([]byte, error) { return []byte(u.String()), nil }

// UnmarshalText parses a store URL.
func (u *StoreURL) UnmarshalText(b []byte) (err error) {
	*u, err = ParseStoreURL(string(b))
	return err
}

// HasWildcard reports whether the key holds a '*' wildcard, so the URL names many objects.
func (u StoreURL) HasWildcard() bool { return strings.Contains(u.Key, "*") }

func (u StoreURL) hostProblem() string {
	switch u.Scheme {
	case SchemeS3:
		return bucketProblem("bucket", u.Host, 3, 63, "abcdefghijklmnopqrstuvwxyz0123456789.-")
	case SchemeGS:
		return bucketProblem("bucket", u.Host, 3, 222, "abcdefghijklmnopqrstuvwxyz0123456789._-")
	case SchemeAzure:
		if why := bucketProblem("storage account", u.Host, 3, 24, "abcdefghijklmnopqrstuvwxyz0123456789"); why != "" {
			return why
		}
		if why := bucketProblem("container", u.Container, 3, 63, "abcdefghijklmnopqrstuvwxyz0123456789-"); why != "" {
			return why
		}
		if strings.Contains(u.Container, "--") {
			return fmt.Sprintf("container %q: '--' not allowed", u.Container)
		}
	case SchemeSwift:
		if err := CheckName("project", u.Host); err != nil {
			return strings.TrimSuffix(err.Error(), ": "+ErrInvalid.Error())
		}
		if err := CheckName("container", u.Container); err != nil {
			return strings.TrimSuffix(err.Error(), ": "+ErrInvalid.Error())
		}
	}
	return ""
}

func bucketProblem(what, s string, min, max int, allowed string) string {
	if s == "" {
		return "missing " + what
	}
	if len(s) < min || len(s) > max {
		return fmt.Sprintf("%s %.*q: must be %d to %d characters", what, maxQuoteLen, s, min, max)
	}
	for i := 0; i < len(s); i++ {
		if !strings.ContainsRune(allowed, rune(s[i])) {
			return fmt.Sprintf("%s %.*q: character %q at offset %d not allowed", what, maxQuoteLen, s, rune(s[i]), i)
		}
	}
	if !isAlnum(s[0]) || !isAlnum(s[len(s)-1]) {
		return fmt.Sprintf("%s %q: must start and end with a letter or digit", what, s)
	}
	if strings.Contains(s, "..") {
		return fmt.Sprintf("%s %q: '..' not allowed", what, s)
	}
	return ""
}

func keyProblem(key string) string {
	if len(key) > MaxKeyLen {
		return fmt.Sprintf("key longer than %d bytes", MaxKeyLen)
	}
	if i := strings.IndexAny(key, "?#\\"); i >= 0 {
		return fmt.Sprintf("character %q in the key must be percent-encoded", rune(key[i]))
	}
	segs := strings.Split(key, "/")
	for i, seg := range segs {
		switch {
		case seg == "." || seg == "..":
			return fmt.Sprintf("key segment %q not allowed", seg)
		case seg == "" && key != "" && i < len(segs)-1:
			return "empty key segment ('//')"
		}
	}
	return ""
}

// InputURI is anything an execution input may name. Exactly one field is set.
type InputURI struct {
	Datum   DatumURI
	Dataset DatasetURI
	Store   StoreURL
}

// ParseInputURI parses a datum://, dataset:// or store URL.
func ParseInputURI(s string) (InputURI, error) {
	scheme, _, _ := strings.Cut(s, "://")
	switch strings.ToLower(scheme) {
	case SchemeDatum:
		u, err := ParseDatumURI(s)
		return InputURI{Datum: u}, err
	case SchemeDataset:
		u, err := ParseDatasetURI(s)
		return InputURI{Dataset: u}, err
	}
	u, err := ParseStoreURL(s)
	return InputURI{Store: u}, err
}

// String returns the URI of whichever field is set.
func (u InputURI) String() string {
	switch {
	case !u.Datum.IsZero():
		return u.Datum.String()
	case !u.Dataset.IsZero():
		return u.Dataset.String()
	}
	return u.Store.String()
}

// CheckRepositoryURL reports whether s is a URL a git repository can be fetched from:
// https://, http://, ssh://, git:// or file:// URLs, or the scp-like form
// [user@]host:path. Passwords and tokens in the URL are refused: events hold no secrets.
func CheckRepositoryURL(s string) error {
	if err := rawURIProblem(s); err != nil {
		return err
	}
	scheme, _, ok := strings.Cut(s, "://")
	if !ok {
		userHost, path, ok := strings.Cut(s, ":")
		_, host, _ := strings.Cut(userHost, "@")
		if !strings.Contains(userHost, "@") {
			host = userHost
		}
		if !ok || host == "" || path == "" || strings.Contains(userHost, "/") {
			return uriError(s, "not a repository URL (want https://, ssh://, git://, file:// or user@host:path)")
		}
		return nil
	}
	p, err := url.Parse(s)
	if err != nil {
		return uriError(s, "not a URL")
	}
	switch strings.ToLower(scheme) {
	case "https", "http", "git":
		if p.User != nil {
			return uriError(s, "credentials in the URL are not allowed")
		}
		if p.Host == "" {
			return uriError(s, "missing host")
		}
	case "ssh":
		if _, hasPassword := p.User.Password(); p.User != nil && hasPassword {
			return uriError(s, "password in the URL is not allowed")
		}
		if p.Host == "" {
			return uriError(s, "missing host")
		}
	case "file":
		if p.Path == "" {
			return uriError(s, "missing path")
		}
	default:
		return uriError(s, fmt.Sprintf("scheme %q is not a repository scheme (want https, http, ssh, git or file)", scheme))
	}
	return nil
}

// CheckCommit reports whether s is a full git commit SHA in lowercase hex (40 digits for
// SHA-1 repositories, 64 for SHA-256 ones).
func CheckCommit(s string) error {
	if s == "" {
		return fmt.Errorf("commit: missing: %w", ErrInvalid)
	}
	if len(s) != 40 && len(s) != 64 {
		return fmt.Errorf("commit %.*q: want 40 or 64 hex digits, got %d characters: %w", maxQuoteLen, s, len(s), ErrInvalid)
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; '0' <= c && c <= '9' || 'a' <= c && c <= 'f' {
			continue
		}
		return fmt.Errorf("commit %.*q: not a lowercase hex digit at offset %d: %w", maxQuoteLen, s, i, ErrInvalid)
	}
	return nil
}

// cutScheme checks the raw text and strips "<scheme>://" (matched case-insensitively).
func cutScheme(s, scheme string) (string, error) {
	if err := rawURIProblem(s); err != nil {
		return "", err
	}
	prefix := scheme + "://"
	if len(s) < len(prefix) || !strings.EqualFold(s[:len(prefix)], prefix) {
		return "", uriError(s, "want a "+prefix+" URI")
	}
	return s[len(prefix):], nil
}

// rawURIProblem rejects what no URI may hold: nothing, too much, bad UTF-8, control
// characters and spaces.
func rawURIProblem(s string) error {
	switch {
	case s == "":
		return fmt.Errorf("parse uri: empty: %w", ErrInvalid)
	case len(s) > MaxURILen:
		return uriError(s, fmt.Sprintf("longer than %d bytes", MaxURILen))
	case !utf8.ValidString(s):
		return uriError(s, "not valid UTF-8")
	}
	for i, r := range s {
		switch {
		case unicode.IsControl(r):
			return uriError(s, fmt.Sprintf("control character %U at offset %d", r, i))
		case unicode.IsSpace(r):
			return uriError(s, fmt.Sprintf("space at offset %d (percent-encode it)", i))
		}
	}
	return nil
}

func uriError(s, why string) error {
	return fmt.Errorf("parse uri %.*q: %s: %w", maxQuoteLen, s, why, ErrInvalid)
}
