package rollout_test

import (
	"errors"
	"fmt"
	"log"

	"github.com/ml-production-service/classify"
	"github.com/ml-production-service/classify/models"
	"github.com/ml-production-service/classify/rollout"
)

// A canary: 10% of the clients, chosen by a hash of their id, reach the
// xgboost variant; a reload promotes it to all traffic at once.
func Example() {
	reg, err := classify.OpenRegistry(models.FS)
	if err != nil {
		log.Fatal(err)
	}
	split, err := rollout.ParseSplit("decision_tree=90,xgboost=10")
	if err != nil {
		log.Fatal(err)
	}
	router, err := rollout.LoadRouter(split, reg.Load, nil) // loaded and warmed up
	if err != nil {
		log.Fatal(err)
	}
	row := []float64{6.3, 3.3, 6.0, 2.5}
	for _, client := range []string{"client-1", "client-5"} {
		v := router.Route(client, 0) // by key: the random number is not used
		p, err := v.Model().Predict(row, nil)
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(client, "->", v.Name, p.Label)
	}

	promoted, err := rollout.ParseSplit("decision_tree=0,xgboost=100")
	if err != nil {
		log.Fatal(err)
	}
	if _, err := router.Reload(promoted, reg.Load, nil); err != nil {
		log.Fatal(err)
	}
	fmt.Println(router.Split(), "client-1 ->", router.Route("client-1", 0).Name)
	// Output:
	// client-1 -> decision_tree virginica
	// client-5 -> xgboost virginica
	// decision_tree=0,xgboost=100 client-1 -> xgboost
}

// A reload that fails keeps the serving model, and says why.
func ExampleLive_Reload() {
	reg, err := classify.OpenRegistry(models.FS)
	if err != nil {
		log.Fatal(err)
	}
	live := rollout.NewLive(classify.IrisRules())
	m, err := live.Reload(func() (classify.Model, error) { return reg.Load("random_forest") }, nil)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("serving", m.Info().Kind)

	_, err = live.Reload(func() (classify.Model, error) { return reg.Load("svm") }, nil)
	var re *rollout.ReloadError
	if errors.As(err, &re) {
		fmt.Println(re.Phase, errors.Is(err, classify.ErrNotFound))
	}
	fmt.Println("serving", live.Model().Info().Kind)
	// Output:
	// serving random_forest
	// load true
	// serving random_forest
}

// A canary: 10% of clients, chosen by a hash of their id, reach xgboost.
func ExampleSplit_ForKey() {
	split, err := rollout.ParseSplit("decision_tree=90,xgboost=10")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(split)
	for _, client := range []string{"alice", "bob", "carol"} {
		fmt.Println(client, "->", split.ForKey(client).Name) // the same in every process
	}
	// Output:
	// decision_tree=90,xgboost=10
	// alice -> decision_tree
	// bob -> decision_tree
	// carol -> decision_tree
}
