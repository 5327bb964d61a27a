package docker

import (
	"context"
	"encoding/json"
	"time"

	mcontainer "github.com/moby/moby/api/types/container"
	"github.com/moby/moby/client"

	"netkeep/internal/container"
)

// Stats answers the container's usage from its stats feed (statsfeed.go),
// starting the feed if there is none. Until the feed has a usage, it
// samples the container twice, window apart, with one-shot reads (the
// engine answers from the cgroup at once instead of waiting for its
// one-second collector), and computes usage from the two as docker stats
// does from its previous and current samples. id is the container's full
// id (feeds are kept by it).
func (r *Runtime) Stats(ctx context.Context, id string) (*container.Stats, error) {
	if st := r.feeds.latest(id, func(ctx context.Context, f *statsFeed) { r.follow(ctx, f, id) }); st != nil {
		return st, nil
	}
	return r.measure(ctx, id)
}

// measure samples the container twice, window apart.
func (r *Runtime) measure(ctx context.Context, id string) (*container.Stats, error) {
	prev, err := r.sample(ctx, id)
	if err != nil {
		return nil, err
	}
	t := time.NewTimer(r.window)
	select {
	case <-ctx.Done():
		t.Stop()
		return nil, engineError(ctx.Err(), "", id)
	case <-t.C:
	}
	cur, err := r.sample(ctx, id)
	if err != nil {
		return nil, err
	}
	st := computeStats(prev.CPUStats, cur)
	st.ContainerID = id
	return &st, nil
}

func (r *Runtime) sample(ctx context.Context, id string) (*mcontainer.StatsResponse, error) {
	res, err := r.cli.ContainerStats(ctx, id, client.ContainerStatsOptions{Stream: false, IncludePreviousSample: false})
	if err != nil {
		return nil, engineError(err, "", id)
	}
	defer res.Body.Close()
	var s mcontainer.StatsResponse
	if err := json.NewDecoder(res.Body).Decode(&s); err != nil {
		return nil, engineError(err, "", id)
	}
	return &s, nil
}

// computeStats is docker stats' arithmetic (docker/cli,
// cli/command/container/stats_helpers.go) on a previous CPU sample and a
// current sample:
//
//   - CPU % = container CPU delta / system CPU delta × online CPUs × 100
//     (online CPUs: the per-CPU list's length when the engine does not say);
//   - memory used = usage − inactive file pages (total_inactive_file on
//     cgroup v1, inactive_file on v2), when they are below usage; memory
//     % = used / limit × 100;
//   - network = the sum of every interface's received and sent bytes.
func computeStats(prev mcontainer.CPUStats, cur *mcontainer.StatsResponse) container.Stats {
	online := float64(cur.CPUStats.OnlineCPUs)
	if online == 0 {
		online = float64(len(cur.CPUStats.CPUUsage.PercpuUsage))
	}
	cpuDelta := float64(cur.CPUStats.CPUUsage.TotalUsage) - float64(prev.CPUUsage.TotalUsage)
	sysDelta := float64(cur.CPUStats.SystemUsage) - float64(prev.SystemUsage)
	var cpu float64
	if sysDelta > 0 && cpuDelta > 0 {
		cpu = cpuDelta / sysDelta * online * 100
	}
	mem := cur.MemoryStats
	used := mem.Usage
	if v, v1 := mem.Stats["total_inactive_file"]; v1 && v < mem.Usage {
		used = mem.Usage - v
	} else if v := mem.Stats["inactive_file"]; v < mem.Usage {
		used = mem.Usage - v
	}
	var memPct float64
	var avail uint64
	if mem.Limit != 0 {
		memPct = float64(used) / float64(mem.Limit) * 100
		if mem.Limit > used {
			avail = mem.Limit - used
		}
	}
	var net container.NetworkIO
	for _, n := range cur.Networks {
		net.Rx += n.RxBytes
		net.Tx += n.TxBytes
	}
	at := cur.Read
	if at.IsZero() {
		at = time.Now()
	}
	return container.Stats{
		CPU:     container.CPU{Usage: cpu, CoresUsed: cpu / 100, TotalCores: online},
		Memory:  container.Memory{Usage: memPct, Used: used, Limit: mem.Limit, Available: avail},
		Network: net, Time: at.UTC(),
	}
}
