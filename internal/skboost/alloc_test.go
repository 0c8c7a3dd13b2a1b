package skboost

import (
	"encoding/json"
	"os"
	"runtime"
	"strings"
	"testing"
)

// allocated returns the bytes parse allocates on data, as a multiple of
// len(data), and parse's error.
func allocated(parse func([]byte) error, data []byte) (float64, error) {
	var a, b runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&a)
	err := parse(data)
	runtime.ReadMemStats(&b)
	return float64(b.TotalAlloc-a.TotalAlloc) / float64(len(data)), err
}

// TestAllocBound holds the parsers to the bound the package documents:
// what they allocate is at most 16 times the input, on the suite's models
// (about 5 to 8 times) and on documents made to make them allocate: the
// smallest values in the longest arrays (14 times: a one-digit number
// becomes 8 bytes, and encoding/json's buffers hold the text twice more),
// the smallest trees in the largest number, lists beyond their limits.
func TestAllocBound(t *testing.T) {
	const n = 4 << 20
	hgb := func(b []byte) error { _, err := ParseHGB(b); return err }
	gb := func(b []byte) error { _, err := ParseGB(b); return err }
	with := func(doc map[string]any, k, v string) []byte {
		b, err := json.Marshal(doc)
		if err != nil {
			t.Fatal(err)
		}
		old, err := json.Marshal(doc[k])
		if err != nil {
			t.Fatal(err)
		}
		return []byte(strings.Replace(string(b), `"`+k+`":`+string(old), `"`+k+`":`+v, 1))
	}
	// The smallest valid predictor and tree, repeated.
	pred := `{"value":[0],"feature_idx":[0],"num_threshold":[0],"missing_go_to_left":[0],"left":[0],"right":[0],"is_leaf":[1],"is_categorical":[0],"bitset_idx":[0],"raw_left_cat_bitsets":[]}`
	tree := `{"children_left":[-1],"children_right":[-1],"feature":[0],"threshold":[0],"value":[0]}`
	docs := []struct {
		name  string
		parse func([]byte) error
		data  []byte
	}{
		{"hgb predictors", hgb, with(hgbDoc(), "iterations", "["+strings.Repeat("["+pred+"],", n/len(pred))+"["+pred+"]]")},
		{"hgb empty iterations", hgb, with(hgbDoc(), "iterations", "["+strings.Repeat("[],", n/3)+"[]]")},
		{"hgb long node arrays", hgb, with(hgbDoc(), "iterations", `[[{"value":[`+strings.Repeat("0,", n/2)+`0]}]]`)},
		{"hgb known bitsets", hgb, with(hgbDoc(), "known_cat_bitsets", "["+strings.Repeat("[0,0,0,0,0,0,0,0],", n/18)+"[0,0,0,0,0,0,0,0]]")},
		{"hgb categories", hgb, with(hgbDoc(), "categories", "["+strings.Repeat("null,", n/5)+"null]")},
		{"hgb empty categories", hgb, with(hgbDoc(), "categories", "["+strings.Repeat("[],", n/3)+"[]]")},
		{"hgb feature names", hgb, with(hgbDoc(), "features", "["+strings.Repeat(`"",`, n/3)+`""]`)},
		{"gb trees", gb, with(gbDoc(), "stages", "["+strings.Repeat("["+tree+","+tree+","+tree+"],", n/(3*len(tree)))+"["+tree+","+tree+","+tree+"]]")},
		{"gb long arrays", gb, with(gbDoc(), "stages", `[[{"value":[`+strings.Repeat("0,", n/2)+`0]}]]`)},
		{"gb init_raw", gb, with(gbDoc(), "init_raw", "["+strings.Repeat("0,", n/2)+"0]")},
	}
	for _, p := range suiteFiles(t, "hist_gradient_boosting*.json", 5) {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		docs = append(docs, struct {
			name  string
			parse func([]byte) error
			data  []byte
		}{p, hgb, b})
	}
	for _, p := range suiteFiles(t, "gradient_boosting*.json", 6) {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		docs = append(docs, struct {
			name  string
			parse func([]byte) error
			data  []byte
		}{p, gb, b})
	}
	for _, d := range docs {
		x, err := allocated(d.parse, d.data)
		if x > 16 {
			t.Errorf("%s: allocates %.1f times the input (%v)", d.name, x, err)
		} else {
			t.Logf("%s: %.2f times the input (%v)", d.name, x, err)
		}
	}
}
