// Command bare is the load benchmark's baseline: a net/http handler that
// decodes the same /predict JSON with encoding/json and answers a fixed
// prediction, with no validation, model, metrics or logs. run.sh drives it
// and cmd/serve with the same load.
package main

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
)

type request struct {
	SepalLength float64 `json:"sepal_length"`
	SepalWidth  float64 `json:"sepal_width"`
	PetalLength float64 `json:"petal_length"`
	PetalWidth  float64 `json:"petal_width"`
}

func main() {
	addr := "127.0.0.1:0"
	if len(os.Args) > 1 {
		addr = os.Args[1]
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		fmt.Fprintln(os.Stderr, "bare:", err)
		os.Exit(1)
	}
	fmt.Println(ln.Addr().String())
	mux := http.NewServeMux()
	mux.HandleFunc("POST /predict", func(w http.ResponseWriter, r *http.Request) {
		var req request
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
			http.Error(w, `{"detail":"bad request"}`, http.StatusUnprocessableEntity)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"prediction":"setosa"}`))
	})
	if err := http.Serve(ln, mux); err != nil {
		fmt.Fprintln(os.Stderr, "bare:", err)
		os.Exit(1)
	}
}
