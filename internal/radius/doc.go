// Package radius is netkeep's RADIUS server for identity PSKs: access points
// ask it, per station, for the passphrase and VLAN, either by the station's
// MAC address (MAC authentication) or, without any MAC binding, by the WPA2
// 4-way handshake they forward (Ruckus DPSK, Cisco EasyPSK, hostapd
// wpa_psk_radius=3). It answers in each vendor's dialect and keeps the
// accounting view of online sessions.
//
// The per-packet path works on the raw datagram in reusable buffers, reads
// and answers datagrams in batches (recvmmsg and sendmmsg on Linux) on the
// goroutine that owns the socket, allocates nothing, and never touches the
// database: NAS clients, PSKs, endpoints and PMKs live in an in-memory
// Directory that the event bus keeps current. Every request is
// authenticated (Message-Authenticator, RFC 3579; Request Authenticator for
// accounting) before anything is looked up; packets from unknown sources or
// with a wrong authenticator are dropped silently and counted.
//
// radius imports no HTTP and no SQL: it declares the small interfaces it
// consumes (Source, PMKStore, Accounting, ClientSource) and cmd/netkeep or
// the server package wires the domain packages to them. Sub-packages: wpa
// (handshake cryptography) and nas (the NAS client and session domain).
package radius
