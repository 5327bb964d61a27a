package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"time"

	"netkeep/internal/catalog"
)

// The Nekzus app catalog: apps, their routes, favicons and discovery
// proposals.

const appColumns = `a.id, a.group_id, a.owner_id, a.name, a.icon, a.tags, a.endpoints, a.created_at, a.updated_at,
	r.id, r.upstream, r.strip_prefix, r.websocket, r.scopes, r.auth, r.timeout_ms, r.cache, r.status, r.created_at, r.updated_at`

const appFrom = ` FROM apps a JOIN app_routes r ON r.app_id = a.id`

const (
	appNotFound      = "app not found"
	proposalNotFound = "discovery proposal not found"
)

func scanApp(row interface{ Scan(...any) error }) (catalog.Entry, error) {
	a, r := &catalog.App{}, &catalog.Route{}
	var owner sql.NullInt64
	var tags, endpoints, scopes string
	var timeoutMS int64
	if err := row.Scan(&a.ID, &a.GroupID, &owner, &a.Name, &a.Icon, &tags, &endpoints, &a.CreatedAt, &a.UpdatedAt,
		&r.ID, &r.To, &r.StripPrefix, &r.WebSocket, &scopes, &r.Auth, &timeoutMS, &r.Cache, &r.Status, &r.CreatedAt, &r.UpdatedAt); err != nil {
		return catalog.Entry{}, err
	}
	a.OwnerID = owner.Int64
	r.AppID, r.GroupID, r.Timeout = a.ID, a.GroupID, time.Duration(timeoutMS)*time.Millisecond
	a.CreatedAt, a.UpdatedAt, r.CreatedAt, r.UpdatedAt = a.CreatedAt.UTC(), a.UpdatedAt.UTC(), r.CreatedAt.UTC(), r.UpdatedAt.UTC()
	if err := unmarshalJSON(tags, &a.Tags); err != nil {
		return catalog.Entry{}, wrap(err, "reading app tags", a.ID)
	}
	if err := unmarshalJSON(endpoints, &a.Endpoints); err != nil {
		return catalog.Entry{}, wrap(err, "reading app endpoints", a.ID)
	}
	if err := unmarshalJSON(scopes, &r.Scopes); err != nil {
		return catalog.Entry{}, wrap(err, "reading route scopes", a.ID)
	}
	if a.Tags == nil {
		a.Tags = []string{}
	}
	return catalog.Entry{App: a, Route: r}, nil
}

func unmarshalJSON(s string, v any) error { return json.Unmarshal([]byte(s), v) }

func ownerOf(a *catalog.App) any {
	if a.OwnerID == 0 {
		return nil
	}
	return a.OwnerID
}

// InsertApp stores an app and its route.
func (tx *Tx) InsertApp(ctx context.Context, e catalog.Entry, source string) error {
	a, r := e.App, e.Route
	_, err := tx.q.ExecContext(ctx, `INSERT INTO apps (id, group_id, owner_id, name, icon, tags, endpoints, source, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`, a.ID, a.GroupID, ownerOf(a), a.Name, a.Icon,
		jsonText(a.Tags), jsonText(a.Endpoints), source, a.CreatedAt.UTC(), a.UpdatedAt.UTC())
	if err != nil {
		return wrap(classify(err, appNotFound, "app exists"), "inserting app", a.ID)
	}
	_, err = tx.q.ExecContext(ctx, `INSERT INTO app_routes (id, app_id, upstream, strip_prefix, websocket, scopes, auth, timeout_ms, cache, status, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`, r.ID, a.ID, r.To, r.StripPrefix, r.WebSocket,
		jsonText(r.Scopes), string(r.Auth), r.Timeout.Milliseconds(), r.Cache, r.Status, r.CreatedAt.UTC(), r.UpdatedAt.UTC())
	return wrap(classify(err, appNotFound, "route exists"), "inserting route", r.ID)
}

// UpdateApp writes every field of the app and its route.
func (tx *Tx) UpdateApp(ctx context.Context, e catalog.Entry) error {
	a, r := e.App, e.Route
	res, err := tx.q.ExecContext(ctx, `UPDATE apps SET name = $1, icon = $2, tags = $3, endpoints = $4, updated_at = $5 WHERE id = $6`,
		a.Name, a.Icon, jsonText(a.Tags), jsonText(a.Endpoints), a.UpdatedAt.UTC(), a.ID)
	if err != nil {
		return wrap(err, "updating app", a.ID)
	}
	if err := mustAffect(res, appNotFound); err != nil {
		return wrap(err, "updating app", a.ID)
	}
	_, err = tx.q.ExecContext(ctx, `UPDATE app_routes SET upstream = $1, strip_prefix = $2, websocket = $3, scopes = $4, auth = $5,
		timeout_ms = $6, cache = $7, status = $8, updated_at = $9 WHERE app_id = $10`, r.To, r.StripPrefix, r.WebSocket,
		jsonText(r.Scopes), string(r.Auth), r.Timeout.Milliseconds(), r.Cache, r.Status, r.UpdatedAt.UTC(), a.ID)
	return wrap(err, "updating route", r.ID)
}

// DeleteApp removes the app; its route and favicon go with it (cascade).
func (tx *Tx) DeleteApp(ctx context.Context, appID string) error {
	res, err := tx.q.ExecContext(ctx, `DELETE FROM apps WHERE id = $1`, appID)
	if err != nil {
		return wrap(err, "deleting app", appID)
	}
	return mustAffect(res, appNotFound)
}

// AppByID returns an app with its route, or not_found.
func (tx *Tx) AppByID(ctx context.Context, appID string) (catalog.Entry, error) {
	e, err := scanApp(tx.q.QueryRowContext(ctx, `SELECT `+appColumns+appFrom+` WHERE a.id = $1`, appID))
	return e, wrap(classify(err, appNotFound, ""), "reading app", appID)
}

// AppByRouteID returns the app whose route has routeID, or not_found.
func (tx *Tx) AppByRouteID(ctx context.Context, routeID string) (catalog.Entry, error) {
	e, err := scanApp(tx.q.QueryRowContext(ctx, `SELECT `+appColumns+appFrom+` WHERE r.id = $1`, routeID))
	return e, wrap(classify(err, "route not found", ""), "reading route", routeID)
}

// ListApps returns groupID's apps (every group's for 0) by id.
func (tx *Tx) ListApps(ctx context.Context, groupID int64) ([]catalog.Entry, error) {
	rows, err := tx.q.QueryContext(ctx, `SELECT `+appColumns+appFrom+`
		WHERE CAST($1 AS BIGINT) = 0 OR a.group_id = $1 ORDER BY a.id`, groupID)
	if err != nil {
		return nil, wrap(err, "listing apps")
	}
	defer rows.Close()
	out := []catalog.Entry{}
	for rows.Next() {
		e, err := scanApp(rows)
		if err != nil {
			return nil, wrap(err, "listing apps")
		}
		out = append(out, e)
	}
	return out, wrap(rows.Err(), "listing apps")
}

// AppsFrom returns the ids of the apps source made.
func (tx *Tx) AppsFrom(ctx context.Context, source string) ([]string, error) {
	rows, err := tx.q.QueryContext(ctx, `SELECT id FROM apps WHERE source = $1 ORDER BY id`, source)
	if err != nil {
		return nil, wrap(err, "listing apps from", source)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, wrap(err, "listing apps from", source)
		}
		out = append(out, id)
	}
	return out, wrap(rows.Err(), "listing apps from", source)
}

// AppIcon returns the cached favicon, or not_found.
func (tx *Tx) AppIcon(ctx context.Context, appID string) (*catalog.Icon, error) {
	i := &catalog.Icon{}
	err := tx.q.QueryRowContext(ctx, `SELECT content_type, data, fetched_at FROM app_icons WHERE app_id = $1`, appID).
		Scan(&i.ContentType, &i.Data, &i.FetchedAt)
	if err != nil {
		return nil, wrap(classify(err, "no favicon", ""), "reading favicon", appID)
	}
	i.FetchedAt = i.FetchedAt.UTC()
	return i, nil
}

// SetAppIcon stores (or replaces) the fetched favicon; not_found when the
// app is gone.
func (tx *Tx) SetAppIcon(ctx context.Context, appID string, icon *catalog.Icon) error {
	data := icon.Data
	if data == nil {
		data = []byte{}
	}
	res, err := tx.q.ExecContext(ctx, `UPDATE app_icons SET content_type = $1, data = $2, fetched_at = $3 WHERE app_id = $4`,
		icon.ContentType, data, icon.FetchedAt.UTC(), appID)
	if err != nil {
		return wrap(err, "storing favicon", appID)
	}
	if n, _ := res.RowsAffected(); n > 0 {
		return nil
	}
	_, err = tx.q.ExecContext(ctx, `INSERT INTO app_icons (app_id, content_type, data, fetched_at)
		SELECT id, $2, $3, $4 FROM apps WHERE id = $1`, appID, icon.ContentType, data, icon.FetchedAt.UTC())
	return wrap(classify(err, appNotFound, "favicon exists"), "storing favicon", appID)
}
