package lgbmodel

import (
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
)

// allocated returns the bytes Parse allocates on data, as a multiple of
// len(data), and Parse's error.
func allocated(data []byte) (float64, error) {
	var a, b runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&a)
	_, err := Parse(data)
	runtime.ReadMemStats(&b)
	return float64(b.TotalAlloc-a.TotalAlloc) / float64(len(data)), err
}

// TestAllocBound holds Parse to the bound the package documents, under 8
// times the input, on the suite's models and on files made to make it
// allocate: the smallest values in the longest lines, the smallest trees
// in the largest number, many short lines.
func TestAllocBound(t *testing.T) {
	const n = 4 << 20
	head := tiny[:strings.Index(tiny, "Tree=0")]
	var many strings.Builder
	many.WriteString(head)
	for i := 0; many.Len() < n; i++ {
		many.WriteString("Tree=" + strconv.Itoa(i) + "\nnum_leaves=1\nleaf_value=0\n")
	}
	many.WriteString("end of trees\n")
	leaves := n / 2
	wide := head + "Tree=0\nnum_leaves=" + strconv.Itoa(leaves) + "\nleaf_value=" + strings.Repeat("0 ", leaves-1) + "0\nend of trees\n"
	docs := map[string]string{
		"many one-leaf trees": many.String(),
		"one wide leaf_value": wide,
		"blank lines":         head + strings.Repeat("\n", n) + "end of trees\n",
		"header lines":        "tree\n" + strings.Repeat("x\n", n/2),
		"feature names":       strings.Replace(tiny, "max_feature_idx=2\n", "max_feature_idx=65535\n", 1),
		"huge feature names":  strings.Replace(head, "feature_names=a b c", "feature_names="+strings.Repeat("a ", 1<<20)+"a", 1),
		"cat_threshold words": catModel("0", "0 "+strconv.Itoa(n/2), strings.Repeat("0 ", n/2-1)+"0"),
	}
	files, _ := filepath.Glob(filepath.Join(suite, "*", "lightgbm*.txt"))
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		docs[f] = string(b)
	}
	for name, d := range docs {
		x, err := allocated([]byte(d))
		if x > 8 {
			t.Errorf("%s: Parse allocates %.1f times the input (%v)", name, x, err)
		} else {
			t.Logf("%s: %.2f times the input (%v)", name, x, err)
		}
	}
}
