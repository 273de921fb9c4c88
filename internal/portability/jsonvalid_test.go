package portability

import (
	"encoding/json"
	"math/rand/v2"
	"strings"
	"testing"
)

var jsonValidCases = []string{
	``, ` `, `0`, `-0`, `-`, `01`, `1.`, `1.5`, `.5`, `1e5`, `1E+5`, `1e-5`, `1e`, `1e+`, `-1.25e+10`, `+1`,
	`0x10`, `1_000`, `NaN`, `Infinity`, `true`, `tru`, `truex`, `false`, `null`, `nul`, `nullnull`, `True`,
	`""`, `"`, `"abc`, `"a\"b"`, `"\\"`, `"\/"`, `"\b\f\n\r\t"`, `"\u00e9"`, `"\u00E9"`, `"\u00g9"`, `"\u12"`,
	`"\x41"`, `"\'"`, "\"a\tb\"", "\"a\x00b\"", "\"a\x1fb\"", "\"a\x7fb\"", "\"\xff\xfe\"", `"é"`, `"\`,
	`[]`, `[ ]`, `[`, `]`, `[1,]`, `[,1]`, `[1 2]`, `[1,2]`, ` [ 1 , 2 ] `, "\t[\n1\r]\n", `[[[]]]`, `[[]`,
	`{}`, `{ }`, `{"a":1}`, `{"a" : 1 , "b":[true,null]}`, `{"a":}`, `{"a"}`, `{a:1}`, `{"a":1,}`, `{,}`,
	`{"a":1 "b":2}`, `{"a":1}}`, `{"a":1]`, `[1}`, `{1:2}`, `{"":""}`, `1 2`, `[] []`, `{}x`, "\v1", "\f1",
	`[{"time": "2022-12-28T17:33:46", "lat": 38.7296176, "lon": -9.1829826}]`,
	strings.Repeat("[", maxFastDepth) + strings.Repeat("]", maxFastDepth),
	strings.Repeat("[", maxFastDepth+1) + strings.Repeat("]", maxFastDepth+1),
	strings.Repeat(`{"a":`, maxFastDepth+3) + "1" + strings.Repeat("}", maxFastDepth+3),
	strings.Repeat("[", 10001) + strings.Repeat("]", 10001),
	strings.Repeat("[", 600) + strings.Repeat("]", 599),
}

// checkJSONValid fails when the fast scanner accepts what json.Valid refuses,
// or refuses what json.Valid accepts within its depth, or jsonValid differs.
func checkJSONValid(t *testing.T, s string) {
	t.Helper()
	b := []byte(s)
	want := json.Valid(b)
	if got := jsonValid(b); got != want {
		t.Errorf("jsonValid(%.80q) = %v, json.Valid says %v", s, got, want)
	}
	if fast := fastValid(b); fast && !want || !fast && want && depth(s) < maxFastDepth {
		t.Errorf("fastValid(%.80q) = %v, json.Valid says %v", s, fast, want)
	}
}

// depth is an upper bound of s's nesting depth.
func depth(s string) int { return strings.Count(s, "[") + strings.Count(s, "{") }

func TestJSONValid(t *testing.T) {
	for _, s := range jsonValidCases {
		checkJSONValid(t, s)
	}
	// Mutations of valid documents: a byte replaced, inserted or removed.
	alphabet := []byte(" \t\n\r\"\\/{}[]:,.-+0123456789eEtrufalsnbu\x00\x1f\x7f\xc3\xa9\xff")
	r := rand.New(rand.NewPCG(1, 2))
	docs := []string{
		`{"a": [1, -2.5e+3, true, false, null, "x\"y\\u00e9"], "b": {"c": [], "d": {}}}`,
		`[{"time": "2022-12-28T17:33:46", "lat": 38.7296176, "lon": -9.1829826}, {"hr": 120}]`,
		`[0, 10, 0.5, 1E9, "\b\f\n\r\t\/"]`,
	}
	for range 200000 {
		b := mutate(r, []byte(docs[r.IntN(len(docs))]), alphabet)
		checkJSONValid(t, string(b))
	}
}

func FuzzJSONValid(f *testing.F) {
	for _, s := range jsonValidCases {
		f.Add(s)
	}
	f.Fuzz(checkJSONValid)
}

// mutate changes one to three bytes of b at random: each replaced by,
// preceded by a byte of alphabet, or removed.
func mutate(r *rand.Rand, b, alphabet []byte) []byte {
	for range 1 + r.IntN(3) {
		i := r.IntN(len(b) + 1)
		c := alphabet[r.IntN(len(alphabet))]
		switch r.IntN(3) {
		case 0:
			if i < len(b) {
				b[i] = c
			}
		case 1:
			b = append(b[:i], append([]byte{c}, b[i:]...)...)
		default:
			if i < len(b) {
				b = append(b[:i], b[i+1:]...)
			}
		}
	}
	return b
}
