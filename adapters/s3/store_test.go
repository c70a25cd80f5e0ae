package s3

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"

	"github.com/stratahq/strata/blob"
	"github.com/stratahq/strata/blob/blobtest"
	"github.com/stratahq/strata/domain"
)

const (
	accessKey = "strata-test"
	secretKey = "s3cr3t-9f8e7d6c5b4a-never-print-me"
	bucket    = "strata-test"
)

var corrupt = func(s blob.Store, d domain.Digest) error {
	st := s.(*Store)
	_, err := st.client.PutObject(context.Background(), &awss3.PutObjectInput{
		Bucket: &st.cfg.Bucket, Key: aws.String(st.key(d)), Body: strings.NewReader("not what was stored"),
	})
	return err
}

// TestStore_gofakes3 runs the suite against gofakes3 in-process. Not parallel with the
// versitygw test: gofakes3 keeps objects in this process's heap, which would spoil the
// heap bound that test checks.
func TestStore_gofakes3(t *testing.T) {
	srv := httptest.NewServer(gofakes3.New(s3mem.New(), gofakes3.WithAutoBucket(true)).Server())
	t.Cleanup(srv.Close)
	cfg := Config{Bucket: bucket, Endpoint: srv.URL, PathStyle: true, AccessKeyID: accessKey, SecretAccessKey: secretKey, PartSize: minPartSize}
	mustCreateBucket(t, cfg)
	f := blobtest.Features{Corrupt: corrupt, HeapHoldsContent: true}
	blobtest.Run(t, f, func(t *testing.T) blob.Store { return mustNew(t, withRandomPrefix(cfg)) })
}

// TestStore_versitygw runs the suite against a versitygw child process (a real S3 server
// on a temporary posix directory), multipart copy included.
func TestStore_versitygw(t *testing.T) {
	endpoint := startVersityGW(t)
	cfg := Config{
		Bucket: bucket, Endpoint: endpoint, PathStyle: true, AccessKeyID: accessKey, SecretAccessKey: secretKey,
		PartSize: minPartSize, MaxCopySize: 8 << 20, CopyPartSize: minPartSize, // exercise UploadPartCopy
	}
	mustCreateBucket(t, cfg)
	blobtest.Run(t, blobtest.Features{Corrupt: corrupt}, func(t *testing.T) blob.Store { return mustNew(t, withRandomPrefix(cfg)) })

	t.Run("NoTemporaryObjectsLeft", func(t *testing.T) {
		t.Parallel()
		s := mustNew(t, withRandomPrefix(cfg))
		big := bytes.Repeat([]byte("strata"), 3<<20) // multipart, then multipart copy
		if _, err := s.Put(t.Context(), bytes.NewReader(big)); err != nil {
			t.Fatalf("Put() error = %v", err)
		}
		out, err := s.client.ListObjectsV2(t.Context(), &awss3.ListObjectsV2Input{Bucket: &cfg.Bucket, Prefix: aws.String(s.cfg.Prefix + "tmp/")})
		if err != nil {
			t.Fatal(err)
		}
		if len(out.Contents) != 0 {
			t.Errorf("temporary objects after Put: %d, want 0", len(out.Contents))
		}
	})

	t.Run("WrongSecretNeverShown", func(t *testing.T) {
		t.Parallel()
		bad := withRandomPrefix(cfg)
		bad.SecretAccessKey = "wrong-" + secretKey
		s := mustNew(t, bad)
		_, perr := s.Put(t.Context(), strings.NewReader("hello"))
		_, serr := s.Stat(t.Context(), blob.Blake3([]byte("hello")))
		_, lerr := s.List(t.Context(), "", "", 10)
		for _, err := range []error{perr, serr, lerr} {
			if err == nil {
				t.Fatalf("wrong secret: error = nil, want an authentication failure")
			}
			if errors.Is(err, blob.ErrNotFound) {
				t.Errorf("wrong secret: error = %v, want no ErrNotFound", err)
			}
			if strings.Contains(err.Error(), secretKey) {
				t.Errorf("error contains the secret: %v", err)
			}
		}
		if out := fmt.Sprintf("%v %+v %#v", bad, bad, bad); strings.Contains(out, secretKey) {
			t.Errorf("Config prints the secret: %s", out)
		}
	})
}

func TestNew_invalid(t *testing.T) {
	t.Parallel()
	_, err := New(Config{Prefix: "x", Endpoint: "ftp://", PartSize: 1, AccessKeyID: "a"})
	if !errors.Is(err, domain.ErrInvalid) {
		t.Fatalf("New(bad) error = %v, want domain.ErrInvalid", err)
	}
	for _, want := range []string{"bucket", "prefix", "endpoint", "part size", "access key"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("New(bad) error = %v, want it to mention %s", err, want)
		}
	}
}

func withRandomPrefix(cfg Config) Config {
	var b [8]byte
	_, _ = rand.Read(b[:])
	cfg.Prefix = "t-" + hex.EncodeToString(b[:]) + "/"
	return cfg
}

func mustNew(tb testing.TB, cfg Config) *Store {
	tb.Helper()
	s, err := New(cfg)
	if err != nil {
		tb.Fatal(err)
	}
	return s
}

func mustCreateBucket(tb testing.TB, cfg Config) {
	tb.Helper()
	s := mustNew(tb, cfg)
	if _, err := s.client.CreateBucket(tb.Context(), &awss3.CreateBucketInput{Bucket: &cfg.Bucket}); err != nil {
		tb.Fatalf("create bucket: %v", err)
	}
}

// missing fails the test in CI, where every server must be installed, and skips it loudly elsewhere.
func missing(tb testing.TB, what string) {
	tb.Helper()
	msg := fmt.Sprintf("%s is not installed; run `make deps` (scripts/deps.sh)", what)
	if os.Getenv("CI") == "true" {
		tb.Fatal(msg)
	}
	tb.Skip("SKIPPING: " + msg)
}

func startVersityGW(t *testing.T) string {
	t.Helper()
	bin, err := exec.LookPath("versitygw")
	if err != nil {
		gopath, _ := exec.Command("go", "env", "GOPATH").Output()
		bin = filepath.Join(strings.TrimSpace(string(gopath)), "bin", "versitygw")
		if _, err := os.Stat(bin); err != nil {
			missing(t, "versitygw")
		}
	}
	addr := freeAddr(t)
	dir := t.TempDir()
	var logs bytes.Buffer
	cmd := exec.Command(bin, "--access", accessKey, "--secret", secretKey, "--port", addr, "--quiet", "posix", dir)
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatalf("start versitygw: %v", err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill() // the server's exit status after a kill says nothing
		_ = cmd.Wait()
		if t.Failed() {
			t.Logf("versitygw output:\n%s", logs.String())
		}
	})
	waitListening(t, addr, 30*time.Second)
	return "http://" + addr
}

func freeAddr(tb testing.TB) string {
	tb.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	addr := l.Addr().String()
	if err := l.Close(); err != nil {
		tb.Fatal(err)
	}
	return addr
}

func waitListening(tb testing.TB, addr string, within time.Duration) {
	tb.Helper()
	deadline := time.Now().Add(within)
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			_ = c.Close()
			return
		}
		if time.Now().After(deadline) {
			tb.Fatalf("server on %s did not start within %v: %v", addr, within, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
