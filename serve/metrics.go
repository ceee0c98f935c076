package serve

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// metrics are the server's Prometheus series, on a registry of its own
// (two servers in one process, as in the tests, never collide).
type metrics struct {
	reg           *prometheus.Registry
	requests      *prometheus.CounterVec   // handler, code
	verdicts      *prometheus.CounterVec   // source (admission, harbor), verdict (allowed, denied, error)
	scanSeconds   prometheus.Histogram     // one gate run, resolve excluded
	requestSecs   *prometheus.HistogramVec // handler
	cacheHits     prometheus.Counter
	cacheMisses   prometheus.Counter
	cacheEntries  prometheus.Gauge
	scansInFlight prometheus.Gauge
}

func newMetrics() *metrics {
	m := &metrics{reg: prometheus.NewRegistry()}
	m.requests = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "hallmark_requests_total", Help: "HTTP requests by handler and status code."}, []string{"handler", "code"})
	m.verdicts = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "hallmark_verdicts_total", Help: "Decisions by source (admission, harbor) and verdict (allowed, denied, error)."}, []string{"source", "verdict"})
	m.scanSeconds = prometheus.NewHistogram(prometheus.HistogramOpts{Name: "hallmark_scan_seconds", Help: "Time of one gate run (pull, scan, signature).",
		Buckets: []float64{0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60, 300, 900, 1800}})
	m.requestSecs = prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "hallmark_request_seconds", Help: "HTTP request latency by handler.",
		Buckets: []float64{0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30}}, []string{"handler"})
	m.cacheHits = prometheus.NewCounter(prometheus.CounterOpts{Name: "hallmark_verdict_cache_hits_total", Help: "Verdicts served from the cache."})
	m.cacheMisses = prometheus.NewCounter(prometheus.CounterOpts{Name: "hallmark_verdict_cache_misses_total", Help: "Verdicts that needed a scan (or joined one)."})
	m.cacheEntries = prometheus.NewGauge(prometheus.GaugeOpts{Name: "hallmark_verdict_cache_entries", Help: "Verdicts held in the cache."})
	m.scansInFlight = prometheus.NewGauge(prometheus.GaugeOpts{Name: "hallmark_scans_in_flight", Help: "Gate runs in progress."})
	m.reg.MustRegister(m.requests, m.verdicts, m.scanSeconds, m.requestSecs, m.cacheHits, m.cacheMisses, m.cacheEntries, m.scansInFlight,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}
