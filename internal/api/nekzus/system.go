package nekzus

import (
	"context"
	"net/http"

	"netkeep/internal/api"
	"netkeep/internal/authz"
	"netkeep/internal/fault"
	"netkeep/internal/hostinfo"
)

// Host is what GET /api/v1/system/resources reads: the host's resources
// and the database's size.
type Host interface {
	Read() (*hostinfo.Resources, error)
	StorageSize(ctx context.Context) (int64, error)
}

// resourcesJSON is GET /api/v1/system/resources, as documented.
type resourcesJSON struct {
	CPU         float64     `json:"cpu"`
	RAM         float64     `json:"ram"`
	RAMUsed     uint64      `json:"ram_used"`
	RAMTotal    uint64      `json:"ram_total"`
	Disk        float64     `json:"disk"`
	DiskUsed    uint64      `json:"disk_used"`
	DiskTotal   uint64      `json:"disk_total"`
	StorageSize int64       `json:"storage_size"`
	Network     networkJSON `json:"network"`
}

type networkJSON struct {
	RxBytes uint64 `json:"rx_bytes"`
	TxBytes uint64 `json:"tx_bytes"`
}

// round1 keeps one decimal, as the document's figures have.
func round1(v float64) float64 { return float64(int64(v*10+0.5)) / 10 }

func (h *Handlers) systemResources(w http.ResponseWriter, r *http.Request) {
	if err := authz.AllowServer(api.PrincipalFrom(r.Context()), "system:read"); err != nil {
		api.Error(w, r, err)
		return
	}
	res, err := h.Host.Read()
	if err != nil {
		api.Error(w, r, fault.New(fault.Unavailable, "the host's resources cannot be read").Wrap(err))
		return
	}
	size, err := h.Host.StorageSize(r.Context())
	if err != nil {
		api.Error(w, r, err)
		return
	}
	api.WriteJSON(w, http.StatusOK, resourcesJSON{
		CPU: round1(res.CPUPercent), RAM: round1(hostinfo.Percent(res.RAMUsed, res.RAMTotal)), RAMUsed: res.RAMUsed, RAMTotal: res.RAMTotal,
		Disk: round1(hostinfo.Percent(res.DiskUsed, res.DiskTotal)), DiskUsed: res.DiskUsed, DiskTotal: res.DiskTotal,
		StorageSize: size, Network: networkJSON{RxBytes: res.RxBytes, TxBytes: res.TxBytes},
	})
}
