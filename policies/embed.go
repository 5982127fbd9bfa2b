// Package policies embeds Slipway's built-in Rego policy packs and their
// tests. Every pack is a package under slipway.* whose deny and warn rules
// carry a METADATA annotation with the rule id, severity and the compliance
// controls it serves; internal/policy compiles them with a platform
// repository's own policies.
package policies

import "embed"

// FS holds the built-in packs (*.rego) and their tests (*_test.rego) at its root.
//
//go:embed *.rego
var FS embed.FS
