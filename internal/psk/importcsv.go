package psk

import (
	"bufio"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"netkeep/internal/audit"
	"netkeep/internal/authz"
	"netkeep/internal/fault"
)

// ImportColumns is the CSV header Import reads and the csv export writes.
var ImportColumns = []string{"psk_id", "psk_value", "vlan_id", "expires", "description", "mac_address"}

// ImportResult counts what an import created.
type ImportResult struct {
	PSKs      int
	Endpoints int
}

// importBatch is how many rows are checked (and, when pending, written)
// together.
const importBatch = 500

// MaxImportRows bounds one import: it keeps every psk_id and MAC of the
// upload in memory to find repeats across batches.
const MaxImportRows = 1_000_000

// Import creates PSKs from CSV read from r. The first record is the
// header; it names the columns (any order, case-insensitive; unknown
// columns are ignored) from ImportColumns. Empty cells are absent values:
// psk_id and psk_value are then generated as by Create. A mac_address cell
// holds one or more MAC addresses (separated by spaces or ';'), each
// becoming an endpoint bound to the row's PSK.
//
// Who may import: a group administrator (GROUP_ADMIN, or SUPER_ADMIN for any
// group) by session, or by an API key of one carrying psks:write (and
// endpoints:write for rows with a MAC), or the master key. A USER may not,
// whatever its key's scopes: one request writes up to MaxImportRows PSKs.
//
// The import is all or nothing, and it stops no other writer while it
// reads r. The whole upload is read and validated first, in batches of 500
// rows, each checked against the stored psk_ids and MACs and the upload's
// earlier rows; the first bad row's error carries its line number in
// details "line" and in the message. An import of at most 1,000 PSKs and
// endpoints is then written by one transaction. A larger one is written
// while it is read, every 5,000 checked rows (or every minute of a slow
// upload), invisible to every reader until the upload is read to its end:
//   - where the store holds a transaction open without stopping other
//     writers (PostgreSQL), into the import's one transaction, which
//     commits with the audit entry at the end and rolls back on any
//     failure (or by itself when the process dies). Meanwhile a create of
//     a psk_id or MAC the import already wrote waits for the import to end
//     (and then fails, or succeeds if the import failed); other writes go
//     on.
//   - elsewhere (SQLite) pending, by short transactions of their own
//     (other writers get their turn between them). One final transaction
//     of constant cost makes every row visible together with the audit
//     entry; then the rows' pending marks are cleared in short
//     transactions. A failed import deletes its pending rows the same way;
//     those of an import whose process died are deleted by the sweep (Run)
//     once untouched for ImportStaleAfter, and keep their psk_ids and MACs
//     taken until then.
//
// Import records one psk.import audit entry (counts and ID range) rather
// than one per PSK. It publishes one "created" event per PSK and endpoint
// when there are at most 1,000 of them, and otherwise one "reload" event for
// the group.
//
// Errors of r that are fault errors (the transport's: body too large, read
// timeout, a truncated upload) are returned as they are; other read errors
// are internal.
// Errors: invalid (malformed CSV, a bad cell, no rows, more than
// MaxImportRows), conflict PSK_ID_EXISTS or ENDPOINT_EXISTS, forbidden (p
// is not a group administrator, lacks psks:write, or endpoints:write for a
// row with a MAC).
func (s *Service) Import(ctx context.Context, p *authz.Principal, src audit.Source, groupID int64, r io.Reader) (*ImportResult, error) {
	g, err := s.allowImport(p, groupID)
	if err != nil {
		return nil, err
	}
	now := s.now()
	im := &importer{s: s, p: p, group: g, now: now, staged: now, cr: csv.NewReader(skipBOM(r)),
		names: map[string]bool{}, macs: map[string]bool{}}
	im.cr.FieldsPerRecord = -1
	im.cr.ReuseRecord = true
	res, err := im.run(ctx, src)
	if im.end != nil {
		// Not committed by promote: roll the held transaction back.
		_ = im.end(errors.New("import stopped"))
	}
	if im.stageID != 0 {
		// Committed or not, the pending rows are settled now (even when
		// ctx was cancelled): marks cleared, or the rows deleted.
		if serr := s.settleImport(context.WithoutCancel(ctx), im.stageID); serr != nil {
			s.log.Warn("settling an import's rows; the sweep retries", "import", im.stageID, "error", serr)
		}
		// A staged import's checks held every psk_id and MAC of the
		// upload (about 200 bytes a row with the CSV lines they pin), and
		// the collector's heap goal doubled that: at a million rows the
		// process kept ~1 GiB resident after answering, since nothing
		// allocates enough afterwards for a collection, and the scavenger
		// returns memory only down to the heap goal. The garbage goes back
		// to the OS now, one full collection per large import.
		debug.FreeOSMemory()
	}
	return res, err
}

var errImportAdminOnly = fault.New(fault.Forbidden, "importing PSKs requires a group administrator")

// allowImport is allowCreate for an import, which only administrators may
// run (authz.Administer; see Import).
func (s *Service) allowImport(p *authz.Principal, groupID int64) (int64, error) {
	g, err := s.allowCreate(p, actPSKWrite, groupID)
	if err != nil {
		return 0, err
	}
	if err := authz.Allow(p, authz.Administer, authz.Any); err != nil {
		if fault.Is(err, fault.Forbidden) {
			return 0, errImportAdminOnly
		}
		return 0, err
	}
	return g, nil
}

type importer struct {
	s     *Service
	p     *authz.Principal
	group int64
	now   time.Time
	cr    *csv.Reader
	cols  map[string]int // column name → index

	batch          []importRow     // read, not checked yet
	held           []importRow     // checked, in memory (not written yet)
	names, macs    map[string]bool // every psk_id and MAC of the upload so far
	rows           int             // rows checked
	objects        int             // PSKs and endpoints checked
	stageID        int64           // the pending import; 0 while held in memory
	staged         time.Time       // when held rows were last written (or the import began)
	open           Tx              // the import's held transaction, or nil (see stage)
	end            func(error) error
	written        int   // PSKs written in open
	writtenEPs     int   // endpoints written in open
	firstID        int64 // lowest and highest PSK ID written in open
	lastID         int64
	mayBind        error // nil once endpoints:write was checked and granted
	checkedMayBind bool
}

type importRow struct {
	line      int
	row       *Row
	generated bool
	macs      []string
}

// run reads and checks the whole upload, then makes it visible.
func (im *importer) run(ctx context.Context, src audit.Source) (*ImportResult, error) {
	if err := im.read(ctx); err != nil {
		return nil, err
	}
	if im.rows == 0 {
		return nil, invalid("csv", "the CSV holds no rows after its header")
	}
	if im.objects > maxItemEvents {
		return im.promote(ctx, src)
	}
	return im.write(ctx, src)
}

// read parses and checks every record of the upload.
func (im *importer) read(ctx context.Context) error {
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
				return readErr(err)
			}
			if ferr := im.check(ctx); ferr != nil {
				return ferr
			}
			return atLine(invalid("csv", "malformed CSV: "+pe.Err.Error()), pe.Line)
		}
		line, _ := im.cr.FieldPos(0)
		ir, err := im.parse(rec, line)
		if err != nil {
			if ferr := im.check(ctx); ferr != nil {
				return ferr
			}
			return atLine(err, line)
		}
		im.batch = append(im.batch, ir)
		if len(im.batch) == importBatch {
			if err := im.check(ctx); err != nil {
				return err
			}
		}
	}
	return im.check(ctx)
}

// readErr is a failure of the upload's reader: the transport's fault as it
// is, anything else internal.
func readErr(err error) error {
	if fault.As(err) != nil {
		return err
	}
	return fmt.Errorf("reading CSV: %w", err)
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
		return readErr(err)
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
		if err := im.allowBind(); err != nil {
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

// allowBind checks once that the importer may create endpoints.
func (im *importer) allowBind() error {
	if !im.checkedMayBind {
		im.mayBind = authz.Allow(im.p, actEndpointWrite, authz.Resource{GroupID: im.group})
		im.checkedMayBind = true
	}
	return im.mayBind
}

// skipBOM drops a UTF-8 byte order mark, which spreadsheets write.
func skipBOM(r io.Reader) io.Reader {
	br := bufio.NewReaderSize(r, 64<<10)
	if b, err := br.Peek(3); err == nil && string(b) == "\xef\xbb\xbf" {
		_, _ = br.Discard(3)
	}
	return br
}
