// Command mount is an existing net/http service that mounts the classify
// API under /classify/ beside a route of its own, with its own Prometheus
// registry and logger. The README shows this file; a test runs it.
package main

import (
	"fmt"
	"log"
	"log/slog"
	"net/http"
	"os"

	"github.com/ml-production-service/classify"
	"github.com/ml-production-service/classify/classifyhttp"
	"github.com/ml-production-service/classify/models"
	"github.com/ml-production-service/classify/rollout"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// newService returns the service's routes: its own /hello and /metrics,
// and the classify API under /classify/.
func newService(logger *slog.Logger, metrics *prometheus.Registry) (http.Handler, error) {
	reg, err := classify.OpenRegistry(models.FS) // or your own registry directory
	if err != nil {
		return nil, err
	}
	m, err := reg.Load("random_forest")
	if err != nil {
		return nil, err
	}
	split, err := rollout.NewSplit([]rollout.Arm{{Name: "random_forest", Weight: 1}})
	if err != nil {
		return nil, err
	}
	router, err := rollout.NewRouter(split, map[string]classify.Model{"random_forest": m})
	if err != nil {
		return nil, err
	}
	api, err := classifyhttp.New(router, classifyhttp.Options{
		Prefix:     "/classify", // /classify/predict, /classify/docs, ...
		Logger:     logger,
		Registerer: metrics, // the service's registry, served below at /metrics
		Catalog:    &classifyhttp.Catalog{Registry: reg},
	})
	if err != nil {
		return nil, err
	}

	mux := http.NewServeMux()
	mux.HandleFunc("GET /hello", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintln(w, "hello from the service")
	})
	mux.Handle("GET /metrics", promhttp.HandlerFor(metrics, promhttp.HandlerOpts{}))
	mux.Handle("/classify/", api)
	return mux, nil
}

func main() {
	logger := slog.New(slog.NewJSONHandler(os.Stdout, nil))
	h, err := newService(logger, prometheus.NewRegistry())
	if err != nil {
		log.Fatal(err)
	}
	log.Fatal(http.ListenAndServe("localhost:8080", h))
}
