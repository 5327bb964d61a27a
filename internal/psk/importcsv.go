package psk

import (
	"bufio"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"netkeep/internal/audit"
	"netkeep/internal/authz"
)

// ImportColumns is the CSV header Import reads and the csv export writes.
var ImportColumns = []string{"psk_id", "psk_value", "vlan_id", "expires", "description", "mac_address"}

// ImportResult counts what an import created.
type ImportResult struct {
	PSKs      int
	Endpoints int
}

// importBatch is how many rows are checked and inserted together.
const importBatch = 500

// Import creates PSKs from CSV read from r, streamed: memory stays bounded
// by one batch of rows whatever the input's size. The first record is the
// header; it names the columns (any order, case-insensitive; unknown
// columns are ignored) from ImportColumns. Empty cells are absent values:
// psk_id and psk_value are then generated as by Create. A mac_address cell
// holds one or more MAC addresses (separated by spaces or ';'), each
// becoming an endpoint bound to the row's PSK.
//
// The import is one transaction: everything or nothing. The first bad row's
// error carries its line number in details "line" and in the message. On
// SQLite the transaction holds the single writer for the whole import.
//
// Import records one psk.import audit entry (counts and ID range) rather
// than one per PSK. It publishes one "created" event per PSK and endpoint
// when there are at most 1,000 of them, and otherwise one "reload" event for
// the group.
// Errors: invalid (malformed CSV, a bad cell, no rows), conflict
// PSK_ID_EXISTS or ENDPOINT_EXISTS, forbidden (p lacks psks:write, or
// endpoints:write for a row with a MAC).
func (s *Service) Import(ctx context.Context, p *authz.Principal, src audit.Source, groupID int64, r io.Reader) (*ImportResult, error) {
	g, err := s.allowCreate(p, actPSKWrite, groupID)
	if err != nil {
		return nil, err
	}
	im := &importer{s: s, p: p, group: g, now: s.now(), cr: csv.NewReader(skipBOM(r))}
	im.cr.FieldsPerRecord = -1
	im.cr.ReuseRecord = true
	err = s.store.InTx(ctx, func(tx Tx) error {
		im.tx = tx
		if err := im.run(ctx); err != nil {
			return err
		}
		return audit.Record(ctx, tx, src, g, "psk.import", fmt.Sprintf("group:%d", g), map[string]any{
			"psks": im.res.PSKs, "endpoints": im.res.Endpoints, "first_id": im.firstID, "last_id": im.lastID,
		})
	})
	if err != nil {
		return nil, err
	}
	if im.res.PSKs+im.res.Endpoints > maxItemEvents {
		s.publish(ctx, TopicPSK, ActionReload, g, 0, nil)
	} else {
		for _, c := range im.created {
			s.publishPSK(ctx, ActionCreated, c)
		}
		for _, e := range im.endpoints {
			s.publishEndpoint(ctx, ActionCreated, e)
		}
	}
	return &im.res, nil
}

type importer struct {
	s     *Service
	p     *authz.Principal
	tx    Tx
	group int64
	now   time.Time
	cr    *csv.Reader
	cols  map[string]int // column name → index

	batch            []importRow
	res              ImportResult
	firstID, lastID  int64
	created          []*PSK // kept for events while at most maxItemEvents
	endpoints        []*Endpoint
	mayBindEndpoints error // nil once endpoints:write was checked and granted
	checkedEndpoints bool
}

type importRow struct {
	line      int
	row       *Row
	generated bool
	macs      []string
}

func (im *importer) run(ctx context.Context) error {
	if err := im.header(); err != nil {
		return err
	}
	for {
		rec, err := im.cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			var pe *csv.ParseError
			if !errors.As(err, &pe) {
				// The reader failed (e.g. a body size limit): the
				// transport knows what that means.
				return fmt.Errorf("reading CSV: %w", err)
			}
			if ferr := im.flush(ctx); ferr != nil {
				return ferr
			}
			return atLine(invalid("csv", "malformed CSV: "+pe.Err.Error()), pe.Line)
		}
		line, _ := im.cr.FieldPos(0)
		ir, err := im.parse(rec, line)
		if err != nil {
			if ferr := im.flush(ctx); ferr != nil {
				return ferr
			}
			return atLine(err, line)
		}
		im.batch = append(im.batch, ir)
		if len(im.batch) == importBatch {
			if err := im.flush(ctx); err != nil {
				return err
			}
		}
	}
	if err := im.flush(ctx); err != nil {
		return err
	}
	if im.res.PSKs == 0 {
		return invalid("csv", "the CSV holds no rows after its header")
	}
	return nil
}

func atLine(err error, line int) error { return at(err, "line", fmt.Sprintf("line %d: ", line), line) }

// header reads the first record and maps the known columns.
func (im *importer) header() error {
	rec, err := im.cr.Read()
	if errors.Is(err, io.EOF) {
		return invalid("csv", "the CSV is empty; expected the header "+strings.Join(ImportColumns, ","))
	}
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return atLine(invalid("csv", "malformed CSV: "+pe.Err.Error()), pe.Line)
	}
	if err != nil {
		return fmt.Errorf("reading CSV: %w", err)
	}
	im.cols = map[string]int{}
	for i, name := range rec {
		name = strings.ToLower(strings.TrimSpace(name))
		for _, c := range ImportColumns {
			if name == c {
				if _, dup := im.cols[c]; dup {
					return atLine(invalid("csv", "column "+c+" appears twice in the header"), 1)
				}
				im.cols[c] = i
			}
		}
	}
	if len(im.cols) == 0 {
		return atLine(invalid("csv", "the first line must be the header "+strings.Join(ImportColumns, ",")), 1)
	}
	return nil
}

func (im *importer) cell(rec []string, col string) string {
	i, ok := im.cols[col]
	if !ok || i >= len(rec) {
		return ""
	}
	return strings.TrimSpace(rec[i])
}

// parse validates one record into a sealed row.
func (im *importer) parse(rec []string, line int) (importRow, error) {
	in := NewPSK{
		PSKID:       im.cell(rec, "psk_id"),
		Description: im.cell(rec, "description"),
		Expires:     im.cell(rec, "expires"),
	}
	// The passphrase is taken as written: spaces are legal in it.
	if i, ok := im.cols["psk_value"]; ok && i < len(rec) {
		in.Passphrase = rec[i]
	}
	if v := im.cell(rec, "vlan_id"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			return importRow{}, invalid("vlan_id", "vlan_id must be a whole number between 1 and 4094")
		}
		in.VLANID = &n
	}
	p, generated, err := im.s.prepare(in, im.group, creator(im.p), im.now)
	if err != nil {
		return importRow{}, err
	}
	row, err := im.s.seal(p)
	if err != nil {
		return importRow{}, err
	}
	ir := importRow{line: line, row: row, generated: generated}
	if m := im.cell(rec, "mac_address"); m != "" {
		if err := im.mayBind(); err != nil {
			return importRow{}, err
		}
		for _, f := range strings.FieldsFunc(m, func(r rune) bool { return r == ';' || r == ' ' || r == '\t' }) {
			mac, err := ParseMAC(f)
			if err != nil {
				return importRow{}, err
			}
			ir.macs = append(ir.macs, mac)
		}
	}
	return ir, nil
}

// mayBind checks once that the importer may create endpoints.
func (im *importer) mayBind() error {
	if !im.checkedEndpoints {
		im.mayBindEndpoints = authz.Allow(im.p, actEndpointWrite, authz.Resource{GroupID: im.group})
		im.checkedEndpoints = true
	}
	return im.mayBindEndpoints
}

// flush checks and inserts the pending rows and their endpoints. A row's
// error is placed at its line; of several bad rows the first line wins.
func (im *importer) flush(ctx context.Context) error {
	if len(im.batch) == 0 {
		return nil
	}
	rows := make([]*Row, len(im.batch))
	generated := make([]bool, len(im.batch))
	macs := make([][]string, len(im.batch))
	for i, b := range im.batch {
		rows[i], generated[i], macs[i] = b.row, b.generated, b.macs
	}
	ni, nerr := claimNames(ctx, im.tx, im.group, rows, generated)
	if nerr != nil && ni < 0 {
		return nerr
	}
	mi, merr := claimMACs(ctx, im.tx, im.group, macs)
	if merr != nil && mi < 0 {
		return merr
	}
	switch {
	case nerr != nil && (merr == nil || ni <= mi):
		return atLine(nerr, im.batch[ni].line)
	case merr != nil:
		return atLine(merr, im.batch[mi].line)
	}
	if err := im.tx.InsertPSKs(ctx, rows); err != nil {
		return insertConflict(err)
	}
	var es []*Endpoint
	at := im.s.stamp()
	for _, b := range im.batch {
		for _, mac := range b.macs {
			es = append(es, &Endpoint{GroupID: im.group, MAC: mac, PSKID: b.row.ID, Enabled: true, CreatedAt: at, UpdatedAt: at})
		}
	}
	if len(es) > 0 {
		if err := im.tx.InsertEndpoints(ctx, es); err != nil {
			return err
		}
	}
	if im.firstID == 0 {
		im.firstID = rows[0].ID
	}
	im.lastID = rows[len(rows)-1].ID
	im.res.PSKs += len(rows)
	im.res.Endpoints += len(es)
	if im.res.PSKs+im.res.Endpoints <= maxItemEvents {
		for _, r := range rows {
			p := r.PSK
			im.created = append(im.created, &p)
		}
		im.endpoints = append(im.endpoints, es...)
	} else {
		im.created, im.endpoints = nil, nil
	}
	im.batch = im.batch[:0]
	return nil
}

// skipBOM drops a UTF-8 byte order mark, which spreadsheets write.
func skipBOM(r io.Reader) io.Reader {
	br := bufio.NewReaderSize(r, 64<<10)
	if b, err := br.Peek(3); err == nil && string(b) == "\xef\xbb\xbf" {
		_, _ = br.Discard(3)
	}
	return br
}
