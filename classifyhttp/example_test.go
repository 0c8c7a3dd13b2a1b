package classifyhttp_test

import (
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/ml-production-service/classify"
	"github.com/ml-production-service/classify/classifyhttp"
	"github.com/ml-production-service/classify/rollout"
)

// Mount the API under /classify/ beside a route of the caller's own.
func ExampleNew() {
	split, err := rollout.NewSplit([]rollout.Arm{{Name: "heuristic", Weight: 1}})
	if err != nil {
		log.Fatal(err)
	}
	router, err := rollout.NewRouter(split, map[string]classify.Model{"heuristic": classify.IrisRules()})
	if err != nil {
		log.Fatal(err)
	}
	api, err := classifyhttp.New(router, classifyhttp.Options{Prefix: "/classify"})
	if err != nil {
		log.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /hello", func(w http.ResponseWriter, r *http.Request) { fmt.Fprintln(w, "hello") })
	mux.Handle("/classify/", api)

	rec := httptest.NewRecorder()
	mux.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/classify/predict",
		strings.NewReader(`{"sepal_length": 5.1, "sepal_width": 3.5, "petal_length": 1.4, "petal_width": 0.2}`)))
	fmt.Println(rec.Code, rec.Header().Get("X-Model-Variant"))
	// Output: 200 heuristic
}
