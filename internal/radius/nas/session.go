package nas

import "time"

// Session is a station's accounting session as its NAS reports it.
type Session struct {
	GroupID       int64
	ClientID      int64
	SessionID     string // Acct-Session-Id
	MAC           string // aa:bb:cc:dd:ee:ff, or "" when the NAS sent none
	Username      string
	NASAddress    string
	CalledStation string
	FramedIP      string
	StartedAt     time.Time
	UpdatedAt     time.Time
	InputOctets   int64
	OutputOctets  int64
	SessionTime   int64 // seconds, as the NAS counts them
}

// SessionKey names one session of one client.
type SessionKey struct {
	ClientID  int64
	SessionID string
}

// SessionBatch is what the RADIUS server learnt from accounting since its
// last flush, applied in one transaction: sessions started or updated,
// sessions stopped, and clients that rebooted (Accounting-On/Off), whose
// sessions all ended. Resets apply first, then stops, then upserts.
type SessionBatch struct {
	Resets  []int64
	Stops   []SessionKey
	Upserts []Session
}

// Empty reports whether b changes nothing.
func (b *SessionBatch) Empty() bool {
	return len(b.Resets) == 0 && len(b.Stops) == 0 && len(b.Upserts) == 0
}

// SessionFilter selects sessions for a listing. GroupID 0 means every group.
type SessionFilter struct {
	GroupID   int64
	ClientID  int64
	SessionID string // Disconnect only: one session of ClientID
	MAC       string
	Limit     int
	Offset    int
}

// StaleAfter is how long a session without any accounting update stays in
// the online view: NASes send interim updates far more often, so a session
// this quiet ended without a Stop (a lost packet, a NAS reboot).
const StaleAfter = 24 * time.Hour
