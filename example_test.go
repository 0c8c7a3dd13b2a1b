package classify_test

import (
	"errors"
	"fmt"
	"log"

	"github.com/ml-production-service/classify"
	"github.com/ml-production-service/classify/models"
)

// The built-in Iris rules need no file.
func ExampleNew() {
	m, err := classify.New(classify.Heuristic, "")
	if err != nil {
		log.Fatal(err)
	}
	proba := make([]float64, len(m.Info().Classes)) // reused: Predict then allocates nothing
	p, err := m.Predict([]float64{5.1, 3.5, 1.4, 0.2}, proba)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(p.Label, p.Probabilities)
	// Output: setosa [1 0 0]
}

// Production models load from the embedded registry, checksum verified.
func ExampleRegistry_Load() {
	reg, err := classify.OpenRegistry(models.FS)
	if err != nil {
		log.Fatal(err)
	}
	m, err := reg.Load("random_forest")
	if err != nil {
		log.Fatal(err)
	}
	info := m.Info()
	p, err := m.Predict([]float64{6.3, 3.3, 6.0, 2.5}, nil)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(info.Kind, info.Features)
	fmt.Printf("%s %.2f\n", p.Label, p.Probabilities)
	// Output:
	// random_forest [sepal_length sepal_width petal_length petal_width]
	// virginica [0.00 0.00 1.00]
}

// Named values are mapped through the model's schema; mismatches are
// reported all at once.
func ExamplePredictNamed() {
	m := classify.IrisRules()
	_, err := classify.PredictNamed(m, map[string]float64{"sepal_length": 5.1, "petal_len": 1.4}, nil)
	var fe *classify.FeatureError
	if errors.As(err, &fe) {
		fmt.Println("missing:", fe.Missing)
		fmt.Println("unknown:", fe.Unknown)
	}
	// Output:
	// missing: [sepal_width petal_length petal_width]
	// unknown: [petal_len]
}

// A decision tree explains its answer with the path the row took.
func ExampleTree_Explain() {
	reg, err := classify.OpenRegistry(models.FS)
	if err != nil {
		log.Fatal(err)
	}
	m, err := reg.Load("decision_tree")
	if err != nil {
		log.Fatal(err)
	}
	ex, err := m.(classify.Explainer).Explain([]float64{5.1, 3.5, 1.4, 0.2})
	if err != nil {
		log.Fatal(err)
	}
	for _, s := range ex.Path {
		fmt.Printf("%s=%v <= %.3f: %v\n", s.Feature, s.Value, s.Threshold, s.Left)
	}
	fmt.Println(ex.Prediction.Label)
	// Output:
	// petal_length=1.4 <= 2.450: true
	// setosa
}
