package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"

	"github.com/ml-production-service/classify"
	"github.com/ml-production-service/classify/models"
)

// loadModel loads the model the configuration names. With no model path it
// opens the production registry embedded in the binary; a directory path is
// a registry on disk; any other path is a single artifact of kind
// cfg.modelType. In a registry, the model is the entry named cfg.modelType,
// or else the only entry of that kind. It returns the registry too, when
// there is one, for /models to report the manifest entry.
func loadModel(cfg config) (classify.Model, *classify.Registry, error) {
	typeName := cfg.source["model-type"]
	if cfg.modelPath == "" {
		reg, err := classify.OpenRegistry(models.FS)
		if err != nil {
			return nil, nil, fmt.Errorf("embedded registry: %w", err)
		}
		m, err := loadFromRegistry(reg, cfg.modelType, typeName, "the embedded registry")
		return m, reg, err
	}
	pathName := cfg.source["model-path"]
	fi, err := os.Stat(cfg.modelPath)
	if err != nil {
		allowed := "use a registry directory holding " + classify.ManifestFile + ", or a model file"
		if errors.Is(err, fs.ErrNotExist) {
			allowed = "no such file or directory; " + allowed
		}
		return nil, nil, &configError{pathName, cfg.modelPath, allowed}
	}
	if fi.IsDir() {
		if _, err := os.Stat(cfg.modelPath + "/" + classify.ManifestFile); err != nil {
			return nil, nil, &configError{pathName, cfg.modelPath, "the directory holds no " + classify.ManifestFile + "; use a registry directory or a model file"}
		}
		reg, err := classify.OpenRegistryDir(cfg.modelPath)
		if err != nil {
			return nil, nil, err
		}
		m, err := loadFromRegistry(reg, cfg.modelType, typeName, cfg.modelPath)
		return m, reg, err
	}
	m, err := classify.New(cfg.modelType, cfg.modelPath)
	if err != nil {
		return nil, nil, fmt.Errorf("load %s model from %s: %w", cfg.modelType, cfg.modelPath, err)
	}
	return m, nil, nil
}

func loadFromRegistry(reg *classify.Registry, kind classify.Kind, typeName, where string) (classify.Model, error) {
	name := string(kind)
	if _, err := reg.Entry(name); err != nil {
		var ofKind []string
		var all []string
		for _, e := range reg.Manifest().Models {
			all = append(all, e.Name)
			if e.Kind == kind {
				ofKind = append(ofKind, e.Name)
			}
		}
		if len(ofKind) != 1 {
			return nil, &configError{typeName, string(kind), fmt.Sprintf("%s has no model of that name or kind (models: %v)", where, all)}
		}
		name = ofKind[0]
	}
	m, err := reg.Load(name)
	if err != nil {
		return nil, fmt.Errorf("load model %q from %s: %w", name, where, err)
	}
	return m, nil
}
