// Package pgtest starts a real PostgreSQL server for tests: initdb and
// pg_ctl on a temporary directory, listening on a free loopback port, run
// as the postgres user when the tests run as root. Any package's tests may
// use it; it never touches a server it did not start.
package pgtest

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// Server is a PostgreSQL server started for one test.
type Server struct {
	// Dir holds the data directory, the socket and the log.
	Dir  string
	Port int
	// User is the superuser, trusted without a password on loopback.
	User string
	asPG bool
	data string
	opts string
}

// ConnString returns a libpq URL for database db on the server.
func (s *Server) ConnString(db string) string {
	return fmt.Sprintf("postgres://%s@127.0.0.1:%d/%s?sslmode=disable", s.User, s.Port, db)
}

// Argv builds a command line for a PostgreSQL tool, run as the postgres
// user when the test runs as root (initdb and postgres refuse root).
func Argv(asPostgres bool, tool string, args ...string) []string {
	if asPostgres {
		return append([]string{"runuser", "-u", "postgres", "--", tool}, args...)
	}
	return append([]string{tool}, args...)
}

func (s *Server) run(tool string, args ...string) (string, error) {
	argv := Argv(s.asPG, tool, args...)
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Dir = s.Dir
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	if err != nil {
		return out.String(), fmt.Errorf("%s: %w\n%s", strings.Join(argv, " "), err, out.String())
	}
	return out.String(), nil
}

// Start starts a server and stops it when the test ends. It skips the
// test under -short and when the PostgreSQL binaries are not installed.
func Start(t testing.TB) *Server {
	t.Helper()
	if testing.Short() {
		t.Skip("starts PostgreSQL; skipped with -short")
	}
	for _, tool := range []string{"initdb", "pg_ctl", "postgres", "psql"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("PostgreSQL not installed: %v", err)
		}
	}
	s := &Server{User: "postgres", asPG: os.Geteuid() == 0}
	dir, err := os.MkdirTemp("", "slipway-pgtest-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	s.Dir = dir
	data := filepath.Join(dir, "data")
	if s.asPG {
		u, err := user.Lookup("postgres")
		if err != nil {
			t.Skipf("running as root without a postgres user: %v", err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		if err := os.Chmod(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.Chown(dir, uid, gid); err != nil {
			t.Fatal(err)
		}
	} else if u, err := user.Current(); err == nil {
		s.User = u.Username
	}
	if _, err := s.run("initdb", "-D", data, "-A", "trust", "-U", s.User, "--no-sync", "-E", "UTF8"); err != nil {
		t.Fatal(err)
	}
	port, err := freePort()
	if err != nil {
		t.Fatal(err)
	}
	s.Port = port
	s.data = data
	s.opts = fmt.Sprintf("-p %d -k %s -c listen_addresses=127.0.0.1 -c fsync=off", port, dir)
	s.start(t)
	t.Cleanup(func() {
		if _, err := s.run("pg_ctl", "-D", data, "status"); err != nil {
			return // stopped by the test
		}
		if _, err := s.run("pg_ctl", "-D", data, "-m", "fast", "-w", "stop"); err != nil {
			t.Errorf("stop PostgreSQL: %v", err)
		}
	})
	return s
}

func (s *Server) start(t testing.TB) {
	t.Helper()
	if _, err := s.run("pg_ctl", "-D", s.data, "-o", s.opts, "-l", filepath.Join(s.Dir, "log"), "-w", "-t", "60", "start"); err != nil {
		log, _ := os.ReadFile(filepath.Join(s.Dir, "log"))
		t.Fatalf("%v\nserver log:\n%s", err, log)
	}
}

// Kill stops the server at once, as a crash would: open connections
// break mid-statement.
func (s *Server) Kill(t testing.TB) {
	t.Helper()
	if _, err := s.run("pg_ctl", "-D", s.data, "-m", "immediate", "-w", "stop"); err != nil {
		t.Fatal(err)
	}
}

// Restart starts a server stopped with Kill again, on the same port.
func (s *Server) Restart(t testing.TB) {
	t.Helper()
	s.start(t)
}

// Query runs SQL with psql on database db and returns its unaligned,
// tuples-only output.
func (s *Server) Query(t testing.TB, db, sql string) string {
	t.Helper()
	cmd := exec.Command("psql", "-X", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-d", s.ConnString(db), "-c", sql)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("psql %q: %v\n%s", sql, err, out)
	}
	return strings.TrimSpace(string(out))
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
