// Package cli builds Slipway's command tree. Each command parses its flags,
// makes one call into a domain package and prints the result; exit codes are
// decided in exitCode alone.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"runtime/debug"
	"runtime/pprof"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/slipway-ml/slipway/internal/redact"
	"github.com/slipway-ml/slipway/internal/safefile"
)

// Exit codes shared by every command.
const (
	ExitOK     = 0 // the job ran and the answer is yes
	ExitDenied = 1 // the job ran and the answer is no: a policy denial, drift, a failed verification
	ExitError  = 2 // usage or input error, or a tool Slipway drives failed
)

// ErrDenied is returned (wrapped or bare) by commands whose work succeeded
// but whose verdict is negative. The result has already been printed.
var ErrDenied = errors.New("denied")

// usageError marks errors in how the command was called.
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

func usagef(format string, args ...any) error {
	return usageError{fmt.Errorf(format, args...)}
}

// exitCode is the one place errors become exit codes.
func exitCode(err error) int {
	switch {
	case err == nil:
		return ExitOK
	case errors.Is(err, ErrDenied):
		return ExitDenied
	default:
		return ExitError
	}
}

// options are the settings shared by every command.
type options struct {
	stdout io.Writer
	stderr io.Writer
	log    *slog.Logger
	// getenv is os.Getenv outside tests.
	getenv func(string) string
	// secrets masks secret values and connection strings in every error
	// and log line.
	secrets *redact.Redactor
}

// connGetenv is the getenv handed to the code that reads the variables a
// spec names for connection strings (pg backends' connEnv): every value it
// returns is masked in errors and logs from then on.
func (o *options) connGetenv(name string) string { return o.secrets.Getenv(o.getenv)(name) }

// Main runs the command line and returns the process exit code.
func Main() int {
	// A short-lived process that evaluates large CUE values spends much of
	// its time in the collector; trade memory for speed unless told otherwise.
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(400)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	// As Terraform's TF_CPU_PROFILE: a profile of the real command, its
	// process start and output included, which a benchmark harness misses.
	if path := os.Getenv("SLIPWAY_CPU_PROFILE"); path != "" {
		if f, err := os.Create(path); err == nil && pprof.StartCPUProfile(f) == nil {
			defer f.Close()
			defer pprof.StopCPUProfile()
		}
	}
	return Run(ctx, os.Args[1:], os.Stdout, os.Stderr, os.Getenv)
}

// Run runs one command line with the given streams; tests call it directly.
func Run(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) int {
	secrets := redact.FromEnv(getenv)
	o := &options{
		stdout:  stdout,
		stderr:  stderr,
		getenv:  getenv,
		secrets: secrets,
		log:     slog.New(secrets.Handler(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: logLevel(getenv("SLIPWAY_LOG"))}))),
	}
	// The size limits come from the workflow's environment, out of the
	// pull request's reach.
	if err := safefile.Configure(getenv(safefile.EnvVar)); err != nil {
		fmt.Fprintf(stderr, "slipway: %v\n", err)
		return ExitError
	}
	root := newRootCmd(o)
	root.SetArgs(args)
	root.SetOut(stdout)
	root.SetErr(stderr)
	err := root.ExecuteContext(ctx)
	if err != nil && !errors.Is(err, ErrDenied) {
		fmt.Fprintf(stderr, "slipway: %s\n", secrets.String(err.Error()))
	}
	return exitCode(err)
}

func logLevel(s string) slog.Level {
	var l slog.Level
	if err := l.UnmarshalText([]byte(s)); err != nil {
		return slog.LevelInfo
	}
	return l
}

func newRootCmd(o *options) *cobra.Command {
	root := &cobra.Command{
		Use:           "slipway",
		Short:         "Take ML models from proof of concept to production under policy",
		Long:          "Slipway validates a repository of CUE platform specs, measures model evidence, plans Terraform, gates changes with OPA policies and signs releases.",
		SilenceUsage:  true,
		SilenceErrors: true,
		Version:       Version,
	}
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError{err} })
	root.AddCommand(
		newValidateCmd(o),
		newKeysCmd(o),
		newReleaseCmd(o),
		newVerifyCmd(o),
		newInitCmd(o),
		newNewCmd(o),
		newDevCmd(o),
		newGitHubCmd(o),
		newPlanCmd(o), newApplyCmd(o), newDriftCmd(o), newStateCmd(o),
		newCheckCmd(o), newPolicyCmd(o),
		newEvaluateCmd(o), newMonitorCmd(o),
		newReportCmd(o),
		newRollbackCmd(o),
	)
	return root
}

// Version is set at build time with -ldflags "-X".
var Version = "dev"
