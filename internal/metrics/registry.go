// Package metrics keeps trailpass's Prometheus metrics and writes them in the
// text exposition format 0.0.4. It is small and hand-written so the service
// needs no metrics library.
package metrics

import (
	"bufio"
	"io"
	"math"
	"sort"
	"strconv"
	"strings"
	"sync"
)

// collector is one metric family that can write itself.
type collector interface {
	write(w *bufio.Writer)
}

// Registry holds metric families in registration order. It is safe for
// concurrent use.
type Registry struct {
	mu    sync.Mutex
	names map[string]bool
	fams  []collector
}

// NewRegistry returns an empty registry.
func NewRegistry() *Registry { return &Registry{names: map[string]bool{}} }

func (r *Registry) register(name string, c collector) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.names[name] {
		panic("metrics: duplicate metric " + name)
	}
	r.names[name] = true
	r.fams = append(r.fams, c)
}

// WriteText writes every family in the text exposition format.
func (r *Registry) WriteText(w io.Writer) error {
	r.mu.Lock()
	fams := append([]collector(nil), r.fams...)
	r.mu.Unlock()
	bw := bufio.NewWriter(w)
	for _, f := range fams {
		f.write(bw)
	}
	return bw.Flush()
}

// series is the label values of one time series, joined for use as a map key.
type series struct {
	values []string
}

func key(values []string) string { return strings.Join(values, "\xff") }

// CounterVec is a counter family with labels.
type CounterVec struct {
	name, help string
	labels     []string
	mu         sync.Mutex
	vals       map[string]*counterSeries
}

type counterSeries struct {
	series
	v float64
}

// NewCounterVec registers a counter family. With no labels it has one series.
func (r *Registry) NewCounterVec(name, help string, labels ...string) *CounterVec {
	c := &CounterVec{name: name, help: help, labels: labels, vals: map[string]*counterSeries{}}
	r.register(name, c)
	return c
}

// Add adds v (which must not be negative) to the series with the given label
// values, in the order the labels were declared.
func (c *CounterVec) Add(v float64, values ...string) {
	if v < 0 || len(values) != len(c.labels) {
		panic("metrics: bad counter add on " + c.name)
	}
	k := key(values)
	c.mu.Lock()
	s := c.vals[k]
	if s == nil {
		s = &counterSeries{series: series{values: append([]string(nil), values...)}}
		c.vals[k] = s
	}
	s.v += v
	c.mu.Unlock()
}

// Inc adds one.
func (c *CounterVec) Inc(values ...string) { c.Add(1, values...) }

// Value returns the current value of one series, for tests.
func (c *CounterVec) Value(values ...string) float64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	if s := c.vals[key(values)]; s != nil {
		return s.v
	}
	return 0
}

func (c *CounterVec) write(w *bufio.Writer) {
	header(w, c.name, c.help, "counter")
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.labels) == 0 && len(c.vals) == 0 {
		sample(w, c.name, nil, nil, 0)
		return
	}
	for _, k := range sortedKeys(c.vals) {
		s := c.vals[k]
		sample(w, c.name, c.labels, s.values, s.v)
	}
}

// HistogramVec is a histogram family with labels and fixed upper bounds.
type HistogramVec struct {
	name, help string
	labels     []string
	bounds     []float64
	mu         sync.Mutex
	vals       map[string]*histSeries
}

type histSeries struct {
	series
	counts []uint64 // per bucket, not cumulative; the last is +Inf
	sum    float64
	count  uint64
}

// NewHistogramVec registers a histogram family with the given bucket upper
// bounds (ascending; +Inf is implicit).
func (r *Registry) NewHistogramVec(name, help string, bounds []float64, labels ...string) *HistogramVec {
	if !sort.Float64sAreSorted(bounds) {
		panic("metrics: unsorted buckets for " + name)
	}
	h := &HistogramVec{name: name, help: help, labels: labels, bounds: bounds, vals: map[string]*histSeries{}}
	r.register(name, h)
	return h
}

// Observe records v in the series with the given label values.
func (h *HistogramVec) Observe(v float64, values ...string) {
	if len(values) != len(h.labels) {
		panic("metrics: bad histogram observe on " + h.name)
	}
	i := sort.SearchFloat64s(h.bounds, v) // first bound >= v: le is inclusive
	k := key(values)
	h.mu.Lock()
	s := h.vals[k]
	if s == nil {
		s = &histSeries{series: series{values: append([]string(nil), values...)}, counts: make([]uint64, len(h.bounds)+1)}
		h.vals[k] = s
	}
	s.counts[i]++
	s.sum += v
	s.count++
	h.mu.Unlock()
}

// Count returns how many observations one series has, for tests.
func (h *HistogramVec) Count(values ...string) uint64 {
	h.mu.Lock()
	defer h.mu.Unlock()
	if s := h.vals[key(values)]; s != nil {
		return s.count
	}
	return 0
}

func (h *HistogramVec) write(w *bufio.Writer) {
	header(w, h.name, h.help, "histogram")
	h.mu.Lock()
	defer h.mu.Unlock()
	if len(h.labels) == 0 && len(h.vals) == 0 {
		h.vals[""] = &histSeries{counts: make([]uint64, len(h.bounds)+1)}
	}
	labels := append(append([]string(nil), h.labels...), "le")
	for _, k := range sortedKeys(h.vals) {
		s := h.vals[k]
		var cum uint64
		for i, c := range s.counts {
			cum += c
			le := math.Inf(1)
			if i < len(h.bounds) {
				le = h.bounds[i]
			}
			sample(w, h.name+"_bucket", labels, append(append([]string(nil), s.values...), formatFloat(le)), float64(cum))
		}
		sample(w, h.name+"_sum", h.labels, s.values, s.sum)
		sample(w, h.name+"_count", h.labels, s.values, float64(s.count))
	}
}

// GaugeFunc is a family whose samples are read when the metrics are scraped.
type GaugeFunc struct {
	name, help, typ string
	read            func() float64
}

// NewGaugeFunc registers a gauge whose value read returns at scrape time.
func (r *Registry) NewGaugeFunc(name, help string, read func() float64) {
	r.register(name, &GaugeFunc{name: name, help: help, typ: "gauge", read: read})
}

// NewCounterFunc registers a counter whose value read returns at scrape time
// (for totals kept elsewhere, such as the connection pool's).
func (r *Registry) NewCounterFunc(name, help string, read func() float64) {
	r.register(name, &GaugeFunc{name: name, help: help, typ: "counter", read: read})
}

func (g *GaugeFunc) write(w *bufio.Writer) {
	header(w, g.name, g.help, g.typ)
	sample(w, g.name, nil, nil, g.read())
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

var helpEscaper = strings.NewReplacer(`\`, `\\`, "\n", `\n`)
var labelEscaper = strings.NewReplacer(`\`, `\\`, "\n", `\n`, `"`, `\"`)

func header(w *bufio.Writer, name, help, typ string) {
	w.WriteString("# HELP " + name + " " + helpEscaper.Replace(help) + "\n")
	w.WriteString("# TYPE " + name + " " + typ + "\n")
}

func sample(w *bufio.Writer, name string, labels, values []string, v float64) {
	w.WriteString(name)
	if len(labels) > 0 {
		w.WriteByte('{')
		for i, l := range labels {
			if i > 0 {
				w.WriteByte(',')
			}
			w.WriteString(l + `="` + labelEscaper.Replace(values[i]) + `"`)
		}
		w.WriteByte('}')
	}
	w.WriteString(" " + formatFloat(v) + "\n")
}

func formatFloat(v float64) string {
	switch {
	case math.IsInf(v, 1):
		return "+Inf"
	case math.IsInf(v, -1):
		return "-Inf"
	case math.IsNaN(v):
		return "NaN"
	}
	return strconv.FormatFloat(v, 'g', -1, 64)
}
