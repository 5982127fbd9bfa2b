package synth

import (
	"crypto/sha256"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/slipway-ml/slipway/schemas"
)

// Repo writes a synthetic platform repository of n models to dir: two
// environments, three templates, eight data sources and one directory per
// model, kinds in turn. It carries the vendored schema so that `cue vet`
// can check the same files.
func Repo(dir string, n int) error {
	files := map[string]string{
		"cue.mod/module.cue": "module: \"example.com/synthetic@v0\"\nlanguage: version: \"v0.17.0\"\n",
		"platform.cue":       "package platform\n\nimport \"slipway.dev/schema\"\n\nschema.#Platform\n\nplatform: name: \"synthetic\"\n",
		"environments.cue": `package platform

environments: staging: {limits: {cpu: 8, memoryMiB: 16384, replicas: 20}}
environments: production: {after: "staging", protected: true, approvals: 2, limits: {cpu: 8, memoryMiB: 16384, replicas: 20}}
`,
		"templates.cue": `package platform

templates: online: {kind: "online", replicas: {min: 2, max: 6}, resources: {cpu: 1, memoryMiB: 1024}, latencySLOMs: 150, rollout: steps: [10, 50, 100]}
templates: batch: {kind: "batch", schedule: "0 2 * * *", waitFor: "source-0", resources: {cpu: 2, memoryMiB: 4096}}
templates: streaming: {kind: "streaming", inputTopic: "in", outputTopic: "out", consumerGroup: "g", parallelism: 2, resources: {cpu: 1, memoryMiB: 512}}
`,
	}
	entries, err := fs.ReadDir(schemas.FS, ".")
	if err != nil {
		return err
	}
	for _, e := range entries {
		b, err := fs.ReadFile(schemas.FS, e.Name())
		if err != nil {
			return err
		}
		files[path.Join("cue.mod/pkg", schemas.ImportPath, e.Name())] = string(b)
	}
	var ds strings.Builder
	ds.WriteString("package platform\n")
	for i := 0; i < 8; i++ {
		fmt.Fprintf(&ds, `
dataSources: "source-%d": {
	owner: "data@example.com", kind: "table", location: "s3://data/source-%d", format: "parquet"
	schema: [{name: "id", type: "string"}, {name: "x", type: "float"}, {name: "group", type: "string", allowed: ["a", "b"]}, {name: "y", type: "int", allowed: [0, 1]}]
	classification: "internal", pii: [], version: "sha256:%x"
	quality: {completeness: {"*": 0.99}, uniqueKeys: ["id"]}
}
`, i, i, sha256.Sum256([]byte(fmt.Sprint("source-", i))))
	}
	files["data/sources.cue"] = ds.String()
	kinds := []string{"online", "batch", "streaming"}
	for i := 0; i < n; i++ {
		name := fmt.Sprintf("model-%04d", i)
		files["models/"+name+"/model.cue"] = fmt.Sprintf(syntheticModel, name, i%100, i, i%8, i%8, name, name, kinds[i%3], name)
	}
	for name, content := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			return err
		}
	}
	return nil
}

const syntheticModel = `package platform

models: %q: {
	version: "1.%d.0"
	owner:   "ml@example.com"
	intendedUse: {summary: "synthetic model for benchmarks", affectsPeople: true}
	task: "binary-classification"
	artifact: {uri: "s3://models/m/1.0.0", digest: "sha256:%064x", format: "onnx"}
	training: {data: ["source-%d"], code: {repo: "https://git.example.com/m", commit: "0123456789abcdef0123456789abcdef01234567"}}
	evaluation: {
		data:        "source-%d"
		predictions: "models/%s/evidence/predictions.csv"
		columns: {label: "y", score: "score", prediction: "p"}
		metrics: {roc_auc: min: 0.8, recall: min: 0.6, f1: min: 0.6}
		baseline: {metrics: roc_auc: 0.82, tolerance: 0.02}
	}
	fairness: {sensitive: ["group"], thresholds: {demographic_parity_difference: max: 0.1, equalized_odds_difference: max: 0.1}}
	tests: {reports: ["models/%s/evidence/junit.xml"], requiredSuites: ["unit", "data-validation"]}
	deployment: {template: %q, parameters: {}}
	monitoring: {schedule: "@hourly", drift: {features: ["x"], threshold: 0.2}}
	handover: {
		runbook: "models/%s/RUNBOOK.md"
		onCall: {team: "ml-oncall", rotation: "pagerduty:ml"}
		supportPlan: {tier: "24x7", contact: "ops@example.com"}
		slos: [{name: "availability", objective: 0.999, window: "30d"}]
		alerts: [{name: "ErrorRate", condition: "errors > 0.01", severity: "page"}]
		logging: {predictions: true, retentionDays: 90}
		errorTypes: [{code: "TIMEOUT", description: "inference timed out", action: "retry once"}]
		rollback: {strategy: "previous-version"}
		acceptance: {team: "ops"}
	}
	environments: ["staging", "production"]
}
`
