package psk_test

import (
	"context"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"netkeep/internal/authz"
	"netkeep/internal/config"
	"netkeep/internal/fault"
	"netkeep/internal/psk"
	"netkeep/internal/store"
	"netkeep/internal/store/storetest"
)

// importCSV is a CSV of n rows named prefix-00000.. with one MAC each
// (02:pp:..: derived from the row) when withMACs.
func importCSV(prefix string, n int, withMACs bool) string {
	var b strings.Builder
	b.WriteString("psk_id,psk_value,vlan_id,mac_address\n")
	for i := range n {
		mac := ""
		if withMACs {
			mac = fmt.Sprintf("02:%02x:00:%02x:%02x:%02x", len(prefix), i>>16&0xff, i>>8&0xff, i&0xff)
		}
		fmt.Fprintf(&b, "%s-%05d,passphrase-%05d,100,%s\n", prefix, i, i, mac)
	}
	return b.String()
}

// counts returns the group's PSKs and endpoints (pending or not) and the
// pending rows and imports left (of every group).
func (e *env) counts(tb testing.TB, group int64) (psks, endpoints, staged int) {
	tb.Helper()
	ctx := context.Background()
	q := func(sql string, args ...any) int {
		var n int
		if err := e.db.SQL().QueryRowContext(ctx, sql, args...).Scan(&n); err != nil {
			tb.Fatal(err)
		}
		return n
	}
	return q(`SELECT count(*) FROM psks WHERE group_id = $1`, group),
		q(`SELECT count(*) FROM endpoints WHERE group_id = $1`, group),
		q(`SELECT (SELECT count(*) FROM psks WHERE pending IS NOT NULL) + (SELECT count(*) FROM endpoints WHERE pending IS NOT NULL) +
			(SELECT count(*) FROM psk_imports)`)
}

// TestImportWhoMay: only group administrators (by session or by their API
// key with psks:write) and the master key import; a USER is refused even
// with a key carrying psks:write.
func TestImportWhoMay(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		rw := authz.Scopes{"psks:write": true, "endpoints:write": true}
		cases := []struct {
			name string
			p    *authz.Principal
			want fault.Code
		}{
			{"403/user session", &authz.Principal{Kind: authz.KindUser, UserID: 2, Role: authz.User, GroupID: e.group}, fault.Forbidden},
			{"403/user key with psks:write", &authz.Principal{Kind: authz.KindAPIKey, UserID: 2, Role: authz.User, GroupID: e.group, Scopes: rw}, fault.Forbidden},
			{"403/admin key without psks:write", &authz.Principal{Kind: authz.KindAPIKey, UserID: 1, Role: authz.GroupAdmin, GroupID: e.group, Scopes: authz.Scopes{"psks:read": true}}, fault.Forbidden},
			{"201/admin session", e.admin, ""},
			{"201/admin key with psks:write", &authz.Principal{Kind: authz.KindAPIKey, UserID: 1, Role: authz.GroupAdmin, GroupID: e.group, Scopes: rw}, ""},
			{"201/master key", &authz.Principal{Kind: authz.KindMaster}, ""},
		}
		for i, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				before, _, _ := e.counts(t, e.group)
				csv := fmt.Sprintf("psk_id\nwho-%d\n", i)
				group := int64(0)
				if tc.p.Kind == authz.KindMaster {
					group = e.group
				}
				_, err := e.svc.Import(context.Background(), tc.p, src, group, strings.NewReader(csv))
				if got := fault.CodeOf(err); got != tc.want {
					t.Fatalf("import: %v, want %q", err, tc.want)
				}
				after, _, _ := e.counts(t, e.group)
				if want := before + map[bool]int{true: 1}[tc.want == ""]; after != want {
					t.Fatalf("%d PSKs after, want %d", after, want)
				}
			})
		}
	})
}

// TestImportStaged: an import of more than 1,000 objects is staged in
// batches and made visible at once: every row, one audit entry, one reload
// event, and no staged row left; the same names and MACs go into another
// group, which sees none of the first group's.
func TestImportStaged(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		e := newEnv(t, db)
		const n = 1100
		csv := importCSV("big", n, true)
		res, err := e.svc.Import(ctx, e.admin, src, 0, strings.NewReader(csv))
		if err != nil || res.PSKs != n || res.Endpoints != n {
			t.Fatalf("import = %+v, %v", res, err)
		}
		if p, ep, staged := e.counts(t, e.group); p != n || ep != n || staged != 0 {
			t.Fatalf("after: %d PSKs, %d endpoints, %d staged", p, ep, staged)
		}
		evs := e.events()
		if len(evs) != 1 || evs[0].Action != psk.ActionReload || evs[0].GroupID != e.group {
			t.Fatalf("events = %+v", evs)
		}
		entries := e.audit(t, "psk.import")
		if len(entries) != 1 {
			t.Fatalf("%d psk.import entries", len(entries))
		}
		// Rows keep the upload's order; each endpoint is bound to its row.
		page, err := e.svc.List(ctx, e.admin, psk.Filter{Limit: 3})
		if err != nil || page.Total != n || page.PSKs[0].PSKID != "big-00000" || page.PSKs[2].PSKID != "big-00002" {
			t.Fatalf("list = %+v, %v", page, err)
		}
		eps, err := e.svc.ListEndpoints(ctx, e.admin, psk.EndpointFilter{PSKID: page.PSKs[2].ID})
		if err != nil || eps.Total != 1 || eps.Endpoints[0].MAC != "02:03:00:00:00:02" || eps.Endpoints[0].PSKID != page.PSKs[2].ID {
			t.Fatalf("endpoints of big-00002 = %+v, %v", eps, err)
		}
		got, err := e.svc.Get(ctx, e.admin, page.PSKs[1].ID)
		if err != nil || got.Passphrase != "passphrase-00001" || got.VLANID == nil || *got.VLANID != 100 {
			t.Fatalf("get = %+v, %v", got, err)
		}

		globex := mustGroup(t, db, "globex")
		gadmin := &authz.Principal{Kind: authz.KindUser, UserID: 9, Role: authz.GroupAdmin, GroupID: globex}
		if res, err := e.svc.Import(ctx, gadmin, src, 0, strings.NewReader(csv)); err != nil || res.PSKs != n {
			t.Fatalf("same CSV into globex = %+v, %v", res, err)
		}
		gp, err := e.svc.List(ctx, gadmin, psk.Filter{Limit: 1000})
		if err != nil || gp.Total != n {
			t.Fatalf("globex list = %v, %v", gp.Total, err)
		}
		for _, p := range gp.PSKs {
			if p.GroupID != globex {
				t.Fatalf("globex sees PSK %d of group %d", p.ID, p.GroupID)
			}
		}
		if _, err := e.svc.Get(ctx, gadmin, page.PSKs[0].ID); !fault.Is(err, fault.NotFound) {
			t.Fatalf("globex reads acme's PSK: %v", err)
		}
		if _, err := e.svc.Import(ctx, gadmin, src, e.group, strings.NewReader("psk_id\nx\n")); !fault.Is(err, fault.Invalid) {
			t.Fatalf("globex imports into acme: %v", err)
		}
		if p, _, _ := e.counts(t, e.group); p != n {
			t.Fatalf("acme holds %d PSKs after globex's imports", p)
		}
	})
}

// TestImportWrittenDuringUpload: an import large enough to be written
// while its upload is read (12,000 rows, written every 5,000) shows readers
// none of its rows until it ends, lets other writers go on meanwhile, and
// leaves nothing behind when its last row is bad. On SQLite the rows wait
// pending (marked, in short transactions); on PostgreSQL they wait in the
// import's one open transaction, so nothing is ever marked pending.
func TestImportWrittenDuringUpload(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		e := newEnv(t, db)
		const n = 12000
		good := importCSV("up", n, true)
		cases := []struct {
			name string
			csv  string
			code fault.Code
		}{
			{"400/bad last row", good + "up-bad,passphrase,9999,\n", fault.Invalid},
			{"201/whole upload", good, ""},
		}
		for i, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				before, beforeEP, _ := e.counts(t, e.group)
				e.events()
				var shown, staged int
				hook := func() {
					page, err := e.svc.List(ctx, e.admin, psk.Filter{Limit: 1})
					if err != nil {
						t.Fatal(err)
					}
					shown = page.Total
					_, _, staged = e.counts(t, e.group)
					e.create(t, psk.NewPSK{PSKID: fmt.Sprintf("during-%d", i)})
				}
				res, err := e.svc.Import(ctx, e.admin, src, 0, &hookReader{r: strings.NewReader(tc.csv), after: len(good) * 3 / 4, hook: hook})
				if fault.CodeOf(err) != tc.code {
					t.Fatalf("import = %+v, %v; want %q", res, err, tc.code)
				}
				if shown != before {
					t.Fatalf("during the upload %d PSKs listed, want %d", shown, before)
				}
				if db.Kind == config.Postgres && staged != 0 || db.Kind != config.Postgres && staged == 0 {
					t.Fatalf("during the upload %d rows and imports pending on %s", staged, db.Kind)
				}
				want, wantEP := before+1, beforeEP
				if tc.code == "" {
					want, wantEP = want+n, wantEP+n
				}
				p, ep, left := e.counts(t, e.group)
				if p != want || ep != wantEP || left != 0 {
					t.Fatalf("after: %d PSKs (want %d), %d endpoints (want %d), %d pending", p, want, ep, wantEP, left)
				}
				if page, err := e.svc.List(ctx, e.admin, psk.Filter{Limit: 1}); err != nil || page.Total != want {
					t.Fatalf("listed after: %v, %v; want %d", page.Total, err, want)
				}
				reloads := 0
				for _, ev := range e.events() {
					if ev.Action == psk.ActionReload {
						reloads++
					}
				}
				if entries := e.audit(t, "psk.import"); reloads != i || len(entries) != i {
					t.Fatalf("%d reload events and %d psk.import entries, want %d", reloads, len(entries), i)
				}
			})
		}
	})
}

// failingReader yields data, then fails with err.
type failingReader struct {
	data io.Reader
	err  error
}

func (f *failingReader) Read(p []byte) (int, error) {
	n, err := f.data.Read(p)
	if err == io.EOF {
		return n, f.err
	}
	return n, err
}

// hookReader calls hook once, after at least after bytes were read.
type hookReader struct {
	r     io.Reader
	after int
	read  int
	hook  func()
}

func (h *hookReader) Read(p []byte) (int, error) {
	n, err := h.r.Read(p)
	h.read += n
	if h.hook != nil && h.read >= h.after {
		h.hook()
		h.hook = nil
	}
	return n, err
}

// TestImportAllOrNothing: whatever stops an import — a bad row far into a
// staged upload, a repeat across batches, a name taken while the upload
// was read, the reader failing — nothing of it is stored or left staged,
// and what was stored before stays.
func TestImportAllOrNothing(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		e := newEnv(t, db)
		e.create(t, psk.NewPSK{PSKID: "stored-1"})
		big := importCSV("row", 1100, true)
		lines := strings.Split(big, "\n")
		with := func(line int, text string) string {
			l := append([]string(nil), lines...)
			l[line-1] = text
			return strings.Join(l, "\n")
		}
		cases := []struct {
			name   string
			reader func() io.Reader
			code   fault.Code
			reason fault.Reason
			line   int
		}{
			{"400/bad VLAN at line 1050", func() io.Reader { return strings.NewReader(with(1050, "x,passphrase,9999,")) }, fault.Invalid, "", 1050},
			{"400/bidi in a description", func() io.Reader {
				return strings.NewReader(strings.Replace(with(1000, "bidi,passphrase,1,"), "psk_id,psk_value,vlan_id,mac_address", "psk_id,psk_value,vlan_id,description", 1) + "z,passphrase,1,a\u202egnp\n")
			}, fault.Invalid, "", 1102},
			{"409/name stored before", func() io.Reader { return strings.NewReader(with(1020, "stored-1,passphrase,1,")) }, fault.Conflict, psk.ReasonPSKIDExists, 1020},
			{"409/name repeated across batches", func() io.Reader { return strings.NewReader(with(1080, "row-00003,passphrase,1,")) }, fault.Conflict, psk.ReasonPSKIDExists, 1080},
			{"409/MAC repeated across batches", func() io.Reader {
				return strings.NewReader(with(1010, "mac-dup,passphrase,1,02:03:00:00:00:07"))
			}, fault.Conflict, psk.ReasonEndpointExists, 1010},
			{"408/reader times out", func() io.Reader {
				return &failingReader{data: strings.NewReader(big[:len(big)-100]), err: fault.New(fault.Timeout, "too slow")}
			}, fault.Timeout, "", 0},
			{"500/reader breaks", func() io.Reader {
				return &failingReader{data: strings.NewReader(big[:len(big)-100]), err: io.ErrClosedPipe}
			}, fault.Internal, "", 0},
			{"409/name taken while reading", func() io.Reader {
				return &hookReader{r: strings.NewReader(big), after: len(big) / 2, hook: func() {
					e.create(t, psk.NewPSK{PSKID: "row-00010"})
				}}
			}, fault.Conflict, psk.ReasonPSKIDExists, 0},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				before, beforeEP, _ := e.counts(t, e.group)
				e.events()
				_, err := e.svc.Import(ctx, e.admin, src, 0, tc.reader())
				fe := fault.As(err)
				if fault.CodeOf(err) != tc.code || (fe != nil && fe.Reason != tc.reason) {
					t.Fatalf("import: %v, want %s %s", err, tc.code, tc.reason)
				}
				if tc.line != 0 && fe.Details["line"] != tc.line {
					t.Fatalf("details = %v, want line %d", fe.Details, tc.line)
				}
				p, ep, staged := e.counts(t, e.group)
				taken := 0
				if tc.name == "409/name taken while reading" {
					taken = 1
				}
				if p != before+taken || ep != beforeEP || staged != 0 {
					t.Fatalf("after: %d PSKs (want %d), %d endpoints (want %d), %d staged", p, before+taken, ep, beforeEP, staged)
				}
				for _, ev := range e.events() {
					if ev.Action == psk.ActionReload {
						t.Fatalf("a failed import published %+v", ev)
					}
				}
			})
		}
		if got := e.audit(t, "psk.import"); len(got) != 0 {
			t.Fatalf("%d psk.import entries after failed imports", len(got))
		}
	})
}

// TestSweepImports: rows written pending stay invisible until their
// import is promoted, at once; the sweep settles a visible import its
// process left unsettled whatever its age, and deletes a hidden import's
// rows once untouched for ImportStaleAfter, not before, after which the
// import can no longer become visible.
func TestSweepImports(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		e := newEnv(t, db)
		begin := func() int64 {
			var id int64
			if err := db.InTx(ctx, func(tx *store.Tx) error {
				var err error
				id, err = tx.BeginImport(ctx, e.group, e.clock.now())
				return err
			}); err != nil {
				t.Fatal(err)
			}
			return id
		}
		stage := func(id int64, from, n int) {
			rows := make([]psk.StagedRow, n)
			for k := range rows {
				i := from + k
				r := &psk.Row{PSK: psk.PSK{GroupID: e.group, PSKID: fmt.Sprintf("imp%d-%d", id, i), Enabled: true, CreatedAt: e.clock.now(),
					UpdatedAt: e.clock.now()}, Sealed: []byte("x"), SealID: "s"}
				rows[k] = psk.StagedRow{Row: r, MACs: []string{fmt.Sprintf("02:00:00:%02x:%02x:%02x", id, i>>8, i&0xff)}}
			}
			if err := db.InTx(ctx, func(tx *store.Tx) error { return tx.StageImport(ctx, id, rows, e.clock.now()) }); err != nil {
				t.Fatal(err)
			}
		}
		promote := func(id int64) error {
			return db.InTx(ctx, func(tx *store.Tx) error {
				_, err := tx.PromoteImport(ctx, id, e.clock.now())
				return err
			})
		}
		visible := func() (int, int) {
			page, err := e.svc.List(ctx, e.admin, psk.Filter{Limit: 1})
			if err != nil {
				t.Fatal(err)
			}
			eps, err := e.svc.ListEndpoints(ctx, e.admin, psk.EndpointFilter{Limit: 1})
			if err != nil {
				t.Fatal(err)
			}
			return page.Total, eps.Total
		}

		dead := begin()
		stage(dead, 0, 6000)
		stage(dead, 6000, 6000)
		shown := begin()
		stage(shown, 0, 7000)
		if p, ep := visible(); p != 0 || ep != 0 {
			t.Fatalf("pending rows visible: %d PSKs, %d endpoints", p, ep)
		}
		if _, err := e.svc.Create(ctx, e.admin, src, 0, psk.NewPSK{PSKID: fmt.Sprintf("imp%d-5", dead)}); !fault.Is(err, fault.Conflict) {
			t.Fatalf("a pending psk_id created again: %v", err)
		}
		if err := promote(shown); err != nil {
			t.Fatal(err)
		}
		if p, ep := visible(); p != 7000 || ep != 7000 {
			t.Fatalf("after promote: %d PSKs, %d endpoints visible", p, ep)
		}

		e.clock.add(psk.ImportStaleAfter - time.Minute)
		if n, err := e.svc.SweepImports(ctx); err != nil || n != 1 {
			t.Fatalf("sweep before stale = %d, %v", n, err)
		}
		if p, ep, left := e.counts(t, e.group); p != 19000 || ep != 19000 || left != 12000*2+1 {
			t.Fatalf("after settling the visible import: %d PSKs, %d endpoints, %d pending", p, ep, left)
		}
		e.clock.add(2 * time.Minute)
		if n, err := e.svc.SweepImports(ctx); err != nil || n != 1 {
			t.Fatalf("sweep = %d, %v", n, err)
		}
		if p, ep, left := e.counts(t, e.group); p != 7000 || ep != 7000 || left != 0 {
			t.Fatalf("after the sweep: %d PSKs, %d endpoints, %d pending", p, ep, left)
		}
		if err := promote(dead); !fault.Is(err, fault.NotFound) {
			t.Fatalf("promote of a swept import: %v", err)
		}
		if p, ep := visible(); p != 7000 || ep != 7000 {
			t.Fatalf("at the end: %d PSKs, %d endpoints visible", p, ep)
		}
	})
}
