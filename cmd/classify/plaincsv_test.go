package main

import (
	"math"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
)

// The tests of the fast paths for plain numeric CSV: each is checked
// against the general code it stands in for.

// csvNeedsQuotesRule is the rule csvNeedsQuotes implements, as it was
// first written.
func csvNeedsQuotesRule(f string) bool {
	if f == "" {
		return false
	}
	if f == `\.` || f[0] == ' ' || f[0] == '\t' {
		return true
	}
	return strings.ContainsAny(f, ",\"\r\n")
}

func FuzzCSVNeedsQuotes(f *testing.F) {
	for _, s := range []string{"", "plain", "a,b", `say "x"`, " lead", "\ttab", "two\nl", "cr\r", `\.`, `\.x`, "5.1", "é,"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := csvNeedsQuotes(s), csvNeedsQuotesRule(s); got != want {
			t.Fatalf("csvNeedsQuotes(%q) = %v, want %v", s, got, want)
		}
	})
}

// floatEdgeCases are float64 values around the fast paths of appendFloat
// and parseDecimal.
func floatEdgeCases() []float64 {
	vs := []float64{0, math.Copysign(0, -1), 1, -1, 0.5, 1.0 / 3, 2.0 / 3, 0.1, 0.9, 1e-4, 9.99e-5, 1e21, 1e20,
		math.Nextafter(1, 0), math.Nextafter(1, 2), math.SmallestNonzeroFloat64, math.MaxFloat64,
		math.Inf(1), math.Inf(-1), math.NaN(), float64(float32(0.1)), 5e-324, 1 << 53, 1<<53 + 2}
	for i := 0; i <= 100; i++ {
		vs = append(vs, float64(i)/100, float64(i)/7, float64(float32(float64(i)/100)))
	}
	return vs
}

// appendFloat is strconv.AppendFloat(dst, v, 'g', -1, 64), byte for byte.
func FuzzAppendFloat(f *testing.F) {
	for _, v := range floatEdgeCases() {
		f.Add(math.Float64bits(v))
	}
	f.Fuzz(func(t *testing.T, bits uint64) {
		v := math.Float64frombits(bits)
		got := string(appendFloat([]byte("x,"), v))
		if want := string(strconv.AppendFloat([]byte("x,"), v, 'g', -1, 64)); got != want {
			t.Fatalf("appendFloat(%#x) = %q, want %q", bits, got, want)
		}
	})
}

func TestAppendFloatRandom(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for range 100_000 {
		v := math.Float64frombits(r.Uint64())
		if r.IntN(2) == 0 {
			v = r.Float64()
		}
		if got, want := string(appendFloat(nil, v)), strconv.FormatFloat(v, 'g', -1, 64); got != want {
			t.Fatalf("appendFloat(%v) = %q, want %q", v, got, want)
		}
	}
}
