package reconcile

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/slipway-ml/slipway/internal/atomicfile"
	"github.com/slipway-ml/slipway/internal/desired"
	"github.com/slipway-ml/slipway/internal/render"
	"github.com/slipway-ml/slipway/internal/spec"
	"github.com/slipway-ml/slipway/internal/terraform"
)

// pgConnString adds the state block's timeouts (or the schema's defaults,
// for a block that did not pass through CUE: a server that does not answer
// must not hold a plan for ever) to a connection string that does not set
// them itself. Terraform's pg backend
// (lib/pq) reads connect_timeout, which bounds the connection and the
// server's first answer, and passes statement_timeout to the server.
func pgConnString(conn string, st spec.State) string {
	if conn == "" {
		return ""
	}
	def := spec.DefaultPGState()
	params := []struct {
		key       string
		spec, def string
		unit      time.Duration
	}{
		{"connect_timeout", st.ConnectTimeout, def.ConnectTimeout, time.Second},
		{"statement_timeout", st.StatementTimeout, def.StatementTimeout, time.Millisecond},
	}
	url := strings.HasPrefix(conn, "postgres://") || strings.HasPrefix(conn, "postgresql://")
	for _, p := range params {
		if strings.Contains(conn, p.key+"=") {
			continue
		}
		d, err := time.ParseDuration(p.spec)
		if err != nil || d <= 0 {
			// The schema's pattern admits only positive durations.
			d, _ = time.ParseDuration(p.def)
		}
		v := strconv.FormatInt(int64(max(d/p.unit, 1)), 10)
		switch {
		case !url:
			conn += " " + p.key + "=" + v
		case strings.Contains(conn, "?"):
			conn += "&" + p.key + "=" + v
		default:
			conn += "?" + p.key + "=" + v
		}
	}
	return conn
}

// checkState refuses a stack whose state cannot be trusted, saying how to
// recover it.
func checkState(ts terraform.Stack, t target) error {
	if err := terraform.CheckState(ts); err != nil {
		return fmt.Errorf("%w\nnext: %s", err, recoverHint(t))
	}
	return nil
}

func recoverHint(t target) string {
	return fmt.Sprintf("once the state backend is reachable, run: slipway state recover --env %s --stack %s", t.rs.Environment, t.rs.Name)
}

func replanHint(t target) string {
	return fmt.Sprintf("run slipway plan --env %[1]s --stack %[2]s (or slipway check --env %[1]s), then slipway release --env %[1]s if the new plan has changes, then slipway apply --env %[1]s",
		t.rs.Environment, t.id())
}

// Recovery actions.
const (
	RecoverPushed   = "pushed"
	RecoverRestored = "restored"
	RecoverNone     = "none"
)

// RecoverResult is what `slipway state recover` prints.
type RecoverResult struct {
	Stack string `json:"stack"`
	// Action is pushed (errored.tfstate was pushed to the backend),
	// restored (the local state came back from its .backup) or none.
	Action string `json:"action"`
	Detail string `json:"detail"`
	// State is the stack's state after recovery.
	State terraform.StateMeta `json:"state"`
	// Plan is the stack's new plan, made after recovery.
	Plan *PlanResult `json:"plan,omitempty"`
}

// ErrNothingToRecover: no state to recover from was found, though the
// stack's state is not sound.
var ErrNothingToRecover = errors.New("nothing to recover from")

// Recover repairs the state of one stack (<env>/<name>, or <name> with one
// environment in opts.Envs) after a failed apply, then plans it again:
//
//   - errored.tfstate (Terraform could not save the state after an apply)
//     is pushed to the backend with `terraform state push`, which refuses
//     a snapshot of another lineage or an older serial; it is then kept
//     beside as errored.tfstate.pushed-<time>;
//   - an empty or unreadable local state file is replaced by its .backup
//     when the backup is a state of the lineage the last apply recorded,
//     at that serial or later.
func Recover(ctx context.Context, p *spec.Platform, opts Options, stack string) (*RecoverResult, error) {
	if err := opts.defaults(p); err != nil {
		return nil, err
	}
	id := stack
	if !strings.Contains(stack, "/") {
		if len(opts.Envs) != 1 {
			return nil, fmt.Errorf("stack %q: name one environment, or give the stack as <env>/<name>", stack)
		}
		id = opts.Envs[0] + "/" + stack
	}
	env, name, _ := strings.Cut(id, "/")
	e, ok := p.Environments[env]
	if !ok {
		return nil, fmt.Errorf("unknown environment %q (have %s)", env, strings.Join(p.EnvironmentNames(), ", "))
	}
	ctx, unlock, err := LockWorkDir(ctx, opts.WorkDir, opts.WorkDirWait)
	if err != nil {
		return nil, err
	}
	defer unlock()
	l := render.Layout{Root: opts.WorkDir}
	ds := desired.Stack{Environment: env, Name: name, Target: e.Target, Backend: e.State, Kubernetes: e.K8s}
	found := false
	for _, s := range desired.Stacks(p, env) {
		if s.Name == name {
			ds, found = s, true
		}
	}
	if !found {
		if _, err := os.Stat(l.StackDir(env, name)); err != nil {
			return nil, fmt.Errorf("unknown stack %s: the specs do not call for it and it was never rendered", id)
		}
	}
	if err := connEnv(ds, opts); err != nil {
		return nil, err
	}
	rendered, err := render.Write(l, []desired.Stack{ds})
	if err != nil {
		return nil, err
	}
	t := target{rs: rendered[0], orphan: !found}
	ts := tfStack(l, t.rs, opts)
	res := &RecoverResult{Stack: id, Action: RecoverNone}
	errored := filepath.Join(ts.Dir, terraform.ErroredState)
	_, statErr := os.Stat(errored)
	switch {
	case statErr == nil:
		b, err := os.ReadFile(errored)
		if err != nil {
			return nil, err
		}
		m, err := terraform.ParseState(b)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", errored, err)
		}
		runner, err := findRunner(ctx, l, opts)
		if err != nil {
			return nil, err
		}
		if err := runner.Init(ctx, ts); err != nil {
			return nil, err
		}
		if err := runner.PushState(ctx, ts, errored); err != nil {
			return nil, fmt.Errorf("%w\n%s was kept; fix the cause and run slipway state recover again", err, errored)
		}
		kept := errored + ".pushed-" + time.Now().UTC().Format("20060102T150405Z")
		if err := os.Rename(errored, kept); err != nil {
			return nil, fmt.Errorf("stack %s: state pushed, but %w", id, err)
		}
		res.Action, res.State = RecoverPushed, m
		res.Detail = fmt.Sprintf("pushed the state Terraform could not save (%s, %d resources) to the backend; the file was kept as %s", m, m.Resources, kept)
	case ts.StateFile != "":
		if _, err := terraform.ReadStateFile(ts.StateFile); err == nil {
			res.Detail = "the state is sound: nothing to recover"
			return res, nil
		}
		m, err := restoreBackup(l, ts, t)
		if err != nil {
			return nil, err
		}
		res.Action, res.State = RecoverRestored, m
		res.Detail = fmt.Sprintf("restored %s from its backup (%s, %d resources); resources the interrupted apply created after that are not in it, and the new plan creates them again", ts.StateFile, m, m.Resources)
	default:
		res.Detail = "no errored.tfstate: nothing to recover"
		return res, nil
	}
	opts.Log.Info("recovered", "stack", id, "action", res.Action)
	po := opts
	po.Stacks, po.Envs, po.Base, po.Reuse = []string{id}, []string{env}, "", false
	if res.Plan, err = Plan(ctx, p, po); err != nil {
		return res, fmt.Errorf("stack %s: state recovered, but planning it again failed: %w", id, err)
	}
	return res, nil
}

// restoreBackup puts a local state's .backup in its place, once it is
// sure the backup is the state the last apply left (same lineage) or a
// later one.
func restoreBackup(l render.Layout, ts terraform.Stack, t target) (terraform.StateMeta, error) {
	backup := ts.StateFile + ".backup"
	b, err := os.ReadFile(backup)
	if errors.Is(err, fs.ErrNotExist) {
		return terraform.StateMeta{}, fmt.Errorf("stack %s: %w: %s is unreadable and has no backup; restore it from your own backups", t.id(), ErrNothingToRecover, ts.StateFile)
	}
	if err != nil {
		return terraform.StateMeta{}, err
	}
	m, err := terraform.ParseState(b)
	if err != nil {
		return terraform.StateMeta{}, fmt.Errorf("stack %s: %w: backup %s: %w", t.id(), ErrNothingToRecover, backup, err)
	}
	if rec, ok := lastApplied(l, t); ok && rec.State.Lineage != "" {
		if rec.State.Lineage != m.Lineage {
			return m, fmt.Errorf("stack %s: backup %s is of another state (lineage %s) than the last apply recorded (%s): not restored", t.id(), backup, m.Lineage, rec.State.Lineage)
		}
		if m.Serial < rec.State.Serial {
			return m, fmt.Errorf("stack %s: backup %s (serial %d) is older than the state the last apply recorded (serial %d): not restored", t.id(), backup, m.Serial, rec.State.Serial)
		}
	}
	broken := ts.StateFile + ".unreadable-" + time.Now().UTC().Format("20060102T150405Z")
	if err := os.Rename(ts.StateFile, broken); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return m, err
	}
	if err := atomicfile.WriteFile(ts.StateFile, b, 0o644); err != nil {
		return m, fmt.Errorf("stack %s: %w", t.id(), err)
	}
	return m, nil
}

func findRunner(ctx context.Context, l render.Layout, opts Options) (*terraform.Runner, error) {
	bin, err := terraform.Find(ctx, opts.Terraform)
	if err != nil {
		return nil, err
	}
	return newRunner(bin, l, opts)
}
