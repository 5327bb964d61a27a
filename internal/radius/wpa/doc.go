// Package wpa is the WPA2-Personal key hierarchy the RADIUS server needs to
// identify a station's PSK from its 4-way handshake without a MAC binding:
// the PMK from a passphrase and SSID (PBKDF2-HMAC-SHA1, 4096 rounds), the
// pairwise key expansion (PRF-384) and the MIC of EAPOL-Key message 2
// (key descriptor versions 1 and 2).
//
// The expensive step, PBKDF2, depends only on (passphrase, SSID), so callers
// compute a Key once per pair and keep it; checking one candidate against a
// handshake then costs one HMAC for the KCK and one for the MIC, with the
// PMK's HMAC pads already absorbed. AKM 6 (PSK-SHA256, descriptor version 3)
// and SAE are not supported: SAE cannot be checked this way at all.
//
// A search checks many candidates per step where the CPU allows
// (multi-buffer SHA-1 over AVX-512 or AVX2 lanes, sha1mb.go), choosing the
// fastest way by timing them once per process.
//
// wpa imports only the standard library and golang.org/x/sys/cpu.
package wpa
