// Package modules embeds Slipway's Terraform modules: one per template kind
// (online, batch, streaming) plus the environment's shared module, for each
// target (local, kubernetes). Every target's module of a kind has the same
// variables and outputs, so a stack renders the same module call whatever
// the target.
package modules

import "embed"

// FS holds the modules as <target>/<kind>/*.tf.
//
//go:embed local kubernetes
var FS embed.FS

// Targets lists the deployment targets modules exist for.
var Targets = []string{"local", "kubernetes"}
