package classify

import (
	"bytes"
	"encoding/json"
	"errors"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/ml-production-service/classify/internal/xgbmodel"
)

// The format suite of testdata/xgboost/<version>/, made by make_models.py
// under each XGBoost version: every model in every format that version
// writes, and one classify/golden v2 file per model with XGBoost's answers
// (inputs may be null: missing).
var (
	xgbSuiteModels  = []string{"wine_softprob", "iris_softmax_names", "bc_logistic", "bc_logitraw", "iris_gamma", "iris_rf", "bc_nan"}
	xgbSuiteFormats = map[string][]string{ // version -> file extensions, in the golden's order
		"1.7.4": {".model", ".json", ".ubj"},
		"2.1.4": {".deprecated", ".json", ".ubj"},
		"3.2.0": {".json", ".ubj"},
	}
	// Models of one version only: the benchmarks' 150-tree model.
	xgbSuiteExtra = map[string][]string{"1.7.4": {"wine_bench"}}
)

// xgbSuiteNames returns the suite's models for version.
func xgbSuiteNames(version string) []string {
	return append(append([]string(nil), xgbSuiteModels...), xgbSuiteExtra[version]...)
}

type xgbSuiteGolden struct {
	xgbGolden
	Model     string `json:"model"`
	BaseScore string `json:"base_score"`
	Artifacts []struct {
		File   string `json:"file"`
		Format string `json:"format"`
	} `json:"artifacts"`
}

func readXGBSuiteGolden(t *testing.T, version, name string) *xgbSuiteGolden {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", "xgboost", version, name+".golden.json"))
	if err != nil {
		t.Fatalf("golden file missing (run testdata/xgboost/make_models.py under XGBoost %s): %v", version, err)
	}
	g := &xgbSuiteGolden{}
	if err := json.Unmarshal(data, g); err != nil {
		t.Fatal(err)
	}
	if g.Format != "classify/golden" || g.FormatVersion != 2 || len(g.Cases) == 0 || g.Model != name {
		t.Fatalf("%s: unexpected golden file %q v%d for %q with %d cases", name, g.Format, g.FormatVersion, g.Model, len(g.Cases))
	}
	if !strings.HasPrefix(g.Reference, "xgboost "+version+",") {
		t.Fatalf("%s: golden file made by %q, want xgboost %s", name, g.Reference, version)
	}
	return g
}

// TestXGBoostFormats loads every file of the format suite and compares it
// with XGBoost's answers; the files of one model must also agree with each
// other bit for bit.
func TestXGBoostFormats(t *testing.T) {
	worst := map[string]float64{}
	for version, exts := range xgbSuiteFormats {
		for _, name := range xgbSuiteNames(version) {
			t.Run(version+"/"+name, func(t *testing.T) {
				g := readXGBSuiteGolden(t, version, name)
				if len(g.Artifacts) != len(exts) {
					t.Errorf("golden file lists %d artifacts, want %d", len(g.Artifacts), len(exts))
				}
				var first *Booster
				for i, ext := range exts {
					path := filepath.Join("testdata", "xgboost", version, name+ext)
					data, err := os.ReadFile(path)
					if err != nil {
						t.Fatalf("test model missing (run make_models.py under XGBoost %s): %v", version, err)
					}
					m, err := xgbmodel.Parse(data)
					if err != nil {
						t.Fatalf("%s: %v", path, err)
					}
					if i < len(g.Artifacts) && (g.Artifacts[i].File != name+ext || g.Artifacts[i].Format != m.Format) {
						t.Errorf("%s: read as %s, golden file says %+v", path, m.Format, g.Artifacts[i])
					}
					b := loadXGB(t, data, nil)
					info := b.Info()
					wantFeatures := g.Features
					if m.Format == xgbmodel.FormatBinary {
						wantFeatures = xgbGenericNames("f", len(g.Features)) // the binary stores no names
					}
					if !slices.Equal(info.Features, wantFeatures) || !slices.Equal(info.Classes, g.Classes) || !info.Missing {
						t.Errorf("%s: Info() = %+v, want features %v, classes %v, Missing", path, info, wantFeatures, g.Classes)
					}
					d := checkXGBParity(t, b, &g.xgbGolden)
					worst[version+"/"+name+ext] = d
					if g.Objective == "binary:logitraw" {
						checkXGBMargins(t, b, &g.xgbGolden)
					}
					if first == nil {
						first = b
					} else {
						checkXGBSame(t, first, b, &g.xgbGolden)
					}
				}
			})
		}
	}
	for _, version := range []string{"1.7.4", "2.1.4", "3.2.0"} {
		for _, name := range xgbSuiteNames(version) {
			for _, ext := range xgbSuiteFormats[version] {
				if d, ok := worst[version+"/"+name+ext]; ok {
					t.Logf("%s/%s%s: max probability difference %.3g", version, name, ext, d)
				}
			}
		}
	}
}

func xgbGenericNames(prefix string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = prefix + strconv.Itoa(i)
	}
	return out
}

// checkXGBMargins compares the Booster's float32 margins with XGBoost's
// own (binary:logitraw's golden files carry them): they must be identical.
func checkXGBMargins(t *testing.T, b *Booster, g *xgbGolden) {
	t.Helper()
	p := make([]float64, b.nClasses)
	n := 0
	for _, c := range g.Cases {
		if len(c.Margin) != b.nGroups {
			t.Fatalf("%s: %d margins, want %d", c.Name, len(c.Margin), b.nGroups)
		}
		b.e.ens.Predict(c.Input, p, true) // the margins, before finish
		for k, want := range c.Margin {
			if float32(p[k]) != float32(want) {
				t.Errorf("%s: margin %v, XGBoost %v", c.Name, p[k], want)
			}
		}
		n++
	}
	if n == 0 {
		t.Error("no margins compared")
	}
}

// checkXGBSame requires a and b to predict bit-identical probabilities on
// every case.
func checkXGBSame(t *testing.T, a, b *Booster, g *xgbGolden) {
	t.Helper()
	for _, c := range g.Cases {
		pa, err1 := a.Predict(c.Input, nil)
		pb, err2 := b.Predict(c.Input, nil)
		if err1 != nil || err2 != nil || pa.Class != pb.Class || !xgbEqualFloats(pa.Probabilities, pb.Probabilities) {
			t.Errorf("%s: formats disagree: %+v %v, %+v %v", c.Name, pa, err1, pb, err2)
		}
	}
}

// xgbEditJSON returns the JSON model of data changed by edit, which gets the
// document decoded as maps and slices.
func xgbEditJSON(t *testing.T, data []byte, edit func(doc map[string]any)) []byte {
	t.Helper()
	var doc map[string]any
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	edit(doc)
	out, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// xgbPath walks doc along keys (string: object key, int: array index).
func xgbPath(doc any, keys ...any) any {
	for _, k := range keys {
		switch k := k.(type) {
		case string:
			doc = doc.(map[string]any)[k]
		case int:
			doc = doc.([]any)[k]
		}
	}
	return doc
}

func xgbSuiteFile(t *testing.T, version, file string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", "xgboost", version, file))
	if err != nil {
		t.Fatalf("test model missing (run testdata/xgboost/make_models.py): %v", err)
	}
	return data
}

// TestLoadXGBoostRefused: what classify cannot predict exactly is refused
// with ErrFormat and an error that says what to do.
func TestLoadXGBoostRefused(t *testing.T) {
	names := xgbSuiteFile(t, "3.2.0", "iris_softmax_names.json")
	learner := func(doc map[string]any) map[string]any { return xgbPath(doc, "learner").(map[string]any) }
	tree0 := func(doc map[string]any) map[string]any {
		return xgbPath(doc, "learner", "gradient_booster", "model", "trees", 0).(map[string]any)
	}
	tests := []struct {
		name string
		edit func(doc map[string]any)
		want string
	}{
		{"categorical split", func(doc map[string]any) {
			tree0(doc)["split_type"].([]any)[0] = 1
		}, `tree 0: node 0: categorical split on feature "petal_length": categorical splits are not supported; train without enable_categorical`},
		{"vector leaves", func(doc map[string]any) {
			tree0(doc)["tree_param"].(map[string]any)["size_leaf_vector"] = "3"
		}, `tree 0: leaf vector size 3: vector leaves (multi_strategy="multi_output_tree") are not supported; retrain with multi_strategy="one_output_per_tree"`},
		{"dart", func(doc map[string]any) {
			learner(doc)["gradient_booster"].(map[string]any)["name"] = "dart"
		}, `booster "dart" is not supported (only gbtree): dart drops trees with per-tree weights; retrain with booster="gbtree"`},
		{"gblinear", func(doc map[string]any) {
			learner(doc)["gradient_booster"] = map[string]any{"name": "gblinear", "model": map[string]any{"weights": []any{1, 2}}}
		}, `booster "gblinear" is not supported (only gbtree): a linear model has no trees`},
		{"regression", func(doc map[string]any) {
			learner(doc)["objective"].(map[string]any)["name"] = "reg:squarederror"
		}, `objective "reg:squarederror" is not supported (want multi:softprob, multi:softmax, binary:logistic or binary:logitraw)`},
		{"multi-target", func(doc map[string]any) {
			learner(doc)["learner_model_param"].(map[string]any)["num_target"] = "2"
		}, "num_target 2: multi-target models are not supported"},
		{"base score vector length", func(doc map[string]any) {
			learner(doc)["learner_model_param"].(map[string]any)["base_score"] = "[0E0,1E0]"
		}, "base_score has 2 values, model has 3 outputs"},
		{"base score not a number", func(doc map[string]any) {
			learner(doc)["learner_model_param"].(map[string]any)["base_score"] = "[0E0,x,1]"
		}, `base_score "x" is not a finite number`},
		{"feature names", func(doc map[string]any) {
			learner(doc)["feature_names"] = []any{"a", "b"}
		}, "2 feature names for 4 features"},
		{"duplicate feature names", func(doc map[string]any) {
			learner(doc)["feature_names"] = []any{"a", "b", "a", "c"}
		}, `model's feature_names: feature name "a" appears twice`},
		{"node count", func(doc map[string]any) {
			tree0(doc)["tree_param"].(map[string]any)["num_nodes"] = "2"
		}, "tree 0: left_children has 3 entries for 2 nodes"},
		{"tree count", func(doc map[string]any) {
			xgbPath(doc, "learner", "gradient_booster", "model", "gbtree_model_param").(map[string]any)["num_trees"] = "13"
		}, "num_trees is 13, the model has 12 trees"},
		{"tree info", func(doc map[string]any) {
			xgbPath(doc, "learner", "gradient_booster", "model").(map[string]any)["tree_info"] = []any{0}
		}, "tree info has 1 entries for 12 trees"},
		{"default left", func(doc map[string]any) {
			tree0(doc)["default_left"] = []any{2, 0, 0}
		}, `JSON model: tree 0: flag array: "2" is not a valid element`},
		{"parallel trees", func(doc map[string]any) {
			xgbPath(doc, "learner", "gradient_booster", "model", "gbtree_model_param").(map[string]any)["num_parallel_tree"] = "0"
		}, `num_parallel_tree "0" is not a number in [1, 12]`},
		{"not a model", func(doc map[string]any) { delete(doc, "learner") }, `JSON model: not an XGBoost model`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := LoadXGBoost(bytes.NewReader(xgbEditJSON(t, names, tt.edit)), nil)
			if !errors.Is(err, ErrFormat) || !strings.HasPrefix(err.Error(), "classify: xgboost: ") || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want ErrFormat with %q", err, tt.want)
			}
		})
	}
}

// TestXGBoostSidecarOptional: the sidecar is optional for a model that
// names its features, and must agree with the model when present.
func TestXGBoostSidecarOptional(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "iris.ubj")
	if err := os.WriteFile(path, xgbSuiteFile(t, "3.2.0", "iris_softmax_names.ubj"), 0o644); err != nil {
		t.Fatal(err)
	}
	m, err := New(XGBoost, path)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"sepal length", "sepal_width", "petal_length", "petal_width"}
	if info := m.Info(); !slices.Equal(info.Features, want) || !slices.Equal(info.Classes, []string{"0", "1", "2"}) || !info.Missing {
		t.Errorf("without a sidecar: Info() = %+v", info)
	}
	// A v1 sidecar that agrees names the classes.
	meta := `{"format": "classify/xgboost-meta", "format_version": 1, "objective": "multi:softmax",
		"features": ["sepal length", "sepal_width", "petal_length", "petal_width"], "classes": ["setosa", "versicolor", "virginica"]}`
	if err := os.WriteFile(path+".meta.json", []byte(meta), 0o644); err != nil {
		t.Fatal(err)
	}
	if m, err = New(XGBoost, path); err != nil || m.Info().Classes[2] != "virginica" || m.Info().Features[0] != "sepal length" {
		t.Fatalf("with an agreeing sidecar: %v", err)
	}
	p, err := m.Predict([]float64{6.3, 3.3, 6.0, 2.5}, nil)
	if err != nil || p.Label != "virginica" {
		t.Errorf("Predict = %+v, %v", p, err)
	}
	tests := []struct{ name, from, to, want string }{
		{"feature names", `["sepal length", "sepal_width"`, `["sepal_length", "sepal_width"`, `meta names feature 0 "sepal_length", the model names it "sepal length"`},
		{"objective", `"multi:softmax"`, `"multi:softprob"`, `meta objective "multi:softprob", model objective "multi:softmax"`},
		{"feature count", `, "petal_width"]`, `]`, "meta names 3 features, model has 4"},
		{"class count", `, "virginica"]`, `]`, "meta names 2 classes, model has 3"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			bad := strings.Replace(meta, tt.from, tt.to, 1)
			if err := os.WriteFile(path+".meta.json", []byte(bad), 0o644); err != nil {
				t.Fatal(err)
			}
			_, err := New(XGBoost, path)
			if !errors.Is(err, ErrFormat) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want ErrFormat with %q", err, tt.want)
			}
		})
	}
}

// TestXGBoostMissing: NaN takes each split's default direction, and
// float32 rounding keeps it NaN; infinities stay refused.
func TestXGBoostMissing(t *testing.T) {
	if v := float32(math.NaN()); v == v {
		t.Fatal("float32(NaN) is not NaN")
	}
	b := loadXGB(t, xgbSuiteFile(t, "3.2.0", "bc_nan.ubj"), nil)
	row := []float64{math.NaN(), math.NaN(), math.NaN(), math.NaN(), math.NaN(), math.NaN()}
	if _, err := b.Predict(row, nil); err != nil {
		t.Errorf("all missing: %v", err)
	}
	for _, v := range []float64{math.Inf(1), math.Inf(-1), 1e39} {
		row[2] = v
		if _, err := b.Predict(row, nil); !errors.Is(err, ErrInput) {
			t.Errorf("Predict with %v: err = %v, want ErrInput", v, err)
		}
	}
}

// TestLoadXGBoostJSON10: the JSON of XGBoost 1.0 to 1.5 (doc/model.schema
// of 1.0: default_left as booleans, no num_parallel_tree, split_type or
// num_target) predicts as the 1.7 file it is rewritten from.
func TestLoadXGBoostJSON10(t *testing.T) {
	data := xgbSuiteFile(t, "1.7.4", "iris_gamma.json")
	old := xgbEditJSON(t, data, func(doc map[string]any) {
		delete(xgbPath(doc, "learner", "learner_model_param").(map[string]any), "num_target")
		model := xgbPath(doc, "learner", "gradient_booster", "model").(map[string]any)
		delete(model["gbtree_model_param"].(map[string]any), "num_parallel_tree")
		for _, tr := range model["trees"].([]any) {
			tr := tr.(map[string]any)
			delete(tr, "split_type")
			for i, v := range tr["default_left"].([]any) {
				tr["default_left"].([]any)[i] = v.(float64) != 0
			}
		}
	})
	if !bytes.Contains(old, []byte(`"default_left":[true`)) {
		t.Fatal("rewrite did not write booleans")
	}
	g := readXGBSuiteGolden(t, "1.7.4", "iris_gamma")
	checkXGBSame(t, loadXGB(t, data, nil), loadXGB(t, old, nil), &g.xgbGolden)
}

// TestLoadXGBoostRefusedFiles: models XGBoost 3.2 wrote that classify
// cannot predict exactly are refused, each saying what to do.
func TestLoadXGBoostRefusedFiles(t *testing.T) {
	tests := []struct{ file, want string }{
		{"refused_categorical.json", `tree 0: node 0: categorical split on feature "color": categorical splits are not supported; train without enable_categorical (one-hot encode the feature instead)`},
		{"refused_vector_leaf.ubj", `tree 0: leaf vector size 3: vector leaves (multi_strategy="multi_output_tree") are not supported; retrain with multi_strategy="one_output_per_tree" (the default)`},
		{"refused_dart.json", `booster "dart" is not supported (only gbtree): dart drops trees with per-tree weights; retrain with booster="gbtree"`},
		{"refused_gblinear.ubj", `booster "gblinear" is not supported (only gbtree): a linear model has no trees; retrain with booster="gbtree"`},
		{"refused_regressor.ubj", `objective "reg:squarederror" is not supported (want multi:softprob, multi:softmax, binary:logistic or binary:logitraw): retrain the model as an XGBClassifier`},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			_, err := LoadXGBoost(bytes.NewReader(xgbSuiteFile(t, "3.2.0", tt.file)), nil)
			if !errors.Is(err, ErrFormat) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want ErrFormat with %q", err, tt.want)
			}
		})
	}
}
