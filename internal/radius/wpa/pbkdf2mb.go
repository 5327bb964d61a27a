package wpa

import "encoding/binary"

// PMKJob is one PMK for DerivePMKs to derive.
type PMKJob struct {
	Passphrase string
	SSID       []byte
	PMK        [PMKLen]byte // set by DerivePMKs
	Err        error        // PMK's error, if any
}

// pbkdf2Lanes is the 16 chains (8 passphrases, both output blocks) that
// pbkdf2AVX512 iterates, each word across the lanes: the HMAC pad states,
// the last U and T, the XOR of every U so far.
type pbkdf2Lanes struct {
	inner, outer, u, t [5][16]uint32
}

// PMKBatch is how many PMKs DerivePMKs computes at once in this process:
// 8 (16 SHA-1 chains in the AVX-512 lanes) where Find's timing chose the
// AVX-512 way (the vector units beat the SHA extensions at the same
// compressions), else 1.
func PMKBatch() int {
	if pbkdf2x16 != nil && currentWay() == lanes16Way() {
		return 8
	}
	return 1
}

// DerivePMKs sets each job's PMK as PMK(Passphrase, SSID) would, or its
// Err; up to PMKBatch at a time go through PBKDF2 together.
func DerivePMKs(jobs []PMKJob) {
	batch := PMKBatch()
	todo := make([]*PMKJob, 0, len(jobs))
	for i := range jobs {
		j := &jobs[i]
		pmk, direct, err := pmkWithoutPBKDF2(j.Passphrase, j.SSID)
		j.PMK, j.Err = pmk, err
		if !direct && err == nil {
			todo = append(todo, j)
		}
	}
	for len(todo) > 0 {
		n := min(batch, len(todo))
		if n == 1 {
			todo[0].PMK = pbkdf2SHA1(todo[0].Passphrase, todo[0].SSID)
		} else {
			pbkdf2Batch(todo[:n])
		}
		todo = todo[n:]
	}
}

// pbkdf2Batch derives up to 8 jobs' PMKs in the 16 lanes: lane 2j is job
// j's first output block, 2j+1 its second; lanes beyond the jobs repeat
// the first job and are ignored.
func pbkdf2Batch(jobs []*PMKJob) {
	var st pbkdf2Lanes
	for j := range 8 {
		job := jobs[0]
		if j < len(jobs) {
			job = jobs[j]
		}
		inner, outer, u1, u2 := pbkdf2First(job.Passphrase, job.SSID)
		for i := range 5 {
			st.inner[i][2*j], st.inner[i][2*j+1] = inner[i], inner[i]
			st.outer[i][2*j], st.outer[i][2*j+1] = outer[i], outer[i]
			st.u[i][2*j], st.u[i][2*j+1] = u1[i], u2[i]
		}
	}
	st.t = st.u
	pbkdf2x16(&st, pbkdf2Rounds-1)
	for j, job := range jobs {
		var out [40]byte
		for i := range 5 {
			binary.BigEndian.PutUint32(out[4*i:], st.t[i][2*j])
			binary.BigEndian.PutUint32(out[20+4*i:], st.t[i][2*j+1])
		}
		job.PMK = [PMKLen]byte(out[:PMKLen])
	}
}
