// Command batch scores a CSV of Iris flowers with one production model in a
// single PredictBatch call and reports its accuracy against the CSV's
// species column.
//
//	go run ./examples/batch [-model random_forest] [-csv research/data/iris.csv]
package main

import (
	"encoding/csv"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"os"
	"slices"
	"strconv"

	"github.com/ml-production-service/classify"
	"github.com/ml-production-service/classify/models"
)

func main() {
	name := flag.String("model", "random_forest", "production model to score with")
	path := flag.String("csv", "research/data/iris.csv", "CSV with a header naming the model's features and a species column")
	flag.Parse()
	if err := run(os.Stdout, *name, *path); err != nil {
		log.Fatal(err)
	}
}

func run(w io.Writer, name, path string) error {
	reg, err := classify.OpenRegistry(models.FS)
	if err != nil {
		return err
	}
	m, err := reg.Load(name)
	if err != nil {
		return err
	}
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		return err
	}
	if len(recs) < 2 {
		return errors.New("batch: the CSV has no rows")
	}
	// Columns are found by name, so their order in the file does not matter.
	header, info := recs[0], m.Info()
	cols := make([]int, len(info.Features))
	for i, feat := range info.Features {
		if cols[i] = slices.Index(header, feat); cols[i] < 0 {
			return fmt.Errorf("batch: %s has no column %q", path, feat)
		}
	}
	label := slices.Index(header, "species")
	rows := make([]float64, 0, (len(recs)-1)*len(cols))
	for line, rec := range recs[1:] {
		for _, c := range cols {
			v, err := strconv.ParseFloat(rec[c], 64)
			if err != nil {
				return fmt.Errorf("batch: %s line %d: %v", path, line+2, err)
			}
			rows = append(rows, v)
		}
	}
	classes := make([]int, len(recs)-1)
	if err := m.PredictBatch(rows, classes, nil); err != nil {
		return err
	}
	correct := 0
	for i, c := range classes {
		if label >= 0 && info.Classes[c] == recs[i+1][label] {
			correct++
		}
	}
	fmt.Fprintf(w, "%s v%s scored %d rows", name, info.Version, len(classes))
	if label >= 0 {
		fmt.Fprintf(w, ": %d correct (%.1f%% training accuracy)", correct, 100*float64(correct)/float64(len(classes)))
	}
	fmt.Fprintln(w)
	return nil
}
