package psk

import (
	"bufio"
	"context"
	"encoding/csv"
	"io"
	"strconv"
	"strings"
	"time"

	"netkeep/internal/authz"
)

// Format is an export format.
type Format string

// The export formats.
const (
	// FormatHostapd is hostapd's wpa_psk_file: per PSK one line for any
	// station (MAC 00:00:00:00:00:00), then one line per enabled endpoint,
	// "keyid=<psk_id> [vlanid=<vlan>] <mac> <passphrase>". hostapd prepends
	// each line to its list, so an endpoint's line, written after its PSK's,
	// is matched first and its VLAN override applies.
	FormatHostapd Format = "hostapd"
	// FormatCSV is the CSV Import reads (ImportColumns), one row per PSK
	// with its enabled endpoints' MACs separated by spaces.
	FormatCSV Format = "csv"
)

// Export writes the PSKs p may see that authenticate now (enabled and
// unexpired) in format f, streaming them in ID order. groupID narrows a
// super principal's export to one group (0: every group); others always get
// their own group.
// Errors: forbidden (p lacks psks:read), invalid (unknown format); after
// the first byte is written, only errors of the store or of w.
func (s *Service) Export(ctx context.Context, p *authz.Principal, groupID int64, f Format, w io.Writer) error {
	if err := authz.Allow(p, actPSKRead, authz.Any); err != nil {
		return err
	}
	if f != FormatHostapd && f != FormatCSV {
		return invalid("format", "format must be hostapd or csv")
	}
	if !p.IsSuper() {
		groupID = p.GroupID
	}
	now := s.now()
	sel := Scan{GroupID: groupID, UsableAt: &now}
	tx := s.store.Read()
	// Endpoints are few next to PSKs' passphrases; hold them by PSK so the
	// PSKs can stream.
	type binding struct {
		mac  string
		vlan *int
	}
	bound := map[int64][]binding{}
	err := tx.ScanEndpoints(ctx, sel, func(e *Endpoint) error {
		bound[e.PSKID] = append(bound[e.PSKID], binding{e.MAC, e.VLANID})
		return nil
	})
	if err != nil {
		return err
	}
	bw := bufio.NewWriterSize(w, 32<<10)
	var cw *csv.Writer
	if f == FormatCSV {
		cw = csv.NewWriter(bw)
		if err := cw.Write(ImportColumns); err != nil {
			return err
		}
	} else if _, err := bw.WriteString("# hostapd wpa_psk_file exported by netkeep\n"); err != nil {
		return err
	}
	err = tx.ScanPSKs(ctx, sel, func(r *Row) error {
		k, err := s.open(r)
		if err != nil {
			return err
		}
		bs := bound[k.ID]
		if f == FormatCSV {
			macs := make([]string, len(bs))
			for i, b := range bs {
				macs[i] = b.mac
			}
			return cw.Write([]string{k.PSKID, k.Passphrase, vlanText(k.VLANID), expiresText(k.Expires), k.Description, strings.Join(macs, " ")})
		}
		writeHostapd(bw, k.PSKID, k.VLANID, "00:00:00:00:00:00", k.Passphrase)
		for _, b := range bs {
			v := b.vlan
			if v == nil {
				v = k.VLANID
			}
			writeHostapd(bw, k.PSKID, v, b.mac, k.Passphrase)
		}
		return nil
	})
	if err != nil {
		return err
	}
	if cw != nil {
		if cw.Flush(); cw.Error() != nil {
			return cw.Error()
		}
	}
	return bw.Flush()
}

// writeHostapd writes one wpa_psk_file line; a failed write surfaces at Flush.
func writeHostapd(w *bufio.Writer, keyID string, vlan *int, mac, passphrase string) {
	w.WriteString("keyid=")
	w.WriteString(keyID)
	if vlan != nil {
		w.WriteString(" vlanid=")
		w.WriteString(strconv.Itoa(*vlan))
	}
	w.WriteByte(' ')
	w.WriteString(mac)
	w.WriteByte(' ')
	w.WriteString(passphrase)
	w.WriteByte('\n')
}

func vlanText(v *int) string {
	if v == nil {
		return ""
	}
	return strconv.Itoa(*v)
}

func expiresText(t *time.Time) string {
	if t == nil {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}
