package gateway

import (
	"crypto/rand"
	"encoding/hex"

	"netkeep/internal/authz"
	"netkeep/internal/fault"
)

// The authz actions, named like the API key scopes that grant them. VPN
// networks have their own scope, distinct from the mesh's networks:*.
// Hubs and sessions belong to gateways:*.
const (
	actGatewaysRead  authz.Action = "gateways:read"
	actGatewaysWrite authz.Action = "gateways:write"
	actNetworksRead  authz.Action = "vpn-networks:read"
	actNetworksWrite authz.Action = "vpn-networks:write"
	actRulesRead     authz.Action = "access-rules:read"
	actRulesWrite    authz.Action = "access-rules:write"
)

// ownerNobody is the owner of every gateway object as an authz resource: they
// belong to a group, not a user, so a USER may never change them.
const ownerNobody = -1

var (
	errGatewayNotFound = fault.New(fault.NotFound, "gateway not found")
	errNetworkNotFound = fault.New(fault.NotFound, "network not found")
	errRuleNotFound    = fault.New(fault.NotFound, "access rule not found")
	errHubNotFound     = fault.New(fault.NotFound, "mesh hub not found")
)

// allowGroup is authz.Allow on an object of groupID; another group's object
// is reported as notFound so that its existence does not leak.
func allowGroup(p *authz.Principal, a authz.Action, groupID int64, notFound error) error {
	err := authz.Allow(p, a, authz.Resource{GroupID: groupID, OwnerID: ownerNobody})
	if fault.Is(err, fault.NotFound) {
		return notFound
	}
	return err
}

// allowAdmin is allowGroup for the admin API, which only administrators
// (and API keys they created) may use, even to read (authz.Administer).
func allowAdmin(p *authz.Principal, a authz.Action, groupID int64, notFound error) error {
	if err := allowGroup(p, a, groupID, notFound); err != nil {
		return err
	}
	return authz.Allow(p, authz.Administer, authz.Any)
}

// allowAdminAny checks a collection action (list, create) of the admin API.
func allowAdminAny(p *authz.Principal, a authz.Action) error {
	if err := authz.Allow(p, a, authz.Any); err != nil {
		return err
	}
	return authz.Allow(p, authz.Administer, authz.Any)
}

// newID returns prefix followed by 16 random hex digits.
func newID(prefix string) string {
	var b [8]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails on supported platforms
	return prefix + hex.EncodeToString(b[:])
}

func invalidField(field, msg string) *fault.Error {
	return fault.New(fault.Invalid, msg).WithDetails(map[string]any{"field": field})
}

func notFoundAs(err, as error) error {
	if fault.Is(err, fault.NotFound) {
		return as
	}
	return err
}
