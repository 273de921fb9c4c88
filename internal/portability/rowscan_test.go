package portability

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"sort"
	"strings"
	"testing"
)

// readBoth reads content as a data entry with the fast reader and with the
// decoder it stands in for, each giving its rows (canonical JSON) and error.
func readBoth(t testing.TB, content string, lim Limits, failAt int) (fast, slow []string, fastErr, slowErr error) {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	w, err := zw.Create("activity_streams.json")
	if err != nil {
		t.Fatal(err)
	}
	w.Write([]byte(content))
	zw.Close()
	zr, err := zip.NewReader(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
	if err != nil {
		t.Fatal(err)
	}
	ru := &run{ctx: context.Background(), lim: lim.withDefaults()}
	e := entry{f: zr.File[0], kind: kindData, table: "activity_streams"}
	record := func(rows *[]string) func(*objRow) error {
		return func(o *objRow) error {
			if len(*rows)+1 == failAt {
				return &fieldError{"field \"x\" is wrong."}
			}
			*rows = append(*rows, canonical(*o))
			return nil
		}
	}
	_, fastErr = readObjRows(ru.ctx, ru, e, record(&fast))
	_, slowErr = readRows(ru.ctx, ru, e, record(&slow))
	return fast, slow, fastErr, slowErr
}

// canonical writes a row with sorted keys and each raw value as it is.
func canonical(o objRow) string {
	keys := make([]string, 0, len(o))
	for k := range o {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		fmt.Fprintf(&b, "%q=%q;", k, o[k])
	}
	return b.String()
}

// checkSame fails when the fast reader's rows or error differ from the
// decoder's.
func checkSame(t testing.TB, content string, lim Limits, failAt int) {
	t.Helper()
	fast, slow, fastErr, slowErr := readBoth(t, content, lim, failAt)
	if fmt.Sprint(fastErr) != fmt.Sprint(slowErr) {
		t.Fatalf("input %.120q:\nfast error %v\ndecoder    %v", content, fastErr, slowErr)
	}
	if slowErr == nil && strings.Join(fast, "\n") != strings.Join(slow, "\n") {
		t.Fatalf("input %.120q:\nfast rows %q\ndecoder   %q", content, fast, slow)
	}
}

var small = Limits{MaxJSONDepth: 5, MaxJSONString: 24, MaxRowBytes: 120}

var rowScanCases = []string{
	`[]`, ` [ ] `, `[`, `]`, ``, `{}`, `[{}]`, `[{} ]`, `[{},{}]`, `[{}{}]`, `[{},]`, `[,{}]`, `[{}] x`, `[{}]]`,
	`[null]`, `[1]`, `["a"]`, `[[]]`, `[{"a":1}, null]`, "\ufeff[{}]", `[{"a":1}`, `[{"a":`, `[{"a"`,
	`[{"a": 1, "b": "x", "c": [1, 2, {"d": null}], "e": {"f": true}}]`,
	`[{"a":1,"a":2}]`, `[{"a" : 1 , "b":2 }]`, "[\n\t{\"a\":\r1}\n]\n",
	`[{"stream\u005ftype": 1}]`, `[{"é": 1}]`, "[{\"\xff\": 1}]", `[{"a\"b": 1}]`, `[{"": 1}]`,
	`[{"a": 01}]`, `[{"a": tru}]`, `[{"a": "x\qy"}]`, "[{\"a\": \"x\x01y\"}]", `[{a: 1}]`, `[{"a" 1}]`,
	`[{"a": 1,}]`, `[{"a": 1 "b": 2}]`, `[{"a": [1,]}]`, `[{"a": {"b": 1]}}]`,
	`[{"a": [[[[[[1]]]]]]}]`, `[{"a": [[[1]]]}]`, `[{"a": [[[[1]]]]}]`,
	`[{"a": "` + strings.Repeat("x", 30) + `"}]`, `[{"a": "` + strings.Repeat("x", 22) + `"}]`,
	`[{"` + strings.Repeat("k", 30) + `": 1}]`,
	`[{"a": [` + strings.Repeat("1,", 70) + `1]}]`, `[{"a": [` + strings.Repeat("1,", 40) + `1]}]`,
	`[{"a": 1}, {"b": [` + strings.Repeat("2,", 70) + `2]}]`,
	`[{"time": "2022-12-28T17:33:46", "lat": 38.7296176, "lon": -9.1829826}]`,
}

// The fast reader gives the decoder's rows and the decoder's error, both with
// the default limits and with small ones that its doubts must hand over to
// the guard.
func TestReadObjRows_SameAsDecoder(t *testing.T) {
	for _, s := range rowScanCases {
		for _, lim := range []Limits{{}, small} {
			checkSame(t, s, lim, 0)
		}
	}
	// A row's own error names the same row on both paths.
	checkSame(t, `[{"a":1}, {"a":2}, {"a":3}]`, Limits{}, 2)
	// Mutations of valid entries: a byte replaced, inserted or removed.
	alphabet := []byte(" \t\n\r\"\\/{}[]:,.-+0123456789eEtrufalsnbu\x00\x1f\xc3\xa9\xff")
	docs := []string{
		`[{"id": 1, "activity_id": 7, "stream_type": 1, "stream_waypoints": [{"time": "2022-12-28T17:33:46", "hr": 120}, {"hr": null}]}, {"id": 2, "x": {"y": [true, false, -2.5e+3]}}]`,
		`[{"a": "\u00e9\"\\", "b": []}, {}, {"c": {}}]`,
	}
	r := rand.New(rand.NewPCG(3, 4))
	for range 20000 {
		b := mutate(r, []byte(docs[r.IntN(len(docs))]), alphabet)
		lim := Limits{}
		if r.IntN(2) == 0 {
			lim = small
		}
		checkSame(t, string(b), lim, 0)
	}
}

// Well-formed entries stay on the fast path (were every entry handed over,
// TestReadObjRows_SameAsDecoder would pass and the import gain nothing), and
// a row longer than the reader's buffer is read whole.
func TestReadObjRows_FastPathTaken(t *testing.T) {
	big := `{"w": [` + strings.Repeat(`{"time": "2022-12-28T17:33:46", "hr": 120}, `, 5000) + `{}]}`
	for _, s := range []string{`[]`, `[{"a": 1}, {"b": [1, 2]}]`, "[" + big + ", " + big + "]", `[{"k\u00e9": "v"}]`} {
		rs := &rowScanner{r: strings.NewReader(s), lim: DefaultLimits}
		var rows []objRow
		n, err := rs.each(context.Background(), func(o *objRow) error { rows = append(rows, *o); return nil })
		if err != nil {
			t.Fatalf("%.60q: %v", s, err)
		}
		var want []map[string]json.RawMessage
		if err := json.Unmarshal([]byte(s), &want); err != nil {
			t.Fatal(err)
		}
		if n != len(want) || len(rows) != len(want) {
			t.Fatalf("%.60q: %d rows, want %d", s, n, len(want))
		}
		for i := range want {
			if canonical(rows[i]) != canonical(want[i]) {
				t.Errorf("%.60q row %d differs", s, i+1)
			}
		}
	}
}

func FuzzReadObjRows(f *testing.F) {
	for _, s := range rowScanCases {
		f.Add(s, false)
	}
	f.Fuzz(func(t *testing.T, s string, smallLimits bool) {
		lim := Limits{}
		if smallLimits {
			lim = small
		}
		checkSame(t, s, lim, 0)
	})
}
