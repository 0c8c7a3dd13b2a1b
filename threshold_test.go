package classify

import (
	"math"
	"math/rand/v2"
	"testing"
)

// probes returns float64 values around the float32 value p, including the
// exact midpoints between p and its float32 neighbours and the float64
// values next to them.
func probes(p float32) []float64 {
	up := math.Nextafter32(p, float32(math.Inf(1)))
	down := math.Nextafter32(p, float32(math.Inf(-1)))
	var out []float64
	for _, c := range []float64{
		float64(p), float64(up), float64(down),
		float64(p)/2 + float64(up)/2, float64(p)/2 + float64(down)/2,
	} {
		if math.IsInf(c, 0) || math.IsNaN(c) {
			continue
		}
		out = append(out, c, math.Nextafter(c, math.Inf(1)), math.Nextafter(c, math.Inf(-1)))
	}
	return out
}

func TestSklearnBound(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	thresholds := []float64{0, 0.8, 1.75, 2.45, 4.95, -3.25, 1e-40, math.MaxFloat32, -math.MaxFloat32, 1e30}
	for range 2000 {
		thresholds = append(thresholds, (rng.Float64()-0.5)*20)
		// sklearn's thresholds are midpoints of two float32 values.
		a := float32(rng.Float64() * 10)
		b := math.Nextafter32(a, 100)
		thresholds = append(thresholds, (float64(a)+float64(b))/2)
	}
	for _, thr := range thresholds {
		bound := sklearnBound(thr)
		for _, x := range append(probes(float32(thr)), thr, math.Nextafter(thr, 1e40), math.Nextafter(thr, -1e40)) {
			if math.Abs(x) > math.MaxFloat32 {
				continue
			}
			want := float64(float32(x)) <= thr
			if got := x <= bound; got != want {
				t.Fatalf("threshold %v, x %v: bound %v says %v, sklearn says %v", thr, x, bound, got, want)
			}
		}
	}
}

func TestFloat32BoundOverflow(t *testing.T) {
	b := float32Bound(math.MaxFloat32)
	if float32(b) != math.MaxFloat32 || !math.IsInf(float64(float32(math.Nextafter(b, math.Inf(1)))), 1) {
		t.Fatalf("bound above MaxFloat32 is %v", b)
	}
	if !math.IsInf(float32Bound(float32(math.Inf(1))), 1) {
		t.Fatal("bound of +Inf is not +Inf")
	}
}

// TestXGBoostBound: x <= xgboostBound(t) exactly when float32(x) < t, for
// every float64 x around t and its float32 neighbours (the midpoints where
// rounding to nearest decides, and the float64 values next to them), on
// split conditions across float32's range: zeros, subnormals, the largest
// finite values and infinities.
func TestXGBoostBound(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	split := []float32{0, float32(math.Copysign(0, -1)), 1, -1, 0.8, 1.75, 2.45, -3.25,
		math.SmallestNonzeroFloat32, -math.SmallestNonzeroFloat32, 1.1754942e-38, -1.1754942e-38,
		math.MaxFloat32, -math.MaxFloat32, float32(math.Inf(1)), float32(math.Inf(-1)), 1 << 24, 16777217}
	for range 5000 {
		split = append(split, float32((rng.Float64()-0.5)*20), math.Float32frombits(rng.Uint32()))
	}
	for _, s := range split {
		if s != s {
			continue
		}
		bound := xgboostBound(s)
		below := math.Nextafter32(s, float32(math.Inf(-1)))
		var xs []float64
		for _, p := range []float32{s, below, math.Nextafter32(s, float32(math.Inf(1)))} {
			xs = append(xs, probes(p)...)
		}
		xs = append(xs, 0, math.Copysign(0, -1), math.MaxFloat32, -math.MaxFloat32)
		for _, x := range xs {
			if math.Abs(x) > math.MaxFloat32 { // refused before any walk
				continue
			}
			want := float32(x) < s
			if got := x <= bound; got != want {
				t.Fatalf("split %v, x %v: bound %v says %v, XGBoost says %v", s, x, bound, got, want)
			}
		}
	}
}
