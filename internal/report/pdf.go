package report

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// FormatPDF is the HTML report printed by headless Chromium.
const FormatPDF = "pdf"

// ErrNoChromium means no Chromium is on PATH to print the PDF with.
var ErrNoChromium = errors.New("--format pdf prints the HTML report with headless Chromium, and neither chromium nor chromium-browser is on PATH: install it (make tools does)")

// pdfTimeout bounds one print: a thousand dossiers take Chromium about a
// minute on a slow machine.
const pdfTimeout = 10 * time.Minute

// chromium returns the path of the Chromium on PATH.
func chromium() (string, error) {
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p, nil
		}
	}
	return "", ErrNoChromium
}

// chromiumArgs are the flags of a headless, offline, throw-away Chromium
// with its profile in dir. Chromium's sandbox cannot start as root (a
// container's user); the page it opens is Slipway's own, with no script.
func chromiumArgs(dir string, extra ...string) []string {
	args := []string{"--headless", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-extensions",
		"--disable-background-networking", "--disable-component-update", "--disable-sync", "--mute-audio",
		"--user-data-dir=" + filepath.Join(dir, "profile")}
	if os.Geteuid() == 0 {
		args = append(args, "--no-sandbox")
	}
	return append(args, extra...)
}

// PDF writes the report as a PDF: the HTML report printed to A4 by
// headless Chromium, with its print styles (page numbers in the footer,
// the contents kept and linked, tables wrapped to the page width) and a
// document outline of its headings.
func (r *Report) PDF(ctx context.Context, w io.Writer) error {
	bin, err := chromium()
	if err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "slipway-report-pdf-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	page, pdf := filepath.Join(dir, "report.html"), filepath.Join(dir, "report.pdf")
	var html bytes.Buffer
	if err := r.HTML(&html); err != nil {
		return err
	}
	if err := os.WriteFile(page, html.Bytes(), 0o600); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, pdfTimeout)
	defer cancel()
	// Chromium's own header and footer (URL, date) are off: the page
	// numbers and the report's name come from the report's @page rules.
	cmd := exec.CommandContext(ctx, bin, chromiumArgs(dir, "--no-pdf-header-footer", "--generate-pdf-document-outline",
		"--print-to-pdf="+pdf, "file://"+filepath.ToSlash(page))...)
	var stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = io.Discard, &stderr
	cmd.Env = append(os.Environ(), "HOME="+dir)
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("print pdf with %s: %s: %w", bin, lastLines(stderr.String(), 5), err)
	}
	b, err := os.ReadFile(pdf)
	if err != nil || !bytes.HasPrefix(b, []byte("%PDF-")) {
		return fmt.Errorf("print pdf with %s: no PDF written: %s", bin, lastLines(stderr.String(), 5))
	}
	_, err = w.Write(b)
	return err
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "; ")
}
