package classifyhttp

import (
	"encoding/json"
	"math"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Python's json.loads messages for these documents (CPython 3.11's C
// scanner), as FastAPI passed them on.
func TestParseErrorsMatchPython(t *testing.T) {
	for _, tc := range []struct{ doc, want string }{
		{``, "Expecting value: line 1 column 1 (char 0)"},
		{`   `, "Expecting value: line 1 column 4 (char 3)"},
		{`hello`, "Expecting value: line 1 column 1 (char 0)"},
		{`{"a": }`, "Expecting value: line 1 column 7 (char 6)"},
		{`{"a" 1}`, "Expecting ':' delimiter: line 1 column 6 (char 5)"},
		{`{"a": 1 "b": 2}`, "Expecting ',' delimiter: line 1 column 9 (char 8)"},
		{`{"a": 1,}`, "Expecting property name enclosed in double quotes: line 1 column 9 (char 8)"},
		{`{a: 1}`, "Expecting property name enclosed in double quotes: line 1 column 2 (char 1)"},
		{`{"a": 1}}`, "Extra data: line 1 column 9 (char 8)"},
		{`[1, 2`, "Expecting ',' delimiter: line 1 column 6 (char 5)"},
		{`[1,]`, "Expecting value: line 1 column 4 (char 3)"},
		{`{"a": "b`, "Unterminated string starting at: line 1 column 7 (char 6)"},
		{"{\"a\": \"b\nc\"}", "Invalid control character at: line 1 column 9 (char 8)"},
		{`{"a": "\x"}`, "Invalid \\escape: line 1 column 8 (char 7)"},
		{`{"a": "\u12"}`, "Invalid \\uXXXX escape: line 1 column 8 (char 7)"},
		{"{\n  \"a\": 1,\n  \"b\": x\n}", "Expecting value: line 3 column 8 (char 19)"},
		{`{"é": x}`, "Expecting value: line 1 column 7 (char 6)"}, // characters, not bytes
		{`[01]`, "Expecting ',' delimiter: line 1 column 3 (char 2)"},
		{`-`, "Expecting value: line 1 column 1 (char 0)"},
		{`{"a": tru}`, "Expecting value: line 1 column 7 (char 6)"},
		{strings.Repeat("[", maxDepth+1), "Nesting too deep: line 1 column 257 (char 256)"},
	} {
		t.Run(tc.doc, func(t *testing.T) {
			var d jsonDoc
			err := d.parse([]byte(tc.doc))
			require.NotNil(t, err)
			assert.Equal(t, tc.want, err.Error())
		})
	}
}

func TestParseValues(t *testing.T) {
	var d jsonDoc
	require.Nil(t, d.parse([]byte(` {"a": [1, -2.5e3, NaN, Infinity, -Infinity, 1e999], "b\n": "x\u00e9", "c": {"d": null, "e": true, "f": false}} `)))
	require.Equal(t, jObject, d.nodes[0].kind)
	assert.Equal(t, int32(3), d.nodes[0].count)
	assert.Equal(t, int32(len(d.nodes)), d.nodes[0].size)
	assert.Equal(t, "a", d.text(1))
	require.Equal(t, jArray, d.nodes[2].kind)
	assert.Equal(t, int32(6), d.nodes[2].count)
	assert.Equal(t, 1.0, d.number(3))
	assert.Equal(t, -2500.0, d.number(4))
	assert.True(t, math.IsNaN(d.number(5)))
	assert.True(t, math.IsInf(d.number(6), 1))
	assert.True(t, math.IsInf(d.number(7), -1))
	assert.True(t, math.IsInf(d.number(8), 1))
	assert.Equal(t, "b\n", d.text(9))
	assert.Equal(t, "xé", d.text(10))
	assert.Equal(t, "c", d.text(11))
	assert.Equal(t, jObject, d.nodes[12].kind)
	kinds := []jkind{}
	for _, n := range d.nodes[13:] {
		kinds = append(kinds, n.kind)
	}
	assert.Equal(t, []jkind{jString, jNull, jString, jTrue, jString, jFalse}, kinds)
}

func TestPythonFloat(t *testing.T) {
	for s, want := range map[string]float64{
		"5.1": 5.1, " 5.1\n": 5.1, "+2": 2, "-2": -2, "1_000.5": 1000.5, "1e3": 1000, ".5": 0.5, "5.": 5,
		"inf": math.Inf(1), "-Infinity": math.Inf(-1), "1e999": math.Inf(1),
	} {
		got, ok := pythonFloat(s)
		assert.True(t, ok, s)
		assert.Equal(t, want, got, s)
	}
	got, ok := pythonFloat("nan")
	assert.True(t, ok)
	assert.True(t, math.IsNaN(got))
	for _, s := range []string{"", "abc", "0x10", "1__0", "_1", "1_", "1,5", "5 1", "infinit", "--1", "1e"} {
		_, ok := pythonFloat(s)
		assert.False(t, ok, s)
	}
}

func TestAppendFloat(t *testing.T) {
	for v, want := range map[float64]string{
		0: "0", 1: "1", 0.5: "0.5", 1e-7: "1e-7", 1.5e-10: "1.5e-10", 1e21: "1e+21", 123456789: "123456789",
		math.NaN(): "null", math.Inf(1): "null",
	} {
		got := string(appendFloat(nil, v))
		assert.Equal(t, want, got)
		if want != "null" {
			ref, _ := json.Marshal(v)
			assert.Equal(t, string(ref), got, "as encoding/json writes it")
		}
	}
}

// FuzzParse checks that the parser never panics, accepts what
// encoding/json accepts (apart from Python's NaN and infinities, which
// encoding/json refuses), and that node sizes tile the document.
func FuzzParse(f *testing.F) {
	for _, s := range []string{seedRequest, `{"instances":[{"a":1},{"b":[2,3]}]}`, `[NaN, -Infinity]`, `"\u00e9"`, `{"a":`, `{}`, `[]`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var d jsonDoc
		err := d.parse(b)
		if json.Valid(b) && !strings.Contains(string(b), strings.Repeat("[", maxDepth+1)) && !strings.Contains(string(b), strings.Repeat("{\"\":", maxDepth+1)) {
			if err != nil && !strings.HasPrefix(err.msg, "Nesting") {
				t.Fatalf("refused valid JSON %q: %v", b, err)
			}
		}
		if err != nil {
			if err.pos < 0 || err.pos > len(b) || err.lineno < 1 || err.colno < 1 {
				t.Fatalf("bad position %+v for %q", err, b)
			}
			return
		}
		if got := int(d.nodes[0].size); got != len(d.nodes) {
			t.Fatalf("root size %d, %d nodes", got, len(d.nodes))
		}
	})
}
