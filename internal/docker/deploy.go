package docker

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/compose-spec/compose-go/v2/types"
	cerrdefs "github.com/containerd/errdefs"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/mount"
	"github.com/moby/moby/api/types/network"
	"github.com/moby/moby/client"

	"netkeep/internal/fault"
	"netkeep/internal/toolbox"
)

// Projects brings the toolbox's Compose projects up on the engine at a host
// and reads containers back as Compose services (toolbox.Engine). It never
// pulls an image: a deployment whose image is not on the engine fails
// saying so. The connection is made at first use and kept.
type Projects struct {
	host string
	mu   sync.Mutex
	cli  *client.Client
}

// NewProjects returns the engine adapter for host ("unix:///var/run/docker.sock").
func NewProjects(host string) *Projects { return &Projects{host: host} }

// Close releases the connection.
func (p *Projects) Close() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cli == nil {
		return nil
	}
	err := p.cli.Close()
	p.cli = nil
	return err
}

func (p *Projects) client() (*client.Client, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cli == nil {
		cli, err := client.New(client.WithHost(p.host))
		if err != nil {
			return nil, fault.New(fault.Unavailable, "the container engine is not configured correctly").Wrap(err)
		}
		p.cli = cli
	}
	return p.cli, nil
}

// labelsOf are the labels of a project's network or volume.
func labelsOf(plan toolbox.Plan, kind, key string) map[string]string {
	return map[string]string{toolbox.LabelProject: plan.Project.Name, "com.docker.compose." + kind: key,
		toolbox.LabelDeployment: plan.DeploymentID}
}

// Deploy creates the project's networks, volumes and containers (started
// when plan.Start), each labelled with the deployment. On failure it
// removes what it created, so a failed deployment leaves nothing behind.
func (p *Projects) Deploy(ctx context.Context, plan toolbox.Plan) ([]string, error) {
	cli, err := p.client()
	if err != nil {
		return nil, err
	}
	names := slices.Sorted(func(yield func(string) bool) {
		for k := range plan.Project.Services {
			if !yield(k) {
				return
			}
		}
	})
	// Every image first: nothing is created for a deployment that cannot run.
	for _, name := range names {
		img := plan.Project.Services[name].Image
		if _, err := cli.ImageInspect(ctx, img); err != nil {
			if cerrdefs.IsNotFound(err) {
				return nil, fault.Errorf(fault.Invalid, "image %s is not present on the container engine, and netkeep does not pull images: "+
					"load it first (docker load, docker import or docker pull on the engine's host)", img)
			}
			return nil, engineError(err, "inspecting image "+img, "")
		}
	}
	ids, err := p.create(ctx, cli, plan, names)
	if err != nil {
		if rerr := p.Remove(context.WithoutCancel(ctx), plan.DeploymentID, true); rerr != nil {
			err = errors.Join(err, rerr)
		}
		return nil, err
	}
	return ids, nil
}

func (p *Projects) create(ctx context.Context, cli *client.Client, plan toolbox.Plan, names []string) ([]string, error) {
	proj := plan.Project
	used := map[string]bool{}
	for _, name := range names {
		for n := range proj.Services[name].Networks {
			used[n] = true
		}
	}
	for key, n := range proj.Networks {
		if !used[key] || bool(n.External) {
			continue
		}
		driver := n.Driver
		if driver == "" {
			driver = "bridge"
		}
		if _, err := cli.NetworkCreate(ctx, n.Name, client.NetworkCreateOptions{Driver: driver, Internal: n.Internal,
			Labels: labelsOf(plan, "network", key)}); err != nil {
			return nil, engineError(err, "creating network "+n.Name, "")
		}
	}
	for key, v := range proj.Volumes {
		if bool(v.External) {
			continue
		}
		if _, err := cli.VolumeCreate(ctx, client.VolumeCreateOptions{Name: v.Name, Driver: v.Driver,
			Labels: labelsOf(plan, "volume", key)}); err != nil {
			return nil, engineError(err, "creating volume "+v.Name, "")
		}
	}
	var ids []string
	for _, name := range names {
		opts, err := containerOptions(proj, proj.Services[name])
		if err != nil {
			return ids, err
		}
		res, err := cli.ContainerCreate(ctx, opts)
		if err != nil {
			return ids, engineError(err, "creating container "+opts.Name, "")
		}
		ids = append(ids, res.ID)
		if plan.Start {
			if _, err := cli.ContainerStart(ctx, res.ID, client.ContainerStartOptions{}); err != nil {
				return ids, engineError(err, "starting container "+opts.Name, "")
			}
		}
	}
	return ids, nil
}

// containerOptions is the Engine API's form of a Compose service.
func containerOptions(proj *types.Project, s types.ServiceConfig) (client.ContainerCreateOptions, error) {
	name := s.ContainerName
	if name == "" {
		name = proj.Name + "-" + s.Name + "-1"
	}
	cfg := &container.Config{Image: s.Image, Cmd: s.Command, Entrypoint: s.Entrypoint, Labels: map[string]string(s.Labels),
		User: s.User, WorkingDir: s.WorkingDir, Hostname: s.Hostname, ExposedPorts: network.PortSet{}}
	for k, v := range s.Environment {
		if v != nil {
			cfg.Env = append(cfg.Env, k+"="+*v)
		}
	}
	slices.Sort(cfg.Env)
	hc := &container.HostConfig{NetworkMode: container.NetworkMode(s.NetworkMode), PortBindings: network.PortMap{}}
	for _, pc := range s.Ports {
		port, err := network.ParsePort(fmt.Sprintf("%d/%s", pc.Target, cmpOr(pc.Protocol, "tcp")))
		if err != nil {
			return client.ContainerCreateOptions{}, fault.Errorf(fault.Invalid, "service %s: port %d: %v", s.Name, pc.Target, err)
		}
		cfg.ExposedPorts[port] = struct{}{}
		b := network.PortBinding{HostPort: pc.Published}
		if pc.HostIP != "" {
			ip, err := netip.ParseAddr(pc.HostIP)
			if err != nil {
				return client.ContainerCreateOptions{}, fault.Errorf(fault.Invalid, "service %s: host_ip %q is not an address", s.Name, pc.HostIP)
			}
			b.HostIP = ip
		}
		hc.PortBindings[port] = append(hc.PortBindings[port], b)
	}
	for _, v := range s.Volumes {
		m := mount.Mount{Type: mount.Type(v.Type), Source: v.Source, Target: v.Target, ReadOnly: v.ReadOnly}
		if v.Type == types.VolumeTypeVolume && v.Source != "" {
			if pv, ok := proj.Volumes[v.Source]; ok {
				m.Source = pv.Name
			}
		}
		hc.Mounts = append(hc.Mounts, m)
	}
	policy, err := restartPolicy(s.Restart)
	if err != nil {
		return client.ContainerCreateOptions{}, fault.Errorf(fault.Invalid, "service %s: %v", s.Name, err)
	}
	hc.RestartPolicy = policy
	var nc *network.NetworkingConfig
	if nets := s.NetworksByPriority(); s.NetworkMode == "" && len(nets) > 0 {
		// Engines before API 1.44 create a container on one network only.
		if len(nets) > 1 {
			return client.ContainerCreateOptions{}, fault.Errorf(fault.Invalid, "service %s joins %d networks; the toolbox attaches one", s.Name, len(nets))
		}
		n := proj.Networks[nets[0]]
		hc.NetworkMode = container.NetworkMode(n.Name)
		ep := &network.EndpointSettings{Aliases: []string{s.Name}}
		if sn := s.Networks[nets[0]]; sn != nil {
			ep.Aliases = append(ep.Aliases, sn.Aliases...)
		}
		nc = &network.NetworkingConfig{EndpointsConfig: map[string]*network.EndpointSettings{n.Name: ep}}
	}
	return client.ContainerCreateOptions{Name: name, Config: cfg, HostConfig: hc, NetworkingConfig: nc}, nil
}

// restartPolicy parses Compose's restart ("no", "always", "unless-stopped",
// "on-failure[:N]").
func restartPolicy(s string) (container.RestartPolicy, error) {
	mode, count, _ := strings.Cut(s, ":")
	rp := container.RestartPolicy{Name: container.RestartPolicyMode(mode)}
	switch rp.Name {
	case "", container.RestartPolicyDisabled, container.RestartPolicyAlways, container.RestartPolicyUnlessStopped:
		if count != "" {
			return rp, fmt.Errorf("restart %q takes no count", s)
		}
	case container.RestartPolicyOnFailure:
		if count != "" {
			n, err := strconv.Atoi(count)
			if err != nil || n < 0 {
				return rp, fmt.Errorf("restart %q: the count must be a number", s)
			}
			rp.MaximumRetryCount = n
		}
	default:
		return rp, fmt.Errorf("restart %q is not a policy", s)
	}
	return rp, nil
}

func cmpOr(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// Remove removes every container and network labelled with the
// deployment, and its volumes when volumes is true. What is already gone
// is not an error.
func (p *Projects) Remove(ctx context.Context, deploymentID string, volumes bool) error {
	cli, err := p.client()
	if err != nil {
		return err
	}
	f := client.Filters{}.Add("label", toolbox.LabelDeployment+"="+deploymentID)
	cs, err := cli.ContainerList(ctx, client.ContainerListOptions{All: true, Filters: f})
	if err != nil {
		return engineError(err, "listing the deployment's containers", "")
	}
	for _, c := range cs.Items {
		if _, err := cli.ContainerRemove(ctx, c.ID, client.ContainerRemoveOptions{Force: true, RemoveVolumes: volumes}); err != nil && !cerrdefs.IsNotFound(err) {
			return engineError(err, "removing container "+c.ID, "")
		}
	}
	ns, err := cli.NetworkList(ctx, client.NetworkListOptions{Filters: f})
	if err != nil {
		return engineError(err, "listing the deployment's networks", "")
	}
	for _, n := range ns.Items {
		if _, err := cli.NetworkRemove(ctx, n.ID, client.NetworkRemoveOptions{}); err != nil && !cerrdefs.IsNotFound(err) {
			return engineError(err, "removing network "+n.Name, "")
		}
	}
	if !volumes {
		return nil
	}
	vs, err := cli.VolumeList(ctx, client.VolumeListOptions{Filters: f})
	if err != nil {
		return engineError(err, "listing the deployment's volumes", "")
	}
	for _, v := range vs.Items {
		if _, err := cli.VolumeRemove(ctx, v.Name, client.VolumeRemoveOptions{Force: true}); err != nil && !cerrdefs.IsNotFound(err) {
			return engineError(err, "removing volume "+v.Name, "")
		}
	}
	return nil
}
