//go:build unix

package terraform

import (
	"os/exec"
	"syscall"
)

// ownProcessGroup starts cmd in its own process group.
func ownProcessGroup(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
}
