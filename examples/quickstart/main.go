// Command quickstart is the README's library example, kept here so that a test
// runs it and another checks that the README shows this very file.
package main

import (
	"fmt"
	"log"

	"github.com/ml-production-service/classify"
	"github.com/ml-production-service/classify/models"
)

func main() {
	reg, err := classify.OpenRegistry(models.FS) // the embedded production registry
	if err != nil {
		log.Fatal(err)
	}
	m, err := reg.Load("random_forest") // sha256 verified before parsing
	if err != nil {
		log.Fatal(err)
	}
	proba := make([]float64, len(m.Info().Classes)) // reuse it: Predict then allocates nothing
	p, err := m.Predict([]float64{6.3, 3.3, 6.0, 2.5}, proba)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(p.Label, m.Info().Classes, p.Probabilities)
}
