package xgbmodel

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// ubjFiles returns every UBJSON file in the repository's testdata.
func ubjFiles(t testing.TB) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(filepath.Join("..", "..", "testdata"), func(path string, d fs.DirEntry, err error) error {
		if err == nil && strings.HasSuffix(path, ".ubj") {
			out = append(out, path)
		}
		return err
	})
	if err != nil || len(out) < 30 {
		t.Fatalf("%d UBJSON files in testdata (%v): run testdata/xgboost/make_models.py", len(out), err)
	}
	return out
}

// viaText parses UBJSON as the reader before the direct decoder did: the
// JSON reader on the transcoded text.
func viaText(data []byte) (*Model, error) {
	text, err := transcode(data)
	if err != nil {
		return nil, err
	}
	m, err := decodeJSON(text)
	if err != nil {
		return nil, err
	}
	m.Format = FormatUBJSON
	return m, nil
}

// sameModel reports whether a and b are equal, NaN equal to NaN.
func sameModel(a, b *Model) bool {
	return reflect.DeepEqual(a, b) || fmt.Sprintf("%#v", a) == fmt.Sprintf("%#v", b)
}

// TestUBJSONMatchesJSON: every UBJSON file in testdata decodes to the Model
// its JSON text decodes to (through the transcoder, the JSON of the same
// document) and, for the format suite, to the Model of the JSON file
// XGBoost wrote of the same model; refused files are refused both ways.
func TestUBJSONMatchesJSON(t *testing.T) {
	for _, path := range ubjFiles(t) {
		t.Run(strings.TrimPrefix(path, filepath.Join("..", "..", "testdata")+string(filepath.Separator)), func(t *testing.T) {
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			got, err := Parse(data)
			want, werr := viaText(data)
			if (err == nil) != (werr == nil) {
				t.Fatalf("direct: %v; via JSON text: %v", err, werr)
			}
			if err != nil {
				if !strings.HasPrefix(path, filepath.Join("..", "..", "testdata", "xgboost", "3.2.0", "refused_")) {
					t.Fatal(err)
				}
				return
			}
			if !sameModel(got, want) {
				t.Fatal("the Model differs from its JSON text's")
			}
			jsonFile := strings.TrimSuffix(path, ".ubj") + ".json"
			if !strings.Contains(path, "xgboost"+string(filepath.Separator)) {
				return // parity models: no JSON file of the same model
			}
			js, err := os.ReadFile(jsonFile)
			if errors.Is(err, fs.ErrNotExist) && strings.Contains(path, "refused_") {
				return // a refused model XGBoost wrote only as UBJSON
			}
			if err != nil {
				t.Fatal(err)
			}
			jm, err := Parse(js)
			if err != nil {
				t.Fatal(err)
			}
			jm.Format = FormatUBJSON
			if !sameModel(got, jm) {
				t.Fatalf("the Model differs from %s's", jsonFile)
			}
		})
	}
}

// ubjKey is an object key: its length as int8, then its bytes.
func ubjKey(k string) string { return "i" + string(rune(len(k))) + k }

// ubjStr is a string value.
func ubjStr(s string) string { return "S" + ubjKey(s) }

// ubjTyped is a typed array of n elements of type t, payload p.
func ubjTyped(t byte, n int, p string) string {
	return "[$" + string(t) + "#l" + string(binary.BigEndian.AppendUint32(nil, uint32(n))) + p
}

func ubjInt32s(v ...int32) string {
	var p []byte
	for _, x := range v {
		p = binary.BigEndian.AppendUint32(p, uint32(x))
	}
	return ubjTyped('l', len(v), string(p))
}

func ubjFloat32s(v ...float32) string {
	var p []byte
	for _, x := range v {
		p = binary.BigEndian.AppendUint32(p, math.Float32bits(x))
	}
	return ubjTyped('d', len(v), string(p))
}

// ubjModel is a one-tree binary:logistic model, the tree's members
// replaced (or added) by tree: key to value.
func ubjModel(tree map[string]string) string {
	members := map[string]string{
		"tree_param":       "{" + ubjKey("num_nodes") + ubjStr("3") + "}",
		"left_children":    ubjInt32s(1, -1, -1),
		"right_children":   ubjInt32s(2, -1, -1),
		"split_indices":    ubjInt32s(1, 0, 0),
		"split_conditions": ubjFloat32s(0.5, -1, 1),
		"default_left":     ubjTyped('U', 3, "\x01\x00\x00"),
	}
	order := []string{"tree_param", "left_children", "right_children", "split_indices", "split_conditions", "default_left"}
	for k, v := range tree {
		if _, ok := members[k]; !ok {
			order = append(order, k)
		}
		members[k] = v
	}
	tr := "{"
	for _, k := range order {
		tr += ubjKey(k) + members[k]
	}
	tr += "}"
	return "{" + ubjKey("learner") + "{" +
		ubjKey("gradient_booster") + "{" + ubjKey("model") + "{" +
		ubjKey("gbtree_model_param") + "{" + ubjKey("num_trees") + ubjStr("1") + "}" +
		ubjKey("tree_info") + ubjInt32s(0) +
		ubjKey("trees") + "[" + tr + "]" +
		"}" + ubjKey("name") + ubjStr("gbtree") + "}" +
		ubjKey("learner_model_param") + "{" + ubjKey("base_score") + ubjStr("5E-1") +
		ubjKey("num_class") + ubjStr("0") + ubjKey("num_feature") + ubjStr("2") + "}" +
		ubjKey("objective") + "{" + ubjKey("name") + ubjStr("binary:logistic") + "}" +
		"}" + ubjKey("version") + ubjInt32s(3, 2, 0) + "}"
}

// TestUBJSONErrors: every way a document can be wrong gives an error
// saying what, and what the old reader accepted the new one accepts.
func TestUBJSONErrors(t *testing.T) {
	long := func(n uint64) string { return string(binary.BigEndian.AppendUint64([]byte{'L'}, n)) }
	model := ubjModel(nil)
	tests := []struct{ name, data, want string }{
		{"valid", model, ""},
		{"untyped arrays", ubjModel(map[string]string{
			"left_children":    "[U\x01i\xffI\xff\xff]",
			"split_indices":    "[#i\x03l\x00\x00\x00\x01L\xff\xff\xff\xff\xff\xff\xff\xffi\x07",
			"split_conditions": "[i\x01D\x3f\xf0\x00\x00\x00\x00\x00\x00d\x00\x00\x00\x00]",
			"default_left":     "[TFU\x00]",
		}), ""},
		{"typed int8 children", ubjModel(map[string]string{"right_children": ubjTyped('i', 3, "\x02\xff\xff")}), ""},
		{"nulls and unknown members", ubjModel(map[string]string{"split_type": "Z", "base_weights": ubjFloat32s(1, 2, 3), "x": "[$Z#i\x05"}), ""},
		// Truncated typed arrays and counts beyond the bytes left.
		{"truncated typed array", model[:strings.Index(model, "\x3f\x00\x00\x00")+2], "more than the"},
		{"huge typed count", ubjModel(map[string]string{"left_children": "[$l#" + long(1<<40)}), "length 1099511627776 is more than"},
		{"huge count", ubjModel(map[string]string{"left_children": "[#" + long(1<<40)}), "is more than"},
		{"negative count", ubjModel(map[string]string{"left_children": "[#i\xff"}), "negative length -1"},
		{"count past the end", ubjModel(map[string]string{"x": "[$d#l\x00\x00\x10\x00"}), "is more than the"},
		{"huge string", ubjModel(map[string]string{"x": "S" + long(1<<62)}), "length 4611686018427387904 is more than"},
		{"null flags beyond the text bound", ubjModel(map[string]string{"x": "[$Z#" + long(3000)}), "expands beyond"},
		{"true flags beyond the text bound", ubjModel(map[string]string{"default_left": "[$T#" + long(3000)}), "expands beyond"},
		// Wrong element types.
		{"float children", ubjModel(map[string]string{"left_children": ubjFloat32s(1, -1, -1)}), "left_children: element 0: marker 'd' is not an integer: wrong element type"},
		{"string child", ubjModel(map[string]string{"right_children": "[S" + ubjKey("2") + "]"}), "right_children: element 0: marker 'S': wrong element type"},
		{"null child", ubjModel(map[string]string{"right_children": "[Z]"}), "marker 'Z' is not an integer"},
		{"typed string conditions", ubjModel(map[string]string{"split_conditions": "[$S#i\x01i\x01x"}), "split_conditions: element 0: marker 'S'"},
		{"char condition", ubjModel(map[string]string{"split_conditions": "[Cx]"}), "marker 'C': wrong element type"},
		{"NaN condition", ubjModel(map[string]string{"split_conditions": ubjFloat32s(float32(math.NaN()), 1, 1)}), "split_conditions: element 0: NaN is not a finite float32"},
		{"infinite float64", ubjModel(map[string]string{"sum_hessian": "[D\x7f\xf0\x00\x00\x00\x00\x00\x00]"}), "+Inf is not a finite float32"},
		{"int32 out of range", ubjModel(map[string]string{"left_children": "[L\x00\x00\x00\x01\x00\x00\x00\x00]"}), "4294967296 is outside int32's range"},
		{"flag 2", ubjModel(map[string]string{"default_left": ubjTyped('U', 3, "\x02\x00\x00")}), "default_left: element 0: 2 is not a flag"},
		{"flag -1", ubjModel(map[string]string{"default_left": "[i\xff]"}), "-1 is not a flag"},
		{"number of nodes a number", ubjModel(map[string]string{"tree_param": "{" + ubjKey("num_nodes") + "i\x03}"}), "tree 0: num_nodes: marker 'i' is not a string"},
		{"tree an array", strings.Replace(model, "[{", "[[{", 1), "tree 0: not an object"},
		{"children an object", ubjModel(map[string]string{"left_children": "{}"}), "left_children is not an array"},
		{"learner an array", "{" + ubjKey("learner") + "[]}", "learner is not an object"},
		{"feature name a number", strings.Replace(model, ubjKey("learner")+"{", ubjKey("learner")+"{"+ubjKey("feature_names")+"[i\x01]", 1), "feature_names: marker 'i' is not a string"},
		{"attribute a number", strings.Replace(model, ubjKey("learner")+"{", ubjKey("learner")+"{"+ubjKey("attributes")+"{"+ubjKey("a")+"T}", 1), "attributes: marker 'T' is not a string"},
		{"high precision", ubjModel(map[string]string{"x": "Hi\x011"}), "marker 'H' is not supported"},
		{"typed container type", ubjModel(map[string]string{"x": "[$[#i\x01]"}), "element type '[' is not supported"},
		{"typed without count", ubjModel(map[string]string{"x": "[$i\x01]"}), "typed container without a count"},
		{"float key length", ubjModel(map[string]string{"x": "{d\x00\x00\x00\x00T}"}), "not an integer type"},
		// Nesting depth, in a member the model does not need and in one
		// it does.
		{"deep", ubjModel(map[string]string{"x": strings.Repeat("[", 100)}), "nesting deeper than 64"},
		{"deep objects", ubjModel(map[string]string{"x": strings.Repeat("{"+ubjKey("a"), 100)}), "nesting deeper than 64"},
		{"trailing", model + "Z", "1 unexpected bytes after the document"},
		// The shared checks: what the JSON reader says of the same document.
		{"array lengths", ubjModel(map[string]string{"right_children": ubjInt32s(2, -1)}), "tree 0: right_children has 2 entries for 3 nodes"},
		{"cycle", ubjModel(map[string]string{"left_children": ubjInt32s(1, 0, -1)}), "tree 0: node 1: child 0 is outside [1, 3)"},
		{"feature", ubjModel(map[string]string{"split_indices": ubjInt32s(2, 0, 0)}), "split on feature 2, model has 2"},
		{"negative feature", ubjModel(map[string]string{"split_indices": ubjInt32s(-1, 0, 0)}), "split on feature 4294967295, model has 2"},
		{"categorical", ubjModel(map[string]string{"split_type": ubjTyped('U', 3, "\x01\x00\x00")}), "categorical splits are not supported"},
		{"infinite leaf", ubjModel(map[string]string{"split_conditions": "[d\x3f\x00\x00\x00d\x3f\x80\x00\x00D\x47\xf0\x00\x00\x00\x00\x00\x00]"}), "+Inf is not a finite float32"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := Parse([]byte(tt.data))
			if tt.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				if m.Format != FormatUBJSON || len(m.Trees) != 1 || len(m.Trees[0].Nodes) != 3 {
					t.Errorf("Model = %+v", m)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want %q", err, tt.want)
			}
			if !strings.HasPrefix(fmt.Sprint(err), "UBJSON model: ") {
				t.Errorf("err = %v, want it to name the format", err)
			}
		})
	}
	// The untyped arrays decode to what they say.
	m, err := Parse([]byte(tests[1].data))
	if err != nil {
		t.Fatal(err)
	}
	if nd := m.Trees[0].Nodes[0]; nd.Feature != 1 || nd.Value != 1 || !nd.DefaultLeft {
		t.Errorf("root = %+v", nd)
	}
}

// TestSkip: what the reader skips, it checks as the transcoder did: the
// transcoder's test documents are accepted or refused alike.
func TestSkip(t *testing.T) {
	long := func(n uint64) string { return string(binary.BigEndian.AppendUint64([]byte{'L'}, n)) }
	for _, data := range []string{
		"{}", "[$i#i\x03\x01\xff\x7f", "[$U#U\x02\x00\xff", "[$S#i\x02i\x01ai\x00", "{#i\x01i\x01kT", "[NZN]", "[C\"]",
		"{i\x01k", "[S" + long(1<<62) + "]", "[Si\xff]", "[#" + long(1<<40) + "]", "[$l#" + long(1<<40) + "]",
		"[$Z#" + long(3000) + "]", "[$Z#" + long(1<<40) + "]", strings.Repeat("[", 100), "[X]", "[Hi\x011]",
		"[$[#i\x01]", "[$i\x01]", "{d\x00\x00\x00\x00T}", "[]]", "[T", "[$d#i\x02\x3f\x80\x00\x00\x7f\xc0\x00\x00",
		"[Si\x03a\"\x01I\x80\x00]", strings.Repeat("[", 64) + strings.Repeat("]", 64), strings.Repeat("[", 65) + strings.Repeat("]", 65),
	} {
		u := newUBJ([]byte(data))
		tp, err := u.marker()
		if err == nil {
			err = u.skip(tp, 0)
		}
		if err == nil {
			err = u.end()
		}
		_, terr := transcode([]byte(data))
		if (err == nil) != (terr == nil) {
			t.Errorf("%q: skip: %v; transcode: %v", data, err, terr)
		}
	}
}

// checkAgainstTranscoder fails when the direct decoder and the JSON reader
// on the transcoded text disagree on data beyond what the direct decoder
// documents: it refuses a float in an integer array, and counts the
// text bound at the fewest bytes per value (so it may accept a document
// whose escaped text the transcoder found too long).
func checkAgainstTranscoder(t *testing.T, data []byte) {
	got, err := Parse(data)
	want, werr := viaText(data)
	switch {
	case err == nil && werr == nil:
		if !sameModel(got, want) {
			t.Fatalf("the Model differs from its JSON text's:\n%+v\n%+v", got, want)
		}
	case err != nil && werr == nil:
		if !errors.Is(err, errElementType) {
			t.Fatalf("refused (%v); its JSON text is accepted", err)
		}
	case err == nil && werr != nil:
		if !strings.Contains(werr.Error(), "expands beyond") {
			t.Fatalf("accepted; its JSON text is refused: %v", werr)
		}
	}
}

// FuzzUBJSON: the direct decoder never panics and decodes a document as
// the JSON reader decodes its text (checkAgainstTranscoder).
func FuzzUBJSON(f *testing.F) {
	for _, path := range ubjFiles(f) {
		data, err := os.ReadFile(path)
		if err != nil {
			f.Fatal(err)
		}
		if len(data) < 16<<10 { // the small ones: fuzzing is quicker
			f.Add(data)
		}
	}
	f.Add([]byte(ubjModel(nil)))
	f.Add([]byte(ubjModel(map[string]string{"left_children": "[U\x01i\xffI\xff\xff]", "default_left": "[TFU\x00]"})))
	f.Fuzz(func(t *testing.T, data []byte) {
		if sniff(data) != FormatUBJSON {
			return
		}
		checkAgainstTranscoder(t, data)
	})
}
