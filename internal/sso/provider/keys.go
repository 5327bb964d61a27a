package provider

import (
	jose "github.com/go-jose/go-jose/v4"

	"netkeep/internal/sso"
)

// signingKey and publicKey are op's views of an sso.Key.
type signingKey struct{ k sso.Key }

func (s signingKey) SignatureAlgorithm() jose.SignatureAlgorithm { return jose.ES256 }
func (s signingKey) Key() any                                    { return s.k.Private }
func (s signingKey) ID() string                                  { return s.k.ID }

type publicKey struct{ k sso.Key }

func (p publicKey) ID() string                         { return p.k.ID }
func (p publicKey) Algorithm() jose.SignatureAlgorithm { return jose.ES256 }
func (p publicKey) Use() string                        { return "sig" }
func (p publicKey) Key() any                           { return &p.k.Private.PublicKey }
