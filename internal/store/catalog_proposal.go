package store

import (
	"context"
	"time"

	"netkeep/internal/catalog"
)

const proposalColumns = `id, group_id, source, source_key, scheme, host, port, confidence, suggested_app, suggested_route,
	ports, tags, security_notes, state, last_seen, created_at, updated_at`

func scanProposal(row interface{ Scan(...any) error }) (*catalog.Proposal, error) {
	p := &catalog.Proposal{}
	var app, route, ports, tags, notes string
	if err := row.Scan(&p.ID, &p.GroupID, &p.Source, &p.SourceKey, &p.Scheme, &p.Host, &p.Port, &p.Confidence, &app, &route,
		&ports, &tags, &notes, &p.State, &p.LastSeen, &p.CreatedAt, &p.UpdatedAt); err != nil {
		return nil, err
	}
	p.LastSeen, p.CreatedAt, p.UpdatedAt = p.LastSeen.UTC(), p.CreatedAt.UTC(), p.UpdatedAt.UTC()
	for _, f := range []struct {
		text string
		into any
	}{{app, &p.SuggestedApp}, {route, &p.SuggestedRoute}, {ports, &p.Ports}, {tags, &p.Tags}, {notes, &p.SecurityNotes}} {
		if err := unmarshalJSON(f.text, f.into); err != nil {
			return nil, wrap(err, "reading proposal", p.ID)
		}
	}
	return p, nil
}

// UpsertProposal stores p by (source, source_key), keeping the row's id,
// state and creation time when it exists.
func (tx *Tx) UpsertProposal(ctx context.Context, p *catalog.Proposal) error {
	_, err := tx.q.ExecContext(ctx, `INSERT INTO discovery_proposals (`+proposalColumns+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)
		ON CONFLICT (source, source_key) DO UPDATE SET scheme = excluded.scheme, host = excluded.host, port = excluded.port,
			confidence = excluded.confidence, suggested_app = excluded.suggested_app, suggested_route = excluded.suggested_route,
			ports = excluded.ports, tags = excluded.tags, security_notes = excluded.security_notes,
			last_seen = excluded.last_seen, updated_at = excluded.updated_at`,
		p.ID, p.GroupID, p.Source, p.SourceKey, p.Scheme, p.Host, p.Port, p.Confidence, jsonText(p.SuggestedApp),
		jsonText(p.SuggestedRoute), jsonText(p.Ports), jsonText(p.Tags), jsonText(p.SecurityNotes), p.State,
		p.LastSeen.UTC(), p.CreatedAt.UTC(), p.UpdatedAt.UTC())
	return wrap(err, "storing proposal", p.ID)
}

// ProposalByID returns a proposal, or not_found.
func (tx *Tx) ProposalByID(ctx context.Context, id string) (*catalog.Proposal, error) {
	p, err := scanProposal(tx.q.QueryRowContext(ctx, `SELECT `+proposalColumns+` FROM discovery_proposals WHERE id = $1`, id))
	return p, wrap(classify(err, proposalNotFound, ""), "reading proposal", id)
}

// ProposalByKey returns the proposal of a source's service, or not_found.
func (tx *Tx) ProposalByKey(ctx context.Context, source, key string) (*catalog.Proposal, error) {
	p, err := scanProposal(tx.q.QueryRowContext(ctx, `SELECT `+proposalColumns+` FROM discovery_proposals
		WHERE source = $1 AND source_key = $2`, source, key))
	return p, wrap(classify(err, proposalNotFound, ""), "reading proposal", key)
}

// ListProposals returns groupID's proposals in state (every group's for
// 0), most recently seen first.
func (tx *Tx) ListProposals(ctx context.Context, groupID int64, state string) ([]*catalog.Proposal, error) {
	rows, err := tx.q.QueryContext(ctx, `SELECT `+proposalColumns+` FROM discovery_proposals
		WHERE (CAST($1 AS BIGINT) = 0 OR group_id = $1) AND state = $2 ORDER BY last_seen DESC, id`, groupID, state)
	if err != nil {
		return nil, wrap(err, "listing proposals")
	}
	defer rows.Close()
	out := []*catalog.Proposal{}
	for rows.Next() {
		p, err := scanProposal(rows)
		if err != nil {
			return nil, wrap(err, "listing proposals")
		}
		out = append(out, p)
	}
	return out, wrap(rows.Err(), "listing proposals")
}

// SetProposalState records a decision on a proposal.
func (tx *Tx) SetProposalState(ctx context.Context, id, state string, at time.Time) error {
	res, err := tx.q.ExecContext(ctx, `UPDATE discovery_proposals SET state = $1, updated_at = $2 WHERE id = $3`, state, at.UTC(), id)
	if err != nil {
		return wrap(err, "deciding proposal", id)
	}
	return mustAffect(res, proposalNotFound)
}

// DeleteProposal removes a proposal.
func (tx *Tx) DeleteProposal(ctx context.Context, id string) error {
	res, err := tx.q.ExecContext(ctx, `DELETE FROM discovery_proposals WHERE id = $1`, id)
	if err != nil {
		return wrap(err, "deleting proposal", id)
	}
	return mustAffect(res, proposalNotFound)
}

// DeleteProposals removes groupID's proposals in state (every group's for
// 0) and says how many.
func (tx *Tx) DeleteProposals(ctx context.Context, groupID int64, state string) (int, error) {
	res, err := tx.q.ExecContext(ctx, `DELETE FROM discovery_proposals WHERE (CAST($1 AS BIGINT) = 0 OR group_id = $1) AND state = $2`,
		groupID, state)
	if err != nil {
		return 0, wrap(err, "clearing proposals", state)
	}
	n, err := res.RowsAffected()
	return int(n), err
}

// CountProposals counts the proposals in state of every group.
func (tx *Tx) CountProposals(ctx context.Context, state string) (int, error) {
	var n int
	err := tx.q.QueryRowContext(ctx, `SELECT count(*) FROM discovery_proposals WHERE state = $1`, state).Scan(&n)
	return n, wrap(err, "counting proposals", state)
}
