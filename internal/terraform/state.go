package terraform

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/hashicorp/terraform-exec/tfexec"
)

// ErroredState is the file Terraform writes into its working directory
// when it applied changes but could not save the state to the backend.
const ErroredState = "errored.tfstate"

// Errors about a stack's state that stop every further run on it until
// `slipway state recover` has dealt with them.
var (
	// ErrStateNotSaved: Terraform changed resources but could not save the
	// state; errored.tfstate holds it.
	ErrStateNotSaved = errors.New("terraform could not save the state")
	// ErrStateUnreadable: the local state file is empty or not a state,
	// as when Terraform is killed while writing it.
	ErrStateUnreadable = errors.New("state file is empty or unreadable")
	// ErrPartlyApplied: an apply stopped after changing the state.
	ErrPartlyApplied = errors.New("apply stopped after changing the state")
)

// StateMeta is what identifies a state snapshot: its lineage (which state)
// and serial (which write of it). Terraform refuses to replace a state
// with one of another lineage or a lower serial.
type StateMeta struct {
	Lineage string `json:"lineage"`
	Serial  uint64 `json:"serial"`
	// Resources counts the resources the snapshot holds.
	Resources int `json:"resources"`
}

func (m StateMeta) String() string {
	return fmt.Sprintf("lineage %s serial %d", m.Lineage, m.Serial)
}

// ParseState reads a raw state snapshot's identity. Empty input or input
// without a lineage is ErrStateUnreadable.
func ParseState(b []byte) (StateMeta, error) {
	var st struct {
		Lineage   string            `json:"lineage"`
		Serial    uint64            `json:"serial"`
		Resources []json.RawMessage `json:"resources"`
	}
	if len(b) == 0 {
		return StateMeta{}, fmt.Errorf("%w: 0 bytes", ErrStateUnreadable)
	}
	if err := json.Unmarshal(b, &st); err != nil {
		return StateMeta{}, fmt.Errorf("%w: %w", ErrStateUnreadable, err)
	}
	if st.Lineage == "" {
		return StateMeta{}, fmt.Errorf("%w: no lineage", ErrStateUnreadable)
	}
	return StateMeta{Lineage: st.Lineage, Serial: st.Serial, Resources: len(st.Resources)}, nil
}

// ReadStateFile reads a state file's identity; a missing file is the zero
// StateMeta (nothing deployed yet) and no error.
func ReadStateFile(path string) (StateMeta, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return StateMeta{}, nil
	}
	if err != nil {
		return StateMeta{}, err
	}
	m, err := ParseState(b)
	if err != nil {
		return StateMeta{}, fmt.Errorf("%s: %w", path, err)
	}
	return m, nil
}

// CheckState returns an error when the stack's state cannot be trusted
// for a plan or an apply: Terraform left errored.tfstate behind (the
// resources it created are not in the backend's state), or the local
// state file is empty or unreadable (planning would create everything
// again).
func CheckState(s Stack) error {
	errored := filepath.Join(s.Dir, ErroredState)
	if _, err := os.Stat(errored); err == nil {
		return fmt.Errorf("stack %s: %w: an earlier apply changed resources that the backend's state does not hold; %s holds them", s.ID, ErrStateNotSaved, errored)
	}
	if s.StateFile != "" {
		if _, err := ReadStateFile(s.StateFile); err != nil {
			return fmt.Errorf("stack %s: %w", s.ID, err)
		}
	}
	return nil
}

// StateMeta reads the identity of the stack's current state: from the
// local state file when the stack has one, else with `terraform state
// pull`. A stack with no state yet has the zero StateMeta.
func (r *Runner) StateMeta(ctx context.Context, s Stack) (StateMeta, error) {
	if s.StateFile != "" {
		return ReadStateFile(s.StateFile)
	}
	tf, err := r.tf(s)
	if err != nil {
		return StateMeta{}, err
	}
	raw, err := tf.StatePull(ctx)
	if err != nil {
		return StateMeta{}, r.wrap(s, "state pull", err)
	}
	if raw == "" {
		return StateMeta{}, nil
	}
	m, err := ParseState([]byte(raw))
	if err != nil {
		return StateMeta{}, fmt.Errorf("stack %s: state pull: %w", s.ID, err)
	}
	return m, nil
}

// PushState replaces the backend's state of the stack with the snapshot
// in file, with `terraform state push`, which refuses a snapshot of
// another lineage or with a lower serial than the backend's.
func (r *Runner) PushState(ctx context.Context, s Stack, file string) error {
	tf, err := r.tf(s)
	if err != nil {
		return err
	}
	if err := tf.StatePush(ctx, file, tfexec.LockTimeout(r.LockTimeout.String())); err != nil {
		return r.wrap(s, "state push", err)
	}
	return nil
}

// afterApply explains a failed apply from what Terraform left behind: the
// errored.tfstate it writes when it could not save the state, else how the
// state's serial moved.
func (r *Runner) afterApply(ctx context.Context, s Stack, before StateMeta, err error) error {
	errored := filepath.Join(s.Dir, ErroredState)
	if _, serr := os.Stat(errored); serr == nil {
		return fmt.Errorf("stack %s: %w: Terraform changed resources but could not write the state to the backend, and saved it as %s; no further plan or apply runs on this stack until it is recovered\n%w",
			s.ID, ErrStateNotSaved, errored, err)
	}
	// The run's context may be cancelled: reading the state must still
	// happen, briefly.
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	after, aerr := r.StateMeta(rctx, s)
	switch {
	case aerr != nil:
		return fmt.Errorf("%w\n(the state could not be read afterwards: %v)", err, aerr)
	case after.Lineage != before.Lineage || after.Serial != before.Serial:
		return fmt.Errorf("stack %s: %w (serial %d -> %d, %d resources): part of the plan, or all of it, was applied, so the saved plan is stale\n%w",
			s.ID, ErrPartlyApplied, before.Serial, after.Serial, after.Resources, err)
	default:
		return fmt.Errorf("%w\n(nothing was applied: the state is unchanged at serial %d)", err, before.Serial)
	}
}

// finished reports whether Terraform exited successfully although the
// run's context ended: terraform-exec then reports the context's error
// with no error of the command's own.
func finished(err error) bool {
	if err == context.Canceled || err == context.DeadlineExceeded {
		return false // cancelled before Terraform started
	}
	return (errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)) && errors.Unwrap(err) == nil
}

// ensureState stores an empty state for a stack whose backend has none
// yet, through `terraform state push` so Terraform writes it as it writes
// any state. A data source reading the stack's own state then finds it,
// with no outputs, where it would fail on the missing state. Backends that
// keep workspaces (pg) store an empty state when Init creates the
// workspace, so this only ever writes a local stack's first state file.
func (r *Runner) ensureState(ctx context.Context, s Stack) error {
	m, err := r.StateMeta(ctx, s)
	if err != nil || m.Lineage != "" {
		return err
	}
	var id [16]byte
	if _, err := rand.Read(id[:]); err != nil {
		return err
	}
	id[6], id[8] = id[6]&0x0f|0x40, id[8]&0x3f|0x80 // a version 4 UUID, as Terraform's own lineages are
	empty, err := json.Marshal(map[string]any{
		"version": 4, "terraform_version": r.bin.Version, "serial": 0,
		"lineage": fmt.Sprintf("%x-%x-%x-%x-%x", id[0:4], id[4:6], id[6:8], id[8:10], id[10:]),
		"outputs": map[string]any{}, "resources": []any{},
	})
	if err != nil {
		return err
	}
	f, err := os.CreateTemp(s.Dir, ".empty-*.tfstate")
	if err != nil {
		return fmt.Errorf("stack %s: %w", s.ID, err)
	}
	defer os.Remove(f.Name())
	_, err = f.Write(empty)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("stack %s: %w", s.ID, err)
	}
	return r.PushState(ctx, s, f.Name())
}
