package netmaker

import (
	"net/http"
	"os"

	"netkeep/internal/api"
	"netkeep/internal/fault"
)

// The files /meshclient/files/ serves, by name; nothing else is reachable,
// so no name can walk the file system.
const (
	fileAgent   = "netkeep"
	fileInstall = "install.sh"
)

// agentAliases are the names Netmaker clients ask for the agent by.
var agentAliases = map[string]bool{fileAgent: true, "meshclient": true, "netclient": true}

// file serves the agent (the running netkeep binary) and a one-line install
// script: curl -fsSL <server>/meshclient/files/install.sh | sh
func (h *MeshHandlers) file(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("filename")
	switch {
	case agentAliases[name]:
		h.serveAgent(w, r)
	case name == fileInstall:
		w.Header().Set("Content-Type", "text/x-shellscript; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write([]byte(installScript(h.baseURL(r))))
	default:
		api.Error(w, r, fault.Errorf(fault.NotFound, "no file %q; available: netkeep, install.sh", name))
	}
}

func (h *MeshHandlers) serveAgent(w http.ResponseWriter, r *http.Request) {
	exe := h.Executable
	if exe == nil {
		exe = os.Executable
	}
	path, err := exe()
	if err != nil {
		api.Error(w, r, fault.New(fault.Unavailable, "the agent binary is not available").Wrap(err))
		return
	}
	f, err := os.Open(path)
	if err != nil {
		api.Error(w, r, fault.New(fault.Unavailable, "the agent binary is not available").Wrap(err))
		return
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		api.Error(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("Content-Disposition", `attachment; filename="netkeep"`)
	http.ServeContent(w, r, fileAgent, st.ModTime(), f)
}

// installScript downloads the agent from base into /usr/local/bin. base has
// passed baseURL's strict host check or config's public-url check, so it
// cannot break out of the quotes.
func installScript(base string) string {
	return "#!/bin/sh\n" +
		"# netkeep agent installer: curl -fsSL " + base + "/meshclient/files/install.sh | sh\n" +
		"set -eu; curl -fsSL '" + base + "/meshclient/files/netkeep' -o /usr/local/bin/netkeep.tmp && " +
		"chmod 0755 /usr/local/bin/netkeep.tmp && mv /usr/local/bin/netkeep.tmp /usr/local/bin/netkeep && " +
		"echo 'netkeep installed: join a network with  netkeep agent join <accessstring>'\n"
}
