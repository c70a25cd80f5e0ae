package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

func TestServe_GraphQLAdminTokenMetrics(t *testing.T) {
	dir := t.TempDir()
	ctx, cancel := context.WithCancel(t.Context())
	outR, outW := io.Pipe()
	done := make(chan int, 1)
	var errOut bytes.Buffer
	go func() {
		done <- run(ctx, []string{"--data-dir", dir, "serve", "--addr", "127.0.0.1:0", "--runner=none"}, strings.NewReader(""), outW, &errOut)
		_ = outW.Close()
	}()
	rd := bufio.NewReader(outR)
	line, err := rd.ReadString('\n')
	if err != nil {
		t.Fatalf("serve printed nothing: %v (%s)", err, errOut.String())
	}
	url := regexp.MustCompile(`http://[0-9.:]+`).FindString(line)
	var printed string
	for printed == "" {
		l, err := rd.ReadString('\n')
		if err != nil {
			t.Fatalf("no admin token printed: %v", err)
		}
		if _, tok, ok := strings.Cut(l, "): "); ok && strings.HasPrefix(l, "admin token") {
			printed = strings.TrimSpace(tok)
		}
	}
	go func() { _, _ = io.Copy(io.Discard, outR) }()

	path := filepath.Join(dir, "admin-token")
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("admin-token mode = %v, want 0600", fi.Mode().Perm())
	}
	b, _ := os.ReadFile(path)
	if strings.TrimSpace(string(b)) != printed {
		t.Errorf("admin-token file and printed token differ")
	}

	post := func(token, query string) (int, string) {
		req, _ := http.NewRequest(http.MethodPost, url+"/graphql", strings.NewReader(`{"query":`+mustJSON(t, query)+`}`))
		req.Header.Set("Content-Type", "application/json")
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer func() { _ = resp.Body.Close() }()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(body)
	}
	if code, body := post("", `{ head }`); code != http.StatusUnauthorized || !strings.Contains(body, "UNAUTHENTICATED") {
		t.Errorf("no token: %d %s", code, body)
	}
	if code, body := post(printed, `{ viewer { user admin } }`); code != http.StatusOK || !strings.Contains(body, `"admin":true`) {
		t.Errorf("admin token: %d %s", code, body)
	}
	// The metadata downloads are mounted beside /graphql, behind the same tokens.
	for _, tt := range []struct {
		token string
		want  int
	}{{"", http.StatusUnauthorized}, {printed, http.StatusNotFound}} {
		req, _ := http.NewRequest(http.MethodGet, url+"/executions/0190f5a2-0000-7000-8000-000000000001/metadata.csv", nil)
		if tt.token != "" {
			req.Header.Set("Authorization", "Bearer "+tt.token)
		}
		// 409: the projections are still being built on this first start (not ready).
		var resp *http.Response
		for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
			resp, err = http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			_ = resp.Body.Close()
			if resp.StatusCode != http.StatusConflict || time.Now().After(deadline) {
				break
			}
		}
		if resp.StatusCode != tt.want {
			t.Errorf("GET metadata.csv with token %t = %d, want %d", tt.token != "", resp.StatusCode, tt.want)
		}
	}
	for _, p := range []string{"/metrics", "/", "/healthz"} {
		resp, err := http.Get(url + p)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		_ = resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Errorf("GET %s = %d", p, resp.StatusCode)
		}
		if p == "/metrics" && !strings.Contains(string(body), "strata_graphql_requests_total") {
			t.Errorf("/metrics lacks the GraphQL request counter")
		}
	}
	cancel()
	select {
	case code := <-done:
		if code != 0 {
			t.Errorf("serve exited %d after cancel: %s", code, errOut.String())
		}
	case <-time.After(20 * time.Second):
		t.Fatal("serve did not stop")
	}
	// A second start creates no new token and keeps the file.
	if b2, _ := os.ReadFile(path); !bytes.Equal(b, b2) {
		t.Error("admin-token file changed")
	}
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
