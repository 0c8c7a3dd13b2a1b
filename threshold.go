package classify

import "math"

// Both reference libraries cast inputs to float32 before comparing them with a
// split threshold, while rows reach this package as float64. Rather than
// round every value on the hot path, the scikit-learn loaders move each
// threshold to the float64 boundary that gives the same decision for every
// float64 input: x <= float32Bound(p) holds exactly when float32(x) <= p.
// XGBoost's float32(x) < split becomes a bound the same way (xgboostBound).

// float32Bound returns the largest float64 whose float32 rounding (to
// nearest, ties to even) is at most p. p must not be NaN.
func float32Bound(p float32) float64 {
	if math.IsInf(float64(p), 1) {
		return math.Inf(1)
	}
	next := math.Nextafter32(p, float32(math.Inf(1)))
	var mid float64
	if math.IsInf(float64(next), 1) {
		// Values from MaxFloat32 + half an ulp upwards round to +Inf.
		mid = float64(p) + (float64(p)-float64(math.Nextafter32(p, 0)))/2
	} else {
		// The midpoint of two adjacent float32 values is exact in float64.
		mid = float64(p)/2 + float64(next)/2
	}
	if float32(mid) <= p {
		return mid // the tie rounds to p, whose mantissa is even
	}
	return math.Nextafter(mid, math.Inf(-1))
}

// sklearnBound turns a scikit-learn threshold t (float64, compared as
// float64(float32(x)) <= t) into the equivalent float64 bound.
func sklearnBound(t float64) float64 {
	p := float32(t)
	if float64(p) > t {
		p = math.Nextafter32(p, float32(math.Inf(-1)))
	}
	return float32Bound(p)
}

// xgboostBound turns an XGBoost split condition t (a row goes left when
// float32(x) < t) into the equivalent float64 bound: float32(x) < t holds
// exactly when float32(x) <= b, b the largest float32 below t, which
// float32Bound turns into a float64 bound. t must not be NaN; for -Inf and
// the lowest float32, b is -Inf and only -Inf (which classify refuses)
// would go left.
func xgboostBound(t float32) float64 {
	return float32Bound(math.Nextafter32(t, float32(math.Inf(-1))))
}
