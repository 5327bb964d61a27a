package radius

import (
	"time"

	"netkeep/internal/radius/nas"
	"netkeep/internal/radius/wpa"
)

// rejectMessage is the only thing an Access-Reject says.
const rejectMessage = "Access denied"

// access decides an Access-Request from memory and returns the signed
// response, or nil when the request needs a PSK search (handshake from a
// station with no binding that matches), which a handshake worker does.
func (w *worker) access(c *Client, now time.Time) []byte {
	r := &w.req
	mac, ok := r.station()
	if !ok {
		return w.reject(c, rejectNoMAC)
	}
	g, bound := w.s.dir.ByMAC(c.GroupID, mac)
	if r.handshake {
		hs, ok := w.handshake(mac)
		if !ok {
			return w.reject(c, rejectBadRequest)
		}
		if !bound {
			return nil
		}
		if !g.Enabled || !g.Cred.Enabled {
			return w.reject(c, rejectDisabled)
		}
		// A bound station is checked against its own PSK only; when that
		// fails (the station now uses another PSK) the search decides.
		// Only an already derived PMK is used here, on the socket's
		// goroutine; without one the handshake workers decide.
		k := w.s.dir.CachedKey(g.Cred, r.ssidBytes())
		if k == nil || w.ver.Reset(hs) != nil {
			return nil
		}
		w.s.m.checked.Inc()
		if !w.ver.Match(k) {
			return nil
		}
		return w.grant(c, g, mac, k, now)
	}
	// MAC authentication: the access point vouches for the station's MAC
	// with the password its client's policy names (the MAC itself by
	// default); a handshake above proves the PSK instead.
	if !w.macPasswordOK(c, mac) {
		return w.reject(c, rejectWrongPassword)
	}
	if !bound {
		return w.reject(c, rejectUnknown)
	}
	if !g.Enabled || !g.Cred.Enabled {
		return w.reject(c, rejectDisabled)
	}
	var k *wpa.Key
	if c.Vendor == nas.Ruckus {
		// Ruckus wants the PMK, derived in the background for the SSIDs
		// the group's clients list. For any other SSID there is none, and
		// PBKDF2 (4096 rounds) has no place on the socket's goroutine: the
		// answer carries the Tunnel-Password alone.
		k = w.s.dir.CachedKey(g.Cred, r.ssidBytes())
	}
	return w.grant(c, g, mac, k, now)
}

// grant answers Access-Accept for g unless it expired at now.
func (w *worker) grant(c *Client, g Grant, mac MAC, k *wpa.Key, now time.Time) []byte {
	sec := now.Unix()
	if g.Expires != 0 && sec >= g.Expires {
		return w.reject(c, rejectExpired)
	}
	w.s.dir.Seen(c.GroupID, mac, sec)
	return w.accept(c, g, k, sec)
}

// handshake collects the handshake of the current request.
func (w *worker) handshake(spa MAC) (wpa.Handshake, bool) {
	r := &w.req
	aa, ok := r.bssidMAC()
	if !ok || len(r.anonce) != 32 || len(r.eapol) == 0 || len(r.ssidBytes()) == 0 {
		return wpa.Handshake{}, false
	}
	return wpa.Handshake{AA: aa.Bytes(), SPA: spa.Bytes(), ANonce: r.anonce, Frame: r.eapol}, true
}

// identify finds the PSK whose PMK on the request's SSID produced the
// handshake's MIC, binds the station to it and answers.
func (w *worker) identify(c *Client, now time.Time) []byte {
	start := time.Now()
	defer func() { w.s.m.handshake.Observe(time.Since(start).Seconds()) }()
	r := &w.req
	mac, ok := r.station()
	if !ok {
		return w.reject(c, rejectNoMAC)
	}
	hs, ok := w.handshake(mac)
	if !ok || w.ver.Reset(hs) != nil {
		return w.reject(c, rejectBadRequest)
	}
	ssid := r.ssidBytes()
	res := w.findPSK(c.GroupID, ssid)
	w.s.m.checked.Add(float64(res.tried))
	if res.cred == nil {
		if res.pending > 0 {
			w.s.log.Info("handshake matched none of the PSKs with a PMK; answered Access-Reject while more PSKs of the group wait for theirs (a bulk change is being derived), so the station's next attempt may match",
				"station", mac.String(), "ssid", string(ssid), "group", c.GroupID, "pending", res.pending)
			return w.reject(c, rejectPMKPending)
		}
		return w.reject(c, rejectNoMatch)
	}
	cred := res.cred
	if !cred.Enabled {
		return w.reject(c, rejectDisabled)
	}
	g := Grant{Cred: cred, VLAN: int(cred.VLAN), Expires: int64(cred.Expires), Enabled: true}
	if cur, bound := w.s.dir.ByMAC(c.GroupID, mac); bound && cur.Cred.PSKID == cred.PSKID {
		g = cur
	} else if cred.Expires == 0 || now.Unix() < int64(cred.Expires) {
		// Unbound, or bound to another PSK: the station proved it holds
		// this one, so (re)bind it.
		w.s.dir.Bind(c.GroupID, mac, cred)
		w.s.m.enrolled.Inc()
	}
	return w.grant(c, g, mac, res.key, now)
}

// reject answers Access-Reject carrying a Reply-Message and nothing else:
// never a passphrase, a PMK or a VLAN.
func (w *worker) reject(c *Client, reason string) []byte {
	w.s.m.rejects[reason].Inc()
	w.rep.start(w.out[:], codeAccessReject, w.req.id)
	w.rep.attrString(attrReplyMessage, rejectMessage)
	return w.finish(c)
}
