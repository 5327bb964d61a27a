package netkey_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"netkeep/internal/server/servertest"
)

// TestPSKImportBodyLimit: the CSV import has its own body limit, so a
// 3 MiB CSV goes through a server whose max-body-bytes is 1 MiB, while a
// 3 MiB JSON body on another route is still refused with 413 in the NetKey
// envelope and creates nothing.
func TestPSKImportBodyLimit(t *testing.T) {
	t.Parallel()
	const size = 3 << 20
	servertest.Each(t, func(t *testing.T, e *servertest.Env) {
		f := newPSKFixture(t, e)

		var csv strings.Builder
		csv.WriteString("psk_id,psk_value,description\n")
		desc := strings.Repeat("d", 480)
		rows := 0
		for csv.Len() < size {
			fmt.Fprintf(&csv, "big-%05d,passphrase-%05d,%s\n", rows, rows, desc)
			rows++
		}
		r := postAs(t, e, "/api/v1/psks/import", "text/csv", []byte(csv.String()), f.admin)
		if r.Status != http.StatusCreated || r.JSON["imported"] != float64(rows) {
			t.Fatalf("3 MiB import (%d rows): %d %.300s", rows, r.Status, r.Raw)
		}

		items := make([]string, 0, size/600)
		for n := 0; n < size; n += 600 {
			items = append(items, fmt.Sprintf(`{"psk_id":"json-%06d","description":%q}`, n, desc))
		}
		body := `{"psks":[` + strings.Join(items, ",") + `]}`
		r = postAs(t, e, "/api/v1/psks/bulk", "application/json", []byte(body), f.admin)
		if r.Status != http.StatusRequestEntityTooLarge || r.JSON["success"] != false ||
			r.JSON["code"] != "TOO_LARGE" || r.JSON["error"] != "request body exceeds 1048576 bytes" {
			t.Fatalf("3 MiB JSON body: %d %.300s", r.Status, r.Raw)
		}
		r = e.Do(t, "GET", "/api/v1/psks?limit=1", nil, f.admin...)
		if r.Status != http.StatusOK || r.JSON["total"] != float64(rows) {
			t.Fatalf("after the refused bulk: %d %.300s", r.Status, r.Raw)
		}
	})
}
