package pki

import (
	"strings"

	"netkeep/internal/fault"
)

// Reason is a revocation reason, named as in RFC 5280 section 5.3.1.
type Reason string

// The reasons a certificate may be revoked for. certificateHold (a
// suspension that can be lifted) and removeFromCRL (delta CRLs only) are not
// offered: netkeep's revocations are final.
const (
	Unspecified          Reason = "unspecified"
	KeyCompromise        Reason = "keyCompromise"
	CACompromise         Reason = "cACompromise"
	AffiliationChanged   Reason = "affiliationChanged"
	Superseded           Reason = "superseded"
	CessationOfOperation Reason = "cessationOfOperation"
	PrivilegeWithdrawn   Reason = "privilegeWithdrawn"
	AACompromise         Reason = "aACompromise"
)

// reasonCodes are the CRLReason enumeration values.
var reasonCodes = map[Reason]int{
	Unspecified:          0,
	KeyCompromise:        1,
	CACompromise:         2,
	AffiliationChanged:   3,
	Superseded:           4,
	CessationOfOperation: 5,
	PrivilegeWithdrawn:   9,
	AACompromise:         10,
}

// Reasons lists the accepted reasons in RFC order.
func Reasons() []Reason {
	return []Reason{Unspecified, KeyCompromise, CACompromise, AffiliationChanged, Superseded,
		CessationOfOperation, PrivilegeWithdrawn, AACompromise}
}

// ParseReason accepts an RFC 5280 reason name in any case; empty means
// unspecified. Anything else is an invalid error listing the names.
func ParseReason(s string) (Reason, error) {
	if s == "" {
		return Unspecified, nil
	}
	for r := range reasonCodes {
		if strings.EqualFold(s, string(r)) {
			return r, nil
		}
	}
	names := make([]string, 0, len(reasonCodes))
	for _, r := range Reasons() {
		names = append(names, string(r))
	}
	return "", fault.Errorf(fault.Invalid, "unknown revocation reason %q; use one of %s", s, strings.Join(names, ", ")).
		WithDetails(map[string]any{"field": "reason", "allowed": names})
}

// Code is the reason's CRLReason value (0 for unknown reasons).
func (r Reason) Code() int { return reasonCodes[r] }
