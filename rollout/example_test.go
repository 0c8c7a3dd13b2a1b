package rollout_test

import (
	"fmt"
	"log"

	"github.com/ml-production-service/classify/rollout"
)

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
