package domain_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/stratahq/strata/domain"
)

const datumID = "0190f5a2-7b3c-7d4e-8f60-0123456789ab"

func TestParseDatumURI(t *testing.T) {
	tests := []struct {
		name, in string
		want     domain.DatumURI
		wantErr  string
	}{
		{"by id", "datum://" + datumID, domain.DatumURI{ID: datumID}, ""},
		{"by uppercase id", "datum://" + strings.ToUpper(datumID), domain.DatumURI{ID: datumID}, ""},
		{"by alias", "datum://train-images", domain.DatumURI{Alias: "train-images"}, ""},
		{"scheme case", "DATUM://model", domain.DatumURI{Alias: "model"}, ""},
		{"empty", "", domain.DatumURI{}, "empty"},
		{"nothing after scheme", "datum://", domain.DatumURI{}, "missing datum ID or alias"},
		{"wrong scheme", "dataset://x/y", domain.DatumURI{}, "want a datum:// URI"},
		{"one slash", "datum:/model", domain.DatumURI{}, "want a datum:// URI"},
		{"spaces", "datum://my model", domain.DatumURI{}, "space at offset"},
		{"control", "datum://model\x07", domain.DatumURI{}, "control character"},
		{"dot dot", "datum://..", domain.DatumURI{}, "must start with a letter or digit"},
		{"path", "datum://a/../b", domain.DatumURI{}, "not allowed"},
		{"overlong", "datum://" + strings.Repeat("a", 3000), domain.DatumURI{}, "longer than 2048"},
		{"overlong name", "datum://" + strings.Repeat("a", 200), domain.DatumURI{}, "longer than 128"},
		{"bad utf8", "datum://\xff", domain.DatumURI{}, "not valid UTF-8"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := domain.ParseDatumURI(tt.in)
			if tt.wantErr != "" {
				if !errors.Is(err, domain.ErrInvalid) || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("ParseDatumURI(%q) error = %v, want ErrInvalid mentioning %q", tt.in, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseDatumURI(%q) error = %v", tt.in, err)
			}
			if got != tt.want {
				t.Fatalf("ParseDatumURI(%q) = %+v, want %+v", tt.in, got, tt.want)
			}
			roundTrip(t, got.String(), func(s string) (string, error) { u, err := domain.ParseDatumURI(s); return u.String(), err })
		})
	}
}

func TestParseDatasetURI(t *testing.T) {
	tests := []struct {
		name, in string
		want     domain.DatasetURI
		wantErr  string
	}{
		{"version", "dataset://mnist/v2", domain.DatasetURI{Dataset: "mnist", Version: "v2"}, ""},
		{"alias", "dataset://mnist/production", domain.DatasetURI{Dataset: "mnist", Version: "production"}, ""},
		{"empty", "", domain.DatasetURI{}, "empty"},
		{"no version", "dataset://mnist", domain.DatasetURI{}, "missing version"},
		{"empty version", "dataset://mnist/", domain.DatasetURI{}, "missing version"},
		{"no name", "dataset:///v1", domain.DatasetURI{}, "missing dataset name"},
		{"extra segment", "dataset://mnist/v1/x", domain.DatasetURI{}, "not allowed"},
		{"dot dot", "dataset://../v1", domain.DatasetURI{}, "must start"},
		{"wrong scheme", "datum://mnist/v1", domain.DatasetURI{}, "want a dataset:// URI"},
		{"space", "dataset://mn ist/v1", domain.DatasetURI{}, "space"},
		{"newline", "dataset://mnist/v1\n", domain.DatasetURI{}, "control character"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := domain.ParseDatasetURI(tt.in)
			if tt.wantErr != "" {
				if !errors.Is(err, domain.ErrInvalid) || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("ParseDatasetURI(%q) error = %v, want ErrInvalid mentioning %q", tt.in, err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("ParseDatasetURI(%q) = %+v, %v, want %+v", tt.in, got, err, tt.want)
			}
			roundTrip(t, tt.in, func(s string) (string, error) { u, err := domain.ParseDatasetURI(s); return u.String(), err })
		})
	}
}

func TestParseStoreURL(t *testing.T) {
	tests := []struct {
		name, in string
		want     domain.StoreURL
		wantErr  string
	}{
		{"s3 object", "s3://my-bucket/data/model.pb", domain.StoreURL{Scheme: "s3", Host: "my-bucket", Key: "data/model.pb"}, ""},
		{"s3 bucket only", "s3://my-bucket", domain.StoreURL{Scheme: "s3", Host: "my-bucket"}, ""},
		{"s3 prefix", "s3://my-bucket/outputs/", domain.StoreURL{Scheme: "s3", Host: "my-bucket", Key: "outputs/"}, ""},
		{"s3 wildcard", "s3://secret-bucket/foos/**.quux", domain.StoreURL{Scheme: "s3", Host: "secret-bucket", Key: "foos/**.quux"}, ""},
		{"gs", "gs://my_bucket.example/a/b", domain.StoreURL{Scheme: "gs", Host: "my_bucket.example", Key: "a/b"}, ""},
		{"azure", "azure://account1/container-a/dir/blob.bin", domain.StoreURL{Scheme: "azure", Host: "account1", Container: "container-a", Key: "dir/blob.bin"}, ""},
		{"swift", "swift://Proj_1/Cont.A/k", domain.StoreURL{Scheme: "swift", Host: "Proj_1", Container: "Cont.A", Key: "k"}, ""},
		{"https", "https://Example.com:8443/files/x.csv?sig=abc", domain.StoreURL{Scheme: "https", Host: "example.com:8443", Key: "files/x.csv", Query: "sig=abc"}, ""},
		{"http no path", "http://example.com", domain.StoreURL{Scheme: "http", Host: "example.com"}, ""},
		{"scheme case", "S3://my-bucket/k", domain.StoreURL{Scheme: "s3", Host: "my-bucket", Key: "k"}, ""},
		{"empty", "", domain.StoreURL{}, "empty"},
		{"no scheme", "my-bucket/key", domain.StoreURL{}, "missing scheme"},
		{"wrong scheme", "ftp://host/file", domain.StoreURL{}, `scheme "ftp" is not a store`},
		{"datum is not a store", "datum://x", domain.StoreURL{}, "is not a store"},
		{"file scheme", "file:///etc/passwd", domain.StoreURL{}, "is not a store"},
		{"missing bucket", "s3:///key", domain.StoreURL{}, "missing bucket"},
		{"short bucket", "s3://ab/key", domain.StoreURL{}, "3 to 63"},
		{"uppercase bucket", "s3://MyBucket/key", domain.StoreURL{}, "not allowed"},
		{"bucket dot dot", "s3://my..bucket/key", domain.StoreURL{}, "'..' not allowed"},
		{"bucket trailing dash", "s3://bucket-/key", domain.StoreURL{}, "start and end"},
		{"key dot dot", "s3://my-bucket/a/../b", domain.StoreURL{}, `key segment ".." not allowed`},
		{"key dot", "s3://my-bucket/./b", domain.StoreURL{}, `key segment "." not allowed`},
		{"double slash", "s3://my-bucket/a//b", domain.StoreURL{}, "empty key segment"},
		{"question mark", "s3://my-bucket/a?b", domain.StoreURL{}, "percent-encoded"},
		{"backslash", `s3://my-bucket/a\b`, domain.StoreURL{}, "percent-encoded"},
		{"space", "s3://my-bucket/a b", domain.StoreURL{}, "space at offset"},
		{"tab", "s3://my-bucket/a\tb", domain.StoreURL{}, "control character"},
		{"nul", "s3://my-bucket/a\x00", domain.StoreURL{}, "control character"},
		{"overlong", "s3://my-bucket/" + strings.Repeat("k", 3000), domain.StoreURL{}, "longer than 2048"},
		{"overlong key", "s3://my-bucket/" + strings.Repeat("k", 1500), domain.StoreURL{}, "key longer than 1024"},
		{"azure no container", "azure://account1", domain.StoreURL{}, "missing container"},
		{"azure bad account", "azure://Account_1/c1c/x", domain.StoreURL{}, "storage account"},
		{"azure double dash", "azure://account1/con--tainer/x", domain.StoreURL{}, "'--' not allowed"},
		{"swift no container", "swift://proj", domain.StoreURL{}, "container: missing"},
		{"https credentials", "https://user:pw@example.com/x", domain.StoreURL{}, "credentials"},
		{"https no host", "https:///x", domain.StoreURL{}, "missing host"},
		{"https fragment", "https://example.com/x#frag", domain.StoreURL{}, "fragment"},
		{"https dot dot", "https://example.com/a/../b", domain.StoreURL{}, `".." not allowed`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := domain.ParseStoreURL(tt.in)
			if tt.wantErr != "" {
				if !errors.Is(err, domain.ErrInvalid) || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("ParseStoreURL(%q) error = %v, want ErrInvalid mentioning %q", tt.in, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseStoreURL(%q) error = %v", tt.in, err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Fatalf("ParseStoreURL(%q) (-want +got):\n%s", tt.in, diff)
			}
			roundTrip(t, got.String(), func(s string) (string, error) { u, err := domain.ParseStoreURL(s); return u.String(), err })
		})
	}
}

func TestParseInputURI(t *testing.T) {
	for _, in := range []string{"datum://" + datumID, "datum://model", "dataset://mnist/v1", "s3://my-bucket/k/*.jpg", "https://example.com/a.csv"} {
		u, err := domain.ParseInputURI(in)
		if err != nil {
			t.Errorf("ParseInputURI(%q) error = %v", in, err)
			continue
		}
		if got := u.String(); got != in {
			t.Errorf("ParseInputURI(%q).String() = %q", in, got)
		}
	}
	for _, in := range []string{"", "datum://", "dataset://x", "nope", "ftp://x/y"} {
		if _, err := domain.ParseInputURI(in); !errors.Is(err, domain.ErrInvalid) {
			t.Errorf("ParseInputURI(%q) error = %v, want ErrInvalid", in, err)
		}
	}
}

func TestURI_TextRoundTrip(t *testing.T) {
	var d domain.DatumURI
	if err := d.UnmarshalText([]byte("datum://x1")); err != nil || d.Alias != "x1" {
		t.Errorf("DatumURI.UnmarshalText = %+v, %v", d, err)
	}
	var ds domain.DatasetURI
	if err := ds.UnmarshalText([]byte("dataset://a/b")); err != nil || ds.Version != "b" {
		t.Errorf("DatasetURI.UnmarshalText = %+v, %v", ds, err)
	}
	var s domain.StoreURL
	if err := s.UnmarshalText([]byte("gs://bucket/k*")); err != nil || !s.HasWildcard() {
		t.Errorf("StoreURL.UnmarshalText = %+v, %v", s, err)
	}
	if err := s.UnmarshalText([]byte("gs://")); !errors.Is(err, domain.ErrInvalid) {
		t.Errorf("StoreURL.UnmarshalText(gs://) = %v, want ErrInvalid", err)
	}
}

func TestCheckRepositoryURL(t *testing.T) {
	for _, ok := range []string{
		"https://github.com/org/repo.git", "http://git.local/repo", "ssh://git@github.com/org/repo.git",
		"git@github.com:org/repo.git", "github.com:org/repo", "git://host/repo", "file:///srv/git/repo",
	} {
		if err := domain.CheckRepositoryURL(ok); err != nil {
			t.Errorf("CheckRepositoryURL(%q) = %v, want nil", ok, err)
		}
	}
	for in, want := range map[string]string{
		"":                                     "empty",
		"https://token@github.com/org/repo":    "credentials",
		"https://u:p@github.com/org/repo":      "credentials",
		"ssh://git:secret@github.com/o/r":      "password",
		"ftp://host/repo":                      "not a repository scheme",
		"https:///repo":                        "missing host",
		"just-a-word":                          "not a repository URL",
		"host:":                                "not a repository URL",
		"https://github.com/org/re po":         "space",
		"https://github.com/org/repo\x00":      "control character",
		"file://":                              "missing path",
		"https://" + strings.Repeat("a", 3000): "longer than",
	} {
		if err := domain.CheckRepositoryURL(in); !errors.Is(err, domain.ErrInvalid) || !strings.Contains(err.Error(), want) {
			t.Errorf("CheckRepositoryURL(%.40q) = %v, want ErrInvalid mentioning %q", in, err, want)
		}
	}
}

func TestCheckCommit(t *testing.T) {
	if err := domain.CheckCommit(strings.Repeat("a1", 20)); err != nil {
		t.Errorf("CheckCommit(40 hex) = %v", err)
	}
	if err := domain.CheckCommit(strings.Repeat("0f", 32)); err != nil {
		t.Errorf("CheckCommit(64 hex) = %v", err)
	}
	for _, bad := range []string{"", "main", strings.Repeat("A", 40), strings.Repeat("g", 40), strings.Repeat("a", 39)} {
		if err := domain.CheckCommit(bad); !errors.Is(err, domain.ErrInvalid) {
			t.Errorf("CheckCommit(%q) = %v, want ErrInvalid", bad, err)
		}
	}
}

func roundTrip(t *testing.T, s string, parse func(string) (string, error)) {
	t.Helper()
	got, err := parse(s)
	if err != nil || got != s {
		t.Errorf("re-parse %q = %q, %v; want it unchanged", s, got, err)
	}
}
