package docker

import (
	"bufio"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/moby/moby/api/types/container"

	"github.com/stratahq/strata/runner"
)

// readStats reads recorded /containers/{id}/stats?stream=true output: consecutive
// samples, one JSON object per line.
func readStats(t *testing.T, name string) []container.StatsResponse {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close() //nolint:errcheck // read only
	var out []container.StatsResponse
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var s container.StatsResponse
		if err := json.Unmarshal(sc.Bytes(), &s); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		out = append(out, s)
	}
	if err := sc.Err(); err != nil || len(out) != 2 {
		t.Fatalf("%s: %d samples, %v; want 2", name, len(out), err)
	}
	return out
}

// dockerCPUPercent is `docker stats`' CPU %: the container's CPU time over the host's,
// between precpu_stats and cpu_stats, times the online CPUs.
func dockerCPUPercent(s container.StatsResponse) float64 {
	cpu := float64(s.CPUStats.CPUUsage.TotalUsage) - float64(s.PreCPUStats.CPUUsage.TotalUsage)
	system := float64(s.CPUStats.SystemUsage) - float64(s.PreCPUStats.SystemUsage)
	return cpu / system * float64(s.CPUStats.OnlineCPUs) * 100
}

// TestUsageOf reads recorded stats of both cgroup versions. v1 (recorded on a cgroup v1
// host: two busy loops and 64 MiB written to the container's file system) has per-CPU
// arrays and total_* keys; v2 has anon, file, inactive_file and no per-CPU usage. The CPU
// % the runner computes over two consecutive samples must be what `docker stats` shows
// for the second, and memory must leave out the inactive page cache.
func TestUsageOf(t *testing.T) {
	v1, v2 := readStats(t, "stats-cgroup-v1.jsonl"), readStats(t, "stats-cgroup-v2.jsonl")
	// A cgroup v1 container with a child cgroup (systemd or docker inside it): total_*
	// counts the child's pages too, the plain keys do not.
	nested := v1[1]
	nested.MemoryStats.Stats = map[string]uint64{}
	for k, v := range v1[1].MemoryStats.Stats {
		nested.MemoryStats.Stats[k] = v
	}
	nested.MemoryStats.Stats["inactive_file"] = 4 << 20
	tests := []struct {
		name    string
		prev    container.StatsResponse
		cur     container.StatsResponse
		wantMem int64
		wantCPU float64 // `docker stats` CPU %
	}{
		{"cgroup v1", v1[0], v1[1], 69537792 - 67108864, 199},
		{"cgroup v1 with a child cgroup", v1[0], nested, 69537792 - 67108864, 199},
		{"cgroup v2", v2[0], v2[1], 54829056 + 12*4096 + 67162112 + 1896448 - 62914560, 150},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			prev, cur := usageOf(tt.prev), usageOf(tt.cur)
			if cur.MemoryBytes != tt.wantMem {
				t.Errorf("MemoryBytes = %d, want %d", cur.MemoryBytes, tt.wantMem)
			}
			if cur.At != tt.cur.Read || cur.CPUTime.Nanoseconds() != int64(tt.cur.CPUStats.CPUUsage.TotalUsage) {
				t.Errorf("usageOf() = %+v, want the read time and total_usage", cur)
			}
			got, docker := runner.CPUPercent(prev, cur), dockerCPUPercent(tt.cur)
			if math.Abs(docker-tt.wantCPU) > 1 || math.Abs(got-docker) > 1 {
				t.Errorf("CPU %% = %.2f, docker stats = %.2f, want both %.0f", got, docker, tt.wantCPU)
			}
		})
	}
	if u := usageOf(container.StatsResponse{}); u.MemoryBytes != 0 || u.CPUTime != 0 {
		t.Errorf("usageOf(empty) = %+v", u)
	}
}
