package storecfg

import (
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"regexp"
	"slices"
	"strings"

	"github.com/stratahq/strata/domain"
)

// Secret is a credential value (a secret access key, an account key, a service-account
// JSON document). Every way of printing it, logging it or encoding it as JSON or text
// gives Redacted; Reveal returns the value for the one call that authenticates.
type Secret string

// Redacted is what a non-empty Secret prints as.
const Redacted = "[redacted]"

// Reveal returns the secret value; call it only where a client is built.
func (s Secret) Reveal() string { return string(s) }

// String returns Redacted, or "" for an empty secret.
func (s Secret) String() string {
	if s == "" {
		return ""
	}
	return Redacted
}

// GoString returns Redacted, so %#v hides the value too.
func (s Secret) GoString() string { return fmt.Sprintf("%q", s.String()) }

// Format prints Redacted for every verb (%s, %v, %q, %x, %d ...).
func (s Secret) Format(f fmt.State, verb rune) {
	if verb == 'q' || (verb == 'v' && f.Flag('#')) {
		_, _ = fmt.Fprintf(f, "%q", s.String()) // Format cannot report a write error
		return
	}
	_, _ = fmt.Fprint(f, s.String()) // Format cannot report a write error
}

// LogValue keeps the value out of slog output.
func (s Secret) LogValue() slog.Value { return slog.StringValue(s.String()) }

// MarshalText encodes Redacted, so JSON, YAML and text encoders never write the value.
func (s Secret) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// Kind is the technology of a store.
type Kind string

// The kinds of store Strata has adapters for.
const (
	KindFS    Kind = "fs"    // a local directory (the embedded default)
	KindS3    Kind = "s3"    // Amazon S3 or an S3-compatible server
	KindGCS   Kind = "gcs"   // Google Cloud Storage
	KindAzure Kind = "azure" // Azure Blob Storage
	KindSwift Kind = "swift" // OpenStack Swift
)

// Kinds lists every Kind.
var Kinds = []Kind{KindFS, KindS3, KindGCS, KindAzure, KindSwift}

// Store names one data store. It holds no secret: Credentials names an entry of Secrets.
type Store struct {
	Name string // unique; what events and valohai.yaml's upload-store refer to
	Kind Kind
	// Bucket is the S3 or GCS bucket, the Azure or Swift container; for fs, the directory.
	Bucket string
	// Prefix is prepended to every key, so several stores can share a bucket ("" or ending in "/").
	Prefix string
	// Endpoint is the service URL for S3-compatible servers, Azure (account URL), Swift
	// (auth URL) and GCS emulators; "" means the provider's default.
	Endpoint string
	Region   string // S3 region, Swift region
	// Credentials names the entry of Secrets used to authenticate; "" means the ambient
	// credentials of the machine (instance role, workload identity).
	Credentials string
}

// Credentials authenticate to one store. ID is not secret (an access key ID, an account
// name, a Swift user); Secret and Token are.
type Credentials struct {
	ID     string
	Secret Secret
	Token  Secret // a session token or Swift tenant/domain token where the kind needs one
	// Tenant is the Swift tenant (project) or Azure tenant; not secret.
	Tenant string
}

// Config is the data-store configuration of a server: the stores, the organization's
// default, per-project defaults, and the secrets the stores refer to by name.
type Config struct {
	Stores  []Store
	Default string // the organization's default store name
	// Projects maps a project (name or ID) to its default store name, overriding Default.
	Projects map[string]string
	// Secrets maps a credentials name to its value. Only cmd fills it, from the server's
	// secret configuration; it is never part of an event.
	Secrets map[string]Credentials
}

var (
	// ErrUnknownStore: a store name that the configuration does not define.
	ErrUnknownStore = fmt.Errorf("unknown data store: %w", domain.ErrNotFound)
	// ErrNoStore: nothing names a store and there is no organization default.
	ErrNoStore = fmt.Errorf("no data store configured: %w", domain.ErrInvalid)
)

var validName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$`)

// Validate reports every problem with c, joined. Messages name stores and credentials
// entries, never secret values.
func (c Config) Validate() error {
	var errs []error
	bad := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: %w", fmt.Sprintf(format, args...), domain.ErrInvalid))
	}
	seen := map[string]bool{}
	for i, s := range c.Stores {
		switch {
		case !validName.MatchString(s.Name):
			bad("data store #%d: name %.80q must be 1-63 letters, digits, '.', '_' or '-'", i+1, s.Name)
		case seen[s.Name]:
			bad("data store %q: defined twice", s.Name)
		}
		seen[s.Name] = true
		if !slices.Contains(Kinds, s.Kind) {
			bad("data store %q: kind %.40q is not one of %v", s.Name, s.Kind, Kinds)
		}
		if s.Bucket == "" {
			bad("data store %q: bucket (container, directory) is required", s.Name)
		}
		if s.Prefix != "" && !strings.HasSuffix(s.Prefix, "/") {
			bad("data store %q: prefix %.80q must end in '/'", s.Name, s.Prefix)
		}
		if s.Kind == KindSwift && s.Endpoint == "" {
			bad("data store %q: a swift store needs its auth URL as endpoint", s.Name)
		}
		if s.Credentials != "" {
			if _, ok := c.Secrets[s.Credentials]; !ok {
				bad("data store %q: credentials %q are not in the secret configuration", s.Name, s.Credentials)
			}
		}
	}
	if c.Default != "" && !seen[c.Default] {
		bad("default data store %q is not defined", c.Default)
	}
	for _, p := range slices.Sorted(maps.Keys(c.Projects)) {
		if name := c.Projects[p]; !seen[name] {
			bad("project %q: default data store %q is not defined", p, name)
		}
	}
	return errors.Join(errs...)
}

// Lookup returns the store called name, or an error matching ErrUnknownStore.
func (c Config) Lookup(name string) (Store, error) {
	for _, s := range c.Stores {
		if s.Name == name {
			return s, nil
		}
	}
	return Store{}, fmt.Errorf("look up %q: %w", name, ErrUnknownStore)
}

// Upload returns the store an upload goes to: stepStore (a step's upload-store, or a
// store the request names) when set, else the project's default (projectStore, as recorded
// on the project, then Projects[project]), else the organization default. A name that is
// set but undefined is an error matching ErrUnknownStore, never a silent fallback; no store
// at all is ErrNoStore.
func (c Config) Upload(project, projectStore, stepStore string) (Store, error) {
	for _, name := range []string{stepStore, projectStore, c.Projects[project], c.Default} {
		if name != "" {
			return c.Lookup(name)
		}
	}
	return Store{}, fmt.Errorf("choose the data store for project %q: %w", project, ErrNoStore)
}

// CredentialsFor returns the credentials s refers to; the zero Credentials (ambient ones)
// when s names none.
func (c Config) CredentialsFor(s Store) (Credentials, error) {
	if s.Credentials == "" {
		return Credentials{}, nil
	}
	cr, ok := c.Secrets[s.Credentials]
	if !ok {
		return Credentials{}, fmt.Errorf("data store %q: credentials %q: %w", s.Name, s.Credentials, domain.ErrNotFound)
	}
	return cr, nil
}
