package wpa

import (
	"bytes"
	"crypto/pbkdf2"
	"crypto/sha1"
	"fmt"
	"math/rand/v2"
	"testing"
)

// randomJobs returns n jobs with passphrases of 8..63 characters and
// SSIDs of 1..32 bytes, random; every fifth a 64-hex-digit PMK, every
// seventh an invalid passphrase.
func randomJobs(rng *rand.Rand, n int) []PMKJob {
	jobs := make([]PMKJob, n)
	for i := range jobs {
		pass := make([]byte, 8+rng.IntN(56))
		for k := range pass {
			pass[k] = byte(0x20 + rng.IntN(95))
		}
		ssid := make([]byte, 1+rng.IntN(32))
		for k := range ssid {
			ssid[k] = byte(rng.Uint32())
		}
		switch {
		case i%7 == 6:
			pass = pass[:5]
		case i%5 == 4:
			pass = fmt.Appendf(nil, "%064x", rng.Uint64())
		}
		jobs[i] = PMKJob{Passphrase: string(pass), SSID: ssid}
	}
	return jobs
}

// DerivePMKs gives every job what PMK gives (PMK, error), and its PBKDF2
// agrees with crypto/pbkdf2, for batches of every size around the lane
// count, whichever way this CPU uses, and with the 16-lane way forced
// where the CPU has it.
func TestDerivePMKsMatchesCryptoPBKDF2(t *testing.T) {
	rng := rand.New(rand.NewPCG(8, 9))
	ways := []*laneWay{&pairWay}
	if pbkdf2x16 != nil {
		ways = append(ways, lanes16Way())
	}
	for _, w := range ways {
		t.Run(w.name, func(t *testing.T) {
			defer func(o *laneWay) { wayOverride = o }(wayOverride)
			wayOverride = w
			t.Logf("PMKBatch() = %d", PMKBatch())
			for _, n := range []int{0, 1, 2, 7, 8, 9, 17} {
				jobs := randomJobs(rng, n)
				DerivePMKs(jobs)
				for i, j := range jobs {
					want, werr := PMK(j.Passphrase, j.SSID)
					if (werr != nil) != (j.Err != nil) || j.PMK != want {
						t.Fatalf("batch %d, job %d (%d chars, SSID %d): %x, %v; PMK gives %x, %v", n, i, len(j.Passphrase), len(j.SSID), j.PMK, j.Err, want, werr)
					}
					if werr == nil && len(j.Passphrase) < 64 {
						ref, _ := pbkdf2.Key(sha1.New, j.Passphrase, j.SSID, 4096, 32)
						if !bytes.Equal(j.PMK[:], ref) {
							t.Fatalf("batch %d, job %d: %x, crypto/pbkdf2 %x", n, i, j.PMK, ref)
						}
					}
				}
			}
		})
	}
}

// The IEEE 802.11 J.4 vectors through the 16 lanes, each vector in every
// lane position of a full batch.
func TestPBKDF2LanesVectors(t *testing.T) {
	if pbkdf2x16 == nil {
		t.Skip("no AVX-512")
	}
	vectors := []struct{ pass, ssid, want string }{
		{"password", "IEEE", "f42c6fc52df0ebef9ebb4b90b38a5f902e83fe1b135a70e23aed762e9710a12e"},
		{"ThisIsAPassword", "ThisIsASSID", "0dc0d6eb90555ed6419756b9a15ec3e3209b63df707dd508d14581f8982721af"},
	}
	for k := range 8 {
		jobs := make([]*PMKJob, 8)
		for j := range jobs {
			v := vectors[(j+k)%2]
			jobs[j] = &PMKJob{Passphrase: v.pass, SSID: []byte(v.ssid)}
		}
		pbkdf2Batch(jobs)
		for j, job := range jobs {
			if got, want := fmt.Sprintf("%x", job.PMK), vectors[(j+k)%2].want; got != want {
				t.Fatalf("rotation %d, job %d: %s, want %s", k, j, got, want)
			}
		}
	}
}
