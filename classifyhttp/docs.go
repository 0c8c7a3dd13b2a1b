package classifyhttp

import (
	"bytes"
	"embed"
	"fmt"
	"io/fs"
	"net/http"
)

// Interactive documentation that works offline: Swagger UI at /docs and
// ReDoc at /redoc, both reading /openapi.json, with their scripts and
// styles embedded in the binary (docs/assets; docs/README.md says which
// versions and how to refresh them). The pages load nothing from other
// origins.

//go:embed docs/assets
var docAssets embed.FS

//go:embed docs/swagger.html
var swaggerPage []byte

//go:embed docs/redoc.html
var redocPage []byte

// docsPolicy lets the pages load scripts, styles and images from this
// server only. ReDoc injects style elements and starts a worker from a
// blob, hence 'unsafe-inline' for styles and blob: for workers.
const docsPolicy = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; " +
	"img-src 'self' data:; worker-src 'self' blob:; connect-src 'self'; font-src 'self' data:"

// routeDocs serves the pages and their assets; under a prefix the pages'
// links and the scripts' URL of /openapi.json carry it.
func (h *Handler) routeDocs(mux *http.ServeMux) error {
	mux.HandleFunc("GET /openapi.json", h.handleOpenAPI)
	assets, err := fs.Sub(docAssets, "docs/assets")
	if err != nil {
		return fmt.Errorf("classifyhttp: embedded docs assets: %w", err)
	}
	files := http.StripPrefix("/docs/assets/", http.FileServerFS(assets))
	mux.Handle("GET /docs/assets/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=86400")
		files.ServeHTTP(w, r)
	}))
	swagger, redoc := swaggerPage, redocPage
	if p := h.opts.Prefix; p != "" {
		swagger = bytes.ReplaceAll(swagger, []byte(`"/docs/assets/`), []byte(`"`+p+`/docs/assets/`))
		redoc = bytes.ReplaceAll(redoc, []byte(`"/docs/assets/`), []byte(`"`+p+`/docs/assets/`))
		for _, name := range []string{"swagger-init.js", "redoc-init.js"} {
			js, err := fs.ReadFile(assets, name)
			if err != nil {
				return fmt.Errorf("classifyhttp: embedded docs assets: %w", err)
			}
			js = bytes.ReplaceAll(js, []byte(`"/openapi.json"`), []byte(`"`+p+`/openapi.json"`))
			mux.HandleFunc("GET /docs/assets/"+name, func(w http.ResponseWriter, r *http.Request) {
				h := w.Header()
				h.Set("Cache-Control", "public, max-age=86400")
				h.Set("Content-Type", "text/javascript; charset=utf-8")
				_, _ = w.Write(js)
			})
		}
	}
	mux.HandleFunc("GET /docs", htmlPage(swagger))
	mux.HandleFunc("GET /redoc", htmlPage(redoc))
	return nil
}

func htmlPage(page []byte) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Type", "text/html; charset=utf-8")
		h.Set("Content-Security-Policy", docsPolicy)
		_, _ = w.Write(page)
	}
}

func (h *Handler) handleOpenAPI(w http.ResponseWriter, r *http.Request) {
	v := h.view()
	if v.openapi == nil {
		h.noModel(w, r)
		return
	}
	writeBody(w, http.StatusOK, v.openapi)
}
