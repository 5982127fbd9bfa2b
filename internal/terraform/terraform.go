// Package terraform runs Terraform (or OpenTofu) for Slipway. It is the only
// package that imports terraform-exec and terraform-json: it finds and checks
// the binary, keeps Terraform away from the user's CLI configuration, runs
// init, plan, show, apply and refresh-only plans on rendered stacks, and
// turns plans into Slipway's plan summary with sensitive values redacted.
package terraform

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/go-version"
	"github.com/hashicorp/terraform-exec/tfexec"
	tfjson "github.com/hashicorp/terraform-json"

	"github.com/slipway-ml/slipway/internal/atomicfile"
	mask "github.com/slipway-ml/slipway/internal/redact"
)

// MinVersion is the oldest Terraform or OpenTofu Slipway runs: rendered
// stacks pin ">= 1.6.0" (see internal/render).
const MinVersion = "1.6.0"

// Sentinel errors callers branch on.
var (
	// ErrNotFound: neither --terraform, terraform nor tofu is usable.
	ErrNotFound = errors.New("no terraform or tofu binary found")
	// ErrTooOld: the binary is older than MinVersion.
	ErrTooOld = errors.New("terraform too old")
	// ErrLocked: another run holds the stack's state lock.
	ErrLocked = errors.New("state is locked by another run")
	// ErrStalePlan: the saved plan no longer matches the state.
	ErrStalePlan = errors.New("saved plan is stale")
)

// Binary is a Terraform or OpenTofu executable that passed the version check.
type Binary struct {
	Path    string
	Name    string // "terraform" or "tofu"
	Version string
}

func (b *Binary) String() string { return fmt.Sprintf("%s %s (%s)", b.Name, b.Version, b.Path) }

// BinaryEnv names the environment variable that chooses the binary when no
// --terraform is given (reconcile.Options reads it through Getenv).
const BinaryEnv = "SLIPWAY_TERRAFORM"

// Candidates returns the binaries Find tries, in order: the explicit path
// when given, else terraform then tofu on PATH.
func Candidates(explicit string) []string {
	if explicit != "" {
		return []string{explicit}
	}
	return []string{"terraform", "tofu"}
}

// Find locates the binary (explicit path, else terraform, else tofu on
// PATH) and checks its version.
func Find(ctx context.Context, explicit string) (*Binary, error) {
	var tried []string
	for _, c := range Candidates(explicit) {
		p, err := exec.LookPath(c)
		if err != nil {
			tried = append(tried, c)
			continue
		}
		return check(ctx, p)
	}
	hint := "install Terraform >= " + MinVersion + " or OpenTofu (make tools builds it), or pass --terraform PATH"
	return nil, fmt.Errorf("%w (tried %s); %s", ErrNotFound, strings.Join(tried, ", "), hint)
}

// FindAll returns every binary on PATH that Find would accept: terraform,
// then tofu. Tests run their Terraform suites once per binary it returns.
func FindAll(ctx context.Context) ([]*Binary, error) {
	var bins []*Binary
	for _, c := range Candidates("") {
		p, err := exec.LookPath(c)
		if err != nil {
			continue
		}
		b, err := check(ctx, p)
		if err != nil {
			return nil, err
		}
		bins = append(bins, b)
	}
	return bins, nil
}

// check asks the binary at p its version and checks it.
func check(ctx context.Context, p string) (*Binary, error) {
	abs, err := filepath.Abs(p)
	if err != nil {
		return nil, err
	}
	v, err := versionOf(ctx, abs)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", abs, err)
	}
	name := "terraform"
	if strings.Contains(filepath.Base(abs), "tofu") {
		name = "tofu"
	}
	if err := checkVersion(v); err != nil {
		return nil, fmt.Errorf("%s %s: %w", abs, v, err)
	}
	return &Binary{Path: abs, Name: name, Version: v}, nil
}

func checkVersion(v string) error {
	got, err := version.NewVersion(v)
	if err != nil {
		return fmt.Errorf("unreadable version %q: %w", v, err)
	}
	if got.LessThan(version.Must(version.NewVersion(MinVersion))) {
		return fmt.Errorf("%w: need >= %s", ErrTooOld, MinVersion)
	}
	return nil
}

// versions caches each binary's version for the life of the process: the
// version is asked once, not once per command (plan, apply and drift each
// Find the binary). Keyed by path, size and modification time, so a binary
// replaced in place is asked again.
var versions sync.Map // versionKey -> string

type versionKey struct {
	path  string
	size  int64
	mtime time.Time
}

func versionOf(ctx context.Context, path string) (string, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return "", err
	}
	key := versionKey{path, fi.Size(), fi.ModTime()}
	if v, ok := versions.Load(key); ok {
		return v.(string), nil
	}
	if v, ok := cachedVersion(key); ok {
		versions.Store(key, v)
		return v, nil
	}
	dir, err := os.MkdirTemp("", "slipway-tfversion-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(dir)
	// Even `version` reads the CLI configuration: it gets Slipway's, never
	// the machine's ~/.terraformrc. The file must exist: OpenTofu warns
	// about a TF_CLI_CONFIG_FILE that does not.
	cfg := filepath.Join(dir, "terraform.rc")
	if err := os.WriteFile(cfg, CLIConfig(""), 0o644); err != nil {
		return "", err
	}
	tf, err := tfexec.NewTerraform(dir, path)
	if err != nil {
		return "", err
	}
	if err := tf.SetEnv(baseEnv(cfg, "")); err != nil {
		return "", err
	}
	v, _, err := tf.Version(ctx, true)
	if err != nil {
		return "", fmt.Errorf("version: %w", err)
	}
	versions.Store(key, v.String())
	storeVersion(key, v.String())
	return v.String(), nil
}

// CLIConfig is the content of Slipway's own Terraform CLI configuration: a
// shared provider plugin cache and no checkpoint calls. The user's
// ~/.terraformrc is never read.
// An empty pluginCache leaves the cache out (the version probe needs none).
func CLIConfig(pluginCache string) []byte {
	b := []byte("# Written by Slipway for the Terraform runs it starts; edits are overwritten.\n")
	if pluginCache != "" {
		b = append(b, "plugin_cache_dir   = "+strconv.Quote(pluginCache)+"\n"...)
	}
	return append(b, "disable_checkpoint = true\n"...)
}

// baseEnv is the environment every Terraform run gets: the caller's,
// without what terraform-exec manages itself, with Slipway's CLI config.
func baseEnv(cliConfig, pluginCache string) map[string]string {
	env := map[string]string{}
	for _, kv := range os.Environ() {
		if k, v, ok := strings.Cut(kv, "="); ok {
			env[k] = v
		}
	}
	env = tfexec.CleanEnv(env)
	// A connection string of the caller's must never reach a stack that
	// did not ask for it.
	delete(env, "PG_CONN_STR")
	// Each stack keeps its own .terraform; a shared data dir would mix
	// their modules and backends.
	delete(env, "TF_DATA_DIR")
	env["CHECKPOINT_DISABLE"] = "1"
	env["TF_CLI_CONFIG_FILE"] = cliConfig
	if pluginCache != "" {
		env["TF_PLUGIN_CACHE_DIR"] = pluginCache
	}
	return env
}

// Runner runs Terraform on stacks. It is safe for concurrent use: init of
// stacks that need providers runs one at a time because Terraform's plugin
// cache is not safe for concurrent installs; everything else runs in
// parallel.
type Runner struct {
	bin         *Binary
	cliConfig   string
	pluginCache string
	// LockTimeout is how long plan and apply wait for a state lock.
	LockTimeout time.Duration
	// WaitDelay is how long a cancelled apply gets, after its interrupt,
	// to save the state and release its lock before it is killed.
	WaitDelay time.Duration
	// ReadWaitDelay is the same for every other command (init, plan,
	// show): they write no state, and their locks go with the process.
	ReadWaitDelay time.Duration
	initMu        sync.Mutex
	tfsMu         sync.Mutex
	tfs           map[string]*tfexec.Terraform
}

// NewRunner writes Slipway's CLI config under dir (the work dir) and returns
// a runner using it and the plugin cache beside it.
func NewRunner(bin *Binary, dir string) (*Runner, error) {
	cache := filepath.Join(dir, "plugin-cache")
	if err := os.MkdirAll(cache, 0o755); err != nil {
		return nil, fmt.Errorf("plugin cache: %w", err)
	}
	cfg := filepath.Join(dir, "terraform.rc")
	want := CLIConfig(cache)
	if old, err := os.ReadFile(cfg); err != nil || string(old) != string(want) {
		if err := atomicfile.WriteFile(cfg, want, 0o644); err != nil {
			return nil, fmt.Errorf("terraform CLI config: %w", err)
		}
	}
	return &Runner{bin: bin, cliConfig: cfg, pluginCache: cache, LockTimeout: 30 * time.Second, WaitDelay: time.Minute, ReadWaitDelay: 500 * time.Millisecond}, nil
}

// Binary is the binary the runner runs.
func (r *Runner) Binary() *Binary { return r.bin }

// Stack is what the runner needs to know of a rendered stack.
type Stack struct {
	// ID names the stack in errors, e.g. "staging/credit-default".
	ID string
	// Dir is the root module's directory.
	Dir string
	// Workspace is the Terraform workspace; "default" or empty for none.
	Workspace string
	// InitKey changes when init must run again (see render.Stack).
	InitKey string
	// Env is added to Terraform's environment, e.g. PG_CONN_STR.
	Env map[string]string
	// StateFile is the state file of a stack on the local backend; empty
	// for remote backends.
	StateFile string
	// BuiltinOnly says the stack uses no provider but Terraform's built-in
	// one, so its init installs nothing into the shared plugin cache and
	// may run beside other inits.
	BuiltinOnly bool
	// ReadsOwnState says the root module reads the stack's own state back
	// (render.ReadsOwnState). Terraform's terraform_remote_state fails on
	// a backend that has never stored a state for the workspace, so the
	// first plan stores an empty one.
	ReadsOwnState bool
}

func (r *Runner) tf(s Stack) (*tfexec.Terraform, error) {
	// terraform-exec asks the binary its version (`terraform version
	// -json`) before most commands and caches the answer per instance:
	// one instance per stack directory asks once per stack, not before
	// every plan and show.
	r.tfsMu.Lock()
	tf, ok := r.tfs[s.Dir]
	if !ok {
		var err error
		if tf, err = tfexec.NewTerraform(s.Dir, r.bin.Path); err != nil {
			r.tfsMu.Unlock()
			return nil, err
		}
		if r.tfs == nil {
			r.tfs = map[string]*tfexec.Terraform{}
		}
		r.tfs[s.Dir] = tf
	}
	r.tfsMu.Unlock()
	if err := tf.SetEnv(r.env(s)); err != nil {
		return nil, err
	}
	// Only applies write state; everything else is stopped soon after an
	// interrupt, even when it hangs on an unanswering backend.
	if err := tf.SetWaitDelay(r.ReadWaitDelay); err != nil {
		return nil, err
	}
	return tf, nil
}

// env is the environment of every Terraform run on the stack.
func (r *Runner) env(s Stack) map[string]string {
	env := baseEnv(r.cliConfig, r.pluginCache)
	maps.Copy(env, s.Env)
	return env
}

const initMarker = ".terraform/slipway-init"

// Init runs `terraform init` on the stack unless the last init used the same
// init key, then selects (creating if needed) the stack's workspace.
func (r *Runner) Init(ctx context.Context, s Stack) error {
	// Stacks with provider downloads share the plugin cache; stacks with a
	// workspace share a pg backend, whose init and workspace creation take
	// one lock that Terraform does not wait for ("Already locked for
	// workspace creation"). Either kind inits one at a time.
	if !s.BuiltinOnly || s.Workspace != "" {
		r.initMu.Lock()
		defer r.initMu.Unlock()
	}
	marker := filepath.Join(s.Dir, initMarker)
	want := s.InitKey + " " + s.Workspace + "\n"
	if old, err := os.ReadFile(marker); err == nil && s.InitKey != "" && string(old) == want {
		return nil
	}
	tf, err := r.tf(s)
	if err != nil {
		return err
	}
	if err := r.init(ctx, s); err != nil {
		return r.wrap(s, "init", err)
	}
	if ws := s.Workspace; ws != "" && ws != "default" {
		list, cur, err := tf.WorkspaceList(ctx)
		if err != nil {
			return r.wrap(s, "workspace list", err)
		}
		switch {
		case cur == ws:
		case contains(list, ws):
			err = tf.WorkspaceSelect(ctx, ws)
		default:
			err = tf.WorkspaceNew(ctx, ws)
		}
		if err != nil {
			return r.wrap(s, "workspace "+ws, err)
		}
	}
	if err := atomicfile.WriteFile(marker, []byte(want), 0o644); err != nil {
		return fmt.Errorf("stack %s: %w", s.ID, err)
	}
	return nil
}

// Workspaces lists the workspaces of the stack's backend; the stack must
// have been initialised.
func (r *Runner) Workspaces(ctx context.Context, s Stack) ([]string, error) {
	tf, err := r.tf(s)
	if err != nil {
		return nil, err
	}
	list, _, err := tf.WorkspaceList(ctx)
	if err != nil {
		return nil, r.wrap(s, "workspace list", err)
	}
	return list, nil
}

// DeleteWorkspace deletes the stack's workspace once its state holds
// nothing, selecting the default workspace first. It does nothing for the
// default workspace.
func (r *Runner) DeleteWorkspace(ctx context.Context, s Stack) error {
	if s.Workspace == "" || s.Workspace == "default" {
		return nil
	}
	tf, err := r.tf(s)
	if err != nil {
		return err
	}
	if err := tf.WorkspaceSelect(ctx, "default"); err != nil {
		return r.wrap(s, "workspace select default", err)
	}
	if err := tf.WorkspaceDelete(ctx, s.Workspace); err != nil {
		return r.wrap(s, "workspace delete "+s.Workspace, err)
	}
	return nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// PlanMode selects the kind of plan.
type PlanMode int

// Plan modes.
const (
	// Normal plans changes from state to configuration.
	Normal PlanMode = iota
	// RefreshOnly plans only updating state to match the real world.
	RefreshOnly
	// NoRefresh compares configuration with state as recorded, without
	// asking providers about the real world.
	NoRefresh
)

// PlanArgs returns the plan options of a mode, for tests and logs.
func (r *Runner) planOptions(out string, mode PlanMode) []tfexec.PlanOption {
	opts := []tfexec.PlanOption{tfexec.Out(out), tfexec.LockTimeout(r.LockTimeout.String())}
	switch mode {
	case RefreshOnly:
		opts = append(opts, tfexec.RefreshOnly(true))
	case NoRefresh:
		opts = append(opts, tfexec.Refresh(false))
	}
	return opts
}

// Plan runs `terraform plan -out` into planFile and reads it back with
// `terraform show -json`. The plan is written beside planFile and renamed
// into place only once Terraform has finished and the plan reads back, so a
// failed or interrupted plan never leaves a plan file behind.
func (r *Runner) Plan(ctx context.Context, s Stack, planFile string, mode PlanMode) (*tfjson.Plan, error) {
	tf, err := r.tf(s)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Dir(planFile), 0o755); err != nil {
		return nil, fmt.Errorf("stack %s: %w", s.ID, err)
	}
	// A name of its own: two runs planning one stack must not write into
	// each other's plan.
	f, err := os.CreateTemp(filepath.Dir(planFile), "."+filepath.Base(planFile)+".tmp-*")
	if err != nil {
		return nil, fmt.Errorf("stack %s: %w", s.ID, err)
	}
	tmp := f.Name()
	f.Close()
	defer os.Remove(tmp)
	if s.ReadsOwnState {
		if err := r.ensureState(ctx, s); err != nil {
			return nil, err
		}
	}
	if _, err := tf.Plan(ctx, r.planOptions(tmp, mode)...); err != nil {
		return nil, r.wrap(s, "plan", err)
	}
	plan, err := r.showPlan(ctx, s, tmp)
	if err != nil {
		return nil, r.wrap(s, "show", err)
	}
	if err := os.Rename(tmp, planFile); err != nil {
		return nil, fmt.Errorf("stack %s: %w", s.ID, err)
	}
	return plan, nil
}

// Apply applies a saved plan file, never a fresh plan.
func (r *Runner) Apply(ctx context.Context, s Stack, planFile string) error {
	if _, err := os.Stat(planFile); err != nil {
		return fmt.Errorf("stack %s: saved plan: %w", s.ID, err)
	}
	if err := CheckState(s); err != nil {
		return err
	}
	tf, err := r.tf(s)
	if err != nil {
		return err
	}
	// Applies write state: an interrupted one gets the long wait to save
	// it and release its lock.
	if err := tf.SetWaitDelay(r.WaitDelay); err != nil {
		return err
	}
	// The serial before the run tells, if the run fails, whether it
	// changed anything.
	before, err := r.StateMeta(ctx, s)
	if err != nil {
		return err
	}
	err = tf.Apply(ctx, tfexec.DirOrPlan(planFile), tfexec.LockTimeout(r.LockTimeout.String()))
	if err == nil || finished(err) {
		return nil
	}
	return r.afterApply(ctx, s, before, r.wrap(s, "apply", err))
}

// State reads the stack's current state.
func (r *Runner) State(ctx context.Context, s Stack) (*tfjson.State, error) {
	st, err := r.showState(ctx, s)
	if err != nil {
		return nil, r.wrap(s, "show state", err)
	}
	return st, nil
}

// wrap names the stack and the command in Terraform's error, keeps
// Terraform's own message, and marks lock and stale-plan failures.
func (r *Runner) wrap(s Stack, op string, err error) error {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		if errors.Unwrap(err) == nil {
			// terraform-exec's error for a run that ended with its
			// context has no message of its own (its Error panics).
			if errors.Is(err, context.Canceled) {
				err = context.Canceled
			} else {
				err = context.DeadlineExceeded
			}
		}
		return fmt.Errorf("stack %s: %s %s: interrupted: %w", s.ID, r.bin.Name, op, err)
	}
	// Terraform quotes a malformed PG_CONN_STR whole in its error.
	err = mask.New(slices.Collect(maps.Values(s.Env))...).Err(err)
	msg := strings.TrimSpace(err.Error())
	// Terraform wraps its messages' lines.
	flat := strings.Join(strings.Fields(msg), " ")
	switch {
	case strings.Contains(flat, "permission denied") || strings.Contains(flat, "operation not permitted") || strings.Contains(flat, "read-only file system"):
		// Terraform words a lock file it cannot create as a lock it
		// could not acquire: the cause is the file system, not a run.
		return fmt.Errorf("stack %s: %s %s: %w: the work dir or the state is not writable\n%s", s.ID, r.bin.Name, op, fs.ErrPermission, msg)
	case strings.Contains(msg, "Error acquiring the state lock"):
		return fmt.Errorf("stack %s: %s %s: %w (waited %s)\n%s", s.ID, r.bin.Name, op, ErrLocked, r.LockTimeout, msg)
	case strings.Contains(msg, "Saved plan is stale"):
		return fmt.Errorf("stack %s: %s %s: %w: the state changed since it was planned; run slipway plan again\n%s", s.ID, r.bin.Name, op, ErrStalePlan, msg)
	}
	return fmt.Errorf("stack %s: %s %s: %w", s.ID, r.bin.Name, op, err)
}

// IsInitialized reports whether the stack has been initialised before.
func IsInitialized(dir string) bool {
	_, err := os.Stat(filepath.Join(dir, ".terraform"))
	return !errors.Is(err, fs.ErrNotExist)
}
