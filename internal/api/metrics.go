package api

import (
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Metrics holds the server's Prometheus registry. It is created per server,
// never registered globally, so tests and several servers in one process
// stay independent.
type Metrics struct {
	Registry *prometheus.Registry
	requests *prometheus.CounterVec
	latency  *prometheus.HistogramVec
	// series caches each (route, status)'s counter and histogram, so a
	// request costs one map read instead of hashing its labels twice and
	// formatting its status.
	series sync.Map // routeStatus -> *routeSeries
	served atomic.Uint64
	nanos  atomic.Int64  // summed duration of the served requests
	day    atomic.Int64  // the UTC day (Unix days) today counts
	today  atomic.Uint64 // requests served on day
}

// NewMetrics returns a registry with HTTP and Go runtime metrics.
func NewMetrics() *Metrics {
	m := &Metrics{
		Registry: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "netkeep_http_requests_total",
			Help: "HTTP requests by route pattern and status.",
		}, []string{"route", "status"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "netkeep_http_request_duration_seconds",
			Help:    "HTTP request latency by route pattern.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5},
		}, []string{"route"}),
	}
	m.Registry.MustRegister(m.requests, m.latency,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

type routeStatus struct {
	route  string
	status int
}

type routeSeries struct {
	requests prometheus.Counter
	latency  prometheus.Observer
}

// seriesOf returns route and status's series. Routes are the registered
// patterns (and "unmatched"), statuses HTTP's: the cache stays small.
func (m *Metrics) seriesOf(route string, status int) *routeSeries {
	k := routeStatus{route, status}
	if s, ok := m.series.Load(k); ok {
		return s.(*routeSeries)
	}
	s, _ := m.series.LoadOrStore(k, &routeSeries{
		requests: m.requests.WithLabelValues(route, strconv.Itoa(status)),
		latency:  m.latency.WithLabelValues(route),
	})
	return s.(*routeSeries)
}

func (m *Metrics) observe(route string, status int, d time.Duration) {
	s := m.seriesOf(route, status)
	s.requests.Inc()
	s.latency.Observe(d.Seconds())
	m.served.Add(1)
	m.nanos.Add(int64(d))
	day := time.Now().Unix() / 86400
	if old := m.day.Load(); old != day && m.day.CompareAndSwap(old, day) {
		m.today.Store(0) // the first request of a day starts its count (racing ones may be lost)
	}
	m.today.Add(1)
}

// Served is how many requests this process has answered since it started
// (the sum of netkeep_http_requests_total, read without a scrape), and how
// many of them today (UTC).
func (m *Metrics) Served() (total, today uint64) {
	total, today = m.served.Load(), m.today.Load()
	if m.day.Load() != time.Now().Unix()/86400 {
		today = 0
	}
	return total, today
}

// AvgLatency is the mean duration of the requests Served counts.
func (m *Metrics) AvgLatency() time.Duration {
	n := m.served.Load()
	if n == 0 {
		return 0
	}
	return time.Duration(m.nanos.Load() / int64(n))
}

// Handler serves the registry in the Prometheus text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.Registry, promhttp.HandlerOpts{Registry: m.Registry})
}
