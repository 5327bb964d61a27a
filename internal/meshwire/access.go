package meshwire

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/url"
	"strings"
)

// AccessString is what `netkeep agent join` accepts alone: the server's base
// URL, the network and the key, as unpadded base64url of a JSON object
// {"server", "network", "key"}.
type AccessString struct {
	Server  string `json:"server"`
	Network string `json:"network"`
	Key     string `json:"key"`
}

// Encode returns the token.
func (a AccessString) Encode() string {
	b, _ := json.Marshal(a) // three strings cannot fail
	return base64.RawURLEncoding.EncodeToString(b)
}

// ParseAccessString decodes a token made by AccessString.Encode (padded or
// standard base64 is accepted too) and checks its parts. Its errors are
// user-safe sentences.
func ParseAccessString(s string) (AccessString, error) {
	var a AccessString
	s = strings.TrimRight(strings.TrimSpace(s), "=")
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		if b, err = base64.RawStdEncoding.DecodeString(s); err != nil {
			return a, errors.New("access string is not base64")
		}
	}
	if err := json.Unmarshal(b, &a); err != nil {
		return a, errors.New("access string does not hold server, network and key")
	}
	u, err := url.Parse(a.Server)
	switch {
	case err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "":
		return a, errors.New("access string has no valid server URL")
	case CheckNetID(a.Network) != "":
		return a, errors.New("access string has no valid network")
	case a.Key == "":
		return a, errors.New("access string has no key")
	}
	return a, nil
}

// MaxNetIDLen is the longest network id.
const MaxNetIDLen = 32

// CheckNetID says what is wrong with a network id, or "" when nothing is:
// 1 to MaxNetIDLen lowercase letters, digits and '-', not at either end
// (the id becomes part of interface names and URLs).
func CheckNetID(id string) string {
	if id == "" || len(id) > MaxNetIDLen {
		return "netid must be 1 to 32 characters"
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
			return "netid may contain only lowercase letters, digits and '-'"
		}
	}
	if id[0] == '-' || id[len(id)-1] == '-' {
		return "netid must not start or end with '-'"
	}
	return ""
}
