// Package models holds the production registry: the artifacts promoted from
// research/ and their manifest.json, embedded so that programs serve the
// production models with no files around.
//
//	reg, err := classify.OpenRegistry(models.FS)
package models

import "embed"

// FS is the registry's files: manifest.json and the artifacts it lists.
//
//go:embed manifest.json *.json
var FS embed.FS
