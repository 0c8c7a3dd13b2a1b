package main

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
)

func TestMount(t *testing.T) {
	var logs bytes.Buffer
	h, err := newService(slog.New(slog.NewJSONHandler(&logs, nil)), prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	defer srv.Close()
	get := func(path string) (int, string) {
		t.Helper()
		res, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, err := io.ReadAll(res.Body)
		if err != nil {
			t.Fatal(err)
		}
		return res.StatusCode, string(b)
	}

	// The service's own route.
	if code, body := get("/hello"); code != http.StatusOK || body != "hello from the service\n" {
		t.Fatalf("/hello: %d %q", code, body)
	}

	// The classify API under /classify/.
	res, err := http.Post(srv.URL+"/classify/predict", "application/json",
		strings.NewReader(`{"sepal_length": 6.3, "sepal_width": 3.3, "petal_length": 6.0, "petal_width": 2.5}`))
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(res.Body)
	res.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	if res.StatusCode != http.StatusOK {
		t.Fatalf("/classify/predict: %d %s", res.StatusCode, b)
	}
	var got, want any
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal([]byte(`{"prediction": "virginica",
		"probabilities": {"setosa": 0, "versicolor": 0, "virginica": 1},
		"model": {"kind": "random_forest", "name": "random_forest", "version": "1.0.2", "variant": "random_forest"}}`), &want); err != nil {
		t.Fatal(err)
	}
	if !jsonEqual(got, want) {
		t.Fatalf("/classify/predict answered %s", b)
	}

	// The docs and the OpenAPI document know the prefix.
	if code, body := get("/classify/docs"); code != http.StatusOK || !strings.Contains(body, `"/classify/docs/assets/swagger-ui/swagger-ui.css"`) {
		t.Fatalf("/classify/docs: %d %.200s", code, body)
	}
	if code, body := get("/classify/openapi.json"); code != http.StatusOK || !strings.Contains(body, `"servers":[{"url":"/classify"}]`) {
		t.Fatalf("/classify/openapi.json: %d %.200s", code, body)
	}

	// The request shows in the service's registry and its log.
	if code, body := get("/metrics"); code != http.StatusOK ||
		!strings.Contains(body, `mps_http_requests_total{method="POST",model="random_forest",route="/predict",status="200",variant="random_forest"} 1`) {
		t.Fatalf("/metrics: %d %s", code, body)
	}
	if !strings.Contains(logs.String(), `"msg":"request"`) || !strings.Contains(logs.String(), `"path":"/predict"`) {
		t.Fatalf("no request log line: %s", logs.String())
	}
}

func jsonEqual(a, b any) bool {
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return bytes.Equal(x, y)
}
