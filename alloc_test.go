package classify

import (
	"math"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestPredictAllocatesNothing guards the hot path: one row with a caller's
// probability buffer allocates nothing, for every kind loaded here (the
// XGBoost guard is in xgb_test.go).
func TestPredictAllocatesNothing(t *testing.T) {
	tree, err := LoadDecisionTree(strings.NewReader(dump(t, DecisionTree, smallTree())))
	require.NoError(t, err)
	forest, err := LoadRandomForest(strings.NewReader(dump(t, RandomForest, smallTree(), otherTree(), smallTree())))
	require.NoError(t, err)
	missing, err := LoadRandomForest(strings.NewReader(dumpV2(t, RandomForest, "RandomForestClassifier", missingTree(), missingTree())))
	require.NoError(t, err)
	for _, m := range []Model{IrisRules(), tree, forest, missing} {
		name := string(m.Info().Kind)
		row := []float64{6, 3, 4.5, 1.5}
		if m.Info().Missing {
			name, row[3] = name+"/missing", math.NaN() // the NaN walk
		}
		t.Run(name, func(t *testing.T) {
			proba := make([]float64, 3)
			classes := make([]int, 2)
			rows := append(append([]float64{}, row...), row...)
			allocs := testing.AllocsPerRun(100, func() {
				if _, err := m.Predict(row, proba); err != nil {
					t.Fatal(err)
				}
				if err := m.PredictBatch(rows, classes, nil); err != nil {
					t.Fatal(err)
				}
			})
			if allocs != 0 {
				t.Fatalf("Predict and PredictBatch allocate %v times per call", allocs)
			}
		})
	}
}
