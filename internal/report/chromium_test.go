package report

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	stdhtml "html"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// findChromium returns the installed chromium. Installing it is
// .ci/install-tools' job (`make tools`), not the test's. Without it the test
// skips with the reason, except under CI, which must run it: there a missing
// browser fails the test instead of hiding it.
func findChromium(t *testing.T) string {
	t.Helper()
	if p, err := chromium(); err == nil {
		return p
	}
	const why = "chromium is not installed: run .ci/install-tools (make tools) to install it"
	if os.Getenv("CI") != "" {
		t.Fatal(why + " (CI is set, so the browser test must run)")
	}
	t.Skip(why)
	return ""
}

// runChromium runs headless Chromium on the given flags and returns its
// output.
func runChromium(t *testing.T, bin string, extra ...string) (stdout, stderr string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, chromiumArgs(t.TempDir(), extra...)...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		t.Fatalf("chromium %s: %v\n%s", strings.Join(extra, " "), err, errb.String())
	}
	return out.String(), errb.String()
}

func artifactDir(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("SLIPWAY_TEST_ARTIFACTS")
	if dir == "" {
		return t.TempDir()
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// consoleLine matches what Chromium logs for a page's console messages
// and uncaught errors.
var consoleLine = regexp.MustCompile(`(?m)^.*(CONSOLE\(\d+\)|Uncaught|Refused to|net::ERR_).*$`)

// TestHTMLInChromium opens the report in real headless Chromium: it
// renders without console errors, the charts are in the DOM, it prints
// to PDF, and a screenshot is kept as a test artifact.
func TestHTMLInChromium(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end: releases the example through Terraform and opens the report in Chromium")
	}
	bin := findChromium(t)
	root := releasedExample(t)
	tamper(t, root)
	rep := build(t, root, time.Date(2027, 4, 15, 9, 0, 0, 0, time.UTC), nil)
	dir := t.TempDir()
	page := filepath.Join(dir, "report.html")
	if err := os.WriteFile(page, render(t, rep, FormatHTML), 0o644); err != nil {
		t.Fatal(err)
	}
	url := "file://" + page
	artifacts := artifactDir(t)
	run := func(extra ...string) (string, string) { t.Helper(); return runChromium(t, bin, extra...) }

	dom, logs := run("--enable-logging=stderr", "--v=0", "--virtual-time-budget=2000", "--dump-dom", url)
	if bad := consoleLine.FindAllString(logs, -1); len(bad) > 0 {
		t.Errorf("console errors:\n%s", strings.Join(bad, "\n"))
	}
	if n := strings.Count(dom, `<svg xmlns="http://www.w3.org/2000/svg" class="chart"`); n < 2 {
		t.Errorf("DOM has %d chart(s), want the fairness charts", n)
	}
	for _, want := range []string{`class="threshold"`, `<g class="ci">`, "FAILS VERIFICATION", "EXPIRED", "No fairness evidence"} {
		if !strings.Contains(dom, want) {
			t.Errorf("rendered DOM lacks %q", want)
		}
	}
	if strings.Contains(dom, "<script") {
		t.Error("the report carries a script")
	}

	shot := filepath.Join(artifacts, "report-summary.png")
	run("--window-size=1280,2000", "--hide-scrollbars", "--screenshot="+shot, url)
	png, err := os.ReadFile(shot)
	if err != nil || !bytes.HasPrefix(png, []byte("\x89PNG")) || len(png) < 20_000 {
		t.Fatalf("screenshot %s: %d bytes, err %v", shot, len(png), err)
	}
	// A4 tables wrap instead of clipping: with the print styles applied
	// to the screen, at the width of an A4 page between its margins
	// (186 mm, 703 CSS px), no table is wider than the page.
	fit := tablesFit(t, run, dir, page)
	if fit.Tables < 10 || len(fit.Wide) > 0 || fit.Widest > fit.Width {
		t.Errorf("at A4 width %d px, %d table(s) measured, the widest %d px; wider than the page: %v", fit.Width, fit.Tables, fit.Widest, fit.Wide)
	}

	// The PDF as `slipway report --format pdf` prints it.
	var pdf bytes.Buffer
	if err := rep.PDF(context.Background(), &pdf); err != nil {
		t.Fatal(err)
	}
	b := pdf.Bytes()
	if err := os.WriteFile(filepath.Join(artifacts, "report.pdf"), b, 0o644); err != nil {
		t.Fatal(err)
	}
	// The summary and the contents end their pages and each dossier
	// starts a new one.
	pages := len(regexp.MustCompile(`/Type\s*/Page[^s]`).FindAll(b, -1))
	if pages < 2+len(rep.Models) {
		t.Errorf("PDF has %d page(s), want at least %d (summary, contents, one per dossier)", pages, 2+len(rep.Models))
	}
	// The contents are printed: each entry is a link to its section,
	// which Chromium keeps as a named destination, and the headings make
	// the document outline.
	for _, anchor := range []string{"portfolio", "waivers", "coverage", "model-credit-default"} {
		if !bytes.Contains(b, []byte("/"+anchor)) && !bytes.Contains(b, []byte("("+anchor+")")) {
			t.Errorf("PDF has no destination %q: the contents did not print", anchor)
		}
	}
	if !bytes.Contains(b, []byte("/Outlines")) {
		t.Error("PDF has no document outline")
	}
	// The printed words: the page numbers of the footer and the contents.
	texts := pdfTexts(b)
	for _, want := range []string{"Page 1 of " + strconv.Itoa(pages), fmt.Sprintf("Page %d of %d", pages, pages),
		"Contents", "Control coverage", "Model credit-default", "Marks:"} {
		if !pdfHas(texts, want) {
			t.Errorf("the PDF's text lacks %q", want)
		}
	}
	t.Logf("screenshot %s, PDF %s (%d pages)", shot, filepath.Join(artifacts, "report.pdf"), pages)
}

// a4Width is the width of an A4 page between the report's 12 mm side
// margins, in CSS pixels (96 per inch).
const a4Width = 703

type tableFit struct {
	Width, Widest, Tables int
	Wide                  []string
}

// tablesFit lays the report out in Chromium at A4 width with its print
// styles and measures every table: a script added to a copy of the page
// (the report itself has none) writes the widths into the DOM.
func tablesFit(t *testing.T, run func(...string) (string, string), dir, page string) tableFit {
	t.Helper()
	b, err := os.ReadFile(page)
	if err != nil {
		t.Fatal(err)
	}
	html := strings.Replace(string(b), "@media print{", "@media all{", 1)
	const script = `<pre id="fit"></pre><script>
var w = document.documentElement.clientWidth, out = {Width: w, Widest: 0, Tables: 0, Wide: []};
document.querySelectorAll("table").forEach(function (t, i) {
  var r = t.getBoundingClientRect(), sw = Math.max(t.scrollWidth, Math.ceil(r.right));
  out.Tables++;
  out.Widest = Math.max(out.Widest, sw);
  if (sw > w) {
    var h = t.previousElementSibling;
    while (h && !/^H[1-4]$/.test(h.tagName)) h = h.previousElementSibling;
    out.Wide.push("table " + i + " after " + JSON.stringify(h ? h.textContent.slice(0, 60) : "") + ": " + sw + " px");
  }
});
document.getElementById("fit").textContent = JSON.stringify(out);
</script>`
	html = strings.Replace(html, "</body>", script+"</body>", 1)
	measured := filepath.Join(dir, "a4.html")
	if err := os.WriteFile(measured, []byte(html), 0o644); err != nil {
		t.Fatal(err)
	}
	dom, _ := run(fmt.Sprintf("--window-size=%d,1200", a4Width), "--hide-scrollbars", "--force-device-scale-factor=1", "--virtual-time-budget=3000", "--dump-dom", "file://"+measured)
	m := regexp.MustCompile(`<pre id="fit">(.*?)</pre>`).FindStringSubmatch(dom)
	if m == nil {
		t.Fatalf("no measurement in the DOM")
	}
	var fit tableFit
	if err := json.Unmarshal([]byte(stdhtml.UnescapeString(m[1])), &fit); err != nil {
		t.Fatalf("measurement %q: %v", m[1], err)
	}
	t.Logf("A4: %d tables, widest %d px of %d", fit.Tables, fit.Widest, fit.Width)
	return fit
}

// tamper flips one character of the production credit-default record's
// signature.
func tamper(t *testing.T, root string) {
	t.Helper()
	rec := filepath.Join(root, "releases", "production", "credit-default", "2.3.0.intoto.json")
	b, err := os.ReadFile(rec)
	if err != nil {
		t.Fatal(err)
	}
	i := bytes.Index(b, []byte(`"sig":"`)) + len(`"sig":"`) + 5
	if b[i] == 'A' {
		b[i] = 'B'
	} else {
		b[i] = 'A'
	}
	if err := os.WriteFile(rec, b, 0o644); err != nil {
		t.Fatal(err)
	}
}
