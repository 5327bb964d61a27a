package servertest

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"netkeep/internal/device"
)

// PairDevice pairs device id for the holder of access token, as the
// dashboard's pairing code and the app's redemption do, and returns the
// device's access token.
func (e *Env) PairDevice(tb testing.TB, access, id string) string {
	tb.Helper()
	ctx := context.Background()
	p, err := e.Server.Identity.AuthenticateAccess(ctx, access)
	if err != nil {
		tb.Fatal(err)
	}
	code, _, err := e.Server.Devices.NewCode(ctx, p, Src)
	if err != nil {
		tb.Fatal(err)
	}
	red, err := e.Server.Devices.Redeem(ctx, Src, code, "")
	if err != nil {
		tb.Fatal(err)
	}
	_, tok, err := e.Server.Devices.Pair(ctx, Src, red.BootstrapToken, device.NewDevice{ID: id, Platform: "android"})
	if err != nil {
		tb.Fatal(err)
	}
	return tok.AccessToken
}

// DeviceSocket opens the event WebSocket (/api/v1/ws) as a paired device,
// waits until it is authenticated, and returns the types of the messages
// that follow; the channel closes with the socket, which closes at the
// test's end at the latest.
func (e *Env) DeviceSocket(tb testing.TB, token string) <-chan string {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ws, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(e.URL, "http")+"/api/v1/ws", nil)
	if err != nil {
		tb.Fatalf("dialling the event socket: %v", err)
	}
	tb.Cleanup(func() { _ = ws.CloseNow() })
	auth, _ := json.Marshal(map[string]any{"type": "auth", "data": map[string]string{"token": token}})
	if err := ws.Write(ctx, websocket.MessageText, auth); err != nil {
		tb.Fatal(err)
	}
	for {
		_, b, err := ws.Read(ctx)
		if err != nil {
			tb.Fatalf("the device's event socket before auth_success: %v", err)
		}
		var m struct{ Type string }
		if json.Unmarshal(b, &m) == nil && m.Type == "auth_success" {
			break
		}
	}
	types := make(chan string, 64)
	go func() {
		defer close(types)
		for {
			_, b, err := ws.Read(context.Background())
			if err != nil {
				return
			}
			var m struct{ Type string }
			if json.Unmarshal(b, &m) == nil {
				types <- m.Type
			}
		}
	}()
	return types
}
