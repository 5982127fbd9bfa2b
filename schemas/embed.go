// Package schemas embeds Slipway's CUE schemas, the authority every platform
// repository is validated against.
package schemas

import "embed"

// FS holds the schema package's CUE files at its root.
//
//go:embed *.cue
var FS embed.FS

// ImportPath is the CUE import path platform repositories use for the schemas.
const ImportPath = "slipway.dev/schema"
