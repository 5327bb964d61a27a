package docker

import (
	"math"
	"testing"

	mcontainer "github.com/moby/moby/api/types/container"
)

// computeStats is docker stats' arithmetic, case by case.
func TestComputeStats(t *testing.T) {
	cpu := func(total, system uint64, online uint32, percpu int) mcontainer.CPUStats {
		return mcontainer.CPUStats{CPUUsage: mcontainer.CPUUsage{TotalUsage: total, PercpuUsage: make([]uint64, percpu)},
			SystemUsage: system, OnlineCPUs: online}
	}
	tests := []struct {
		name        string
		prev        mcontainer.CPUStats
		cur         mcontainer.StatsResponse
		cpu         float64
		cores       float64
		used, avail uint64
		memPct      float64
		rx, tx      uint64
	}{
		{name: "one busy core of four", prev: cpu(1e9, 100e9, 4, 0),
			cur: mcontainer.StatsResponse{CPUStats: cpu(2e9, 104e9, 4, 0)}, cpu: 100, cores: 4},
		{name: "online CPUs from the per-CPU list", prev: cpu(0, 0, 0, 2),
			cur: mcontainer.StatsResponse{CPUStats: cpu(1e9, 4e9, 0, 2)}, cpu: 50, cores: 2},
		{name: "no system delta is no usage", prev: cpu(1e9, 5e9, 2, 0),
			cur: mcontainer.StatsResponse{CPUStats: cpu(2e9, 5e9, 2, 0)}, cpu: 0, cores: 2},
		{name: "cgroup v1 excludes total_inactive_file",
			cur: mcontainer.StatsResponse{MemoryStats: mcontainer.MemoryStats{Usage: 1000, Limit: 4000,
				Stats: map[string]uint64{"total_inactive_file": 200, "inactive_file": 50}}},
			used: 800, avail: 3200, memPct: 20},
		{name: "cgroup v2 excludes inactive_file",
			cur: mcontainer.StatsResponse{MemoryStats: mcontainer.MemoryStats{Usage: 1000, Limit: 2000,
				Stats: map[string]uint64{"inactive_file": 500}}},
			used: 500, avail: 1500, memPct: 25},
		{name: "inactive above usage is ignored",
			cur: mcontainer.StatsResponse{MemoryStats: mcontainer.MemoryStats{Usage: 100, Limit: 1000,
				Stats: map[string]uint64{"inactive_file": 500}}},
			used: 100, avail: 900, memPct: 10},
		{name: "networks add up",
			cur: mcontainer.StatsResponse{Networks: map[string]mcontainer.NetworkStats{"eth0": {RxBytes: 10, TxBytes: 1}, "eth1": {RxBytes: 5, TxBytes: 2}}},
			rx:  15, tx: 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := computeStats(tt.prev, &tt.cur)
			if math.Abs(s.CPU.Usage-tt.cpu) > 1e-9 || s.CPU.TotalCores != tt.cores || math.Abs(s.CPU.CoresUsed-tt.cpu/100) > 1e-9 {
				t.Errorf("cpu %+v, want %v%% of %v cores", s.CPU, tt.cpu, tt.cores)
			}
			if s.Memory.Used != tt.used || s.Memory.Available != tt.avail || math.Abs(s.Memory.Usage-tt.memPct) > 1e-9 {
				t.Errorf("memory %+v, want used %d available %d (%v%%)", s.Memory, tt.used, tt.avail, tt.memPct)
			}
			if s.Network.Rx != tt.rx || s.Network.Tx != tt.tx {
				t.Errorf("network %+v", s.Network)
			}
		})
	}
}
