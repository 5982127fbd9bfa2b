package terraform

import "testing"

func TestBaseEnv(t *testing.T) {
	t.Setenv("PG_CONN_STR", "postgres://secret@db/x")
	t.Setenv("TF_DATA_DIR", "/shared")
	t.Setenv("TF_CLI_ARGS_plan", "-destroy")
	t.Setenv("TF_VAR_x", "1")
	t.Setenv("KUBE_CONFIG_PATH", "/k")
	env := baseEnv("/w/terraform.rc", "/w/plugin-cache")
	for _, k := range []string{"PG_CONN_STR", "TF_DATA_DIR", "TF_CLI_ARGS_plan", "TF_VAR_x"} {
		if v, ok := env[k]; ok {
			t.Errorf("%s=%q reaches Terraform", k, v)
		}
	}
	want := map[string]string{
		"CHECKPOINT_DISABLE":  "1",
		"TF_CLI_CONFIG_FILE":  "/w/terraform.rc",
		"TF_PLUGIN_CACHE_DIR": "/w/plugin-cache",
		"KUBE_CONFIG_PATH":    "/k",
	}
	for k, v := range want {
		if env[k] != v {
			t.Errorf("%s = %q, want %q", k, env[k], v)
		}
	}
}
