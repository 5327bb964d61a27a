package catalog

import (
	"slices"
	"strconv"
	"strings"
)

// LabelPrefix starts every label discovery reads on a container.
//
//	nekzus.enable        "true" proposes the container; "false" never proposes it
//	nekzus.app.id        the app id (default: the container name made an id)
//	nekzus.app.name      display name (default: the container name)
//	nekzus.app.icon      icon name
//	nekzus.app.tags      comma-separated tags
//	nekzus.port          the port to route to (default: the first published one)
//	nekzus.scheme        http or https (default: https for 443 and 8443)
//	nekzus.host          the host to reach it at (default: where the port is published)
//	nekzus.route.websocket     "true" allows WebSocket upgrades
//	nekzus.route.strip_prefix  "false" forwards /apps/{appId}/... unchanged
//	nekzus.route.scopes        comma-separated scopes a caller needs
//	nekzus.route.auth          token, local or public
const LabelPrefix = "nekzus."

// Confidence of a proposal by how it was found: labels that ask for it, a
// published port on a common HTTP port, any other published port.
const (
	ConfidenceLabels   = 0.95
	ConfidenceHTTPPort = 0.6
	ConfidencePort     = 0.4
)

// commonHTTP are ports web applications usually listen on.
var commonHTTP = []int{80, 443, 3000, 5000, 8000, 8080, 8081, 8443, 8888, 9000, 9090}

// Propose turns a sighting into a proposal, or nil when it proposes
// nothing: a container that opts out (nekzus.enable=false), or one with
// neither nekzus labels nor a reachable port. It fills everything but ID,
// GroupID, State and the times.
func Propose(s Sighting) *Proposal {
	lbl := func(k string) string { return strings.TrimSpace(s.Labels[LabelPrefix+k]) }
	if strings.EqualFold(lbl("enable"), "false") {
		return nil
	}
	labelled := false
	for k := range s.Labels {
		labelled = labelled || strings.HasPrefix(k, LabelPrefix)
	}
	ports := map[int]string{} // port -> host
	var order []int
	for _, p := range s.Ports {
		if p.Port < 1 || p.Port > 65535 {
			continue
		}
		if _, ok := ports[p.Port]; !ok {
			order = append(order, p.Port)
			ports[p.Port] = p.Host
		}
	}
	port, _ := strconv.Atoi(lbl("port"))
	if port < 1 || port > 65535 {
		port = 0
	}
	if port != 0 {
		if _, ok := ports[port]; !ok {
			order = append([]int{port}, order...)
			ports[port] = ""
		}
	} else if len(order) > 0 {
		port = pickPort(order)
	}
	if port == 0 || (!labelled && len(s.Ports) == 0) {
		return nil // nothing says where it listens, or nothing asks for it
	}
	host := lbl("host")
	if host == "" {
		host = ports[port]
	}
	if host == "" || host == "0.0.0.0" || host == "::" {
		host = "127.0.0.1"
	}
	scheme := strings.ToLower(lbl("scheme"))
	if scheme != "http" && scheme != "https" {
		scheme = schemeOf(port)
	}
	name := strings.TrimPrefix(s.Name, "/")
	appName := lbl("app.name")
	if appName == "" {
		appName = name
	}
	appID := lbl("app.id")
	if ValidAppID(appID) != nil {
		appID = slug(name)
	}
	p := &Proposal{
		Source: s.Source, SourceKey: s.Key, Scheme: scheme, Host: host, Port: port,
		SuggestedApp: SuggestedApp{ID: appID, Name: appName, Icon: lbl("app.icon")},
		Tags:         splitList(lbl("app.tags")),
	}
	to := scheme + "://" + hostPort(host, port)
	p.SuggestedRoute = SuggestedRoute{PathBase: PathBase(appID), To: to}
	if labelled {
		p.Confidence = ConfidenceLabels
		p.SuggestedRoute.WebSocket = strings.EqualFold(lbl("route.websocket"), "true")
		if v := lbl("route.strip_prefix"); v != "" {
			b := !strings.EqualFold(v, "false")
			p.SuggestedRoute.StripPrefix = &b
		}
		p.SuggestedRoute.Scopes = splitList(lbl("route.scopes"))
		if a := Auth(lbl("route.auth")); a == AuthLocal || a == AuthPublic || a == AuthToken {
			p.SuggestedRoute.Auth = a
		}
	} else {
		p.Confidence = ConfidencePort
		if slices.Contains(commonHTTP, port) {
			p.Confidence = ConfidenceHTTPPort
		}
		p.SecurityNotes = append(p.SecurityNotes, "Found by a published port without nekzus labels: check it is a web application")
	}
	if len(p.Tags) == 0 && s.Image != "" {
		p.Tags = []string{imageName(s.Image)}
	}
	for _, q := range order {
		label := "Port " + strconv.Itoa(q)
		if q == port {
			label = "Main UI"
		}
		p.Ports = append(p.Ports, PortOption{Port: q, Scheme: schemeOf(q), Label: label})
	}
	if q := &p.Ports[0]; q.Port == port {
		q.Scheme = scheme
	}
	if scheme == "http" {
		p.SecurityNotes = append(p.SecurityNotes, "Service uses HTTP without TLS")
	}
	if p.SuggestedRoute.Auth == AuthPublic {
		p.SecurityNotes = append(p.SecurityNotes, "Route is public: netkeep will not ask for credentials")
	}
	return p
}

// pickPort prefers a common web port, else the first one.
func pickPort(order []int) int {
	for _, q := range order {
		if slices.Contains(commonHTTP, q) {
			return q
		}
	}
	return order[0]
}

func schemeOf(port int) string {
	if port == 443 || port == 8443 || port == 9443 {
		return "https"
	}
	return "http"
}

func hostPort(host string, port int) string {
	if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	return host + ":" + strconv.Itoa(port)
}

func splitList(s string) []string {
	var out []string
	for _, v := range strings.Split(s, ",") {
		if v = strings.TrimSpace(v); v != "" {
			out = append(out, v)
		}
	}
	return out
}

// imageName is an image reference's last path element without tag or digest.
func imageName(ref string) string {
	ref, _, _ = strings.Cut(ref, "@")
	if i := strings.LastIndex(ref, "/"); i >= 0 {
		ref = ref[i+1:]
	}
	ref, _, _ = strings.Cut(ref, ":")
	return ref
}

// slug makes a container name an app id.
func slug(name string) string {
	var b strings.Builder
	dash := false
	for _, c := range strings.ToLower(name) {
		switch {
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9':
			b.WriteRune(c)
			dash = false
		case !dash && b.Len() > 0:
			b.WriteByte('-')
			dash = true
		}
	}
	s := strings.TrimRight(b.String(), "-")
	if len(s) > 63 {
		s = strings.TrimRight(s[:63], "-")
	}
	if s == "" {
		s = "app"
	}
	return s
}

// PortSuggestion returns the route a proposal suggests on another of its
// ports (the approver's choice), and whether the proposal has that port.
func (p *Proposal) PortSuggestion(port int) (SuggestedRoute, string, bool) {
	if port == 0 || port == p.Port {
		return p.SuggestedRoute, p.Scheme, true
	}
	for _, q := range p.Ports {
		if q.Port == port {
			r := p.SuggestedRoute
			r.To = q.Scheme + "://" + hostPort(p.Host, port)
			return r, q.Scheme, true
		}
	}
	return SuggestedRoute{}, "", false
}
