package reconcile

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestSameBackend(t *testing.T) {
	local := `{"terraform": {"backend": {"local": {"path": "../../../state/staging/m.tfstate"}}}, "module": {}}`
	tests := []struct {
		name     string
		restored string
		wantErr  string
	}{
		{"same backend, other layout", `{"module": {}, "terraform": {"backend": {"local": {"path": "../../../state/staging/m.tfstate"}}}}`, ""},
		{"other state file", `{"terraform": {"backend": {"local": {"path": "../../../state/production/m.tfstate"}}}}`, "state backend changed"},
		{"other backend", `{"terraform": {"backend": {"pg": {"schema_name": "slipway"}}}}`, "state backend changed"},
		{"no backend", `{"terraform": {}}`, "state backend changed"},
		{"not JSON", `terraform {}`, "restored root module"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := sameBackend([]byte(tt.restored), []byte(local))
			if (err == nil) != (tt.wantErr == "") || (err != nil && !strings.Contains(err.Error(), tt.wantErr)) {
				t.Errorf("sameBackend = %v, want error containing %q", err, tt.wantErr)
			}
		})
	}
}

func TestModuleSourcesExist(t *testing.T) {
	work := t.TempDir()
	dir := filepath.Join(work, RollbackDir, "staging", "m")
	if err := os.MkdirAll(filepath.Join(work, "modules", "abc", "local", "online"), 0o755); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, root, wantErr string
	}{
		{"present", `{"module": {"deployment": {"source": "../../../modules/abc/local/online"}}}`, ""},
		{"another build's modules", `{"module": {"deployment": {"source": "../../../modules/old/local/online"}}}`, "another Slipway build"},
		{"not Slipway's", `{"module": {"deployment": {"source": "git::https://example.com/m.git"}}}`, "not one of Slipway's modules"},
		{"escapes", `{"module": {"deployment": {"source": "../../../../../etc"}}}`, "not one of Slipway's modules"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := moduleSourcesExist(dir, []byte(tt.root))
			if (err == nil) != (tt.wantErr == "") || (err != nil && !strings.Contains(err.Error(), tt.wantErr)) {
				t.Errorf("moduleSourcesExist = %v, want error containing %q", err, tt.wantErr)
			}
		})
	}
}
