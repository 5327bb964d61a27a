package meshwire

import (
	"strings"
	"testing"
)

func TestAccessString(t *testing.T) {
	good := AccessString{Server: "https://vpn.example.com:8443", Network: "keys", Key: "aA3bVG0rnItIRXDx"}
	tests := map[string]struct {
		in      string
		wantErr string
	}{
		"round trip":       {in: good.Encode()},
		"padded":           {in: good.Encode() + "=="},
		"empty":            {in: "", wantErr: "does not hold"},
		"not base64":       {in: "!!!", wantErr: "not base64"},
		"empty object":     {in: "e30", wantErr: "no valid server URL"},
		"not http":         {in: AccessString{Server: "ftp://x", Network: "keys", Key: "k"}.Encode(), wantErr: "no valid server URL"},
		"bad network":      {in: AccessString{Server: "http://x", Network: "Bad", Key: "k"}.Encode(), wantErr: "no valid network"},
		"no key":           {in: AccessString{Server: "http://x", Network: "keys"}.Encode(), wantErr: "no key"},
		"network too long": {in: AccessString{Server: "http://x", Network: strings.Repeat("n", 33), Key: "k"}.Encode(), wantErr: "no valid network"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got, err := ParseAccessString(tc.in)
			switch {
			case tc.wantErr == "" && (err != nil || got != good):
				t.Fatalf("= %+v, %v; want %+v", got, err, good)
			case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
				t.Fatalf("error %v, want %q", err, tc.wantErr)
			}
		})
	}
}

func TestCheckInterfaceName(t *testing.T) {
	tests := map[string]struct {
		in string
		ok bool
	}{
		"default":    {in: DefaultInterface("office"), ok: true},
		"long netid": {in: DefaultInterface("a-very-long-network-id"), ok: true},
		"empty":      {in: ""},
		"too long":   {in: "nk-0123456789abc"},
		"slash":      {in: "nk/x"},
		"colon":      {in: "nk:x"},
		"blank":      {in: "nk x"},
		"control":    {in: "nk\x01"},
		"non-ascii":  {in: "nk-é"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if msg := CheckInterfaceName(tc.in); (msg == "") != tc.ok {
				t.Errorf("CheckInterfaceName(%q) = %q, want ok %v", tc.in, msg, tc.ok)
			}
		})
	}
}
