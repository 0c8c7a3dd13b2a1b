package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"slices"
	"strings"

	"github.com/ml-production-service/classify"
	"github.com/ml-production-service/classify/classifyhttp"
	"github.com/ml-production-service/classify/models"
	"github.com/ml-production-service/classify/rollout"
)

// newSource returns the source the configuration names. With no model path
// it is the production registry embedded in the binary; a directory path is
// a registry on disk; any other path is a single artifact of the kind
// MPS_MODEL_TYPE names.
func newSource(cfg config) (classifyhttp.Source, error) {
	if cfg.modelPath == "" {
		return classifyhttp.RegistrySource("the embedded registry", func() (*classify.Registry, error) {
			return classify.OpenRegistry(models.FS)
		}), nil
	}
	pathName := cfg.source["model-path"]
	fi, err := os.Stat(cfg.modelPath)
	if err != nil {
		allowed := "use a registry directory holding " + classify.ManifestFile + ", or a model file"
		if errors.Is(err, fs.ErrNotExist) {
			allowed = "no such file or directory; " + allowed
		}
		return nil, &configError{pathName, cfg.modelPath, allowed}
	}
	if fi.IsDir() {
		if _, err := os.Stat(cfg.modelPath + "/" + classify.ManifestFile); err != nil {
			return nil, &configError{pathName, cfg.modelPath, "the directory holds no " + classify.ManifestFile + "; use a registry directory or a model file"}
		}
		dir := cfg.modelPath
		return classifyhttp.RegistrySource(dir, func() (*classify.Registry, error) { return classify.OpenRegistryDir(dir) }), nil
	}
	arms := cfg.split.Arms()
	typeName := cfg.source["model-type"]
	if len(arms) != 1 {
		return nil, &configError{typeName, cfg.modelTypeRaw, "a split needs a registry, and " + pathName + " names a single file"}
	}
	kind, err := classify.ParseKind(arms[0].Name)
	if err != nil {
		return nil, &configError{typeName, cfg.modelTypeRaw, "use one of " + kindList()}
	}
	return classifyhttp.FileSource(kind, cfg.modelPath), nil
}

// loadRouter loads the split's variants from the source for the first
// time, and the shadow model if one is named. A name the source does not
// hold is a configuration error.
func loadRouter(cfg config, src classifyhttp.Source) (*rollout.Router, *rollout.Live, *classifyhttp.Catalog, error) {
	cat, err := src()
	if err != nil {
		return nil, nil, nil, err
	}
	typeName := cfg.source["model-type"]
	router, err := rollout.LoadRouter(cfg.split, cat.Load, nil)
	if err != nil {
		var re *rollout.ReloadError
		if errors.As(err, &re) && errors.Is(err, classify.ErrNotFound) && cat.Registry != nil {
			return nil, nil, nil, &configError{typeName, cfg.modelTypeRaw, fmt.Sprintf(
				"%s has no model named %q or of that kind; use one of %s, or a split of them such as decision_tree=90,xgboost=10",
				cat.Where, re.Variant, strings.Join(cat.Names, ", "))}
		}
		if errors.As(err, &re) && re.Phase == rollout.PhaseFeatures {
			return nil, nil, nil, &configError{typeName, cfg.modelTypeRaw, "every variant of a split must take the same features: " + re.Err.Error()}
		}
		return nil, nil, nil, fmt.Errorf("load from %s: %w", cat.Where, err)
	}
	if cfg.shadowModel == "" {
		return router, nil, cat, nil
	}
	shadowName := cfg.source["shadow-model"]
	m, err := cat.Load(cfg.shadowModel)
	if errors.Is(err, classify.ErrNotFound) {
		return nil, nil, nil, &configError{shadowName, cfg.shadowModel, fmt.Sprintf("%s has no model of that name or kind; use one of %s",
			cat.Where, strings.Join(cat.Names, ", "))}
	}
	if err != nil {
		return nil, nil, nil, fmt.Errorf("load shadow model %q from %s: %w", cfg.shadowModel, cat.Where, err)
	}
	// Same features as the served models: a configuration error, named as
	// such; then Live.Reload's warm-up proves the challenger answers.
	primary := router.Variants()[0].Model().Info().Features
	if got := m.Info().Features; !slices.Equal(got, primary) {
		return nil, nil, nil, &configError{shadowName, cfg.shadowModel, fmt.Sprintf("the shadow model takes features %v, the served ones %v", got, primary)}
	}
	challenger := &rollout.Live{}
	if _, err := challenger.Reload(func() (classify.Model, error) { return m, nil }, nil); err != nil {
		return nil, nil, nil, fmt.Errorf("shadow model %q: %w", cfg.shadowModel, err)
	}
	return router, challenger, cat, nil
}
