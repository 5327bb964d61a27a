package gatekey

import (
	"cmp"
	"context"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"netkeep/internal/api"
	"netkeep/internal/apikey"
	"netkeep/internal/authz"
	"netkeep/internal/fault"
	"netkeep/internal/gateway"
	"netkeep/internal/identity"
)

// The admin views gatekey-admin offers besides the seed's admin API: local
// users, groups, API keys, the CA, live connections and the topology.
// Their paths and fields are the admin CLI's; the seed documents none of
// them, so seed clients get them in the seed's usual envelopes ({data,
// meta} lists, {data} objects) and GateKey's programs the list under its
// name (writeList) and bare objects (writeData). Every view is for
// administrators of the caller's group (a super administrator sees every
// group); each change is the domain's, audited there.

// ---- local users ----

// localUserJSON is a user as gatekey-admin's local-user views decode it.
type localUserJSON struct {
	ID          string  `json:"id"`
	Username    string  `json:"username"`
	Email       string  `json:"email"`
	IsAdmin     bool    `json:"is_admin"`
	IsActive    bool    `json:"is_active"`
	LastLoginAt *string `json:"last_login_at,omitempty"`
	CreatedAt   string  `json:"created_at"`
	GroupName   string  `json:"group_name,omitempty"`
}

func localUserOf(u *identity.User) localUserJSON {
	return localUserJSON{ID: strconv.FormatInt(u.ID, 10), Username: u.Username, Email: u.Email,
		IsAdmin: isAdmin(authz.Role(u.Role)), IsActive: u.IsActive, LastLoginAt: optionalTime(u.LastLogin),
		CreatedAt: timestamp(u.CreatedAt), GroupName: u.GroupName}
}

func (h *Handlers) localUsers(w http.ResponseWriter, r *http.Request) {
	users, err := h.Identity.ListUsersAsAdmin(r.Context(), api.PrincipalFrom(r.Context()))
	if err != nil {
		api.Error(w, r, err)
		return
	}
	writePage(w, r, "users", users, localUserOf)
}

// localUserBody creates a local user: is_admin makes it its group's
// administrator, else a user, in the caller's group.
type localUserBody struct {
	Username string `json:"username"`
	Email    string `json:"email"`
	Password string `json:"password"`
	Name     string `json:"name"`
	IsAdmin  bool   `json:"is_admin"`
}

func (h *Handlers) createLocalUser(w http.ResponseWriter, r *http.Request) {
	var in localUserBody
	if err := api.Decode(r, &in); err != nil {
		api.Error(w, r, err)
		return
	}
	role := identity.RoleUser
	if in.IsAdmin {
		role = identity.GroupAdmin
	}
	u, err := h.Identity.CreateUser(r.Context(), api.PrincipalFrom(r.Context()), api.Source(r),
		identity.NewUser{Username: in.Username, Email: in.Email, Password: in.Password, FullName: in.Name, Role: role})
	if err != nil {
		api.Error(w, r, err)
		return
	}
	writeData(w, r, http.StatusCreated, localUserOf(u))
}

var errUserID = fault.New(fault.NotFound, "user not found")

// userID reads the {id} of a local-user path; what is no id is not found.
func userID(r *http.Request) (int64, error) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		return 0, errUserID
	}
	return id, nil
}

func (h *Handlers) deleteLocalUser(w http.ResponseWriter, r *http.Request) {
	id, err := userID(r)
	if err == nil {
		err = h.Identity.DeleteUser(r.Context(), api.PrincipalFrom(r.Context()), api.Source(r), id)
	}
	if err != nil {
		api.Error(w, r, err)
		return
	}
	deleted(w, r, r.PathValue("id"))
}

// resetPasswordJSON answers a password reset.
type resetPasswordJSON struct {
	ID      string `json:"id"`
	Message string `json:"message"`
}

func (h *Handlers) resetLocalPassword(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Password string `json:"password"`
	}
	if err := api.Decode(r, &in); err != nil {
		api.Error(w, r, err)
		return
	}
	if in.Password == "" {
		api.Error(w, r, fault.New(fault.Invalid, "password is required").WithDetails(map[string]any{"field": "password"}))
		return
	}
	id, err := userID(r)
	if err == nil {
		_, err = h.Identity.UpdateUser(r.Context(), api.PrincipalFrom(r.Context()), api.Source(r), id,
			identity.UserPatch{Password: &in.Password})
	}
	if err != nil {
		api.Error(w, r, err)
		return
	}
	writeData(w, r, http.StatusOK, resetPasswordJSON{ID: r.PathValue("id"), Message: "password reset"})
}

// ---- groups ----

// groupJSON is a group as gatekey-admin lists it: its name, how many
// users it has and how many access rules name it.
type groupJSON struct {
	ID          int64  `json:"id"`
	Name        string `json:"name"`
	MemberCount int    `json:"member_count"`
	RuleCount   int    `json:"rule_count"`
}

// groupView is what the group views are made of: the caller's groups,
// their users and the access rules.
type groupView struct {
	groups []identity.Group
	users  []*identity.User
	rules  []*gateway.Rule
}

func (h *Handlers) loadGroups(r *http.Request) (*groupView, error) {
	p := api.PrincipalFrom(r.Context())
	users, err := h.Identity.ListUsersAsAdmin(r.Context(), p)
	if err != nil {
		return nil, err
	}
	groups, err := h.Identity.ListGroups(r.Context(), p)
	if err != nil {
		return nil, err
	}
	rules, err := h.Gateways.Rules(r.Context(), p)
	if err != nil {
		return nil, err
	}
	return &groupView{groups: groups, users: users, rules: rules}, nil
}

// named finds the group called name among the caller's.
func (v *groupView) named(name string) (identity.Group, error) {
	for _, g := range v.groups {
		if strings.EqualFold(g.Name, name) {
			return g, nil
		}
	}
	return identity.Group{}, fault.New(fault.NotFound, "group not found")
}

func (v *groupView) members(id int64) []*identity.User {
	var out []*identity.User
	for _, u := range v.users {
		if u.GroupID == id {
			out = append(out, u)
		}
	}
	return out
}

func (v *groupView) rulesOf(id int64) []*gateway.Rule {
	var out []*gateway.Rule
	for _, ru := range v.rules {
		if slices.Contains(ru.GroupIDs, id) {
			out = append(out, ru)
		}
	}
	return out
}

func (h *Handlers) adminGroups(w http.ResponseWriter, r *http.Request) {
	v, err := h.loadGroups(r)
	if err != nil {
		api.Error(w, r, err)
		return
	}
	writePage(w, r, "groups", v.groups, func(g identity.Group) groupJSON {
		return groupJSON{ID: g.ID, Name: g.Name, MemberCount: len(v.members(g.ID)), RuleCount: len(v.rulesOf(g.ID))}
	})
}

func (h *Handlers) groupMembers(w http.ResponseWriter, r *http.Request) {
	h.ofGroup(w, r, func(v *groupView, g identity.Group) {
		writePage(w, r, "members", v.members(g.ID), programUserOf)
	})
}

func (h *Handlers) groupRules(w http.ResponseWriter, r *http.Request) {
	h.ofGroup(w, r, func(v *groupView, g identity.Group) {
		writePage(w, r, "rules", v.rulesOf(g.ID), ruleOf)
	})
}

// ofGroup answers with write for the group the path's {name} names.
func (h *Handlers) ofGroup(w http.ResponseWriter, r *http.Request, write func(*groupView, identity.Group)) {
	v, err := h.loadGroups(r)
	var g identity.Group
	if err == nil {
		g, err = v.named(r.PathValue("name"))
	}
	if err != nil {
		api.Error(w, r, err)
		return
	}
	write(v, g)
}

// ---- API keys ----

// adminKeyJSON is an API key as gatekey-admin decodes it; never its secret.
type adminKeyJSON struct {
	ID                 string   `json:"id"`
	UserID             string   `json:"user_id"`
	UserName           string   `json:"user_name,omitempty"`
	Name               string   `json:"name"`
	Description        string   `json:"description"`
	KeyPrefix          string   `json:"key_prefix"`
	Scopes             []string `json:"scopes"`
	IsAdminProvisioned bool     `json:"is_admin_provisioned"`
	ProvisionedBy      *string  `json:"provisioned_by,omitempty"`
	ExpiresAt          *string  `json:"expires_at,omitempty"`
	LastUsedAt         *string  `json:"last_used_at,omitempty"`
	IsRevoked          bool     `json:"is_revoked"`
	RevokedAt          *string  `json:"revoked_at,omitempty"`
	CreatedAt          string   `json:"created_at"`
}

// adminKeyOf is k as gatekey-admin decodes it: is_admin_provisioned and
// provisioned_by (the administrator's user id) for a key an administrator
// created through the admin API, for itself or for a user, as GateKey marks
// them; a user's own key (/api/v1/apikeys) is not.
func adminKeyOf(k *apikey.Key) adminKeyJSON {
	out := adminKeyJSON{ID: k.ID, UserID: strconv.FormatInt(k.CreatedBy, 10), UserName: k.CreatedByName, Name: k.Name,
		KeyPrefix: k.Prefix, Scopes: orEmpty(k.Scopes), ExpiresAt: optionalTime(k.ExpiresAt),
		LastUsedAt: optionalTime(k.LastUsedAt), IsRevoked: k.RevokedAt != nil, RevokedAt: optionalTime(k.RevokedAt),
		CreatedAt: timestamp(k.CreatedAt)}
	if k.ProvisionedBy != 0 {
		by := strconv.FormatInt(k.ProvisionedBy, 10)
		out.IsAdminProvisioned, out.ProvisionedBy = true, &by
	}
	return out
}

// The key views are the admin API's: administrators only (the
// apikey.Service's AsAdmin methods), although a user manages its own keys
// elsewhere.
func (h *Handlers) adminKeys(w http.ResponseWriter, r *http.Request) {
	keys, err := h.Keys.ListAsAdmin(r.Context(), api.PrincipalFrom(r.Context()))
	if err != nil {
		api.Error(w, r, err)
		return
	}
	writePage(w, r, "api_keys", keys, adminKeyOf)
}

// oneKey answers the key fn acts on.
func (h *Handlers) oneKey(w http.ResponseWriter, r *http.Request,
	fn func(ctx context.Context, p *authz.Principal, id string) (*apikey.Key, error)) {
	k, err := fn(r.Context(), api.PrincipalFrom(r.Context()), r.PathValue("id"))
	if err != nil {
		api.Error(w, r, err)
		return
	}
	writeData(w, r, http.StatusOK, adminKeyOf(k))
}

func (h *Handlers) adminKey(w http.ResponseWriter, r *http.Request) {
	h.oneKey(w, r, h.Keys.GetAsAdmin)
}

func (h *Handlers) revokeAdminKey(w http.ResponseWriter, r *http.Request) {
	h.oneKey(w, r, func(ctx context.Context, p *authz.Principal, id string) (*apikey.Key, error) {
		return h.Keys.RevokeAsAdmin(ctx, p, api.Source(r), id)
	})
}

// adminKeyBody creates a key for the caller: scopes in netkeep's names
// (e.g. "gateways:read", "*"), expires_at RFC 3339. GateKey's
// description is accepted and not kept.
type adminKeyBody struct {
	Name        string     `json:"name"`
	Scopes      []string   `json:"scopes"`
	Description string     `json:"description"`
	ExpiresAt   *time.Time `json:"expires_at"`
}

// createdKeyJSON answers a new key: the key and, once, its secret.
type createdKeyJSON struct {
	APIKey adminKeyJSON `json:"api_key"`
	Key    string       `json:"key"`
}

func (h *Handlers) createAdminKey(w http.ResponseWriter, r *http.Request) {
	h.createKey(w, r, func(p *authz.Principal, in apikey.NewKey) (*apikey.Key, string, error) {
		in.Administered = true // GateKey's admin keys are admin-provisioned
		return h.Keys.Create(r.Context(), p, api.Source(r), in)
	})
}

// createKey decodes an adminKeyBody and answers the key create makes of
// it, with its secret.
func (h *Handlers) createKey(w http.ResponseWriter, r *http.Request,
	create func(p *authz.Principal, in apikey.NewKey) (*apikey.Key, string, error)) {
	var in adminKeyBody
	if err := api.Decode(r, &in); err != nil {
		api.Error(w, r, err)
		return
	}
	k, secret, err := create(api.PrincipalFrom(r.Context()), apikey.NewKey{Name: in.Name, Scopes: in.Scopes,
		Vocabulary: authz.VocabNetKeep, Format: apikey.FormatGateKey, ExpiresAt: in.ExpiresAt})
	if err != nil {
		api.Error(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	writeData(w, r, http.StatusCreated, createdKeyJSON{APIKey: adminKeyOf(k), Key: secret})
}

// ---- connections and topology ----

// connectionJSON is an open VPN session as gatekey-admin lists it.
type connectionJSON struct {
	ID          string `json:"id"`
	UserID      string `json:"user_id"`
	UserEmail   string `json:"user_email"`
	Username    string `json:"username"`
	GatewayID   string `json:"gateway_id"`
	GatewayName string `json:"gateway_name"`
	ClientIP    string `json:"client_ip"`
	VPNAddress  string `json:"vpn_address"`
	ConnectedAt string `json:"connected_at"`
	BytesSent   int64  `json:"bytes_sent"`
	BytesRecv   int64  `json:"bytes_recv"`
}

// liveView is the caller's gateways and their open sessions.
type liveView struct {
	gateways []*gateway.Gateway
	sessions []*gateway.Session
}

// maxLive bounds the open sessions one view shows.
const maxLive = 10000

func (h *Handlers) loadLive(r *http.Request) (*liveView, error) {
	p := api.PrincipalFrom(r.Context())
	gws, err := h.Gateways.AdminGateways(r.Context(), p)
	if err != nil {
		return nil, err
	}
	ss, _, err := h.Gateways.Sessions(r.Context(), p, gateway.SessionQuery{ActiveOnly: true, Limit: maxLive})
	if err != nil {
		return nil, err
	}
	return &liveView{gateways: gws, sessions: ss}, nil
}

func (v *liveView) gatewayName(id string) string {
	for _, g := range v.gateways {
		if g.ID == id {
			return g.Name
		}
	}
	return ""
}

func (v *liveView) clients(gatewayID string) int {
	n := 0
	for _, s := range v.sessions {
		if s.GatewayID == gatewayID {
			n++
		}
	}
	return n
}

func (h *Handlers) adminConnections(w http.ResponseWriter, r *http.Request) {
	v, err := h.loadLive(r)
	if err != nil {
		api.Error(w, r, err)
		return
	}
	writePage(w, r, "connections", v.sessions, func(s *gateway.Session) connectionJSON {
		return connectionJSON{ID: s.ID, UserID: strconv.FormatInt(s.UserID, 10), UserEmail: s.Username, Username: s.Username,
			GatewayID: s.GatewayID, GatewayName: v.gatewayName(s.GatewayID), ClientIP: s.ClientIP, VPNAddress: s.VPNAddress,
			ConnectedAt: timestamp(s.ConnectedAt), BytesSent: s.BytesOut, BytesRecv: s.BytesIn}
	})
}

// The topology as gatekey-admin and GateKey's web UI draw it (camelCase,
// as they read it): gateways, mesh hubs, their spokes (netkeep's hubs link
// gateways and networks, shown as the spokes) and the links between them.
type (
	topologyJSON struct {
		Gateways    []topologyGateway `json:"gateways"`
		MeshHubs    []topologyHub     `json:"meshHubs"`
		MeshSpokes  []topologySpoke   `json:"meshSpokes"`
		Connections []topologyLink    `json:"connections"`
	}
	topologyGateway struct {
		ID            string  `json:"id"`
		Name          string  `json:"name"`
		Hostname      string  `json:"hostname"`
		PublicIP      string  `json:"publicIp"`
		VPNPort       int     `json:"vpnPort"`
		VPNProtocol   string  `json:"vpnProtocol"`
		IsActive      bool    `json:"isActive"`
		LastHeartbeat *string `json:"lastHeartbeat"`
		ClientCount   int     `json:"clientCount"`
	}
	topologyHub struct {
		ID              string  `json:"id"`
		Name            string  `json:"name"`
		PublicEndpoint  string  `json:"publicEndpoint"`
		VPNSubnet       string  `json:"vpnSubnet"`
		Status          string  `json:"status"`
		LastHeartbeat   *string `json:"lastHeartbeat"`
		ConnectedSpokes int     `json:"connectedSpokes"`
		ConnectedUsers  int     `json:"connectedUsers"`
	}
	topologySpoke struct {
		ID            string   `json:"id"`
		HubID         string   `json:"hubId"`
		Name          string   `json:"name"`
		Kind          string   `json:"kind"`
		LocalNetworks []string `json:"localNetworks"`
		TunnelIP      string   `json:"tunnelIp"`
		Status        string   `json:"status"`
		LastSeen      *string  `json:"lastSeen"`
		RemoteIP      string   `json:"remoteIp"`
	}
	topologyLink struct {
		ID     string `json:"id"`
		Source string `json:"source"`
		Target string `json:"target"`
		Type   string `json:"type"`
		Status string `json:"status"`
	}
)

func (h *Handlers) adminTopology(w http.ResponseWriter, r *http.Request) {
	p := api.PrincipalFrom(r.Context())
	v, err := h.loadLive(r)
	var hubs []*gateway.Hub
	var nets []*gateway.Network
	if err == nil {
		hubs, err = h.Gateways.AdminHubs(r.Context(), p)
	}
	if err == nil {
		nets, err = h.Gateways.Networks(r.Context(), p)
	}
	if err != nil {
		api.Error(w, r, err)
		return
	}
	now := h.now()
	out := topologyJSON{Gateways: []topologyGateway{}, MeshHubs: []topologyHub{}, MeshSpokes: []topologySpoke{},
		Connections: []topologyLink{}}
	byID := make(map[string]*gateway.Gateway, len(v.gateways))
	for _, g := range v.gateways {
		byID[g.ID] = g
		out.Gateways = append(out.Gateways, topologyGateway{ID: g.ID, Name: g.Name, Hostname: g.Hostname,
			PublicIP: g.Hostname, VPNPort: g.Port, VPNProtocol: string(g.Protocol), IsActive: g.StatusAt(now) == gateway.StatusOnline,
			LastHeartbeat: optionalTime(g.LastHeartbeat), ClientCount: v.clients(g.ID)})
	}
	netByID := make(map[string]*gateway.Network, len(nets))
	for _, n := range nets {
		netByID[n.ID] = n
	}
	for _, hub := range hubs {
		hg := byID[hub.GatewayID]
		th := topologyHub{ID: hub.ID, Name: hub.Name, Status: "offline", ConnectedSpokes: len(hub.Spokes),
			ConnectedUsers: v.clients(hub.GatewayID)}
		if hg != nil {
			th.PublicEndpoint, th.VPNSubnet = hg.Hostname, hg.VPNSubnet.String()
			th.LastHeartbeat, th.Status = optionalTime(hg.LastHeartbeat), string(hg.StatusAt(now))
		}
		out.MeshHubs = append(out.MeshHubs, th)
		out.Connections = append(out.Connections, topologyLink{ID: hub.ID + ":" + hub.GatewayID, Source: hub.ID,
			Target: hub.GatewayID, Type: "hub-gateway", Status: th.Status})
		for _, s := range hub.Spokes {
			ts := topologySpoke{ID: s.ID, HubID: hub.ID, Kind: string(s.Kind), LocalNetworks: []string{}, Status: "unknown"}
			switch s.Kind {
			case gateway.SpokeGateway:
				if g := byID[s.ID]; g != nil {
					ts.Name, ts.RemoteIP, ts.Status = g.Name, g.Hostname, string(g.StatusAt(now))
					ts.LastSeen = optionalTime(g.LastHeartbeat)
				}
			case gateway.SpokeNetwork:
				if n := netByID[s.ID]; n != nil {
					ts.Name, ts.LocalNetworks, ts.Status = n.Name, []string{n.CIDR.String()}, "active"
				}
			}
			out.MeshSpokes = append(out.MeshSpokes, ts)
			out.Connections = append(out.Connections, topologyLink{ID: hub.ID + ":" + s.ID, Source: hub.ID, Target: s.ID,
				Type: "hub-" + string(s.Kind), Status: ts.Status})
		}
	}
	slices.SortFunc(out.Connections, func(a, b topologyLink) int { return cmp.Compare(a.ID, b.ID) })
	writeData(w, r, http.StatusOK, out)
}
