package mesh

import (
	"strconv"
	"strings"

	"netkeep/internal/authz"
	"netkeep/internal/fault"
)

// The authz actions, named like the API key scopes that grant them.
const (
	actNetworksRead  authz.Action = "networks:read"
	actNetworksWrite authz.Action = "networks:write"
	actNodesRead     authz.Action = "nodes:read"
	actNodesWrite    authz.Action = "nodes:write"
)

// ownerNobody is the owner of every mesh object as an authz resource:
// networks and nodes belong to a group, not to a user, and authz lets a USER
// write only what it owns, so USERs may read them but not change them.
const ownerNobody = -1

var (
	errNetworkNotFound = fault.New(fault.NotFound, "network not found")
	errNotOwnNode      = fault.New(fault.Forbidden, "a node credential may act only on its own node")
)

func errNodeNotFound(mac string) error {
	return fault.Errorf(fault.NotFound, "node %s not found", mac)
}

func conflictField(field, msg string) *fault.Error {
	return fault.New(fault.Conflict, msg).WithDetails(map[string]any{"field": field})
}

// allowGroup is authz.Allow on a mesh object of groupID; another group's is
// "network not found", so its existence does not leak.
func allowGroup(p *authz.Principal, a authz.Action, groupID int64) error {
	err := authz.Allow(p, a, authz.Resource{GroupID: groupID, OwnerID: ownerNobody})
	if fault.Is(err, fault.NotFound) {
		return errNetworkNotFound
	}
	return err
}

// nodeSubject is the Subject of a node principal: "<netid>/<node id>".
func nodeSubject(netid string, id int64) string {
	return netid + "/" + strconv.FormatInt(id, 10)
}

// parseNodeSubject splits a node principal's Subject.
func parseNodeSubject(sub string) (netid string, id int64, ok bool) {
	netid, rest, found := strings.Cut(sub, "/")
	if !found {
		return "", 0, false
	}
	id, err := strconv.ParseInt(rest, 10, 64)
	return netid, id, err == nil && id > 0
}

// isNode reports whether p is a node credential.
func isNode(p *authz.Principal) bool { return p != nil && p.Kind == authz.KindNode }

// nodeTarget names a node in audit entries.
func nodeTarget(n *Node) string { return "node:" + strconv.FormatInt(n.ID, 10) }

func networkTarget(n *Network) string { return "network:" + n.NetID }
