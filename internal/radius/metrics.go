package radius

import "github.com/prometheus/client_golang/prometheus"

// metrics are the server's counters, resolved once so that the packet path
// only adds atomically.
type metrics struct {
	received   [3]prometheus.Counter // auth, acct, status
	accepts    prometheus.Counter
	rejects    map[string]prometheus.Counter
	acctResp   prometheus.Counter
	dropped    map[string]prometheus.Counter
	duplicates prometheus.Counter
	handshake  prometheus.Histogram
	checked    prometheus.Counter
	enrolled   prometheus.Counter
}

// Drop reasons.
const (
	dropUnknownClient = "unknown_client"
	dropBadAuth       = "bad_authenticator"
	dropMissingMA     = "missing_message_authenticator"
	dropMalformed     = "malformed"
	dropUnsupported   = "unsupported_code"
	dropInProgress    = "in_progress"
	dropOverload      = "overload"
)

// Reject reasons.
const (
	rejectNoMAC    = "no_station"
	rejectUnknown  = "unknown_station"
	rejectDisabled = "disabled"
	rejectExpired  = "expired"
	rejectNoMatch  = "no_psk_matches"
	// No PSK with a PMK matched while PSKs of the group still wait for
	// theirs (too many to derive on demand).
	rejectPMKPending = "pmk_pending"
	rejectBadRequest = "bad_handshake"
	// MAC authentication without the password the client's policy asks
	// for (wrong, or missing).
	rejectWrongPassword = "wrong_password"
)

func newMetrics(reg prometheus.Registerer, index *Index) *metrics {
	recv := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "netkeep_radius_requests_total", Help: "RADIUS requests received from known clients, by type.",
	}, []string{"type"})
	resp := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "netkeep_radius_responses_total", Help: "RADIUS responses sent, by code.",
	}, []string{"code"})
	rej := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "netkeep_radius_rejects_total", Help: "Access-Rejects sent, by reason.",
	}, []string{"reason"})
	drop := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "netkeep_radius_dropped_total", Help: "RADIUS packets dropped without an answer, by reason.",
	}, []string{"reason"})
	dup := prometheus.NewCounter(prometheus.CounterOpts{
		Name: "netkeep_radius_duplicates_total", Help: "Retransmitted requests answered from the duplicate cache.",
	})
	hs := prometheus.NewHistogram(prometheus.HistogramOpts{
		Name:    "netkeep_radius_handshake_seconds",
		Help:    "Time to identify a PSK from a 4-way handshake.",
		Buckets: []float64{.0001, .0005, .001, .0025, .005, .01, .025, .05, .1},
	})
	checked := prometheus.NewCounter(prometheus.CounterOpts{
		Name: "netkeep_radius_handshake_candidates_total", Help: "PSK candidates checked against handshakes (the keys actually tried: a search stops at the match).",
	})
	enrolled := prometheus.NewCounter(prometheus.CounterOpts{
		Name: "netkeep_radius_auto_enrolments_total", Help: "Stations bound to a PSK after a handshake match.",
	})
	m := &metrics{
		accepts: resp.WithLabelValues("access_accept"), acctResp: resp.WithLabelValues("accounting_response"),
		rejects: map[string]prometheus.Counter{}, dropped: map[string]prometheus.Counter{},
		duplicates: dup, handshake: hs, checked: checked, enrolled: enrolled,
	}
	for i, t := range []string{"access_request", "accounting_request", "status_server"} {
		m.received[i] = recv.WithLabelValues(t)
	}
	for _, r := range []string{rejectNoMAC, rejectUnknown, rejectDisabled, rejectExpired, rejectNoMatch, rejectPMKPending, rejectBadRequest, rejectWrongPassword} {
		m.rejects[r] = rej.WithLabelValues(r)
	}
	for _, r := range []string{dropUnknownClient, dropBadAuth, dropMissingMA, dropMalformed, dropUnsupported, dropInProgress, dropOverload} {
		m.dropped[r] = drop.WithLabelValues(r)
	}
	if reg == nil {
		return m
	}
	cols := []prometheus.Collector{recv, resp, rej, drop, dup, hs, checked, enrolled}
	if index != nil {
		cols = append(cols,
			prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "netkeep_radius_endpoints", Help: "Endpoints in the RADIUS directory."},
				func() float64 { n, _, _ := index.Counts(); return float64(n) }),
			prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "netkeep_radius_psks", Help: "PSKs in the RADIUS directory."},
				func() float64 { _, n, _ := index.Counts(); return float64(n) }),
			prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "netkeep_radius_pmks_pending", Help: "PMKs waiting to be derived."},
				func() float64 { return float64(index.pmkq.pending()) }),
		)
	}
	for _, c := range cols {
		if err := reg.Register(c); err != nil {
			// Registering twice (a second server in one registry) keeps the first.
			continue
		}
	}
	return m
}
