package classifyhttp

import (
	"bytes"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/ml-production-service/classify"
	"github.com/ml-production-service/classify/treeviz"
)

// Pictures of the tree models (issue 12), drawn by package treeviz:
//
//	GET /models/{name}/page             one HTML page: importances and the first trees (text/html)
//	GET /models/{name}/trees/{i}.svg    tree i as SVG (image/svg+xml)
//	GET /models/{name}/trees/{i}.dot    tree i as Graphviz DOT (text/vnd.graphviz)
//
// {name} is what /v2/models/{name} takes: a variant's name, or a served
// model's name (the first variant serving it); the shadow model is
// addressed by its model name. The page links each tree by a relative
// URL (trees/{i}.svg), so it works under a prefix too. Errors are the
// API's {"detail": ...}: 404 for a model not served, one without trees
// (the heuristic rules) and a tree index out of range or an unknown
// format; 400 for an index that is not a number from 0 (written without
// leading zeros); 503 when no model is
// loaded. GET /models gives each tree model's page as "page".

// pictureCSP: the pictures and the page load nothing and run no script;
// the page's style is inline.
const pictureCSP = "default-src 'none'; style-src 'unsafe-inline'; img-src 'self'"

// routeTrees registers the picture endpoints.
func (h *Handler) routeTrees(mux *http.ServeMux) {
	mux.HandleFunc("GET /models/{name}/page", h.handleTreePage)
	mux.HandleFunc("GET /models/{name}/trees/{file}", h.handleTree)
}

// treeModel returns the tree model name addresses (h.lookup's rule, and
// the shadow model by its model name), or answers the error and returns
// nil.
func (h *Handler) treeModel(w http.ResponseWriter, r *http.Request) (classify.TreeModel, string) {
	name := r.PathValue("name")
	var m classify.Model
	c, err := h.lookup(name, "")
	var ie *InferError
	switch ch := h.view().challenger; {
	case err == nil:
		m = c.model
	case errors.As(err, &ie) && ie.Status == http.StatusNotFound && ch != nil && modelName(ch.Info()) == name:
		m = ch
	case ie != nil:
		writeDetail(w, ie.Status, ie.Message)
		return nil, ""
	default:
		writeStatusError(w, r.URL.Path, http.StatusInternalServerError)
		return nil, ""
	}
	tm, ok := m.(classify.TreeModel)
	if !ok {
		writeDetail(w, http.StatusNotFound, fmt.Sprintf("model %q (%s) has no trees to draw", name, m.Info().Kind))
		return nil, ""
	}
	return tm, name
}

func (h *Handler) handleTreePage(w http.ResponseWriter, r *http.Request) {
	m, name := h.treeModel(w, r)
	if m == nil {
		return
	}
	var b bytes.Buffer
	if err := treeviz.Page(&b, m, name); err != nil {
		h.log.Error("tree page", "model", name, "error", err.Error())
		writeDetail(w, http.StatusInternalServerError, "Internal Server Error")
		return
	}
	writePicture(w, "text/html; charset=utf-8", b.Bytes())
}

func (h *Handler) handleTree(w http.ResponseWriter, r *http.Request) {
	m, name := h.treeModel(w, r)
	if m == nil {
		return
	}
	file := r.PathValue("file")
	index, format, _ := strings.Cut(file, ".")
	i, err := strconv.Atoi(index)
	if err != nil || i < 0 || index != strconv.Itoa(i) {
		writeDetail(w, http.StatusBadRequest, fmt.Sprintf("%q is not a tree: want {index}.svg or {index}.dot, index a number from 0", file))
		return
	}
	if n := m.Trees(); i >= n {
		writeDetail(w, http.StatusNotFound, fmt.Sprintf("model %q has no tree %d: its trees are 0 to %d", name, i, n-1))
		return
	}
	draw, contentType := treeviz.SVG, "image/svg+xml"
	switch format {
	case "svg":
	case "dot":
		draw, contentType = treeviz.DOT, "text/vnd.graphviz; charset=utf-8"
	default:
		writeDetail(w, http.StatusNotFound, fmt.Sprintf("no format %q: want %d.svg or %d.dot", format, i, i))
		return
	}
	var b bytes.Buffer
	if err := draw(&b, m, i); err != nil {
		h.log.Error("tree picture", "model", name, "tree", i, "error", err.Error())
		writeDetail(w, http.StatusInternalServerError, "Internal Server Error")
		return
	}
	writePicture(w, contentType, b.Bytes())
}

func writePicture(w http.ResponseWriter, contentType string, body []byte) {
	hd := w.Header()
	hd.Set("Content-Type", contentType)
	hd.Set("Content-Security-Policy", pictureCSP)
	hd.Set("X-Content-Type-Options", "nosniff")
	_, _ = w.Write(body)
}

// treePage returns the address of m's page under variant (or model) name
// for GET /models, "" for a model without trees.
func (h *Handler) treePage(name string, m classify.Model) string {
	if _, ok := m.(classify.TreeModel); !ok {
		return ""
	}
	return h.opts.Prefix + "/models/" + url.PathEscape(name) + "/page"
}

// treeDoc adds the picture endpoints to the OpenAPI document's paths, and
// GET /models' page to its ModelInfo schema.
func treeDoc(paths, schemas map[string]any) {
	type obj = map[string]any
	if info, ok := schemas["ModelInfo"].(obj); ok {
		if props, ok := info["properties"].(obj); ok {
			props["page"] = obj{"type": "string", "description": "A tree model's page (GET /models/{name}/page): its importances and trees. Absent for the heuristic rules."}
		}
	}
	detail := func(desc string) obj {
		return obj{"description": desc, "content": obj{jsonType: obj{"schema": obj{"$ref": "#/components/schemas/HTTPError"}}}}
	}
	text := func(desc, contentType string) obj {
		return obj{"description": desc, "content": obj{contentType: obj{"schema": obj{"type": "string"}}}}
	}
	name := obj{"name": "name", "in": "path", "required": true, "schema": obj{"type": "string"},
		"description": "A variant's name, or a served model's name (GET /models)."}
	tags := []string{"trees"}
	paths["/models/{name}/page"] = obj{"get": obj{"summary": "Model page: importances and trees", "operationId": "tree_page", "tags": tags,
		"description": "One self-contained HTML page (no script, nothing loaded from elsewhere): the model's split and gain importances as bar charts, " +
			"its first trees drawn inline, links to the others.",
		"parameters": []any{name},
		"responses": obj{"200": text("The page.", "text/html"), "404": detail("No such model, or a model without trees (the heuristic rules)."),
			"503": detail("No model is loaded.")}}}
	for _, f := range []struct{ ext, contentType, what string }{
		{"svg", "image/svg+xml", "SVG, laid out by the server"}, {"dot", "text/vnd.graphviz", "Graphviz DOT"},
	} {
		paths["/models/{name}/trees/{index}."+f.ext] = obj{"get": obj{"summary": "Tree as " + f.what, "operationId": "tree_" + f.ext, "tags": tags,
			"description": "Tree {index} (from 0) with its split conditions as the model's library decides them, yes/no and missing-value edges, " +
				"leaf values and training covers.",
			"parameters": []any{name, obj{"name": "index", "in": "path", "required": true, "schema": obj{"type": "integer", "minimum": 0}}},
			"responses": obj{"200": text("The tree.", f.contentType), "400": detail("The index is not a number."),
				"404": detail("No such model, a model without trees, or no such tree."), "503": detail("No model is loaded.")}}}
	}
}
