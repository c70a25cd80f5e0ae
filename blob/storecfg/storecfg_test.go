package storecfg_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/stratahq/strata/blob/storecfg"
	"github.com/stratahq/strata/domain"
)

const secret = "wJalrXUtnFEMI-K7MDENG-bPxRfiCYEXAMPLEKEY"

func config() storecfg.Config {
	return storecfg.Config{
		Stores: []storecfg.Store{
			{Name: "local", Kind: storecfg.KindFS, Bucket: "/var/lib/strata/files"},
			{Name: "team-s3", Kind: storecfg.KindS3, Bucket: "ml-data", Prefix: "strata/", Region: "eu-west-1", Credentials: "aws-team"},
			{Name: "swift", Kind: storecfg.KindSwift, Bucket: "outputs", Endpoint: "https://swift.example/auth/v1.0", Credentials: "swift"},
		},
		Default:  "local",
		Projects: map[string]string{"vision": "team-s3"},
		Secrets: map[string]storecfg.Credentials{
			"aws-team": {ID: "AKIAEXAMPLE", Secret: secret},
			"swift":    {ID: "tester", Secret: secret, Token: secret},
		},
	}
}

func TestConfig_Upload(t *testing.T) {
	t.Parallel()
	c := config()
	tests := []struct {
		name                             string
		project, projectStore, stepStore string
		want                             string
		wantErr                          error
	}{
		{"organization default", "nlp", "", "", "local", nil},
		{"configured project default", "vision", "", "", "team-s3", nil},
		{"recorded project default wins over configured", "vision", "swift", "", "swift", nil},
		{"step upload-store wins", "vision", "swift", "local", "local", nil},
		{"unknown step store is an error, not a fallback", "vision", "", "nope", "", storecfg.ErrUnknownStore},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := c.Upload(tt.project, tt.projectStore, tt.stepStore)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("Upload() error = %v, want %v", err, tt.wantErr)
			}
			if got.Name != tt.want {
				t.Errorf("Upload() = %q, want %q", got.Name, tt.want)
			}
		})
	}
	c2 := config()
	c2.Default = ""
	if _, err := c2.Upload("nlp", "", ""); !errors.Is(err, storecfg.ErrNoStore) || !errors.Is(err, domain.ErrInvalid) {
		t.Errorf("Upload(no default) error = %v, want ErrNoStore", err)
	}
	if _, err := c.Upload("nlp", "", "nope"); !errors.Is(err, domain.ErrNotFound) {
		t.Errorf("Upload(unknown) error = %v, want domain.ErrNotFound", err)
	}
}

func TestConfig_Validate(t *testing.T) {
	t.Parallel()
	if err := config().Validate(); err != nil {
		t.Fatalf("Validate(good) = %v", err)
	}
	c := config()
	c.Stores = append(c.Stores,
		storecfg.Store{Name: "local", Kind: storecfg.KindFS, Bucket: "/x"},
		storecfg.Store{Name: "bad kind", Kind: "ftp", Prefix: "no-slash", Credentials: "missing"},
		storecfg.Store{Name: "sw", Kind: storecfg.KindSwift, Bucket: "c"},
	)
	c.Default = "gone"
	c.Projects["p"] = "gone-too"
	err := c.Validate()
	if !errors.Is(err, domain.ErrInvalid) {
		t.Fatalf("Validate(bad) = %v, want domain.ErrInvalid", err)
	}
	msg := err.Error()
	for _, want := range []string{"defined twice", "kind", "bucket", "prefix", "credentials \"missing\"", "auth URL", "default data store \"gone\"", "gone-too"} {
		if !strings.Contains(msg, want) {
			t.Errorf("Validate() = %q, want it to mention %q", msg, want)
		}
	}
	if strings.Contains(msg, secret) {
		t.Errorf("Validate() error contains the secret: %q", msg)
	}
}

func TestSecret_neverPrinted(t *testing.T) {
	t.Parallel()
	c := config()
	cr, err := c.CredentialsFor(c.Stores[1])
	if err != nil {
		t.Fatal(err)
	}
	if cr.Secret.Reveal() != secret {
		t.Fatalf("Reveal() = %q, want the value", cr.Secret.Reveal())
	}
	var logged strings.Builder
	slog.New(slog.NewJSONHandler(&logged, nil)).Info("store", "config", c, "creds", cr, "secret", cr.Secret)
	js, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	outputs := map[string]string{
		"%v": fmt.Sprintf("%v", c), "%+v": fmt.Sprintf("%+v", c), "%#v": fmt.Sprintf("%#v", c),
		"%s": fmt.Sprintf("%s", cr.Secret), "%q": fmt.Sprintf("%q", cr.Secret), "%x": fmt.Sprintf("%x", cr.Secret),
		"String": cr.Secret.String(), "json": string(js), "slog": logged.String(),
		"error": fmt.Errorf("open store: %v", cr).Error(),
	}
	for how, out := range outputs {
		if strings.Contains(out, secret) {
			t.Errorf("%s output contains the secret: %s", how, out)
		}
		if !strings.Contains(out, storecfg.Redacted) {
			t.Errorf("%s output = %s, want %s in it", how, out, storecfg.Redacted)
		}
	}
	if got := storecfg.Secret("").String(); got != "" {
		t.Errorf("empty Secret String() = %q, want empty", got)
	}
}
