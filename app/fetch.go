package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"syscall"

	"github.com/stratahq/strata/domain"
)

// ErrForbiddenAddress: a remote input's host resolves to a loopback, link-local, private
// or otherwise internal address that the allow-list does not permit (server-side request
// forgery protection).
var ErrForbiddenAddress = fmt.Errorf("address not allowed for remote inputs: %w", domain.ErrInvalid)

// errHTTPStatus marks a remote input that answered with an unexpected HTTP status.
var errHTTPStatus = errors.New("unexpected HTTP status")

// ForbiddenAddressError names the address a connection was refused to and why.
type ForbiddenAddressError struct {
	Addr netip.Addr
	Why  string // "loopback", "private", "link-local" ...
}

func (e *ForbiddenAddressError) Error() string {
	return fmt.Sprintf("connect to %s: a %s address, not allowed for remote inputs (add it to the download allow-list to permit it)", e.Addr, e.Why)
}

// Is reports whether target is ErrForbiddenAddress or its kind.
func (e *ForbiddenAddressError) Is(target error) bool {
	return target == ErrForbiddenAddress || target == domain.ErrInvalid
}

var sharedAddressSpace = netip.MustParsePrefix("100.64.0.0/10") // carrier-grade NAT

// addressProblem says what kind of internal address a is, or "" for a public one.
func addressProblem(a netip.Addr) string {
	a = a.Unmap()
	switch {
	case a.IsLoopback():
		return "loopback"
	case a.IsLinkLocalUnicast(), a.IsLinkLocalMulticast():
		return "link-local"
	case a.IsPrivate(), sharedAddressSpace.Contains(a):
		return "private"
	case a.IsUnspecified():
		return "unspecified"
	case a.IsMulticast(), a.IsInterfaceLocalMulticast():
		return "multicast"
	}
	return ""
}

func parseAllow(s string) (netip.Prefix, error) {
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return netip.Prefix{}, fmt.Errorf("download allow-list entry %.80q: not an address or CIDR network: %w", s, domain.ErrInvalid)
		}
		return p.Masked(), nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, fmt.Errorf("download allow-list entry %.80q: not an address or CIDR network: %w", s, domain.ErrInvalid)
	}
	return netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()), nil
}

// checkAddress refuses an internal address that no allow-list entry contains.
func (s *Service) checkAddress(a netip.Addr) error {
	a = a.Unmap()
	why := addressProblem(a)
	if why == "" {
		return nil
	}
	for _, p := range s.allow {
		if p.Contains(a) {
			return nil
		}
	}
	return &ForbiddenAddressError{Addr: a, Why: why}
}

// newHTTPClient returns the client for http(s) inputs: every connection, redirects
// included, is checked by the address it actually dials (after DNS), no proxy from the
// environment is used, and redirects may not leave http(s) or downgrade to http unless
// allowed.
func (s *Service) newHTTPClient(base *http.Transport) *http.Client {
	var t *http.Transport
	if base != nil {
		t = base.Clone()
	} else {
		t = http.DefaultTransport.(*http.Transport).Clone()
	}
	dialer := &net.Dialer{
		Timeout: s.cfg.Download.Timeout,
		Control: func(_, address string, _ syscall.RawConn) error {
			ap, err := netip.ParseAddrPort(address)
			if err != nil {
				return fmt.Errorf("connect to %s: unparsable address: %w", address, ErrForbiddenAddress)
			}
			return s.checkAddress(ap.Addr())
		},
	}
	t.Proxy = nil
	t.DialContext = dialer.DialContext
	t.DialTLSContext = nil
	t.ResponseHeaderTimeout = s.cfg.Download.Timeout
	return &http.Client{
		Transport: t,
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if len(via) >= 10 {
				return fmt.Errorf("more than 10 redirects: %w", domain.ErrInvalid)
			}
			return s.checkScheme(req.URL.Scheme)
		},
	}
}

func (s *Service) checkScheme(scheme string) error {
	switch strings.ToLower(scheme) {
	case domain.SchemeHTTPS:
		return nil
	case domain.SchemeHTTP:
		if s.cfg.Download.AllowHTTP {
			return nil
		}
		return fmt.Errorf("plain http:// inputs are disabled (use https://): %w", domain.ErrInvalid)
	}
	return fmt.Errorf("scheme %q is not http(s): %w", scheme, domain.ErrInvalid)
}

// httpSource reads one http(s) URL, resuming with Range requests.
type httpSource struct {
	s         *Service
	url       string
	validator string // ETag or Last-Modified of the first response, for If-Range
}

// open requests the URL from offset on. It reports whether the response starts at offset
// (false: the server sent the whole content again) and the whole size (-1 if unknown).
func (h *httpSource) open(ctx context.Context, offset int64) (io.ReadCloser, int64, bool, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, h.url, nil)
	if err != nil {
		return nil, 0, false, fmt.Errorf("get %s: %w", h.url, domain.ErrInvalid)
	}
	req.Header.Set("Accept-Encoding", "identity") // the digests are of the bytes as stored
	if offset > 0 {
		req.Header.Set("Range", "bytes="+strconv.FormatInt(offset, 10)+"-")
		if h.validator != "" {
			req.Header.Set("If-Range", h.validator)
		}
	}
	resp, err := h.s.http.Do(req)
	if err != nil {
		if cerr := ctx.Err(); cerr != nil {
			return nil, 0, false, fmt.Errorf("get %s: %w", h.url, cerr)
		}
		var fa *ForbiddenAddressError
		if errors.As(err, &fa) {
			return nil, 0, false, fmt.Errorf("get %s: %w", h.url, fa)
		}
		return nil, 0, false, fmt.Errorf("get %s: %w", h.url, unwrapURLError(err))
	}
	switch {
	case resp.StatusCode == http.StatusPartialContent && offset > 0:
		total := int64(-1)
		if cr := resp.Header.Get("Content-Range"); cr != "" {
			start, size, ok := parseContentRange(cr)
			if !ok || start != offset {
				_ = resp.Body.Close()
				return nil, 0, false, fmt.Errorf("get %s: unexpected Content-Range %q for offset %d: %w", h.url, cr, offset, domain.ErrInvalid)
			}
			total = size
		}
		return resp.Body, total, true, nil
	case resp.StatusCode == http.StatusRequestedRangeNotSatisfiable && offset > 0:
		_ = resp.Body.Close()
		// The part already has everything, or the file shrank: start over to find out.
		return h.open(ctx, 0)
	case resp.StatusCode == http.StatusOK:
		if h.validator == "" {
			if et := resp.Header.Get("ETag"); et != "" && !strings.HasPrefix(et, "W/") {
				h.validator = et
			} else {
				h.validator = resp.Header.Get("Last-Modified")
			}
		}
		return resp.Body, resp.ContentLength, offset == 0, nil
	case resp.StatusCode == http.StatusNotFound || resp.StatusCode == http.StatusGone:
		_ = resp.Body.Close()
		return nil, 0, false, fmt.Errorf("get %s: %s: %w", h.url, resp.Status, domain.ErrNotFound)
	}
	_ = resp.Body.Close()
	return nil, 0, false, fmt.Errorf("get %s: %s: %w", h.url, resp.Status, errHTTPStatus)
}

// unwrapURLError drops *url.Error's quoting of the URL, which the caller already names.
func unwrapURLError(err error) error {
	var ue interface{ Unwrap() error }
	if errors.As(err, &ue) && strings.HasPrefix(err.Error(), "Get ") {
		if inner := ue.Unwrap(); inner != nil {
			return inner
		}
	}
	return err
}

func parseContentRange(s string) (start, size int64, ok bool) {
	rest, found := strings.CutPrefix(s, "bytes ")
	if !found {
		return 0, 0, false
	}
	rng, total, found := strings.Cut(rest, "/")
	if !found {
		return 0, 0, false
	}
	first, _, found := strings.Cut(rng, "-")
	if !found {
		return 0, 0, false
	}
	start, err := strconv.ParseInt(first, 10, 64)
	if err != nil {
		return 0, 0, false
	}
	size = -1
	if total != "*" {
		if size, err = strconv.ParseInt(total, 10, 64); err != nil {
			return 0, 0, false
		}
	}
	return start, size, true
}
