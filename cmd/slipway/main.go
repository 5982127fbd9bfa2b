// Command slipway takes machine-learning models from proof of concept to
// production under policy, from a git repository of CUE specs.
package main

import (
	"os"

	"github.com/slipway-ml/slipway/internal/cli"
)

func main() {
	os.Exit(cli.Main())
}
