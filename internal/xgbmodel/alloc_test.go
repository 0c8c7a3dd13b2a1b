package xgbmodel

import (
	"bytes"
	"runtime"
	"strconv"
	"testing"
)

var lastErr error

// allocated returns the bytes Parse allocates on data, as a multiple of
// len(data).
func allocated(data []byte) float64 {
	var a, b runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&a)
	_, err := Parse(data)
	runtime.ReadMemStats(&b)
	lastErr = err
	return float64(b.TotalAlloc-a.TotalAlloc) / float64(len(data))
}

// TestAllocBound holds Parse to the bound the package documents: at most 8
// times the input, on real models and on documents made to make a reader
// allocate (arrays of the smallest elements, in every place the readers
// keep them).
func TestAllocBound(t *testing.T) {
	n := 4 << 20
	rep := func(s string, k int) string { return string(bytes.Repeat([]byte(s), k)) }
	ubjHead := "{L\x00\x00\x00\x00\x00\x00\x00\x07learner{L\x00\x00\x00\x00\x00\x00\x00\x0dfeature_names["
	docs := []struct {
		name string
		data []byte
	}{
		{"JSON model", suiteFile(t, "1.7.4", "wine_bench.json")},
		{"UBJSON model", suiteFile(t, "1.7.4", "wine_bench.ubj")},
		{"UBJSON model 3.2", suiteFile(t, "3.2.0", "bc_nan.ubj")},
		{"binary model", suiteFile(t, "1.7.4", "wine_bench.model")},
		{"empty names", []byte(`{"learner":{"feature_names":[` + rep(`"",`, n/3) + `""]}}`)},
		{"tree_info", []byte(`{"learner":{"gradient_booster":{"model":{"tree_info":[` + rep(`0,`, n/2) + `0]}}}}`)},
		{"version", []byte(`{"version":[` + rep(`0,`, n/2) + `0]}`)},
		{"child array", []byte(`{"learner":{"gradient_booster":{"model":{"trees":[{"left_children":[` + rep(`0,`, n/2) + `0]}]}}}}`)},
		{"flags", []byte(`{"learner":{"gradient_booster":{"model":{"trees":[{"default_left":[` + rep(`0,`, n/2) + `0]}]}}}}`)},
		{"empty trees", []byte(`{"learner":{"gradient_booster":{"model":{"trees":[` + rep(`{},`, n/3) + `{}]}}}}`)},
		{"attributes", []byte(`{"learner":{"attributes":{` + rep(`"":"",`, n/6) + `"":""}}}`)},
		{"UBJSON empty names", []byte(ubjHead + rep("Si\x00", n/3) + "]}}")},
		{"UBJSON nulls", []byte(ubjHead + rep("Z", n) + "]}}")},
		{"UBJSON int8s", []byte(ubjHead + rep("i\x00", n/2) + "]}}")},
		{"UBJSON uint8 children", []byte("{L\x00\x00\x00\x00\x00\x00\x00\x07learner{L\x00\x00\x00\x00\x00\x00\x00\x10gradient_booster" +
			"{L\x00\x00\x00\x00\x00\x00\x00\x05model{L\x00\x00\x00\x00\x00\x00\x00\x05trees[{L\x00\x00\x00\x00\x00\x00\x00\x0dleft_children" +
			"[$U#l" + string([]byte{byte(n >> 24), byte(n >> 16), byte(n >> 8), byte(n)}) + rep("\x00", n) + "}]}}}}")},
	}
	// A tree whose arrays are UBJSON typed uint8: one byte per node and
	// array, the least a node can take. With the statistics, two of the
	// arrays the readers keep as float32 (4 bytes a node) join the six.
	nodes := n / 8
	arr := func(key string) string {
		return "L\x00\x00\x00\x00\x00\x00\x00" + string(rune(len(key))) + key + "[$U#l" +
			string([]byte{byte(nodes >> 24), byte(nodes >> 16), byte(nodes >> 8), byte(nodes)}) + rep("\x00", nodes)
	}
	tree := func(keys ...string) []byte {
		t := "{L\x00\x00\x00\x00\x00\x00\x00\x07learner{L\x00\x00\x00\x00\x00\x00\x00\x10gradient_booster" +
			"{L\x00\x00\x00\x00\x00\x00\x00\x05model{L\x00\x00\x00\x00\x00\x00\x00\x05trees[{"
		for _, k := range keys {
			t += arr(k)
		}
		return []byte(t + "L\x00\x00\x00\x00\x00\x00\x00\x0atree_param{L\x00\x00\x00\x00\x00\x00\x00\x09num_nodesSi" +
			string(rune(len(strconv.Itoa(nodes)))) + strconv.Itoa(nodes) + "}" + "}]}}}}")
	}
	six := []string{"left_children", "right_children", "split_indices", "split_conditions", "default_left", "split_type"}
	docs = append(docs, []struct {
		name string
		data []byte
	}{
		{"UBJSON uint8 tree", tree(six...)},
		{"UBJSON uint8 tree with statistics", tree(append(six, "sum_hessian", "loss_changes")...)},
	}...)
	// Many one-node trees, each as few bytes as a tree that passes its
	// check can take: the readers keep every tree until the model is
	// built.
	jsTree := `{"tree_param":{"num_nodes":"1"},"left_children":[-1],"right_children":[-1],"split_indices":[0],` +
		`"split_conditions":[0],"default_left":[0]}`
	ubjTree := "{i\x0atree_param{i\x09num_nodesC1}i\x0dleft_children[i\xff]i\x0eright_children[i\xff]" +
		"i\x0dsplit_indices[i\x00]i\x10split_conditions[i\x00]i\x0cdefault_left[F]}"
	docs = append(docs, []struct {
		name string
		data []byte
	}{
		{"one-node trees", []byte(`{"learner":{"gradient_booster":{"model":{"trees":[` + rep(jsTree+",", n/len(jsTree)) + jsTree + `]}}}}`)},
		{"UBJSON one-node trees", []byte("{i\x07learner{i\x10gradient_booster{i\x05model{i\x05trees[" + rep(ubjTree, n/len(ubjTree)) + "]}}}}")},
	}...)
	for _, d := range docs {
		if x := allocated(d.data); x > 8 {
			t.Errorf("%s: Parse allocates %.1f times the input", d.name, x)
		} else {
			t.Logf("%s: %.2f times the input (%v)", d.name, x, lastErr)
		}
	}
}
