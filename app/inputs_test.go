package app_test

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/uuid"

	"github.com/stratahq/strata/adapters/fs"
	"github.com/stratahq/strata/app"
	"github.com/stratahq/strata/blob"
	"github.com/stratahq/strata/blob/storecfg"
	"github.com/stratahq/strata/domain"
	"github.com/stratahq/strata/domain/alias"
	"github.com/stratahq/strata/domain/dataset"
	"github.com/stratahq/strata/domain/datum"
	"github.com/stratahq/strata/domain/execution"
)

// bucketDir writes files (key → content) into a directory read as the "team-data" bucket.
func bucketDir(t *testing.T, files map[string]string) *fs.Objects {
	o, _ := bucketAt(t, files)
	return o
}

func bucketAt(t *testing.T, files map[string]string) (*fs.Objects, string) {
	t.Helper()
	dir := t.TempDir()
	for k, v := range files {
		p := filepath.Join(dir, filepath.FromSlash(k))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(v), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	o, err := fs.NewObjects(dir)
	if err != nil {
		t.Fatal(err)
	}
	return o, dir
}

func TestService_ResolveInput(t *testing.T) {
	t.Parallel()
	bucket := bucketDir(t, map[string]string{
		"data/a.csv": "a", "data/b.csv": "bb", "data/readme.md": "r", "data/sub/c.csv": "ccc", "data/sub/deep/d.csv": "dddd",
	})
	h := newHarness(t, withObjects("team", bucket), withDownload(app.DownloadConfig{AllowHTTP: false}))
	ctx := h.ctx(bob) // a viewer may resolve
	up := func(name, content string) domain.DatumID {
		t.Helper()
		res, err := h.svc.Upload(h.ctx(alice), app.Upload{Project: h.project, Name: name, Content: strings.NewReader(content)})
		if err != nil {
			t.Fatal(err)
		}
		return res.Datum.ID
	}
	d1, d2, gone := up("model.pb", "weights"), up("labels.txt", "cat\ndog\n"), up("old.bin", "old")
	mustRun(t, h, app.AliasStream(h.project, "production-model"), alias.Decide, alias.Evolve, alias.Command(alias.Set{Project: h.project, Name: "production-model", Datum: d1, At: h.tick()}))
	ds := domain.DatasetID(uuid.NewString())
	mustRun(t, h, app.DatasetStream(h.project, "images"), dataset.Decide, dataset.Evolve, dataset.Command(dataset.Create{Dataset: ds, Project: h.project, Name: "images", At: h.tick()}))
	mustRun(t, h, app.DatasetStream(h.project, "images"), dataset.Decide, dataset.Evolve, dataset.Command(dataset.CreateVersion{Version: "v1", Add: []domain.DatumID{d1, d2}, Aliases: []string{"stable"}, At: h.tick()}))
	if _, err := h.svc.Purge(h.ctx(alice), gone, "test"); err != nil {
		t.Fatal(err)
	}

	type file struct {
		Name  string
		Key   string
		Datum domain.DatumID
		Size  int64
	}
	tests := []struct {
		name    string
		uri     string
		want    []file
		wantErr error
	}{
		{"datum by id", "datum://" + string(d1), []file{{"model.pb", "", d1, 7}}, nil},
		{"datum by alias", "datum://production-model", []file{{"model.pb", "", d1, 7}}, nil},
		{"dataset version", "dataset://images/v1", []file{{"model.pb", "", d1, 7}, {"labels.txt", "", d2, 8}}, nil},
		{"dataset alias", "dataset://images/stable", []file{{"model.pb", "", d1, 7}, {"labels.txt", "", d2, 8}}, nil},
		{"dataset latest", "dataset://images/latest", []file{{"model.pb", "", d1, 7}, {"labels.txt", "", d2, 8}}, nil},
		{"one object", "s3://team-data/data/a.csv", []file{{"a.csv", "data/a.csv", "", -1}}, nil},
		{"* stays in one level", "s3://team-data/data/*.csv", []file{{"a.csv", "data/a.csv", "", 1}, {"b.csv", "data/b.csv", "", 2}}, nil},
		{"** descends", "s3://team-data/data/**.csv", []file{
			{"a.csv", "data/a.csv", "", 1}, {"b.csv", "data/b.csv", "", 2}, {"sub/c.csv", "data/sub/c.csv", "", 3}, {"sub/deep/d.csv", "data/sub/deep/d.csv", "", 4},
		}, nil},
		{"wildcard in a directory", "s3://team-data/data/*/c.csv", []file{{"sub/c.csv", "data/sub/c.csv", "", 3}}, nil},
		{"https", "https://files.example.com/datasets/iris%20v2.csv?sig=1", []file{{"iris v2.csv", "https://files.example.com/datasets/iris%20v2.csv?sig=1", "", -1}}, nil},
		{"wildcard matching nothing", "s3://team-data/data/*.parquet", nil, app.ErrNoMatch},
		{"purged datum", "datum://" + string(gone), nil, datum.ErrPurged},
		{"missing alias", "datum://nope", nil, alias.ErrNotFound},
		{"missing dataset", "dataset://nope/v1", nil, dataset.ErrNotFound},
		{"missing dataset version", "dataset://images/v9", nil, dataset.ErrVersionNotFound},
		{"bucket no store serves", "s3://someone-elses/x.csv", nil, storecfg.ErrUnknownStore},
		{"store without object access", "gs://team-data/x.csv", nil, storecfg.ErrUnknownStore},
		{"plain http is disabled", "http://files.example.com/x.csv", nil, domain.ErrInvalid},
		{"a directory is no file", "s3://team-data/data/", nil, domain.ErrInvalid},
		{"not a URI", "ftp://x/y", nil, domain.ErrInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			files, err := h.svc.ResolveInput(ctx, h.project, tt.uri)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("ResolveInput(%s) error = %v, want %v", tt.uri, err, tt.wantErr)
			}
			var got []file
			for _, f := range files {
				got = append(got, file{f.Name, f.Key, f.Datum, f.Size})
				if f.URI != tt.uri {
					t.Errorf("file URI = %q, want %q", f.URI, tt.uri)
				}
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("ResolveInput(%s) (-want +got):\n%s", tt.uri, diff)
			}
		})
	}
	t.Run("non-member", func(t *testing.T) {
		t.Parallel()
		if _, err := h.svc.ResolveInput(h.ctx("mallory"), h.project, "datum://"+string(d1)); !errors.Is(err, domain.ErrNotFound) {
			t.Errorf("ResolveInput(non-member) error = %v, want domain.ErrNotFound", err)
		}
	})
}

func TestService_Download_datumAndObject(t *testing.T) {
	t.Parallel()
	big := bytes.Repeat([]byte("strata "), 100_000)
	bucket := bucketDir(t, map[string]string{"data/big.bin": string(big)})
	h := newHarness(t, withObjects("team", bucket))
	ctx := h.ctx(alice)
	res, err := h.svc.Upload(ctx, app.Upload{Project: h.project, Name: "model.pb", Content: bytes.NewReader(big)})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	for _, uri := range []string{"datum://" + string(res.Datum.ID), "s3://team-data/data/big.bin"} {
		files, err := h.svc.ResolveInput(ctx, h.project, uri)
		if err != nil || len(files) != 1 {
			t.Fatalf("ResolveInput(%s) = %v, %v", uri, files, err)
		}
		dest := filepath.Join(dir, strings.ReplaceAll(uri, "/", "_"))
		// An interrupted earlier attempt left a part: objects resume it, datums restart.
		if err := os.WriteFile(dest+".part", big[:12345], 0o644); err != nil {
			t.Fatal(err)
		}
		d, err := h.svc.Download(ctx, files[0], dest)
		if err != nil {
			t.Fatalf("Download(%s) error = %v", uri, err)
		}
		wantResumed := int64(12345)
		if files[0].Datum != "" {
			wantResumed = 0
		}
		if d.Digests != blob.DigestBytes(big) || d.Size != int64(len(big)) || d.Resumed != wantResumed {
			t.Errorf("Download(%s) = size %d, resumed %d, digests ok %v; want %d, %d, true", uri, d.Size, d.Resumed, d.Digests == blob.DigestBytes(big), len(big), wantResumed)
		}
		if got, err := os.ReadFile(dest); err != nil || !bytes.Equal(got, big) {
			t.Errorf("downloaded file differs (%v)", err)
		}
		if _, err := os.Stat(dest + ".part"); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("part file left after download: %v", err)
		}
	}
}

// rangeServer serves content at /file with Range support (http.ServeContent); failFirst
// cuts the first response off after half the bytes.
func rangeServer(t *testing.T, content func() []byte, ranges bool, failFirst bool) (*httptest.Server, *[]string) {
	t.Helper()
	var mu sync.Mutex // guards seen and first: handlers run concurrently
	var seen []string
	first := true
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		seen = append(seen, r.Header.Get("Range"))
		b := content()
		if !ranges {
			w.Header().Set("Content-Length", fmt.Sprint(len(b)))
			_, _ = w.Write(b)
			return
		}
		if failFirst && first {
			first = false
			w.Header().Set("Content-Length", fmt.Sprint(len(b)))
			w.Header().Set("ETag", `"v1"`)
			_, _ = w.Write(b[:len(b)/2])
			if hj, ok := w.(http.Hijacker); ok {
				conn, _, _ := hj.Hijack()
				_ = conn.Close()
			}
			return
		}
		w.Header().Set("ETag", `"v1"`)
		http.ServeContent(w, r, "file", time.Time{}, bytes.NewReader(b))
	}))
	t.Cleanup(srv.Close)
	return srv, &seen
}

func TestService_Download_http(t *testing.T) {
	t.Parallel()
	content := bytes.Repeat([]byte("0123456789"), 50_000)
	allow := app.DownloadConfig{AllowHTTP: true, Allow: []string{"127.0.0.1"}, Retries: 2}
	tests := []struct {
		name        string
		ranges      bool
		failFirst   bool
		part        int
		limit       int64
		wantResumed int64
		wantErr     error
	}{
		{"whole file", true, false, 0, 0, 0, nil},
		{"resumes a part with Range", true, false, 1000, 0, 1000, nil},
		{"server without Range support restarts", false, false, 1000, 0, 0, nil},
		{"a cut connection is resumed", true, true, 0, 0, 0, nil},
		{"larger than the limit", true, false, 0, 1000, 0, app.ErrTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dc := allow
			dc.MaxSize = tt.limit
			h := newHarness(t, withDownload(dc))
			srv, seen := rangeServer(t, func() []byte { return content }, tt.ranges, tt.failFirst)
			files, err := h.svc.ResolveInput(h.ctx(alice), h.project, srv.URL+"/file")
			if err != nil {
				t.Fatal(err)
			}
			dest := filepath.Join(t.TempDir(), "in", "file")
			if tt.part > 0 {
				if err := os.MkdirAll(filepath.Dir(dest), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(dest+".part", content[:tt.part], 0o644); err != nil {
					t.Fatal(err)
				}
			}
			d, err := h.svc.Download(h.ctx(alice), files[0], dest)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("Download() error = %v, want %v (requests: %q)", err, tt.wantErr, *seen)
			}
			if err != nil {
				if _, serr := os.Stat(dest + ".part"); !errors.Is(serr, os.ErrNotExist) {
					t.Errorf("part left after %v", err)
				}
				return
			}
			if d.Digests != blob.DigestBytes(content) || d.Resumed != tt.wantResumed {
				t.Errorf("Download() = resumed %d, digests ok %v; want resumed %d (requests: %q)", d.Resumed, d.Digests == blob.DigestBytes(content), tt.wantResumed, *seen)
			}
			if tt.failFirst && (len(*seen) != 2 || !strings.HasPrefix((*seen)[1], "bytes=")) {
				t.Errorf("requests = %q, want a second one with a Range", *seen)
			}
		})
	}
}

func TestService_Download_refusesInternalAddresses(t *testing.T) {
	t.Parallel()
	srv, _ := rangeServer(t, func() []byte { return []byte("internal") }, true, false)
	_, port, _ := net.SplitHostPort(strings.TrimPrefix(srv.URL, "http://"))
	redirect := httptest.NewServer(http.RedirectHandler("http://169.254.169.254/latest/meta-data/", http.StatusFound))
	t.Cleanup(redirect.Close)
	tests := []struct {
		name    string
		allow   []string
		url     string
		wantErr error
		why     string
	}{
		{"loopback", nil, srv.URL + "/file", app.ErrForbiddenAddress, "loopback"},
		{"localhost resolves to loopback", nil, "http://localhost:" + port + "/file", app.ErrForbiddenAddress, "loopback"},
		{"cloud metadata (link-local)", nil, "http://169.254.169.254/latest/meta-data/", app.ErrForbiddenAddress, "link-local"},
		{"private network", nil, "http://10.1.2.3/x", app.ErrForbiddenAddress, "private"},
		{"private network 192.168", nil, "http://192.168.0.10/x", app.ErrForbiddenAddress, "private"},
		{"IPv6 link-local", nil, "http://[fe80::1]/x", app.ErrForbiddenAddress, "link-local"},
		{"IPv4-mapped IPv6 loopback", nil, "http://[::ffff:127.0.0.1]:" + port + "/file", app.ErrForbiddenAddress, "loopback"},
		{"carrier-grade NAT", nil, "http://100.64.1.1/x", app.ErrForbiddenAddress, "private"},
		{"allow-listed address", []string{"127.0.0.1"}, srv.URL + "/file", nil, ""},
		{"allow-listed network", []string{"127.0.0.0/8"}, srv.URL + "/file", nil, ""},
		{"redirect to an internal address", []string{"127.0.0.1"}, redirect.URL, app.ErrForbiddenAddress, "link-local"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, withDownload(app.DownloadConfig{AllowHTTP: true, Allow: tt.allow, Retries: 1, Timeout: 2 * time.Second}))
			files, err := h.svc.ResolveInput(h.ctx(alice), h.project, tt.url)
			if err != nil {
				t.Fatal(err)
			}
			_, err = h.svc.Download(h.ctx(alice), files[0], filepath.Join(t.TempDir(), "f"))
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("Download(%s) error = %v, want %v", tt.url, err, tt.wantErr)
			}
			if err != nil && (!strings.Contains(err.Error(), tt.why) || !strings.Contains(err.Error(), "allow-list") || !errors.Is(err, domain.ErrInvalid)) {
				t.Errorf("Download(%s) error = %q, want it to say %q and mention the allow-list", tt.url, err, tt.why)
			}
		})
	}
	if _, err := app.New(app.Config{Download: app.DownloadConfig{Allow: []string{"not-an-address"}}}, app.Deps{Log: nil}); !errors.Is(err, domain.ErrInvalid) {
		t.Errorf("New(bad allow-list) error = %v, want domain.ErrInvalid", err)
	}
}

func TestPlacement(t *testing.T) {
	t.Parallel()
	bucket := bucketDir(t, map[string]string{
		"data/a.csv": "a", "data/sub/a.csv": "a2", "data/sub/c.csv": "c", "other/a.csv": "o",
	})
	h := newHarness(t, withObjects("team", bucket), withDownload(app.DownloadConfig{AllowHTTP: true}))
	up := func(name string) string {
		t.Helper()
		res, err := h.svc.Upload(h.ctx(alice), app.Upload{Project: h.project, Name: name, Content: strings.NewReader(name)})
		if err != nil {
			t.Fatal(err)
		}
		return "datum://" + string(res.Datum.ID)
	}
	model, xy, xyz := up("models/m.pb"), up("x/y"), up("x/y/z")
	tests := []struct {
		name     string
		uris     []string
		keep     string
		filename string
		want     []string
		wantErr  string
	}{
		{name: "none flattens", uris: []string{"s3://team-data/data/*.csv", "s3://team-data/data/sub/c.csv"}, want: []string{"a.csv", "c.csv"}},
		{name: "none collides", uris: []string{"s3://team-data/data/**.csv"},
			wantErr: `s3://team-data/data/**.csv (object data/a.csv) and s3://team-data/data/**.csv (object data/sub/a.csv) would both be written to a.csv (keep-directories "none"`},
		{name: "suffix keeps the path below the wildcard", keep: "suffix", uris: []string{"s3://team-data/data/**.csv"}, want: []string{"a.csv", "sub/a.csv", "sub/c.csv"}},
		{name: "suffix of a plain URL is its name", keep: "suffix", uris: []string{"s3://team-data/data/sub/c.csv"}, want: []string{"c.csv"}},
		{name: "suffix across URLs collides", keep: "suffix", uris: []string{"s3://team-data/data/*.csv", "s3://team-data/other/*.csv"}, wantErr: "would both be written to a.csv"},
		{name: "full keeps the key", keep: "full", uris: []string{"s3://team-data/data/**.csv", "s3://team-data/other/a.csv"},
			want: []string{"data/a.csv", "data/sub/a.csv", "data/sub/c.csv", "other/a.csv"}},
		{name: "full keeps a datum's name", keep: "full", uris: []string{model}, want: []string{"models/m.pb"}},
		{name: "none takes a datum's base name", uris: []string{model}, want: []string{"m.pb"}},
		{name: "full keeps an https path", keep: "full", uris: []string{"https://files.example.com/sets/iris%20v2.csv?sig=1"}, want: []string{"sets/iris v2.csv"}},
		{name: "filename renames one file", filename: "weights.bin", uris: []string{model}, want: []string{"weights.bin"}},
		{name: "filename keeps the directories kept", keep: "full", filename: "weights.bin", uris: []string{model}, want: []string{"models/weights.bin"}},
		{name: "filename has no effect on several files", filename: "one.csv", uris: []string{"s3://team-data/data/*.csv", "s3://team-data/data/sub/c.csv"}, want: []string{"a.csv", "c.csv"}},
		{name: "a file where a directory is needed", keep: "full", uris: []string{xy, xyz}, wantErr: ", x/y) is written to x/y, where " + xyz},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var files []app.InputFile
			for _, u := range tt.uris {
				got, err := h.svc.ResolveInput(h.ctx(alice), h.project, u)
				if err != nil {
					t.Fatalf("ResolveInput(%s) error = %v", u, err)
				}
				files = append(files, got...)
			}
			got, err := app.Placement(execution.Input{Name: "in", KeepDirectories: tt.keep, Filename: tt.filename}, files)
			if tt.wantErr != "" {
				if !errors.Is(err, app.ErrInputCollision) || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Placement() error = %v, want ErrInputCollision containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Placement() error = %v", err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Placement() (-want +got):\n%s", diff)
			}
		})
	}
}
