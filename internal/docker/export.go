package docker

import (
	"context"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"

	"github.com/compose-spec/compose-go/v2/types"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/mount"
	"github.com/moby/moby/client"

	"netkeep/internal/toolbox"
)

// anonymous is an anonymous volume's generated name.
var anonymous = regexp.MustCompile(`^[0-9a-f]{64}$`)

// Describe reads container id back as a Compose service: image, command
// and entrypoint, environment and labels beyond the image's own, published
// ports, mounts, restart policy and networks (toolbox.Engine).
func (p *Projects) Describe(ctx context.Context, id string) (*toolbox.Described, error) {
	cli, err := p.client()
	if err != nil {
		return nil, err
	}
	res, err := cli.ContainerInspect(ctx, id, client.ContainerInspectOptions{})
	if err != nil {
		return nil, engineError(err, "inspecting container "+id, id)
	}
	c := res.Container
	if c.Config == nil || c.HostConfig == nil {
		return nil, fmt.Errorf("container %s: the engine returned no configuration", id)
	}
	var imgEnv, imgCmd, imgEntry []string
	var imgLabels map[string]string
	var imgUser, imgDir string
	if img, err := cli.ImageInspect(ctx, c.Image); err == nil && img.Config != nil {
		imgEnv, imgCmd, imgEntry, imgLabels = img.Config.Env, img.Config.Cmd, img.Config.Entrypoint, img.Config.Labels
		imgUser, imgDir = img.Config.User, img.Config.WorkingDir
	} // an image removed since: everything counts as the container's own

	d := &toolbox.Described{}
	s := types.ServiceConfig{}
	s.ContainerName = strings.TrimPrefix(c.Name, "/")
	s.Image = c.Config.Image
	if !slices.Equal(c.Config.Cmd, imgCmd) {
		s.Command = c.Config.Cmd
	}
	if !slices.Equal(c.Config.Entrypoint, imgEntry) {
		s.Entrypoint = c.Config.Entrypoint
	}
	if c.Config.User != imgUser {
		s.User = c.Config.User
	}
	if c.Config.WorkingDir != imgDir {
		s.WorkingDir = c.Config.WorkingDir
	}
	for _, kv := range c.Config.Env {
		if slices.Contains(imgEnv, kv) {
			continue
		}
		k, v, _ := strings.Cut(kv, "=")
		if s.Environment == nil {
			s.Environment = types.MappingWithEquals{}
		}
		s.Environment[k] = &v
	}
	for k, v := range c.Config.Labels {
		if iv, ok := imgLabels[k]; (ok && iv == v) || internalLabel(k) {
			continue
		}
		if s.Labels == nil {
			s.Labels = types.Labels{}
		}
		s.Labels[k] = v
	}
	s.Restart = restartOf(c.HostConfig.RestartPolicy)
	describeMounts(c.Mounts, &s, d)
	describeNetworks(c, &s, d)
	describePorts(c.HostConfig, &s)
	d.Service = s
	return d, nil
}

// internalLabel is a label the recreated container gets anew, or that ties
// it to what it was created by (Compose, a toolbox deployment).
func internalLabel(k string) bool {
	return strings.HasPrefix(k, "com.docker.compose.") || k == toolbox.LabelDeployment || k == toolbox.LabelTemplate
}

func restartOf(rp container.RestartPolicy) string {
	switch {
	case rp.Name == "":
		return "no"
	case rp.Name == container.RestartPolicyOnFailure && rp.MaximumRetryCount > 0:
		return fmt.Sprintf("%s:%d", rp.Name, rp.MaximumRetryCount)
	}
	return string(rp.Name)
}

func describeMounts(ms []container.MountPoint, s *types.ServiceConfig, d *toolbox.Described) {
	for _, m := range ms {
		v := types.ServiceVolumeConfig{Type: string(m.Type), Target: m.Destination, ReadOnly: !m.RW}
		switch m.Type {
		case mount.TypeVolume:
			if anonymous.MatchString(m.Name) {
				continue // the image's VOLUME: recreated anew
			}
			v.Source = m.Name
			if d.Volumes == nil {
				d.Volumes = types.Volumes{}
			}
			d.Volumes[m.Name] = types.VolumeConfig{Name: m.Name, External: true}
		case mount.TypeBind:
			v.Source = m.Source
		case mount.TypeTmpfs:
		default:
			continue
		}
		s.Volumes = append(s.Volumes, v)
	}
	slices.SortFunc(s.Volumes, func(a, b types.ServiceVolumeConfig) int { return strings.Compare(a.Target, b.Target) })
}

// describeNetworks keeps host and none as network_mode, and attaches the
// service to the user networks it is on, declared external (they outlive
// the container).
func describeNetworks(c container.InspectResponse, s *types.ServiceConfig, d *toolbox.Described) {
	mode := string(c.HostConfig.NetworkMode)
	switch mode {
	case "host", "none", "bridge", "default", "":
		s.NetworkMode = mode
		if mode == "default" || mode == "" {
			s.NetworkMode = "bridge"
		}
		return
	}
	if strings.HasPrefix(mode, "container:") {
		s.NetworkMode = mode
		return
	}
	if c.NetworkSettings == nil {
		return
	}
	for _, name := range slices.Sorted(maps.Keys(c.NetworkSettings.Networks)) {
		if d.Networks == nil {
			d.Networks = types.Networks{}
			s.Networks = map[string]*types.ServiceNetworkConfig{}
		}
		d.Networks[name] = types.NetworkConfig{Name: name, External: true}
		s.Networks[name] = nil
	}
}

// describePorts lists the published ports, by container port.
func describePorts(hc *container.HostConfig, s *types.ServiceConfig) {
	for port, bs := range hc.PortBindings {
		for _, b := range bs {
			pc := types.ServicePortConfig{Target: uint32(port.Num()), Published: b.HostPort, Protocol: string(port.Proto()), Mode: "ingress"}
			if b.HostIP.IsValid() && !b.HostIP.IsUnspecified() {
				pc.HostIP = b.HostIP.String()
			}
			s.Ports = append(s.Ports, pc)
		}
	}
	slices.SortFunc(s.Ports, func(a, b types.ServicePortConfig) int {
		if a.Target != b.Target {
			return int(a.Target) - int(b.Target)
		}
		return strings.Compare(a.Published+a.HostIP, b.Published+b.HostIP)
	})
}
