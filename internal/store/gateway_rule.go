package store

import (
	"context"
	"fmt"
	"net/netip"

	"netkeep/internal/gateway"
)

// Access rules with the users and groups they name.

const accessRuleColumns = `id, group_id, name, description, network_id, destination, protocol, ports, enabled,
	created_at, updated_at`

const accessRuleNotFound = "access rule not found"

func scanAccessRule(row interface{ Scan(...any) error }) (*gateway.Rule, error) {
	r := &gateway.Rule{UserIDs: []int64{}, GroupIDs: []int64{}}
	var dest, protocol, ports string
	err := row.Scan(&r.ID, &r.GroupID, &r.Name, &r.Description, &r.NetworkID, &dest, &protocol, &ports, &r.Enabled,
		&r.CreatedAt, &r.UpdatedAt)
	if err != nil {
		return nil, wrap(err, "scanning access rule")
	}
	if r.Destination, err = netip.ParsePrefix(dest); err != nil {
		return nil, fmt.Errorf("access rule %s: stored destination %q: %w", r.ID, dest, err)
	}
	if r.Ports, err = gateway.ParsePorts(ports); err != nil {
		return nil, fmt.Errorf("access rule %s: stored ports %q: %w", r.ID, ports, err)
	}
	r.Protocol = gateway.RuleProtocol(protocol)
	r.CreatedAt, r.UpdatedAt = r.CreatedAt.UTC(), r.UpdatedAt.UTC()
	return r, nil
}

// InsertAccessRule stores r with its subjects.
func (tx *Tx) InsertAccessRule(ctx context.Context, r *gateway.Rule) error {
	_, err := tx.q.ExecContext(ctx, `INSERT INTO access_rules (id, group_id, name, description, network_id, destination,
		protocol, ports, enabled, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
		r.ID, r.GroupID, r.Name, r.Description, r.NetworkID, r.Destination.String(), string(r.Protocol),
		gateway.FormatPorts(r.Ports), r.Enabled, r.CreatedAt.UTC(), r.UpdatedAt.UTC())
	if err != nil {
		return gatewayConflict(err, "access rule")
	}
	return tx.ruleSubjects(ctx, r)
}

func (tx *Tx) ruleSubjects(ctx context.Context, r *gateway.Rule) error {
	for _, u := range r.UserIDs {
		if _, err := tx.q.ExecContext(ctx, `INSERT INTO access_rule_users (rule_id, user_id) VALUES ($1, $2)`, r.ID, u); err != nil {
			return wrap(err, "reading rule subjects")
		}
	}
	for _, g := range r.GroupIDs {
		if _, err := tx.q.ExecContext(ctx, `INSERT INTO access_rule_groups (rule_id, group_id) VALUES ($1, $2)`, r.ID, g); err != nil {
			return wrap(err, "reading rule subjects")
		}
	}
	return nil
}

// AccessRuleByID returns the rule with its subjects, or not_found.
func (tx *Tx) AccessRuleByID(ctx context.Context, id string) (*gateway.Rule, error) {
	r, err := scanAccessRule(tx.q.QueryRowContext(ctx, `SELECT `+accessRuleColumns+` FROM access_rules WHERE id = $1`, id))
	if err != nil {
		return nil, classify(err, accessRuleNotFound, "")
	}
	return r, tx.loadRuleSubjects(ctx, map[string]*gateway.Rule{r.ID: r},
		`SELECT rule_id, user_id FROM access_rule_users WHERE rule_id = $1 ORDER BY user_id`,
		`SELECT rule_id, group_id FROM access_rule_groups WHERE rule_id = $1 ORDER BY group_id`, id)
}

// loadRuleSubjects fills the users and groups of the rules in byID from
// the two queries (each selecting rule_id and a subject id, ordered by it).
func (tx *Tx) loadRuleSubjects(ctx context.Context, byID map[string]*gateway.Rule, usersQ, groupsQ string, arg any) error {
	for i, q := range []string{usersQ, groupsQ} {
		rows, err := tx.q.QueryContext(ctx, q, arg)
		if err != nil {
			return wrap(err, "loading rule subjects")
		}
		for rows.Next() {
			var ruleID string
			var subject int64
			if err := rows.Scan(&ruleID, &subject); err != nil {
				rows.Close()
				return wrap(err, "loading rule subjects")
			}
			if r := byID[ruleID]; r != nil {
				if i == 0 {
					r.UserIDs = append(r.UserIDs, subject)
				} else {
					r.GroupIDs = append(r.GroupIDs, subject)
				}
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return wrap(err, "loading rule subjects")
		}
	}
	return nil
}

// ListAccessRules returns groupID's rules (all for 0) by name, with their
// subjects.
func (tx *Tx) ListAccessRules(ctx context.Context, groupID int64) ([]*gateway.Rule, error) {
	rows, err := tx.q.QueryContext(ctx, `SELECT `+accessRuleColumns+` FROM access_rules
		WHERE CAST($1 AS BIGINT) = 0 OR group_id = $1 ORDER BY name, id`, groupID)
	if err != nil {
		return nil, wrap(err, "listing access rules")
	}
	out := []*gateway.Rule{}
	byID := map[string]*gateway.Rule{}
	for rows.Next() {
		r, err := scanAccessRule(rows)
		if err != nil {
			rows.Close()
			return nil, wrap(err, "listing access rules")
		}
		out = append(out, r)
		byID[r.ID] = r
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, wrap(err, "listing access rules")
	}
	err = tx.loadRuleSubjects(ctx, byID,
		`SELECT s.rule_id, s.user_id FROM access_rule_users s JOIN access_rules r ON r.id = s.rule_id
		 WHERE CAST($1 AS BIGINT) = 0 OR r.group_id = $1 ORDER BY s.user_id`,
		`SELECT s.rule_id, s.group_id FROM access_rule_groups s JOIN access_rules r ON r.id = s.rule_id
		 WHERE CAST($1 AS BIGINT) = 0 OR r.group_id = $1 ORDER BY s.group_id`, groupID)
	return out, err
}

// UserRules returns the enabled rules naming userID or groupID for the
// networks behind gatewayID, by name, without their subjects. It starts
// from the subjects' indexes, so its cost follows the user's rules, not the
// group's.
func (tx *Tx) UserRules(ctx context.Context, gatewayID string, userID, groupID int64) ([]*gateway.Rule, error) {
	rows, err := tx.q.QueryContext(ctx, `SELECT r.id, r.group_id, r.name, r.description, r.network_id, r.destination,
		r.protocol, r.ports, r.enabled, r.created_at, r.updated_at
		FROM access_rules r
		WHERE r.id IN (SELECT rule_id FROM access_rule_users WHERE user_id = $2
			UNION SELECT rule_id FROM access_rule_groups WHERE group_id = $3)
		AND r.enabled AND r.network_id IN (SELECT network_id FROM vpn_network_gateways WHERE gateway_id = $1)
		ORDER BY r.name, r.id`, gatewayID, userID, groupID)
	if err != nil {
		return nil, wrap(err, "reading user rules")
	}
	defer rows.Close()
	out := []*gateway.Rule{}
	for rows.Next() {
		r, err := scanAccessRule(rows)
		if err != nil {
			return nil, wrap(err, "reading user rules")
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// CountNetworkRules counts the rules that refer to the network.
func (tx *Tx) CountNetworkRules(ctx context.Context, networkID string) (int, error) {
	var n int
	err := tx.q.QueryRowContext(ctx, `SELECT count(*) FROM access_rules WHERE network_id = $1`, networkID).Scan(&n)
	return n, err
}

// UpdateAccessRule writes r's fields and replaces its subjects.
func (tx *Tx) UpdateAccessRule(ctx context.Context, r *gateway.Rule) error {
	res, err := tx.q.ExecContext(ctx, `UPDATE access_rules SET name = $1, description = $2, network_id = $3,
		destination = $4, protocol = $5, ports = $6, enabled = $7, updated_at = $8 WHERE id = $9`,
		r.Name, r.Description, r.NetworkID, r.Destination.String(), string(r.Protocol), gateway.FormatPorts(r.Ports),
		r.Enabled, r.UpdatedAt.UTC(), r.ID)
	if err != nil {
		return gatewayConflict(err, "access rule")
	}
	if err := mustAffect(res, accessRuleNotFound); err != nil {
		return wrap(err, "updating access rule")
	}
	for _, q := range []string{`DELETE FROM access_rule_users WHERE rule_id = $1`, `DELETE FROM access_rule_groups WHERE rule_id = $1`} {
		if _, err := tx.q.ExecContext(ctx, q, r.ID); err != nil {
			return wrap(err, "updating access rule")
		}
	}
	return tx.ruleSubjects(ctx, r)
}

// DeleteAccessRule removes the rule and its subjects.
func (tx *Tx) DeleteAccessRule(ctx context.Context, id string) error {
	res, err := tx.q.ExecContext(ctx, `DELETE FROM access_rules WHERE id = $1`, id)
	if err != nil {
		return wrap(err, "deleting access rule", id)
	}
	return mustAffect(res, accessRuleNotFound)
}
