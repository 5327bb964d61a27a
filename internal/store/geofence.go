package store

import (
	"context"
	"database/sql"
	"errors"
	"strings"

	"netkeep/internal/geo"
)

// Geo-fencing policies: the server-wide one and groups' own.

func joinCountries(cs []string) string { return strings.Join(cs, ",") }

func splitCountries(s string) []string {
	if s == "" {
		return []string{}
	}
	return strings.Split(s, ",")
}

func scanGeoPolicy(dest ...any) (func() geo.Policy, []any) {
	var p geo.Policy
	var mode, unknown, countries string
	targets := append(dest, &p.Enabled, &mode, &countries, &unknown, &p.UpdatedAt)
	return func() geo.Policy {
		p.Mode, p.Unknown, p.Countries, p.UpdatedAt = geo.Mode(mode), geo.Mode(unknown), splitCountries(countries), p.UpdatedAt.UTC()
		return p
	}, targets
}

const geoPolicyColumns = `enabled, mode, countries, unknown_country, updated_at`

// GeoFence returns the server-wide policy, geo.Disabled() when none was set.
func (tx *Tx) GeoFence(ctx context.Context) (*geo.Policy, error) {
	done, targets := scanGeoPolicy()
	err := tx.q.QueryRowContext(ctx, `SELECT `+geoPolicyColumns+` FROM geo_fence WHERE id = 1`).Scan(targets...)
	if errors.Is(err, sql.ErrNoRows) {
		p := geo.Disabled()
		return &p, nil
	}
	if err != nil {
		return nil, wrap(err, "reading the geo-fence")
	}
	p := done()
	return &p, nil
}

// PutGeoFence writes the server-wide policy.
func (tx *Tx) PutGeoFence(ctx context.Context, p *geo.Policy) error {
	_, err := tx.q.ExecContext(ctx, `INSERT INTO geo_fence (id, `+geoPolicyColumns+`) VALUES (1, $1, $2, $3, $4, $5)
		ON CONFLICT (id) DO UPDATE SET enabled = $1, mode = $2, countries = $3, unknown_country = $4, updated_at = $5`,
		p.Enabled, string(p.Mode), joinCountries(p.Countries), string(p.Unknown), p.UpdatedAt.UTC())
	return wrap(err, "writing the geo-fence")
}

const groupGeoColumns = `f.group_id, g.name, f.enabled, f.mode, f.countries, f.unknown_country, f.updated_at`

func scanGroupGeo(row interface{ Scan(...any) error }) (*geo.GroupPolicy, error) {
	gp := &geo.GroupPolicy{}
	done, targets := scanGeoPolicy(&gp.GroupID, &gp.GroupName)
	if err := row.Scan(targets...); err != nil {
		return nil, err
	}
	gp.Policy = done()
	return gp, nil
}

// GroupGeoFence returns groupID's own policy; not_found when it has none.
func (tx *Tx) GroupGeoFence(ctx context.Context, groupID int64) (*geo.GroupPolicy, error) {
	gp, err := scanGroupGeo(tx.q.QueryRowContext(ctx, `SELECT `+groupGeoColumns+`
		FROM geo_fence_groups f JOIN groups g ON g.id = f.group_id WHERE f.group_id = $1`, groupID))
	if err != nil {
		return nil, wrap(classify(err, "the group has no geo-fence of its own", ""), "reading a group's geo-fence", groupID)
	}
	return gp, nil
}

// ListGroupGeoFences returns the groups' own policies (every group's for
// 0), by group id.
func (tx *Tx) ListGroupGeoFences(ctx context.Context, groupID int64) ([]*geo.GroupPolicy, error) {
	rows, err := tx.q.QueryContext(ctx, `SELECT `+groupGeoColumns+`
		FROM geo_fence_groups f JOIN groups g ON g.id = f.group_id
		WHERE CAST($1 AS BIGINT) = 0 OR f.group_id = $1 ORDER BY f.group_id`, groupID)
	if err != nil {
		return nil, wrap(err, "listing group geo-fences")
	}
	defer rows.Close()
	out := []*geo.GroupPolicy{}
	for rows.Next() {
		gp, err := scanGroupGeo(rows)
		if err != nil {
			return nil, wrap(err, "scanning a group geo-fence")
		}
		out = append(out, gp)
	}
	return out, wrap(rows.Err(), "listing group geo-fences")
}

// PutGroupGeoFence writes a group's own policy.
func (tx *Tx) PutGroupGeoFence(ctx context.Context, p *geo.GroupPolicy) error {
	_, err := tx.q.ExecContext(ctx, `INSERT INTO geo_fence_groups (group_id, `+geoPolicyColumns+`)
		VALUES ($1, $2, $3, $4, $5, $6)
		ON CONFLICT (group_id) DO UPDATE SET enabled = $2, mode = $3, countries = $4, unknown_country = $5, updated_at = $6`,
		p.GroupID, p.Enabled, string(p.Mode), joinCountries(p.Countries), string(p.Unknown), p.UpdatedAt.UTC())
	return wrap(err, "writing a group's geo-fence", p.GroupID)
}

// DeleteGroupGeoFence removes a group's own policy; not_found when none.
func (tx *Tx) DeleteGroupGeoFence(ctx context.Context, groupID int64) error {
	res, err := tx.q.ExecContext(ctx, `DELETE FROM geo_fence_groups WHERE group_id = $1`, groupID)
	if err != nil {
		return wrap(err, "deleting a group's geo-fence", groupID)
	}
	return mustAffect(res, "the group has no geo-fence of its own")
}
