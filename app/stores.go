package app

import (
	"fmt"
	"net"
	"net/url"
	"strings"

	"github.com/stratahq/strata/blob"
	"github.com/stratahq/strata/blob/storecfg"
	"github.com/stratahq/strata/domain"
	"github.com/stratahq/strata/domain/project"
)

// How configured stores and URLs meet
//
// Events never name a configured store: they hold URLs, so the log stays meaningful when
// the server's configuration changes. A configured store (storecfg.Store) has one
// canonical location URL:
//
//	fs     ""                                        (the built-in store)
//	s3     s3://<bucket>[/<prefix>]
//	gcs    gs://<bucket>[/<prefix>]
//	azure  azure://<account>/<container>[/<prefix>]  (account: the credentials' ID, else
//	                                                  the endpoint's first host label, or
//	                                                  its first path segment for an IP or
//	                                                  localhost endpoint such as Azurite)
//	swift  swift://<project>/<container>[/<prefix>]  (project: the credentials' tenant,
//	                                                  else their ID, else "default")
//
// A datum records its store's URL (datum.Created.Store) and the key of its content
// relative to it ("blake3/<hex>"); a project's default store (project.DefaultStoreSet) is
// such a URL too. Reading a datum maps its store URL back to the configured store, so two
// stores may not share a URL (New refuses it), and at most one fs store is configured.
//
// An input store URL (s3://bucket/path/file.csv) is served by the first configured store,
// in configuration order, of the matching kind whose bucket (container) is the URL's bucket
// and, for azure and swift, whose account or project is the URL's: its credentials and
// endpoint read the object with its ObjectReader. The store's prefix does not apply to
// input keys: they are full keys in the bucket.

type storeInfo struct {
	cfg  storecfg.Store
	url  string // canonical location URL; "" for fs
	host string // the URL's host part: bucket, account or project
}

type stores struct {
	cfg    storecfg.Config
	byName map[string]*storeInfo
	byURL  map[string]*storeInfo
	order  []*storeInfo
}

func newStores(cfg storecfg.Config) (*stores, error) {
	s := &stores{cfg: cfg, byName: map[string]*storeInfo{}, byURL: map[string]*storeInfo{}}
	for _, st := range cfg.Stores {
		cr, err := cfg.CredentialsFor(st)
		if err != nil {
			return nil, err
		}
		u, host, err := locationURL(st, cr)
		if err != nil {
			return nil, err
		}
		info := &storeInfo{cfg: st, url: u, host: host}
		if prev, dup := s.byURL[u]; dup {
			return nil, fmt.Errorf("data stores %q and %q have the same location %q: %w", prev.cfg.Name, st.Name, u, domain.ErrInvalid)
		}
		s.byURL[u], s.byName[st.Name] = info, info
		s.order = append(s.order, info)
	}
	return s, nil
}

// locationURL returns the canonical URL of st and its host part.
func locationURL(st storecfg.Store, cr storecfg.Credentials) (string, string, error) {
	prefix := strings.TrimSuffix(st.Prefix, "/")
	join := func(parts ...string) string {
		var out []string
		for _, p := range parts {
			if p != "" {
				out = append(out, p)
			}
		}
		return strings.Join(out, "/")
	}
	var raw, host string
	switch st.Kind {
	case storecfg.KindFS:
		return "", "", nil
	case storecfg.KindS3:
		host, raw = st.Bucket, "s3://"+join(st.Bucket, prefix)
	case storecfg.KindGCS:
		host, raw = st.Bucket, "gs://"+join(st.Bucket, prefix)
	case storecfg.KindAzure:
		host = azureAccount(st, cr)
		raw = "azure://" + join(host, st.Bucket, prefix)
	case storecfg.KindSwift:
		host = cr.Tenant
		if host == "" {
			host = cr.ID
		}
		if host == "" {
			host = "default"
		}
		raw = "swift://" + join(host, st.Bucket, prefix)
	default:
		return "", "", fmt.Errorf("data store %q: unknown kind %q: %w", st.Name, st.Kind, domain.ErrInvalid)
	}
	u, err := domain.ParseStoreURL(raw)
	if err != nil {
		return "", "", fmt.Errorf("data store %q: location: %w", st.Name, err)
	}
	return u.String(), host, nil
}

func azureAccount(st storecfg.Store, cr storecfg.Credentials) string {
	if cr.ID != "" {
		return strings.ToLower(cr.ID)
	}
	u, err := url.Parse(st.Endpoint)
	if err != nil || u.Hostname() == "" {
		return ""
	}
	h := u.Hostname()
	if net.ParseIP(h) != nil || h == "localhost" {
		seg, _, _ := strings.Cut(strings.TrimPrefix(u.Path, "/"), "/")
		return strings.ToLower(seg)
	}
	label, _, _ := strings.Cut(h, ".")
	return strings.ToLower(label)
}

// byLocation returns the configured store whose location URL is u ("" for fs).
func (s *stores) byLocation(u string) (*storeInfo, error) {
	if info, ok := s.byURL[u]; ok {
		return info, nil
	}
	if u == "" {
		return nil, fmt.Errorf("the built-in (fs) data store is not configured: %w", storecfg.ErrUnknownStore)
	}
	return nil, fmt.Errorf("no configured data store is located at %s: %w", u, storecfg.ErrUnknownStore)
}

// forInput returns the configured store that serves the store URL u.
func (s *stores) forInput(u domain.StoreURL) (*storeInfo, error) {
	for _, info := range s.order {
		c := info.cfg
		var ok bool
		switch u.Scheme {
		case domain.SchemeS3:
			ok = c.Kind == storecfg.KindS3 && c.Bucket == u.Host
		case domain.SchemeGS:
			ok = c.Kind == storecfg.KindGCS && c.Bucket == u.Host
		case domain.SchemeAzure:
			ok = c.Kind == storecfg.KindAzure && c.Bucket == u.Container && info.host == u.Host
		case domain.SchemeSwift:
			ok = c.Kind == storecfg.KindSwift && c.Bucket == u.Container && info.host == u.Host
		}
		if ok {
			return info, nil
		}
	}
	where := u.Host
	if u.Container != "" {
		where += "/" + u.Container
	}
	return nil, fmt.Errorf("no configured data store serves %s://%s: %w", u.Scheme, where, storecfg.ErrUnknownStore)
}

// upload returns the store an upload of project p goes to: the one named (a step's
// upload-store or the request's choice), else the project's recorded default, else the
// configured defaults.
func (s *stores) upload(p project.State, named string) (*storeInfo, error) {
	projectStore := ""
	if u, ok := p.Store(""); ok {
		info, err := s.byLocation(u)
		if err != nil {
			return nil, fmt.Errorf("project %s default store: %w", p.ID(), err)
		}
		projectStore = info.cfg.Name
	}
	if named != "" {
		// A project may redirect a store name to a location of its own.
		if u, ok := p.Store(named); ok {
			info, err := s.byLocation(u)
			if err != nil {
				return nil, fmt.Errorf("project %s store %q: %w", p.ID(), named, err)
			}
			named = info.cfg.Name
		}
	}
	st, err := s.cfg.Upload(string(p.ID()), projectStore, named)
	if err != nil {
		return nil, err
	}
	return s.byName[st.Name], nil
}

func (s *Service) blobStore(info *storeInfo) (blob.Store, error) {
	b, ok := s.blobs[info.cfg.Name]
	if !ok || b == nil {
		return nil, fmt.Errorf("data store %q has no blob store wired: %w", info.cfg.Name, storecfg.ErrUnknownStore)
	}
	return b, nil
}

func (s *Service) objectReader(info *storeInfo) (ObjectReader, error) {
	o, ok := s.objects[info.cfg.Name]
	if !ok || o == nil {
		return nil, fmt.Errorf("data store %q cannot read objects by key: %w", info.cfg.Name, storecfg.ErrUnknownStore)
	}
	return o, nil
}

// contentKey returns the key of content d relative to its store's location URL.
