package badger_test

import (
	"bufio"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stratahq/strata/adapters/badger"
	"github.com/stratahq/strata/events"
	"github.com/stratahq/strata/events/eventstest"
)

// TestCrash kills a child process that appends from many goroutines with SIGKILL at a random
// moment, round after round on the same directory. After each kill the store must reopen with
// every append the child saw acknowledged, gapless positions and a log that verifies.
func TestCrash(t *testing.T) {
	rounds := 20
	if testing.Short() {
		rounds = 3
	}
	dir := t.TempDir()
	type ack struct {
		stream  events.StreamID
		version events.Version
		pos     events.Position
	}
	var total int
	for round := range rounds {
		cmd := exec.Command(os.Args[0], "-test.run=^TestCrashChild$")
		cmd.Env = append(os.Environ(), "STRATA_CRASH_DIR="+dir, "STRATA_CRASH_ROUND="+strconv.Itoa(round))
		cmd.Stderr = os.Stderr
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatalf("start child: %v", err)
		}
		var acks []ack
		ready := make(chan struct{})
		read := make(chan error, 1)
		go func() {
			sc := bufio.NewScanner(out)
			for sc.Scan() {
				f := strings.Fields(sc.Text())
				switch {
				case len(f) == 1 && f[0] == "ready":
					close(ready)
				case len(f) == 4 && f[0] == "ack":
					v, _ := strconv.ParseInt(f[2], 10, 64)
					p, _ := strconv.ParseUint(f[3], 10, 64)
					acks = append(acks, ack{events.StreamID(f[1]), events.Version(v), events.Position(p)})
				}
			}
			read <- sc.Err()
		}()
		select {
		case <-ready:
		case <-time.After(time.Minute):
			_ = cmd.Process.Kill()
			t.Fatalf("round %d: child did not open the store", round)
		}
		time.Sleep(time.Duration(50+rand.IntN(300)) * time.Millisecond)
		if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatalf("kill child: %v", err)
		}
		if err := <-read; err != nil {
			t.Logf("round %d: reading the child's output: %v", round, err)
		}
		_ = cmd.Wait()
		if len(acks) == 0 {
			t.Fatalf("round %d: the child acknowledged nothing before it was killed", round)
		}

		s, err := badger.Open(badger.Small(dir))
		if err != nil {
			t.Fatalf("round %d: reopen after SIGKILL: %v", round, err)
		}
		at := map[events.Position]events.Envelope{}
		for after := events.Position(total); ; {
			page, err := s.ReadAll(t.Context(), after, 4096)
			if err != nil {
				t.Fatalf("round %d: read back: %v", round, err)
			}
			for _, e := range page {
				at[e.Position] = e
			}
			if len(page) < 4096 {
				break
			}
			after = page[len(page)-1].Position
		}
		for _, a := range acks {
			if e, ok := at[a.pos]; !ok || e.Stream != a.stream || e.Version != a.version {
				t.Fatalf("round %d: acknowledged %s v%d at %d is not there after the crash", round, a.stream, a.version, a.pos)
			}
		}
		r, err := events.Verify(t.Context(), s, events.VerifyOptions{Gapless: true})
		if err != nil {
			t.Fatalf("round %d: Verify() after the crash: %v", round, err)
		}
		if r.Events < total+len(acks) {
			t.Fatalf("round %d: %d events after the crash, want at least %d", round, r.Events, total+len(acks))
		}
		total = r.Events
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
		t.Logf("round %d: %d acknowledged appends survived; the log holds %d events", round, len(acks), total)
	}
}

// TestCrashChild is the child process of TestCrash: it appends until it is killed.
func TestCrashChild(t *testing.T) {
	dir := os.Getenv("STRATA_CRASH_DIR")
	if dir == "" {
		t.Skip("the child process of TestCrash")
	}
	s, err := badger.Open(badger.Small(dir))
	if err != nil {
		fmt.Fprintln(os.Stderr, "child: open:", err)
		os.Exit(2)
	}
	fmt.Println("ready")
	round := os.Getenv("STRATA_CRASH_ROUND")
	var out sync.Mutex
	var wg sync.WaitGroup
	for g := range 16 {
		wg.Go(func() {
			stream := events.StreamID(fmt.Sprintf("crash-r%s-g%d", round, g))
			var v events.Version
			for {
				recs := make([]events.Record, 1+rand.IntN(4))
				for i := range recs {
					recs[i] = eventstest.Record(int(v) + i)
				}
				res, err := s.Append(t.Context(), stream, v, recs...)
				if err != nil {
					fmt.Fprintln(os.Stderr, "child: append:", err)
					os.Exit(2)
				}
				out.Lock()
				for i, p := range res.Positions {
					fmt.Printf("ack %s %d %d\n", stream, v+events.Version(i)+1, p)
				}
				out.Unlock()
				v = res.Version
			}
		})
	}
	wg.Wait()
}
