// Command predict classifies one Iris flower in-process with the built-in
// heuristic rules, and says which rule fired.
//
//	go run ./examples/predict
package main

import (
	"fmt"
	"io"
	"log"
	"os"

	"github.com/ml-production-service/classify"
)

func main() {
	if err := run(os.Stdout); err != nil {
		log.Fatal(err)
	}
}

func run(w io.Writer) error {
	m, err := classify.New(classify.Heuristic, "") // the built-in Iris rules
	if err != nil {
		return err
	}
	flower := map[string]float64{"sepal_length": 6.3, "sepal_width": 3.3, "petal_length": 6.0, "petal_width": 2.5}
	p, err := classify.PredictNamed(m, flower, nil)
	if err != nil {
		return err
	}
	row, _ := classify.Row(m.Info(), flower, nil)
	ex, err := m.(classify.Explainer).Explain(row)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(w, "%s (rule %q)\n", p.Label, ex.Rule)
	return err
}
