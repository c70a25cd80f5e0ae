package runner

import (
	"context"

	"github.com/stratahq/strata/domain/execution"
)

// sampler turns a run's cumulative usage into CPU percentages and records samples.
type sampler struct {
	r *Runner
	a *active
	h Handle

	prev   Usage
	sum    ResourceSummary
	cpuSum float64
	memSum int64
}

func newSampler(r *Runner, a *active, h Handle) *sampler {
	return &sampler{r: r, a: a, h: h, prev: Usage{At: r.now()}}
}

func (s *sampler) sample(ctx context.Context) {
	u, err := s.h.Usage(ctx)
	if err != nil {
		return // the run may have just ended
	}
	now := s.r.now()
	if u.At.IsZero() {
		u.At = now
	}
	cpu := CPUPercent(s.prev, u)
	s.prev = u
	var gpus []execution.GPUSample
	if s.r.cfg.Hardware.GPUs != 0 {
		if gs, err := QueryGPUs(ctx); err == nil {
			for _, g := range gs {
				gpus = append(gpus, execution.GPUSample{Index: g.Index, UUID: g.UUID, UtilizationPercent: max(g.UtilizationPercent, 0), MemoryBytes: max(g.MemoryUsedBytes, 0)})
			}
		}
	}
	if _, err := s.r.exec(ctx, s.a.st.ID(), execution.SampleResources{CPUPercent: cpu, MemoryBytes: max(u.MemoryBytes, 0), GPUs: gpus, At: now.UTC()}, ""); err != nil {
		s.r.logger.Warn("runner: record resource sample", "execution", s.a.st.ID(), "err", err)
		return
	}
	s.sum.Samples++
	s.sum.PeakCPUPercent = max(s.sum.PeakCPUPercent, cpu)
	s.sum.PeakMemoryBytes = max(s.sum.PeakMemoryBytes, u.MemoryBytes)
	s.cpuSum += cpu
	s.memSum += u.MemoryBytes
}

func (s *sampler) summary() ResourceSummary {
	out := s.sum
	if out.Samples > 0 {
		out.AvgCPU = s.cpuSum / float64(out.Samples)
		out.AvgMemory = s.memSum / int64(out.Samples)
	}
	return out
}

// event is s as the completion event records it; nil without samples.
func (s ResourceSummary) event() *execution.ResourceSummary {
	if s.Samples == 0 {
		return nil
	}
	return &execution.ResourceSummary{Samples: s.Samples, PeakCPUPercent: s.PeakCPUPercent, AvgCPUPercent: s.AvgCPU,
		PeakMemoryBytes: s.PeakMemoryBytes, AvgMemoryBytes: s.AvgMemory}
}
