// Command registry loads every production model from the embedded registry,
// verifying its checksum, and classifies one flower with each.
//
//	go run ./examples/registry
package main

import (
	"fmt"
	"io"
	"log"
	"os"

	"github.com/ml-production-service/classify"
	"github.com/ml-production-service/classify/models"
)

func main() {
	if err := run(os.Stdout); err != nil {
		log.Fatal(err)
	}
}

func run(w io.Writer) error {
	reg, err := classify.OpenRegistry(models.FS)
	if err != nil {
		return err
	}
	row := []float64{5.9, 3.0, 5.1, 1.8} // sepal length, sepal width, petal length, petal width
	for _, e := range reg.Manifest().Models {
		m, err := reg.Load(e.Name)
		if err != nil {
			return err
		}
		p, err := m.Predict(row, nil)
		if err != nil {
			return err
		}
		fmt.Fprintf(w, "%-14s v%-6s %-10s", e.Name, m.Info().Version, p.Label)
		for i, c := range m.Info().Classes {
			fmt.Fprintf(w, " %s=%.3f", c, p.Probabilities[i])
		}
		fmt.Fprintln(w)
	}
	return nil
}
