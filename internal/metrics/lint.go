package metrics

import (
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
)

var (
	nameRE   = regexp.MustCompile(`^[a-zA-Z_:][a-zA-Z0-9_:]*$`)
	labelRE  = regexp.MustCompile(`^[a-zA-Z_][a-zA-Z0-9_]*$`)
	helpRE   = regexp.MustCompile(`^# HELP ([^ ]+) (.*)$`)
	typeRE   = regexp.MustCompile(`^# TYPE ([^ ]+) (counter|gauge|histogram|summary|untyped)$`)
	sampleRE = regexp.MustCompile(`^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{.*\})? (\S+)$`)
)

// Sample is one parsed sample line of a text exposition.
type Sample struct {
	Name   string
	Labels map[string]string
	Value  float64
}

// Parse checks a text exposition (format 0.0.4) strictly and returns its
// samples: every line is a HELP, a TYPE or a well-formed sample of a declared
// family; histogram buckets are cumulative, end at +Inf, and _count equals the
// +Inf bucket. Tests use it to hold the output to the format.
func Parse(text string) ([]Sample, error) {
	types := map[string]string{}
	var out []Sample
	type histState struct {
		lastLE, lastCount float64
		inf               float64
		sawInf            bool
	}
	hists := map[string]*histState{}
	for n, line := range strings.Split(strings.TrimSuffix(text, "\n"), "\n") {
		bad := func(why string) error { return fmt.Errorf("line %d %q: %s", n+1, line, why) }
		switch {
		case strings.HasPrefix(line, "# HELP "):
			if m := helpRE.FindStringSubmatch(line); m == nil || !nameRE.MatchString(m[1]) {
				return nil, bad("malformed HELP")
			}
			continue
		case strings.HasPrefix(line, "# TYPE "):
			m := typeRE.FindStringSubmatch(line)
			if m == nil || !nameRE.MatchString(m[1]) {
				return nil, bad("malformed TYPE")
			}
			if _, dup := types[m[1]]; dup {
				return nil, bad("family declared twice")
			}
			types[m[1]] = m[2]
			continue
		case strings.HasPrefix(line, "#"), line == "":
			return nil, bad("unexpected comment or blank line")
		}
		m := sampleRE.FindStringSubmatch(line)
		if m == nil {
			return nil, bad("malformed sample")
		}
		labels, err := parseLabels(m[2])
		if err != nil {
			return nil, bad(err.Error())
		}
		v, err := parseValue(m[3])
		if err != nil {
			return nil, bad("bad value")
		}
		s := Sample{Name: m[1], Labels: labels, Value: v}
		out = append(out, s)
		family, suffix := m[1], ""
		if _, ok := types[family]; !ok {
			for _, suf := range []string{"_bucket", "_sum", "_count"} {
				if base := strings.TrimSuffix(family, suf); base != family && types[base] == "histogram" {
					family, suffix = base, suf
				}
			}
		}
		typ, ok := types[family]
		if !ok {
			return nil, bad("sample of an undeclared family")
		}
		if typ == "counter" && v < 0 {
			return nil, bad("negative counter")
		}
		if typ != "histogram" {
			continue
		}
		if suffix == "" {
			return nil, bad("histogram sample without _bucket, _sum or _count")
		}
		key := family + seriesKey(labels)
		st := hists[key]
		if st == nil {
			st = &histState{lastLE: math.Inf(-1)}
			hists[key] = st
		}
		switch suffix {
		case "_bucket":
			le, ok := labels["le"]
			if !ok {
				return nil, bad("bucket without le")
			}
			bound, err := parseValue(le)
			if err != nil || bound <= st.lastLE {
				return nil, bad("le not ascending")
			}
			if v < st.lastCount {
				return nil, bad("buckets not cumulative")
			}
			st.lastLE, st.lastCount = bound, v
			if math.IsInf(bound, 1) {
				st.inf, st.sawInf = v, true
			}
		case "_count":
			if !st.sawInf {
				return nil, bad("histogram without a +Inf bucket")
			}
			if v != st.inf {
				return nil, bad("_count differs from the +Inf bucket")
			}
		}
	}
	return out, nil
}

// seriesKey identifies a histogram series by its labels other than le.
func seriesKey(labels map[string]string) string {
	keys := sortedKeys(labels)
	var b strings.Builder
	for _, k := range keys {
		if k != "le" {
			b.WriteString(k + "=" + labels[k] + "\xff")
		}
	}
	return b.String()
}

func parseValue(s string) (float64, error) {
	switch s {
	case "+Inf":
		return math.Inf(1), nil
	case "-Inf":
		return math.Inf(-1), nil
	case "NaN":
		return math.NaN(), nil
	}
	return strconv.ParseFloat(s, 64)
}

// parseLabels reads {a="x",b="y"} with the format's escapes.
func parseLabels(s string) (map[string]string, error) {
	out := map[string]string{}
	if s == "" {
		return out, nil
	}
	s = s[1 : len(s)-1]
	for len(s) > 0 {
		eq := strings.IndexByte(s, '=')
		if eq < 0 || !labelRE.MatchString(s[:eq]) || len(s) < eq+2 || s[eq+1] != '"' {
			return nil, fmt.Errorf("malformed label")
		}
		name := s[:eq]
		s = s[eq+2:]
		var val strings.Builder
		closed := false
		for i := 0; i < len(s); i++ {
			c := s[i]
			if c == '\\' {
				if i+1 >= len(s) {
					return nil, fmt.Errorf("dangling escape")
				}
				switch s[i+1] {
				case '\\':
					val.WriteByte('\\')
				case '"':
					val.WriteByte('"')
				case 'n':
					val.WriteByte('\n')
				default:
					return nil, fmt.Errorf("unknown escape")
				}
				i++
				continue
			}
			if c == '"' {
				s = s[i+1:]
				closed = true
				break
			}
			if c == '\n' {
				return nil, fmt.Errorf("raw newline in label value")
			}
			val.WriteByte(c)
		}
		if !closed {
			return nil, fmt.Errorf("unterminated label value")
		}
		if _, dup := out[name]; dup {
			return nil, fmt.Errorf("duplicate label")
		}
		out[name] = val.String()
		if strings.HasPrefix(s, ",") {
			s = s[1:]
		} else if s != "" {
			return nil, fmt.Errorf("junk after label value")
		}
	}
	return out, nil
}
