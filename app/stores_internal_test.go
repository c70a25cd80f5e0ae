package app

import (
	"errors"
	"strings"
	"testing"

	"github.com/stratahq/strata/blob/storecfg"
	"github.com/stratahq/strata/domain"
)

func TestStores_locations(t *testing.T) {
	t.Parallel()
	const secret = "never-print-this-secret"
	cfg := storecfg.Config{
		Stores: []storecfg.Store{
			{Name: "local", Kind: storecfg.KindFS, Bucket: "/data"},
			{Name: "s3", Kind: storecfg.KindS3, Bucket: "ml-data", Prefix: "strata/"},
			{Name: "s3-root", Kind: storecfg.KindS3, Bucket: "ml-data", Credentials: "aws"},
			{Name: "gcs", Kind: storecfg.KindGCS, Bucket: "ml-gcs"},
			{Name: "az", Kind: storecfg.KindAzure, Bucket: "outputs", Endpoint: "https://acme.blob.core.windows.net", Prefix: "p/"},
			{Name: "azurite", Kind: storecfg.KindAzure, Bucket: "outputs", Endpoint: "http://127.0.0.1:10000/devstoreaccount1"},
			{Name: "swift", Kind: storecfg.KindSwift, Bucket: "outputs", Endpoint: "https://swift.example/auth/v1.0", Credentials: "sw"},
		},
		Secrets: map[string]storecfg.Credentials{
			"aws": {ID: "AKIA", Secret: secret},
			"sw":  {ID: "tester", Secret: secret, Tenant: "research"},
		},
	}
	st, err := newStores(cfg)
	if err != nil {
		t.Fatal(err)
	}
	wantURL := map[string]string{
		"local": "", "s3": "s3://ml-data/strata", "s3-root": "s3://ml-data", "gcs": "gs://ml-gcs",
		"az": "azure://acme/outputs/p", "azurite": "azure://devstoreaccount1/outputs", "swift": "swift://research/outputs",
	}
	for name, want := range wantURL {
		if got := st.byName[name].url; got != want {
			t.Errorf("location of %s = %q, want %q", name, got, want)
		}
		if info, err := st.byLocation(want); err != nil || info.cfg.Name != name {
			t.Errorf("byLocation(%q) = %v, %v; want %s", want, info, err, name)
		}
	}
	tests := []struct {
		url  string
		want string
	}{
		{"s3://ml-data/any/file.csv", "s3"}, // the first store of the bucket, in configuration order
		{"gs://ml-gcs/x", "gcs"},
		{"azure://acme/outputs/x.bin", "az"},
		{"azure://devstoreaccount1/outputs/x.bin", "azurite"},
		{"swift://research/outputs/x", "swift"},
		{"swift://other/outputs/x", ""},
		{"azure://other/outputs/x", ""},
		{"s3://elsewhere/x", ""},
	}
	for _, tt := range tests {
		u, err := domain.ParseStoreURL(tt.url)
		if err != nil {
			t.Fatal(err)
		}
		info, err := st.forInput(u)
		switch {
		case tt.want == "" && !errors.Is(err, storecfg.ErrUnknownStore):
			t.Errorf("forInput(%s) error = %v, want ErrUnknownStore", tt.url, err)
		case tt.want != "" && (err != nil || info.cfg.Name != tt.want):
			t.Errorf("forInput(%s) = %v, %v; want %s", tt.url, info, err, tt.want)
		}
		if err != nil && strings.Contains(err.Error(), secret) {
			t.Errorf("forInput(%s) error holds a secret: %v", tt.url, err)
		}
	}
	cfg.Stores = append(cfg.Stores, storecfg.Store{Name: "local2", Kind: storecfg.KindFS, Bucket: "/other"})
	if _, err := newStores(cfg); !errors.Is(err, domain.ErrInvalid) {
		t.Errorf("newStores(two fs stores) error = %v, want domain.ErrInvalid", err)
	}
}

func TestWildcard(t *testing.T) {
	t.Parallel()
	tests := []struct {
		pattern, key string
		match        bool
	}{
		{"data/*.csv", "data/a.csv", true},
		{"data/*.csv", "data/sub/a.csv", false},
		{"data/**.csv", "data/sub/deep/a.csv", true},
		{"data/**", "data/x", true},
		{"data/*/c.csv", "data/sub/c.csv", true},
		{"data/*/c.csv", "data/a/b/c.csv", false},
		{"data/a+b(1).csv*", "data/a+b(1).csv.gz", true},
		{"data/*.csv", "data/a.csvx", false},
	}
	for _, tt := range tests {
		if got := wildcard(tt.pattern).MatchString(tt.key); got != tt.match {
			t.Errorf("wildcard(%q) matches %q = %v, want %v", tt.pattern, tt.key, got, tt.match)
		}
	}
}
