package wg

import (
	"fmt"
	"path/filepath"

	"golang.zx2c4.com/wireguard/conn"
	"golang.zx2c4.com/wireguard/device"
	"golang.zx2c4.com/wireguard/ipc"
	"golang.zx2c4.com/wireguard/tun"
)

// createUserspace runs wireguard-go's device in this process over a TUN
// interface, with its UAPI socket in /var/run/wireguard so wgctrl and `wg`
// reach it like wireguard-go's own.
func (l *linuxLink) createUserspace() error {
	tdev, err := tun.CreateTUN(l.name, mtu)
	if err != nil {
		return err
	}
	logger := &device.Logger{
		Verbosef: func(string, ...any) {},
		Errorf:   func(f string, a ...any) { l.log.Debug(fmt.Sprintf(f, a...), "interface", l.name) },
	}
	dev := device.NewDevice(tdev, conn.NewDefaultBind(), logger)
	f, err := ipc.UAPIOpen(l.name)
	if err != nil {
		dev.Close()
		return err
	}
	uapi, err := ipc.UAPIListen(l.name, f)
	f.Close()
	if err != nil {
		dev.Close()
		return err
	}
	go func() {
		for {
			c, err := uapi.Accept()
			if err != nil {
				return
			}
			go dev.IpcHandle(c)
		}
	}()
	l.dev, l.uapi = dev, uapi
	return nil
}

// socketPath is the UAPI socket of a userspace interface, where wg and
// wgctrl look for it.
func socketPath(name string) string { return filepath.Join("/var/run/wireguard", name+".sock") }
