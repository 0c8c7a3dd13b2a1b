// Package flat is classify's one tree engine: every tree family (scikit-learn
// decision trees and forests, XGBoost boosters) predicts through it. The name
// says what it is: trees flattened into one contiguous node array per model,
// walked without pointers, recursion or branches that depend on the data.
//
// A family is a loader plus a combination: the loader turns its library's
// split rule into a float64 bound per split (x goes left when x <= bound, for
// scikit-learn's float32(x) <= t as for XGBoost's float32(x) < t, so the walk
// never rounds an input), states where NaN goes at each split, and gives
// leaf values in the precision its library accumulates in: float64 class
// distributions averaged in tree order (Mean, scikit-learn) or float32 leaf
// values summed per output group in tree order from a base margin (Sum,
// XGBoost). The caller then applies its link (softmax, sigmoid, arg max).
//
// The engine trusts its caller for the rows: Predict and PredictBatch take
// rows of the right length, with no infinities, and NaN only in an ensemble
// that takes missing values. It checks the trees it is given (AddMean,
// AddSum) so that every walk ends on a leaf and reads within the row.
package flat
