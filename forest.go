package classify

import "io"

// Forest is a scikit-learn RandomForestClassifier, loaded from a
// classify/sklearn-trees dump. Its probabilities are the mean of its trees'
// normalised leaf class distributions, summed in tree order as
// scikit-learn sums them.
//
// A Forest is immutable after loading and safe for concurrent use.
type Forest struct {
	info Info
	e    flatTrees
}

// LoadRandomForest reads a random forest dump.
func LoadRandomForest(r io.Reader) (*Forest, error) {
	info, e, err := loadTrees(r, RandomForest)
	if err != nil {
		return nil, err
	}
	return &Forest{info: info, e: e}, nil
}

// Info implements Model.
func (m *Forest) Info() Info { return m.info }

// Trees returns the number of trees in the forest.
func (m *Forest) Trees() int { return m.e.ens.Trees() }

// Predict implements Model.
func (m *Forest) Predict(row []float64, proba []float64) (Prediction, error) {
	nan, ok := m.e.row(row)
	if !ok {
		return Prediction{}, rowError(row, m.e.nf, true, m.e.missing)
	}
	p := probaBuffer(proba, m.e.k)
	m.e.ens.Predict(row, p, nan)
	c := argmax(p)
	return Prediction{Class: c, Label: m.info.Classes[c], Probabilities: p}, nil
}

// PredictBatch implements Model.
func (m *Forest) PredictBatch(rows []float64, classes []int, proba []float64) error {
	return m.e.batch(rows, classes, proba, "", nil) // the arg max of the mean
}
