package device

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"netkeep/internal/audit"
	"netkeep/internal/authz"
	"netkeep/internal/fault"
)

// codeAlphabet has 32 characters without the look-alikes I, O (0 and 1 are
// left out too): a code of 8 carries 40 random bits and reads aloud.
const (
	codeAlphabet    = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
	codeLen         = 8
	bootstrapPrefix = "bootstrap_"
)

// NewCode makes a pairing code for p's group, valid CodeTTL, and returns it
// with its expiry. Devices paired with it belong to p's group and act for
// p's user. Errors: unauthorized, forbidden (p may not write devices).
func (s *Service) NewCode(ctx context.Context, p *authz.Principal, src audit.Source) (string, time.Time, error) {
	if err := authz.Allow(p, "devices:write", authz.Any); err != nil {
		return "", time.Time{}, err
	}
	code := newCode()
	now := s.now()
	c := &PairingCode{Hash: sha256.Sum256([]byte(code)), GroupID: p.GroupID, CreatedBy: p.UserID, CreatedAt: now, ExpiresAt: now.Add(CodeTTL)}
	err := s.store.InTx(ctx, func(tx Tx) error {
		if err := tx.DeletePairingCodes(ctx, now.Add(-time.Hour)); err != nil {
			return err
		}
		if err := tx.CreatePairingCode(ctx, c); err != nil {
			return err
		}
		return audit.Record(ctx, tx, src, c.GroupID, "pairing.code_created", "pairing", map[string]any{"expires_at": c.ExpiresAt})
	})
	if err != nil {
		return "", time.Time{}, err
	}
	return code, c.ExpiresAt, nil
}

func newCode() string {
	var b [codeLen]byte
	_, _ = rand.Read(b[:])
	for i := range b {
		b[i] = codeAlphabet[b[i]&31] // 32 symbols: uniform
	}
	return string(b[:])
}

// NormalizeCode is how a typed code is read: case and surrounding blanks
// do not matter.
func NormalizeCode(code string) string { return strings.ToUpper(strings.TrimSpace(code)) }

// Redeem exchanges a live pairing code for a bootstrap token, once. A
// failed redemption (unknown, used, expired or locked code) counts against
// every live code: after MaxFailures the live codes are locked, so a code
// cannot be guessed while it lives. baseURL is where the device reaches
// the server. Errors: not_found (invalid_code), for every failure alike.
func (s *Service) Redeem(ctx context.Context, src audit.Source, code, baseURL string) (*Redemption, error) {
	code = NormalizeCode(code)
	now := s.now()
	boot := bootstrapPrefix + randomHex(32)
	bootExp := now.Add(BootstrapTTL)
	var pc *PairingCode
	err := s.store.InTx(ctx, func(tx Tx) error {
		var err error
		if pc, err = tx.RedeemPairingCode(ctx, sha256.Sum256([]byte(code)), now, sha256.Sum256([]byte(boot)), bootExp); err != nil {
			return err
		}
		return audit.Record(ctx, tx, src, pc.GroupID, "pairing.code_redeemed", "pairing", nil)
	})
	if fault.Is(err, fault.NotFound) {
		ferr := s.store.InTx(ctx, func(tx Tx) error {
			if err := tx.FailPairingCodes(ctx, now); err != nil {
				return err
			}
			return audit.Record(ctx, tx, src, 0, "pairing.redeem_failed", "pairing", nil)
		})
		if ferr != nil {
			return nil, ferr
		}
		return nil, errInvalidCode
	}
	if err != nil {
		return nil, err
	}
	return &Redemption{BaseURL: baseURL, BootstrapToken: boot, ExpiresAt: bootExp, Info: s.cfg.Info}, nil
}

// Pair pairs the device nd with a bootstrap token, once, and returns the
// device and its first token. Pairing an id again in the same group
// replaces that device's pairing (its older tokens die); an id paired in
// another group is a conflict. Errors: invalid (a field, named in details;
// checked before the token is spent), unauthorized (bad, expired or used
// bootstrap token), conflict.
func (s *Service) Pair(ctx context.Context, src audit.Source, bootstrap string, nd NewDevice) (*Device, *Token, error) {
	if err := validNewDevice(&nd); err != nil {
		return nil, nil, err
	}
	if !strings.HasPrefix(bootstrap, bootstrapPrefix) {
		return nil, nil, errBadBoot
	}
	now := s.now()
	d := &Device{ID: nd.ID, Name: nd.Name, Model: nd.Model, Platform: nd.Platform,
		Scopes: DefaultScopes, Epoch: randomHex(12), CreatedAt: now, PairedAt: now}
	if nd.PushToken != "" {
		sealed, err := s.keys.Seal([]byte(nd.PushToken), "device-push:"+nd.ID)
		if err != nil {
			return nil, nil, err
		}
		d.PushToken = sealed
	}
	err := s.store.InTx(ctx, func(tx Tx) error {
		pc, err := tx.UseBootstrapToken(ctx, sha256.Sum256([]byte(bootstrap)), now)
		if fault.Is(err, fault.NotFound) {
			return errBadBoot
		}
		if err != nil {
			return err
		}
		d.GroupID, d.UserID = pc.GroupID, pc.CreatedBy
		if err := tx.UpsertDevice(ctx, d); err != nil {
			if fault.Is(err, fault.Conflict) {
				return fault.Errorf(fault.Conflict, "device id %q is taken; choose another", d.ID).WithDetails(map[string]any{"field": "device.id"})
			}
			return err
		}
		src.Actor = string(authz.KindDevice) + ":" + d.ID
		return audit.Record(ctx, tx, src, d.GroupID, "device.paired", d.ID, map[string]any{"platform": d.Platform, "model": d.Model})
	})
	if err != nil {
		return nil, nil, err
	}
	s.registry.Drop(d.ID)
	s.publish(ctx, "paired", d.GroupID, d.ID, Paired{DeviceName: d.Name, Platform: d.Platform})
	tok, err := s.issue(d)
	if err != nil {
		return nil, nil, err
	}
	return d, tok, nil
}

// validNewDevice checks what a device says about itself and fills in its
// name.
func validNewDevice(nd *NewDevice) error {
	nd.ID, nd.Model, nd.Name = strings.TrimSpace(nd.ID), strings.TrimSpace(nd.Model), strings.TrimSpace(nd.Name)
	switch {
	case nd.ID == "" || len(nd.ID) > 128 || !printable(nd.ID) || strings.ContainsAny(nd.ID, "/?#% "):
		return invalidField("device.id", "device.id is required: 1 to 128 printable characters without spaces, '/', '?', '#' or '%'")
	case !ValidPlatform(nd.Platform):
		return invalidField("device.platform", "device.platform must be one of "+strings.Join(Platforms, ", "))
	case len(nd.Model) > 128 || !printable(nd.Model):
		return invalidField("device.model", "device.model must be at most 128 printable characters")
	case len(nd.PushToken) > 4096:
		return invalidField("device.pushToken", "device.pushToken must be at most 4096 bytes")
	}
	if err := validName(nd.Name, true); err != nil {
		return err
	}
	if nd.Name == "" {
		nd.Name = nd.Model
	}
	if nd.Name == "" {
		nd.Name = nd.ID
	}
	return nil
}

func validName(name string, emptyOK bool) error {
	if (name == "" && !emptyOK) || len(name) > 128 || !printable(name) {
		return invalidField("deviceName", "deviceName must be 1 to 128 printable characters")
	}
	return nil
}

func printable(s string) bool {
	if !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if !unicode.IsPrint(r) {
			return false
		}
	}
	return true
}

func invalidField(field, msg string) error {
	return fault.New(fault.Invalid, msg).WithDetails(map[string]any{"field": field})
}
