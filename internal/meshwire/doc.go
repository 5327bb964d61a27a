// Package meshwire is the mesh's wire vocabulary and the view built from it:
// the JSON shapes of networks, nodes and peers as the Netmaker dialect and
// the push stream send them (Network, Node, Peer, Message), the access
// string an agent joins with, and View, which folds stream messages into a
// node's picture of its peers.
//
// It is shared by the server (internal/mesh encodes these shapes, the
// Netmaker dialect serves them), the agent and the simulated agent of
// internal/mesh/meshsim, which therefore all apply the stream with the same
// code. It imports only the standard library, so the agent carries no
// server dependency (no password hashing, JWT or database driver). Keys
// are the base64 strings WireGuard prints; parsing them is the consumer's
// business.
package meshwire
