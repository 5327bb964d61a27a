package psk_test

import (
	"context"
	"testing"

	"netkeep/internal/fault"
	"netkeep/internal/psk"
	"netkeep/internal/store"
	"netkeep/internal/store/storetest"
)

// TestNamesChecked: psk_id and descriptions of PSKs and endpoints refuse
// what makes a name lie when shown (name.Check / name.CheckText), naming
// the field, and store nothing; tabs and newlines stay allowed in text.
func TestNamesChecked(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		e := newEnv(t, db)
		base := e.create(t, psk.NewPSK{PSKID: "base"})
		cases := []struct {
			name  string
			do    func() error
			field string
		}{
			{"400/psk_id with a bidi override", func() error {
				_, err := e.svc.Create(ctx, e.admin, src, 0, psk.NewPSK{PSKID: "guest\u202egnp"})
				return err
			}, "psk_id"},
			{"400/description with NUL", func() error {
				_, err := e.svc.Create(ctx, e.admin, src, 0, psk.NewPSK{Description: "a\x00b"})
				return err
			}, "description"},
			{"400/description invalid UTF-8", func() error {
				_, err := e.svc.Create(ctx, e.admin, src, 0, psk.NewPSK{Description: "a\xffb"})
				return err
			}, "description"},
			{"400/update description with ESC", func() error {
				d := "x\x1b[31m"
				_, err := e.svc.Update(ctx, e.admin, src, base.ID, psk.Patch{Description: &d})
				return err
			}, "description"},
			{"400/endpoint description with a bidi isolate", func() error {
				_, err := e.svc.CreateEndpoint(ctx, e.admin, src, 0, psk.NewEndpoint{MAC: "02:00:00:00:00:01", PSK: psk.PSKRef{ID: base.ID}, Description: "\u2066x"})
				return err
			}, "description"},
			{"201/description with tab and newline", func() error {
				_, err := e.svc.Create(ctx, e.admin, src, 0, psk.NewPSK{Description: "room\t12\nfloor 3"})
				return err
			}, ""},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				before, beforeEP, _ := e.counts(t, e.group)
				err := tc.do()
				if tc.field == "" {
					if err != nil {
						t.Fatal(err)
					}
					return
				}
				fe := fault.As(err)
				if fe == nil || fe.Code != fault.Invalid || fe.Details["field"] != tc.field {
					t.Fatalf("err = %v, want invalid %s", err, tc.field)
				}
				if p, ep, _ := e.counts(t, e.group); p != before || ep != beforeEP {
					t.Fatalf("stored %d PSKs, %d endpoints; want %d, %d", p, ep, before, beforeEP)
				}
				got, err := e.svc.Get(ctx, e.admin, base.ID)
				if err != nil || got.Description != "" {
					t.Fatalf("base after = %+v, %v", got, err)
				}
			})
		}
	})
}
