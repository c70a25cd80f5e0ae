package runner

import (
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"os/exec"
	"strconv"
	"strings"

	"github.com/stratahq/strata/domain"
)

// NvidiaQuery is the nvidia-smi query whose output ParseNvidiaSMI reads:
// nvidia-smi --query-gpu=<NvidiaQuery> --format=csv,noheader,nounits.
const NvidiaQuery = "index,uuid,name,utilization.gpu,memory.used,memory.total"

// GPU is one GPU's state as nvidia-smi reports it. A value nvidia-smi reports as
// "[N/A]" (or "[Not Supported]") is -1.
type GPU struct {
	Index              int
	UUID               string
	Name               string
	UtilizationPercent float64
	MemoryUsedBytes    int64
	MemoryTotalBytes   int64
}

// ParseNvidiaSMI reads the output of nvidia-smi with NvidiaQuery, one GPU per line.
func ParseNvidiaSMI(r io.Reader) ([]GPU, error) {
	cr := csv.NewReader(r)
	cr.TrimLeadingSpace = true
	cr.FieldsPerRecord = 6
	recs, err := cr.ReadAll()
	if err != nil {
		return nil, fmt.Errorf("parse nvidia-smi output: %w: %w", err, domain.ErrInvalid)
	}
	out := make([]GPU, 0, len(recs))
	for i, rec := range recs {
		for j := range rec {
			rec[j] = strings.TrimSpace(rec[j])
		}
		idx, err := strconv.Atoi(rec[0])
		if err != nil {
			return nil, fmt.Errorf("parse nvidia-smi output: line %d: index %q: %w", i+1, rec[0], domain.ErrInvalid)
		}
		g := GPU{Index: idx, UUID: rec[1], Name: rec[2]}
		if g.UtilizationPercent, err = nvFloat(rec[3]); err != nil {
			return nil, fmt.Errorf("parse nvidia-smi output: line %d: utilization: %w", i+1, err)
		}
		used, err := nvFloat(rec[4])
		if err != nil {
			return nil, fmt.Errorf("parse nvidia-smi output: line %d: memory used: %w", i+1, err)
		}
		total, err := nvFloat(rec[5])
		if err != nil {
			return nil, fmt.Errorf("parse nvidia-smi output: line %d: memory total: %w", i+1, err)
		}
		g.MemoryUsedBytes, g.MemoryTotalBytes = mib(used), mib(total)
		out = append(out, g)
	}
	return out, nil
}

// nvFloat parses a number of nvidia-smi's nounits output; "[N/A]" and other bracketed
// words are -1.
func nvFloat(s string) (float64, error) {
	if strings.HasPrefix(s, "[") || s == "N/A" {
		return -1, nil
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return 0, fmt.Errorf("%q: %w", s, domain.ErrInvalid)
	}
	return f, nil
}

func mib(f float64) int64 {
	if f < 0 {
		return -1
	}
	return int64(f * (1 << 20))
}

// QueryGPUs runs nvidia-smi and parses its output. Without nvidia-smi it returns no GPUs.
func QueryGPUs(ctx context.Context) ([]GPU, error) {
	path, err := exec.LookPath("nvidia-smi")
	if err != nil {
		return nil, nil
	}
	out, err := exec.CommandContext(ctx, path, "--query-gpu="+NvidiaQuery, "--format=csv,noheader,nounits").Output()
	if err != nil {
		return nil, fmt.Errorf("query gpus: %w", err)
	}
	return ParseNvidiaSMI(strings.NewReader(string(out)))
}
