package terraform

import (
	"archive/zip"
	"errors"
	"fmt"
	"io"
)

// planRootEntry is where a saved plan file, a zip archive, keeps the root
// module's main.tf.json: Terraform and OpenTofu snapshot the configuration
// they planned under tfconfig/, the root module as module key "" in
// directory m-.
const planRootEntry = "tfconfig/m-/main.tf.json"

// maxRootModule bounds the root module read from a plan file; rendered
// roots are a few kilobytes.
const maxRootModule = 16 << 20

// ErrNoPlanConfig: the saved plan holds no root main.tf.json.
var ErrNoPlanConfig = errors.New("saved plan holds no root module main.tf.json")

// PlanRoot returns the root module main.tf.json a saved plan was made
// from, as the plan's configuration snapshot holds it. A rollback restores
// a release's configuration from the plan the release pinned: the plan
// file's digest is signed, so its snapshot is too.
func PlanRoot(planFile string) ([]byte, error) {
	zr, err := zip.OpenReader(planFile)
	if err != nil {
		return nil, fmt.Errorf("saved plan %s: %w", planFile, err)
	}
	defer zr.Close()
	for _, f := range zr.File {
		if f.Name != planRootEntry {
			continue
		}
		rc, err := f.Open()
		if err != nil {
			return nil, fmt.Errorf("saved plan %s: %w", planFile, err)
		}
		defer rc.Close()
		b, err := io.ReadAll(io.LimitReader(rc, maxRootModule+1))
		if err != nil {
			return nil, fmt.Errorf("saved plan %s: %w", planFile, err)
		}
		if len(b) > maxRootModule {
			return nil, fmt.Errorf("saved plan %s: root module larger than %d bytes", planFile, maxRootModule)
		}
		return b, nil
	}
	return nil, fmt.Errorf("saved plan %s: %w", planFile, ErrNoPlanConfig)
}
