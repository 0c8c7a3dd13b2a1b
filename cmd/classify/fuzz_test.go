package main

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/ml-production-service/classify"
	"github.com/ml-production-service/classify/internal/modeltest"
)

// FuzzPredictInput feeds arbitrary CSV and JSON Lines to `classify predict`
// and `classify eval` in-process: no panic, no hang, and an exit status from
// the documented set (0 ok, 1 failure, 3 rows skipped; never a usage error,
// since the arguments are valid).
func FuzzPredictInput(f *testing.F) {
	f.Add("csv", "sepal_length,sepal_width,petal_length,petal_width,species\n5.1,3.5,1.4,0.2,setosa\n6.3,3.3,6,2.5,virginica\n")
	f.Add("csv", "petal_width,petal_length,sepal_width,sepal_length\n0.2,1.4,3.5,5.1\n\"1\n,2,3\n")
	f.Add("csv", "sepal_length,sepal_width,petal_length,petal_width\nNaN,1e39,-0,abc\n1,2\n")
	f.Add("jsonl", `{"sepal_length":5.1,"sepal_width":3.5,"petal_length":1.4,"petal_width":0.2,"species":"setosa"}`+"\n")
	f.Add("jsonl", `{"sepal_length":"5.1","sepal_width":null,"petal_length":[1],"petal_width":{}}`+"\n{\n[]\n")
	f.Add("jsonl", `{"sepal_length":NaN,"sepal_width":"nan","petal_length":null,"petal_width":1,"s":"\"NaN"}`+"\n")
	f.Add("csv", "sepal_length,sepal_width,petal_length,petal_width\n,nan,NaN, NAN \n")
	f.Fuzz(func(t *testing.T, format, in string) {
		if format != "csv" && format != "jsonl" {
			return
		}
		for _, args := range [][]string{
			{"predict", "-format", format, "-registry", compatRegistry, "-model", "decision_tree"},                   // taking no missing values
			{"eval", "-format", format, "-model", "xgboost"},                                                         // taking them
			{"predict", "-format", format, "-artifact", "../../models/random_forest.json", "-kind", "random_forest"}, // taking them
			{"predict", "-format", format, "-artifact", compatTree, "-kind", "decision_tree"},                        // made to take them
		} {
			var stdout, stderr bytes.Buffer
			e := env{getenv: func(string) string { return "" }, stdin: strings.NewReader(in), stdout: &stdout, stderr: &stderr,
				newModel: func(k classify.Kind, path string) (classify.Model, error) {
					m, err := classify.New(k, path)
					if err != nil || m.Info().Missing {
						return m, err
					}
					return modeltest.Missing(m, 1), nil
				}}
			err := runEnv(context.Background(), args, e)
			switch code := exitCode(err, &stderr); code {
			case 0, 1, 3:
			default:
				t.Fatalf("classify %v on %q: exit %d: %s", args, in, code, stderr.String())
			}
		}
	})
}
