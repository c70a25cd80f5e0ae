package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestEvents_Tail reads the last events of a running serve, of the whole log and of one
// project, and follows new ones through a proxy that cuts the connection midway: every
// event arrives once, in order, with no gap.
func TestEvents_Tail(t *testing.T) {
	t.Setenv("STRATA_TOKEN", "")
	dir, url, c, pid := clientServe(t)
	member := func(i int) { // one project event
		var out json.RawMessage
		c.do(`mutation($p: ID!, $u: String!) { setMember(project: $p, user: $u, role: VIEWER) { position } }`,
			map[string]any{"p": pid, "u": fmt.Sprintf("user%d", i)}, &out)
	}
	for i := range 5 {
		member(i)
	}
	var head struct{ Head uint64 }
	c.do(`{ head }`, nil, &head)
	cli := func(args ...string) (int, string, string) {
		t.Helper()
		return strata(t, "", append([]string{"--data-dir", dir, "events", "tail", "--server", url}, args...)...)
	}

	code, out, errOut := cli("-n", "3")
	if code != 0 || !strings.HasPrefix(out, "POSITION ") || strings.Count(out, "\n") != 4 || !strings.Contains(out, fmt.Sprintf("\n%d ", head.Head)) {
		t.Fatalf("tail -n 3 = %d, %q %q; want a header and the 3 events up to %d", code, out, errOut, head.Head)
	}
	code, out, _ = cli("--json", "-n", "4")
	if got := positions(t, out); code != 0 || fmt.Sprint(got) != fmt.Sprint(seq(head.Head-3, head.Head)) {
		t.Errorf("tail --json -n 4 = %d, positions %v; want %v", code, got, seq(head.Head-3, head.Head))
	}
	code, out, _ = cli("--json", "-n", "1000")
	if got := positions(t, out); code != 0 || fmt.Sprint(got) != fmt.Sprint(seq(1, head.Head)) {
		t.Errorf("tail --json -n 1000 = %d, positions %v; want the whole log", code, got)
	}
	code, out, _ = cli("--json", "-n", "2", "-p", "vision")
	var ev apiEvent
	if lines := strings.Split(strings.TrimSpace(out), "\n"); code != 0 || len(lines) != 2 || json.Unmarshal([]byte(lines[1]), &ev) != nil ||
		ev.Stream != "project-"+pid || !strings.Contains(string(ev.Data), "user4") {
		t.Errorf("tail -n 2 -p vision = %d, %q", code, out)
	}
	if code, out, _ := cli("-n", "0"); code != 0 || strings.Count(out, "\n") != 1 {
		t.Errorf("tail -n 0 = %d, %q; want the header alone", code, out)
	}

	// Filters: one stream, one type, one actor, and one nobody matches.
	code, out, errOut = cli("--json", "-n", "1000")
	all := eventLines(t, code, out, errOut)
	stream, typ := "project-"+pid, all[len(all)-1].Type
	var ofStream, ofType []uint64
	for _, e := range all {
		if e.Stream == stream {
			ofStream = append(ofStream, e.Position)
		}
		if e.Type == typ {
			ofType = append(ofType, e.Position)
		}
	}
	if len(ofStream) < 4 || len(ofType) < 3 || len(ofType) == len(all) {
		t.Fatalf("the log has %d events of %s and %d of %s: want a few of each", len(ofStream), stream, len(ofType), typ)
	}
	for _, tc := range []struct {
		args []string
		want []uint64
	}{
		{[]string{"--stream", stream, "-n", "3"}, ofStream[len(ofStream)-3:]},
		{[]string{"--stream", stream, "-n", "1000"}, ofStream},
		{[]string{"--type", typ, "-n", "2", "-p", "vision"}, ofType[len(ofType)-2:]},
		{[]string{"--actor", "nobody", "-n", "5"}, nil},
		{[]string{"--stream", "no-such-stream"}, nil},
	} {
		code, out, errOut := cli(append([]string{"--json"}, tc.args...)...)
		if got := positions(t, out); code != 0 || fmt.Sprint(got) != fmt.Sprint(tc.want) {
			t.Errorf("tail %v = %d, positions %v %q; want %v", tc.args, code, positions(t, out), errOut, tc.want)
		}
	}

	// Follow through a proxy, cutting every connection after the first new events.
	proxy := newCutProxy(t, strings.TrimPrefix(url, "http://"))
	ctx, cancel := context.WithCancel(t.Context())
	var fout, ferr syncBuffer
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"--data-dir", dir, "--json", "events", "tail", "-f", "-n", "2", "--server", "http://" + proxy.addr()}, strings.NewReader(""), &fout, &ferr)
	}()
	waitFor := func(pos uint64) {
		t.Helper()
		deadline := time.Now().Add(30 * time.Second)
		for !strings.Contains(fout.String(), fmt.Sprintf(`"position":%d,`, pos)) {
			if time.Now().After(deadline) {
				cancel()
				t.Fatalf("tail -f did not print position %d: %q %q", pos, fout.String(), ferr.String())
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	waitFor(head.Head)
	for i := 5; i < 8; i++ {
		member(i)
	}
	waitFor(head.Head + 3)
	proxy.cut()
	for i := 8; i < 12; i++ {
		member(i)
	}
	waitFor(head.Head + 7)
	cancel()
	if code := <-done; code != 0 {
		t.Errorf("tail -f exited %d after the interrupt: %s", code, ferr.String())
	}
	if got, want := positions(t, fout.String()), seq(head.Head-1, head.Head+7); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("tail -f positions = %v, want %v (each once, in order)", got, want)
	}
	if !strings.Contains(ferr.String(), "reconnecting after position") {
		t.Errorf("tail -f stderr = %q, want a note on the reconnection", ferr.String())
	}

	// Following one stream prints its events only: the token created before the member
	// is received and left out. With -n 1 the member event is printed whether it comes
	// before the command reads the head or after it subscribes.
	ctx, cancel = context.WithCancel(t.Context())
	fout = syncBuffer{}
	go func() {
		done <- run(ctx, []string{"--data-dir", dir, "--json", "events", "tail", "-f", "-n", "1", "--stream", stream, "--server", url}, strings.NewReader(""), &fout, &ferr)
	}()
	time.Sleep(200 * time.Millisecond) // most often subscribed by now: the filter on live events is tried
	var created json.RawMessage
	c.do(`mutation { createToken(input: {name: "carol", user: "carol"}) { secret } }`, nil, &created)
	member(12)
	deadline := time.Now().Add(30 * time.Second)
	for !strings.Contains(fout.String(), "user12") && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	cancel()
	if code := <-done; code != 0 {
		t.Errorf("tail -f --stream exited %d: %s", code, ferr.String())
	}
	evs := eventLines(t, 0, fout.String(), "")
	for _, e := range evs {
		if e.Stream != stream {
			t.Errorf("tail -f --stream %s printed %s at %d, of %s", stream, e.Type, e.Position, e.Stream)
		}
	}
	if len(evs) == 0 || !strings.Contains(string(evs[len(evs)-1].Data), "user12") {
		t.Errorf("tail -f --stream %s printed %q, want the new member event last", stream, fout.String())
	}

	var tok struct{ CreateToken struct{ Secret string } }
	c.do(`mutation { createToken(input: {name: "bob", user: "bob"}) { secret } }`, nil, &tok)
	for _, tc := range []struct {
		token string
		args  []string
		code  int
		want  string
	}{
		{"", []string{"-n", "-1"}, exitUsage, "-n -1"},
		{"", []string{"-n", "x"}, exitUsage, "invalid argument"},
		{"", []string{"-p", "nope"}, exitFailure, `no project "nope"`},
		{"", []string{"extra"}, exitUsage, "takes no arguments"},
		{tok.CreateToken.Secret, nil, exitFailure, "FORBIDDEN"},
		{tok.CreateToken.Secret, []string{"-f", "-n", "0"}, exitFailure, "FORBIDDEN"}, // refused by the subscription
	} {
		t.Setenv("STRATA_TOKEN", tc.token)
		if code, _, errOut := cli(tc.args...); code != tc.code || !strings.Contains(errOut, tc.want) {
			t.Errorf("tail %v = %d, %q; want %d and %q", tc.args, code, errOut, tc.code, tc.want)
		}
	}
}

// eventLines decodes the JSON event lines of a command's output (none if it is empty),
// failing the test if the command failed.
func eventLines(t *testing.T, code int, out, errOut string) []apiEvent {
	t.Helper()
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var evs []apiEvent
	if strings.TrimSpace(out) == "" {
		return nil
	}
	for line := range strings.SplitSeq(strings.TrimSpace(out), "\n") {
		var e apiEvent
		if err := json.Unmarshal([]byte(line), &e); err != nil {
			t.Fatalf("not a JSON event: %q: %v", line, err)
		}
		evs = append(evs, e)
	}
	return evs
}

// positions returns the position of every JSON event line in out.
func positions(t *testing.T, out string) []uint64 {
	t.Helper()
	var got []uint64
	for _, e := range eventLines(t, 0, out, "") {
		got = append(got, e.Position)
	}
	return got
}

// seq returns from, from+1, …, to.
func seq(from, to uint64) []uint64 {
	var out []uint64
	for p := from; p <= to; p++ {
		out = append(out, p)
	}
	return out
}

// cutProxy forwards TCP connections to a server and can cut every open one.
type cutProxy struct {
	ln     net.Listener
	target string
	mu     sync.Mutex
	// guards conns
	conns []net.Conn
}

func newCutProxy(t *testing.T, target string) *cutProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &cutProxy{ln: ln, target: target}
	var wg sync.WaitGroup
	wg.Go(func() {
		for {
			in, err := ln.Accept()
			if err != nil {
				return // closed
			}
			out, err := net.Dial("tcp", target)
			if err != nil {
				_ = in.Close()
				continue
			}
			p.mu.Lock()
			p.conns = append(p.conns, in, out)
			p.mu.Unlock()
			wg.Go(func() { _, _ = io.Copy(out, in); _ = out.Close() })
			wg.Go(func() { _, _ = io.Copy(in, out); _ = in.Close() })
		}
	})
	t.Cleanup(func() {
		_ = ln.Close()
		p.cut()
		wg.Wait()
	})
	return p
}

func (p *cutProxy) addr() string { return p.ln.Addr().String() }

// cut closes every connection open now.
func (p *cutProxy) cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range p.conns {
		_ = c.Close()
	}
	p.conns = nil
}
