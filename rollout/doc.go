// Package rollout serves several models of package classify and changes
// them safely while requests go on: a hot swap of the serving model, a
// weighted split for A/B tests and canaries, and shadow traffic to a
// challenger. It is the machinery between a classify.Model and a server;
// it imports the root package only, not net/http, and a program that serves
// a single fixed model does not need it.
//
// # The types
//
//   - Live holds one serving model. Swap replaces it atomically; Reload
//     replaces it only with a model that proved itself (it loaded, takes
//     the serving model's features and answered a warm-up prediction).
//   - Split assigns requests to named arms by integer weight: by a hash of a
//     key (a client id), so a client stays in its arm across requests,
//     restarts and replicas, or by a random number for keyless requests.
//   - Router serves one model per arm of a Split. Route picks a request's
//     Variant; Reload replaces every variant's model, and the split, at
//     once or not at all.
//   - Shadow sends a share of requests to a challenger model off the
//     response path and reports whether it agreed with the answer given.
//   - ReloadError says which variant failed to reload and in which phase
//     (PhaseLoad, PhaseFeatures, PhaseWarmup).
//
// # Which call to use
//
// A program serving one model at a time wants a Live, and Live.Reload on
// its reload trigger (a signal, a watch of the registry):
//
//	live := rollout.NewLive(m)
//	...
//	_, err := live.Reload(func() (classify.Model, error) { return reg.Load("xgboost") }, nil)
//
// A program serving variants under a split wants LoadRouter, Route on each
// request and Router.Reload to change the models or the split:
//
//	split, err := rollout.ParseSplit("decision_tree=90,xgboost=10")
//	router, err := rollout.LoadRouter(split, reg.Load, nil)
//	p, err := router.Route(clientID, rand.Float64()).Model().Predict(row, proba)
//
// # Concurrency
//
// Live, Split, Router and Shadow are safe for concurrent use. A reader
// never sees a model half swapped in: Live.Model returns the old model or
// the new one, whole. A Router's state is a Table that never changes once published; Reload and
// Swap publish a new one, so a reader that takes the Table once sees one
// generation of every variant, never old and new models side by side.
// Reloads are serialised, and fail whole: on any error the old models and
// split keep serving. Route allocates nothing and takes no lock.
// Shadow.Observe never blocks the caller: the challenger runs on its own
// goroutine, a bounded number at a time, and a request that finds none free
// is not shadowed.
//
// The router owns its models: a Variant gives its name, weight and model,
// not a way to replace the model, so every change goes through the
// router's Reload or Swap and its lock. A Live belongs to whoever made it
// (a Shadow's challenger, say), and its Swap and Reload are the owner's to
// call.
package rollout
