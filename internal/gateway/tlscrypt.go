package gateway

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
)

// tlsCryptKeyBytes is the size of an OpenVPN static key: 2048 bits, four
// 512-bit halves (cipher and HMAC keys for each direction).
const tlsCryptKeyBytes = 256

// newTLSCryptKey returns a fresh OpenVPN static key V1 in the text form
// `openvpn --genkey tls-crypt` writes: 16 lines of 32 hex digits between the
// BEGIN and END markers.
func newTLSCryptKey() []byte {
	var raw [tlsCryptKeyBytes]byte
	_, _ = rand.Read(raw[:])
	var b bytes.Buffer
	b.WriteString("#\n# 2048 bit OpenVPN static key\n#\n-----BEGIN OpenVPN Static key V1-----\n")
	for i := 0; i < len(raw); i += 16 {
		b.WriteString(hex.EncodeToString(raw[i : i+16]))
		b.WriteByte('\n')
	}
	b.WriteString("-----END OpenVPN Static key V1-----\n")
	clear(raw[:])
	return b.Bytes()
}

// tlsCryptContext binds a sealed tls-crypt key to its gateway, so that one
// gateway's sealed key cannot be moved to another's row.
func tlsCryptContext(gatewayID string) string { return "gateway-tls-crypt:" + gatewayID }

// TLSCryptKey returns the OpenVPN tls-crypt key of gateway id (a static key
// V1 block, ready to inline between <tls-crypt> tags). It is the key the
// gateway receives at provisioning and every client config of the gateway
// carries. It takes no principal: callers (provisioning, config generation)
// have already authorised their caller for the gateway, e.g. with
// UsableGateway. Errors: not_found.
func (s *Service) TLSCryptKey(ctx context.Context, id string) ([]byte, error) {
	sealed, err := s.store.Read().GatewayTLSCrypt(ctx, id)
	if err != nil {
		return nil, notFoundAs(err, errGatewayNotFound)
	}
	key, err := s.keys.Open(sealed, tlsCryptContext(id))
	if err != nil {
		return nil, fmt.Errorf("opening the tls-crypt key of %s: %w (was the server secret changed?)", id, err)
	}
	return key, nil
}
