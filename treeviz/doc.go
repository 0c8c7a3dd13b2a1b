// Package treeviz draws the trees of a classify.TreeModel: as Graphviz DOT
// (DOT), as an SVG it lays out itself (SVG), and as one self-contained HTML
// page per model with its global importances and its trees (Page).
//
// Split conditions are written the way the model's library decides them,
// with the feature's name: "petal_width <= 0.8" for scikit-learn, whose
// rule "float32(x) <= t" the picture's title states; "petal_width < 0.8"
// for XGBoost ("float32(x) < t"); "x <= 2.4500000000000006" for LightGBM
// and HistGradientBoosting, which compare doubles; "color in {1, 3}" for a
// categorical split. Under a float32 rule the threshold is printed as the
// float32 that gives the same decision (the largest float32 not above t
// for "<=", the smallest not below t for "<"), in its shortest form, so
// the condition shown is exact; a double threshold is printed in the
// shortest form that reads back as the same double. The left edge of a
// split is "yes", the right "no", and for a model that takes missing
// values the edge NaN follows says "missing". Leaves show their value (a
// scikit-learn tree's class distribution and its class, a boosted tree's
// leaf value), and every node its training cover when the model has one:
// "samples = …" (scikit-learn, LightGBM, HistGradientBoosting), "cover =
// …" (XGBoost's hessian sum).
//
// Every text that comes from a model file (feature, class and model names)
// is escaped for the output: XML-escaped in SVG and HTML (with characters
// XML cannot hold replaced by U+FFFD), quoted and backslash-escaped in
// DOT. The output depends only on the model, so it is the same bytes on
// every run. Nothing in a page loads from elsewhere: no scripts, fonts or
// styles from another origin, and no script at all.
//
// The functions are safe for concurrent use; a TreeModel is immutable.
// There is no pure-Go Graphviz worth depending on, so SVG and Page draw
// with a simple tidy layout of their own: leaves left to right in tree
// order, each split centred over its two children, one row per depth.
package treeviz
