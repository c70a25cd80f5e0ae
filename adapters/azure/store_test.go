package azure

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/container"

	"github.com/stratahq/strata/blob"
	"github.com/stratahq/strata/blob/blobtest"
	"github.com/stratahq/strata/domain"
)

// Azurite's well-known development account (public, documented by Microsoft).
const (
	account    = "devstoreaccount1"
	accountKey = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
)

// TestStore runs the suite against Azurite, started here as a child process on loopback.
func TestStore(t *testing.T) {
	t.Parallel()
	endpoint := startAzurite(t)
	cfg := Config{Endpoint: endpoint, Container: "strata-test", AccountName: account, AccountKey: accountKey, BlockSize: 1 << 20}
	if _, err := mustNew(t, cfg).container.Create(t.Context(), nil); err != nil {
		t.Fatalf("create container: %v", err)
	}
	corrupt := func(s blob.Store, d domain.Digest) error {
		_, err := s.(*Store).blockBlob(d).Upload(context.Background(), nopSeekCloser{bytes.NewReader([]byte("not what was stored"))}, nil)
		return err
	}
	blobtest.Run(t, blobtest.Features{Corrupt: corrupt}, func(t *testing.T) blob.Store { return mustNew(t, withRandomPrefix(cfg)) })

	t.Run("NoTemporaryBlobsLeft", func(t *testing.T) {
		t.Parallel()
		s := mustNew(t, withRandomPrefix(cfg))
		if _, err := s.Put(t.Context(), bytes.NewReader(bytes.Repeat([]byte("strata"), 1<<20))); err != nil {
			t.Fatalf("Put() error = %v", err)
		}
		page, err := s.container.NewListBlobsFlatPager(&container.ListBlobsFlatOptions{Prefix: to.Ptr(s.cfg.Prefix + "tmp/")}).NextPage(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		if n := len(page.Segment.BlobItems); n != 0 {
			t.Errorf("temporary blobs after Put: %d, want 0", n)
		}
	})

	t.Run("WrongKeyNeverShown", func(t *testing.T) {
		t.Parallel()
		const wrong = "V3JvbmdLZXlXcm9uZ0tleVdyb25nS2V5V3JvbmdLZXk="
		bad := withRandomPrefix(cfg)
		bad.AccountKey = wrong
		s := mustNew(t, bad)
		_, perr := s.Put(t.Context(), strings.NewReader("hello"))
		_, serr := s.Stat(t.Context(), blob.Blake3([]byte("hello")))
		_, lerr := s.List(t.Context(), "", "", 10)
		for _, err := range []error{perr, serr, lerr} {
			if err == nil {
				t.Fatal("wrong key: error = nil, want an authentication failure")
			}
			if errors.Is(err, blob.ErrNotFound) {
				t.Errorf("wrong key: error = %v, want no ErrNotFound", err)
			}
			if msg := err.Error(); strings.Contains(msg, wrong) || strings.Contains(msg, accountKey) {
				t.Errorf("error contains a key: %v", err)
			}
		}
		if out := fmt.Sprintf("%v %+v %#v", bad, bad, bad); strings.Contains(out, wrong) {
			t.Errorf("Config prints the key: %s", out)
		}
	})
}

func TestNew_invalid(t *testing.T) {
	t.Parallel()
	_, err := New(Config{Endpoint: "ftp://x", Prefix: "p", BlockSize: 1})
	if !errors.Is(err, domain.ErrInvalid) {
		t.Fatalf("New(bad) error = %v, want domain.ErrInvalid", err)
	}
	const notBase64 = "not base64 secret!"
	_, err = New(Config{Endpoint: "http://127.0.0.1:1/a", Container: "c", AccountName: "a", AccountKey: notBase64})
	if !errors.Is(err, domain.ErrInvalid) || strings.Contains(err.Error(), notBase64) {
		t.Errorf("New(key not base64) error = %v, want ErrInvalid without the key", err)
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

// startAzurite runs azurite-blob (from npm, installed by scripts/deps.sh) on a free
// loopback port with a temporary workspace, and returns the account's endpoint. A missing
// binary fails the test in CI and skips it loudly elsewhere.
func startAzurite(t *testing.T) string {
	t.Helper()
	bin, err := exec.LookPath("azurite-blob")
	if err != nil {
		msg := "azurite-blob is not installed; run `make deps` (scripts/deps.sh)"
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip("SKIPPING: " + msg)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	cmd := exec.Command(bin, "--blobHost", "127.0.0.1", "--blobPort", strconv.Itoa(port),
		"--location", t.TempDir(), "--skipApiVersionCheck", "--silent", "--loose")
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatalf("start azurite-blob: %v", err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill() // the exit status after a kill says nothing
		_ = cmd.Wait()
		if t.Failed() {
			t.Logf("azurite-blob output:\n%s", logs.String())
		}
	})
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	for deadline := time.Now().Add(60 * time.Second); ; {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			_ = c.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("azurite-blob did not listen on %s within 60s: %v\n%s", addr, err, logs.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
	return "http://" + addr + "/" + account
}
