package classify

import (
	"encoding/json"
	"os"
	"path/filepath"
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
)

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
		for _, name := range xgbSuiteModels {
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
					if !xgbEqualStrings(info.Features, wantFeatures) || !xgbEqualStrings(info.Classes, g.Classes) || !info.Missing {
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
		for _, name := range xgbSuiteModels {
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
	s := make([]float64, b.nFeatures+b.nGroups*b.nRounds+b.nClasses)
	p := make([]float64, b.nClasses)
	n := 0
	for _, c := range g.Cases {
		if len(c.Margin) != b.nGroups {
			t.Fatalf("%s: %d margins, want %d", c.Name, len(c.Margin), b.nGroups)
		}
		fvals, idx := s[:b.nFeatures], s[b.nFeatures:b.nFeatures+b.nGroups*b.nRounds]
		for i, v := range c.Input {
			fvals[i] = float64(float32(v))
		}
		if err := b.ens.Predict(fvals, 0, idx); err != nil {
			t.Fatal(err)
		}
		b.margins(idx, p)
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
