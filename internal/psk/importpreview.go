package psk

import (
	"context"
	"encoding/csv"
	"errors"
	"io"
	"strconv"
	"strings"

	"netkeep/internal/authz"
	"netkeep/internal/fault"
)

// PreviewRow is one data row of a CSV import as Import would take it, or
// the reason it would refuse it.
type PreviewRow struct {
	Line        int
	PSKID       string // "" when it would be generated
	Description string
	VLANID      *int
	Expires     string
	MACs        []string
	Error       string // the row's problem, "" when the row is fine
}

// ImportPreview is what an import would do: its first rows, each checked,
// and how many rows there are and how many have a problem.
type ImportPreview struct {
	Rows    []PreviewRow // at most the limit given to PreviewImport
	Total   int          // data rows read
	Invalid int          // rows with a problem, among all read
}

// PreviewImport checks an upload for Import without writing anything: the
// header, then each row on its own (the same field rules as Import, a
// psk_id or MAC repeated within the upload or already taken in the group)
// so that every problem is listed with its line, not only the first. It
// returns at most show rows and reads at most MaxPreviewRows.
// Errors: invalid (the header, malformed CSV), forbidden (as Import).
func (s *Service) PreviewImport(ctx context.Context, p *authz.Principal, groupID int64, r io.Reader, show int) (*ImportPreview, error) {
	g, err := s.allowImport(p, groupID)
	if err != nil {
		return nil, err
	}
	im := &importer{s: s, p: p, group: g, now: s.now(), cr: csv.NewReader(skipBOM(r))}
	im.cr.FieldsPerRecord = -1
	if err := im.header(); err != nil {
		return nil, err
	}
	out := &ImportPreview{}
	var rows []PreviewRow
	names, macs := map[string]int{}, map[string]int{}
	for out.Total < MaxPreviewRows {
		rec, err := im.cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		var pe *csv.ParseError
		if errors.As(err, &pe) {
			return nil, atLine(invalid("csv", "malformed CSV: "+pe.Err.Error()), pe.Line)
		}
		if err != nil {
			return nil, readErr(err)
		}
		line, _ := im.cr.FieldPos(0)
		out.Total++
		row := PreviewRow{Line: line, PSKID: im.cell(rec, "psk_id"), Description: im.cell(rec, "description"), Expires: im.cell(rec, "expires")}
		row.Error = im.previewRow(rec, &row, names, macs)
		rows = append(rows, row)
	}
	if err := s.previewTaken(ctx, g, rows); err != nil {
		return nil, err
	}
	for _, row := range rows {
		if row.Error != "" {
			out.Invalid++
		}
	}
	out.Rows = rows[:min(len(rows), show)]
	return out, nil
}

// MaxPreviewRows bounds what PreviewImport reads.
const MaxPreviewRows = 10_000

// previewRow checks one record; names and macs remember the lines that
// used each psk_id and MAC.
func (im *importer) previewRow(rec []string, row *PreviewRow, names, macs map[string]int) string {
	in := NewPSK{PSKID: row.PSKID, Description: row.Description, Expires: row.Expires}
	if i, ok := im.cols["psk_value"]; ok && i < len(rec) {
		in.Passphrase = rec[i]
	}
	if v := im.cell(rec, "vlan_id"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			return "vlan_id must be a whole number between 1 and 4094"
		}
		in.VLANID = &n
		row.VLANID = &n
	}
	if _, _, err := im.s.prepare(in, im.group, creator(im.p), im.now); err != nil {
		return message(err)
	}
	if row.PSKID != "" {
		if first, dup := names[row.PSKID]; dup {
			return "psk_id " + row.PSKID + " is also on line " + strconv.Itoa(first)
		}
		names[row.PSKID] = row.Line
	}
	if m := im.cell(rec, "mac_address"); m != "" {
		if err := im.allowBind(); err != nil {
			return message(err)
		}
		for _, f := range strings.FieldsFunc(m, func(r rune) bool { return r == ';' || r == ' ' || r == '\t' }) {
			mac, err := ParseMAC(f)
			if err != nil {
				return message(err)
			}
			if first, dup := macs[mac]; dup {
				return "MAC " + mac + " is also on line " + strconv.Itoa(first)
			}
			macs[mac] = row.Line
			row.MACs = append(row.MACs, mac)
		}
	}
	return ""
}

// previewTaken marks the rows whose psk_id or MAC the group already has.
func (s *Service) previewTaken(ctx context.Context, groupID int64, rows []PreviewRow) error {
	var names, macs []string
	for _, r := range rows {
		if r.Error == "" {
			if r.PSKID != "" {
				names = append(names, r.PSKID)
			}
			macs = append(macs, r.MACs...)
		}
	}
	tx := s.store.Read()
	takenNames, err := tx.TakenPSKIDs(ctx, groupID, names)
	if err != nil {
		return err
	}
	takenMACs, err := tx.TakenMACs(ctx, groupID, macs)
	if err != nil {
		return err
	}
	for i := range rows {
		r := &rows[i]
		if r.Error != "" {
			continue
		}
		if takenNames[r.PSKID] {
			r.Error = "psk_id " + r.PSKID + " already exists"
			continue
		}
		for _, m := range r.MACs {
			if takenMACs[m] {
				r.Error = "MAC " + m + " already has an endpoint"
				break
			}
		}
	}
	return nil
}

// message is an error's user-safe text.
func message(err error) string {
	if fe := fault.As(err); fe != nil && fe.Code != fault.Internal {
		return fe.Message
	}
	return "this row cannot be read"
}
