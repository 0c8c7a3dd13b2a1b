// Package classifyhttp serves models of package classify over HTTP: New
// turns the variants of a rollout.Router into an http.Handler that answers
// the drop-in API of the Python FastAPI service (the same paths, request
// and response shapes, status codes), the Open Inference Protocol, its
// OpenAPI document and interactive docs, Prometheus metrics and an admin
// reload endpoint. Any mux mounts it beside the caller's own routes;
// cmd/serve is a process around it.
//
// The name follows promhttp and otelhttp: the HTTP face of package
// classify, imported beside it, and not "server" or "api", which say
// nothing once imported. It lives in a package of its own so that a
// program importing only package classify does not pull in net/http or
// Prometheus.
//
// # Using it
//
// Serve one model:
//
//	m, err := reg.Load("random_forest")
//	split, err := rollout.NewSplit([]rollout.Arm{{Name: "random_forest", Weight: 1}})
//	router, err := rollout.NewRouter(split, map[string]classify.Model{"random_forest": m})
//	h, err := classifyhttp.New(router, classifyhttp.Options{Prefix: "/classify", Registerer: metrics, Logger: logger})
//	mux.Handle("/classify/", h)
//
// Options' zero value works: no logs, no metrics, no admin endpoints, no
// reloads, the API at the root. Logger (nil: no logs) gets one INFO line
// per request; Registerer (nil: no metrics) gets the mps_* collectors, and
// Gatherer, when set, is served at GET /metrics (cmd/serve sets both; a
// service that already exposes its registry leaves Gatherer nil). Prefix
// mounts the API under a path, with the docs pages and the OpenAPI
// document's server following it. New returns an error, never panics.
//
// Reloads go through the Handler: Reload re-opens Options.Source and swaps
// every variant's model (and the split, when given) at once or not at all;
// ReloadIfChanged does so only when the Source's Fingerprint changed, for a
// watch; POST /admin/reload (with Options.AdminToken) calls the same. Drain
// makes /ready answer 503 before a graceful shutdown.
//
// # Concurrency
//
// A Handler is safe for concurrent use: requests, reloads and Drain may
// run at once. A request is answered whole by the model its variant held
// when it started; reloads are serialised.
//
// # Endpoints
//
//	POST /predict          one row of named features → {"prediction": "setosa", "probabilities": {...}, "model": {...}}
//	POST /predict/batch    {"instances": [row, ...]} (1 to 1000 rows) → one result per row, in order
//	GET  /health           {"status": "healthy"} while the process runs
//	GET  /ready            200 while every variant has a model; 503 otherwise and while shutting down
//	GET  /models           the serving models (one per variant, and the shadow): kind, name, version, features, classes, metrics, missing_values;
//	                       for a tree model also contributions (its raw outputs) and importance (splits and gain per feature)
//	POST /models/{name}/importance   {"instances": [row, ...]} → mean |contribution| per output and feature, and the importances
//	POST /admin/reload     reload the models, optionally with a new split (only with MPS_ADMIN_TOKEN)
//	GET  /metrics          Prometheus metrics
//	GET  /openapi.json     the OpenAPI 3.0 description (features and classes of the serving model)
//	GET  /docs, /redoc     Swagger UI and ReDoc, their assets embedded (no CDN)
//	GET  /models/{name}/page            a tree model's page: importances and trees (HTML, nothing loaded from elsewhere)
//	GET  /models/{name}/trees/{i}.svg   tree i as SVG; .dot as Graphviz DOT (package treeviz draws both)
//	GET  /v2/health/live, /v2/health/ready, /v2
//	GET  /v2/models/{name}[/versions/{version}][/ready]
//	POST /v2/models/{name}[/versions/{version}]/infer   Open Inference Protocol (KServe V2 REST)
//
// Feature names come from the serving model's schema (Info().Features), so
// a model with other features serves too.
//
// # Compatibility with the Python service
//
// Request bodies are read as FastAPI read them: a body with no content type
// or a JSON one is parsed with Python's json rules (NaN and Infinity are
// numbers, a repeated key keeps its last value) and malformed JSON is
// answered with Python's message and position. Fields are validated as the
// old pydantic v1 model did: numbers, numeric strings ("5.1") and booleans
// are floats, every value must be greater than 0 (Options.AllowNonPositive turns
// this off), unknown fields are ignored, and errors answer 422 with
// {"detail": [{"loc": ["body", field], "msg": ..., "type": ...}]}. Other
// errors are JSON too: {"detail": "Not Found"} (404), "Method Not Allowed"
// (405), "Request body too large" (413, bodies over 1 MiB). The exceptions
// are the answers net/http gives before any handler runs, which are plain
// text and cannot be changed from a handler: 431 for headers over the
// limit, 400 for a malformed request line or header. Added answers
// the old service did not give: infinities and values beyond float32 are
// refused with 422 (value_error.number.not_finite_number, not_le) where the
// old service failed with 500; a model that takes missing values answers
// 200 for null and NaN (see Missing values), which the old service refused.
//
// # Missing values
//
// A model whose Info().Missing is set (every XGBoost model, and
// scikit-learn trees exported with their missing-value directions) takes a
// missing value for a feature and routes it as its reference library does.
// In the embedded production registry every model takes them but the
// heuristic, whose rules refuse them.
// In /predict and /predict/batch a missing value is a feature given as
// null, as Python's NaN literal, or as a string holding NaN ("NaN", "nan");
// it is exempt from the greater-than-0 rule. A feature left out is still
// "field required": write null. Infinities are never missing values. For a
// model without missing values nothing changed: null answers 422
// type_error.none.not_allowed and NaN value_error.number.not_gt (or
// not_finite_number with -allow-non-positive), as the old service did. Under
// /v2, null or NaN in an FP32 or FP64 input's data is a missing value for a
// model that takes them and answers 400 naming the element otherwise. GET
// /models says per model whether it takes them ("missing_values"), and the
// OpenAPI document marks the /predict features nullable when every variant
// takes them, and lists per variant whether it does.
//
// When the variants of a split differ, the variant that answers decides: a
// row with a missing value gets 200 from one that takes them and 422 from
// one that does not (in a batch, that row's error in place), so a client
// with a sticky key always gets the same answer, and one without may get
// either. Under /v2 each variant is addressed by name and answers for itself.
// A shadow model that takes no missing values refuses the shadowed rows
// that hold one: they are counted as result="error" in
// mps_shadow_predictions_total, and the primary's answer is untouched.
//
// # Batches
//
// POST /predict/batch takes {"instances": [...]}, not a bare array. It
// answers 200 with {"predictions": [...], "errors": n, "model": {...}}:
// each element is {"prediction", "probabilities"} or, for a row that failed
// validation, {"detail": [...]} with locations ["body", "instances", i,
// field]. An envelope that is not such an object, or has 0 or more than
// 1000 rows, answers 422.
//
// # Contributions
//
// A tree model (one that implements classify.Contributor: every kind but
// the heuristic) explains a prediction by each feature's TreeSHAP
// contribution to each of its raw outputs: the class probabilities of a
// decision tree or random forest, the margins (before the link function)
// of a boosted model, whose binary form has one output, its positive
// class. They are computed only when asked for, so answers are byte for
// byte what they were for a client that does not ask:
//
//	POST /predict?contributions=true
//	POST /predict/batch?contributions=true   or   {"instances": [...], "contributions": true}
//
// (the /predict body is the row, whose keys are feature names, so it takes
// no such field; the parameter reads booleans as pydantic does: true, 1,
// yes, on and their opposites). Each answered row then holds, after
// "probabilities":
//
//	"contributions":  {"setosa": {"sepal_length": 0.0, "petal_length": 0.41, ...}, "versicolor": {...}, ...},
//	"expected_value": {"setosa": 0.33, ...},   the bias: the model's mean raw output over its training data
//	"raw_output":     {"setosa": 1.0, ...}     expected_value plus the row's contributions
//
// keyed by output (class label) and feature, in the model's order. For a
// decision tree or forest raw_output is the probability (within
// rounding); for a boosted model it is the margin. GET /models says which
// ("contributions": {"outputs": [...], "raw_output": "probability" or
// "margin"}). A row that fails validation in a batch gets its "detail" and
// no contributions. The split picks the variant as for any request, and
// the contributions are that variant's model's: the shadow model is never
// asked for them. Asking a model that is not a Contributor answers 422
// {"detail": [{"loc": ["query", "contributions"] (or ["body",
// "contributions"]), "msg": "model \"heuristic\" (heuristic) cannot explain
// contributions: ...", "type": "value_error.contributions.unsupported"}]};
// a tree artifact that cannot explain (an old scikit-learn dump without
// node covers: the library's error wraps classify.ErrFormat) answers 422
// type "value_error.contributions.unavailable" with the library's message,
// and the server keeps serving. mps_contributions_rows_total{variant,
// model} counts the rows explained.
//
// Under /v2, a request listing the output "contributions" (or with the
// parameter {"contributions": true}, which adds it to the outputs asked
// for) gets an FP64 tensor "contributions" of shape [N, outputs,
// features+1], the bias last on its third axis, whose parameters name the
// axes: "outputs" and "features" (JSON arrays in strings, "bias" last) and
// "raw_output". The binary tensor extension carries it as it carries
// "probabilities"; GET /v2/models/{name} lists it among the outputs of a
// model that has it; a model that cannot explain answers 400. gRPC's
// ModelInfer (package classifygrpc) answers the same tensor.
//
// POST /models/{name}/importance (name: a variant's or its model's name)
// takes the /predict/batch envelope and answers, over its rows,
// {"rows", "raw_output", "mean_abs_contributions": {output: {feature:
// mean |contribution|}}, "expected_value", "importance", "model"}:
// "importance" is the library's own view ({"gain_kind", "splits":
// {feature: n}, "gain": {feature: g}}), also in GET /models. Every row
// must be valid: a mean over the rows that happened to validate would
// mislead, so one invalid row answers 422 listing every row's errors.
//
// # Open Inference Protocol
//
// The model's name in the path is the serving model's name (its registry
// name, or its kind when loaded from a file). An infer request carries one
// input tensor, FP32 or FP64, of shape [N, features] with N up to 1000 and
// its data flat (N*features numbers, row-major) or nested exactly as the
// shape is (N arrays of features numbers); any other nesting answers 400
// saying what is wrong. The answer holds the output "label"
// (BYTES, shape [N]) by default; listing outputs in the request selects
// them, and "probabilities" (FP64, shape [N, classes], columns in class
// order) must be asked for. Errors answer {"error": "..."}: 400 for a
// request or tensor that is not valid, 404 for a model, version or path
// not served, 405 for a method the route does not take, 413 for a body
// over the limit, 500 for a prediction that failed (or a panic), 503 when
// no model is loaded.
//
// The binary tensor data extension (GET /v2 lists "binary_tensor_data"),
// which Triton's HTTP client uses by default, is spoken too: with the
// header Inference-Header-Content-Length, the body is that many bytes of
// JSON followed by the input's values (an input with parameters
// {"binary_data_size": bytes} and no data; little-endian FP32 or FP64,
// row-major). An output asked for with parameters {"binary_data": true},
// or every output when the request's parameters hold
// {"binary_data_output": true}, is answered the same way: its JSON carries
// binary_data_size instead of data, the bytes follow the JSON (a BYTES
// tensor as each label's 4-byte little-endian length and bytes), the
// answer's Content-Type is application/octet-stream and its
// Inference-Header-Content-Length the JSON's length.
//
// The protocol's model side is also exported, independent of HTTP:
// Handler.ServerMetadata, ModelMetadata, ModelReady, Ready and Infer (with
// typed FP32/FP64 values or little-endian raw bytes), whose errors are
// *InferError carrying the status above. Package classifygrpc (module
// .../classify/classifygrpc) serves them over gRPC, so both transports
// answer the same models with the same limits, errors and metrics.
//
// # Tracing
//
// The handler creates no spans: wrap it in otelhttp (cmd/serve does when
// the OTEL_* variables configure an exporter). When the request's context
// holds a recording span, the handler sets on it the model that answered:
// classify.model, classify.variant and classify.model_version; and the
// request's log line carries the span's trace_id. Infer, ModelMetadata and
// ModelReady do the same with the caller's context. Without a recording
// span this costs a context lookup and allocates nothing.
//
// # Payload log
//
// Options.PayloadLog (OpenPayloadLog) receives a sample of every predicted
// row, from every endpoint and from Infer, as JSON Lines for drift
// analysis, written off the response path through a bounded queue that
// drops (and counts) rather than blocks, rotated by size; see PayloadLog.
//
// # A/B splits, shadow traffic, reloads and metrics
//
// The Router's split decides which variant answers: a request with the
// header X-Client-ID (Options.SplitHeader names another) goes to the
// variant its key hashes to, the same on every request, replica and
// restart while the weights are the same; a request without a key is split
// at random by weight (Options.Rand). A batch goes whole to one variant.
// Every answer names its variant and model version in the headers
// X-Model-Variant and X-Model-Version, and /predict and /predict/batch
// also in the body's "model" object, {"kind", "name", "version",
// "variant"}. Under /v2 the split does not apply: /v2/models/{name}
// addresses each variant by its variant name (or its model's name).
//
// With Options.Challenger, a share of the answered rows
// (Options.ShadowFraction) is also given to the challenger off the
// response path, at most 64 at a time; a row that finds them all busy is
// dropped (mps_shadow_dropped_total). Each result is counted in
// mps_shadow_predictions_total{variant, primary, challenger, result} and
// logged at DEBUG.
//
// The admin endpoints exist only with Options.AdminToken (otherwise 404,
// as any unknown path) and then need "Authorization: Bearer <token>"
// (compared in constant time; 401 without it or with another). POST
// /admin/reload takes no body, or {"model_type": "<split>"} to change the
// split as it reloads; it answers 200 {"status": "reloaded", "trigger",
// "split", "variants", "shadow"}, 500 with "status": "failed" and "error",
// or 422 {"detail": "..."} for a body or split it cannot use (nothing
// changes). A failed reload is logged ("reload failed", at ERROR) and
// counted in mps_model_reloads_total{trigger, target, result, reason}.
//
// Besides request counts and latencies (mps_http_requests_total,
// mps_http_request_duration_seconds, labelled by route, method, status,
// model and variant), mps_http_requests_in_flight and
// mps_predictions_total{variant, model, class}: mps_model_info{role,
// variant, name, kind, version} is 1 for each model serving now,
// mps_split_weight{variant} holds the split in force.
//
// Every request gets an X-Request-ID (taken from the request when it holds
// up to 128 printable characters, generated otherwise, and echoed back), a
// body limit (Options.MaxBodyBytes, 413 beyond it) and recovery from
// panics (500 in JSON; the handler keeps serving).
package classifyhttp
