package web

import (
	"encoding/base64"
	"html/template"
	"strings"

	qrcode "github.com/skip2/go-qrcode"
)

// qrImage is text as a QR code PNG in a data: URL, for an <img>. Medium
// error correction, as phone cameras read it from a screen or a print.
func qrImage(text string) (template.URL, error) {
	png, err := qrcode.Encode(text, qrcode.Medium, 320)
	if err != nil {
		return "", err
	}
	return template.URL("data:image/png;base64," + base64.StdEncoding.EncodeToString(png)), nil
}

// wifiEscaper escapes the special characters of a WIFI: QR field.
var wifiEscaper = strings.NewReplacer(`\`, `\\`, `;`, `\;`, `,`, `\,`, `:`, `\:`, `"`, `\"`)

// wifiJoin is the text of a WiFi QR code that a phone camera joins:
// WIFI:T:WPA;S:<ssid>;P:<passphrase>;;
func wifiJoin(ssid, passphrase string) string {
	return "WIFI:T:WPA;S:" + wifiEscaper.Replace(ssid) + ";P:" + wifiEscaper.Replace(passphrase) + ";;"
}
