package cli

import (
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// workflowFiles lists every GitHub Actions workflow and action in the
// repository and its examples.
func workflowFiles(t *testing.T) []string {
	t.Helper()
	root := filepath.Join("..", "..")
	var files []string
	for _, pat := range []string{
		".github/workflows/*.yml", ".github/workflows/*.yaml",
		".github/actions/*/action.yml", ".github/actions/*/action.yaml",
		"examples/*/.github/workflows/*.yml", "examples/*/.github/workflows/*.yaml",
	} {
		m, err := filepath.Glob(filepath.Join(root, pat))
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, m...)
	}
	sort.Strings(files)
	return files
}

// TestWorkflowsInvokeRealCommands parses every workflow and action YAML and
// runs each slipway invocation in their scripts through the real command
// tree's flag parser: the command must exist and take those flags.
func TestWorkflowsInvokeRealCommands(t *testing.T) {
	files := workflowFiles(t)
	if len(files) < 2 {
		t.Fatalf("found %d workflow files, want at least the action and the example workflow", len(files))
	}
	calls := 0
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var doc yaml.Node
		if err := yaml.Unmarshal(data, &doc); err != nil {
			t.Errorf("%s: not valid YAML: %v", f, err)
			continue
		}
		checkWorkflowShape(t, f, &doc)
		for _, run := range runScripts(&doc) {
			for _, args := range slipwayCalls(run.script) {
				calls++
				where := f + ":" + strconv.Itoa(run.line)
				if err := parseInvocation(args); err != nil {
					t.Errorf("%s: slipway %s: %v", where, strings.Join(args, " "), err)
				}
			}
		}
	}
	if calls == 0 {
		t.Fatal("no slipway invocation found in the workflows")
	}
}

// checkWorkflowShape checks the top-level keys GitHub requires.
func checkWorkflowShape(t *testing.T, file string, doc *yaml.Node) {
	t.Helper()
	if len(doc.Content) == 0 || doc.Content[0].Kind != yaml.MappingNode {
		t.Errorf("%s: not a mapping", file)
		return
	}
	keys := map[string]*yaml.Node{}
	m := doc.Content[0]
	for i := 0; i+1 < len(m.Content); i += 2 {
		keys[m.Content[i].Value] = m.Content[i+1]
	}
	if strings.HasSuffix(file, "action.yml") || strings.HasSuffix(file, "action.yaml") {
		for _, k := range []string{"name", "description", "runs"} {
			if keys[k] == nil {
				t.Errorf("%s: action lacks %q", file, k)
			}
		}
		return
	}
	// "on" must stay a string key: YAML 1.1 readers take a bare on as true,
	// yaml.v3 (YAML 1.2) and GitHub read it as "on".
	for _, k := range []string{"on", "jobs"} {
		if keys[k] == nil {
			t.Errorf("%s: workflow lacks %q", file, k)
		}
	}
}

type runScript struct {
	script string
	line   int
}

// runScripts finds every `run:` script in a workflow or composite action.
func runScripts(n *yaml.Node) []runScript {
	var out []runScript
	var walk func(*yaml.Node)
	walk = func(n *yaml.Node) {
		if n.Kind == yaml.MappingNode {
			for i := 0; i+1 < len(n.Content); i += 2 {
				k, v := n.Content[i], n.Content[i+1]
				if k.Value == "run" && v.Kind == yaml.ScalarNode {
					out = append(out, runScript{v.Value, v.Line})
				}
			}
		}
		for _, c := range n.Content {
			walk(c)
		}
	}
	walk(n)
	return out
}

// parseInvocation runs args through the real command tree: the command must
// exist, every flag must parse, and positional arguments must be allowed.
func parseInvocation(args []string) error {
	o := &options{stdout: io.Discard, stderr: io.Discard, getenv: func(string) string { return "" },
		log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	root := newRootCmd(o)
	cmd, rest, err := root.Find(args)
	if err != nil {
		return err
	}
	if cmd == root && len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		return usagef("unknown command %q", args[0])
	}
	if err := cmd.ParseFlags(rest); err != nil {
		return err
	}
	return cmd.ValidateArgs(cmd.Flags().Args())
}

var (
	exprRE   = regexp.MustCompile(`\$\{\{.*?\}\}`)
	assignRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*=`)
	keywords = map[string]bool{"if": true, "then": true, "else": true, "elif": true, "do": true, "while": true, "until": true, "!": true, "time": true, "exec": true}
)

// placeholder stands for a value only known when the workflow runs.
const placeholder = "1"

type token struct {
	text   string
	op     bool
	expand bool // an unquoted or double-quoted expansion of a whole array ("${a[@]}", "$@")
}

// shellTokens splits a bash script into words and operators, well enough to
// find commands: quotes, $(...) nesting, comments, line continuations and
// redirections. Expansions become placeholder words.
func shellTokens(script string) []token {
	script = exprRE.ReplaceAllString(script, placeholder)
	script = strings.ReplaceAll(script, "\\\n", " ")
	var toks []token
	var word strings.Builder
	inWord, hasExp, arrayExp := false, false, false
	emit := func() {
		if inWord {
			w := word.String()
			if hasExp && !assignRE.MatchString(w) {
				w = placeholder
			}
			toks = append(toks, token{text: w, expand: arrayExp})
		}
		word.Reset()
		inWord, hasExp, arrayExp = false, false, false
	}
	op := func(s string) { emit(); toks = append(toks, token{text: s, op: true}) }
	type ctx int
	const (
		cmdCtx ctx = iota
		dqCtx
	)
	stack := []ctx{cmdCtx}
	for i := 0; i < len(script); i++ {
		c := script[i]
		top := stack[len(stack)-1]
		if top == dqCtx {
			switch {
			case c == '\\' && i+1 < len(script):
				word.WriteByte(script[i+1])
				i++
			case c == '"':
				stack = stack[:len(stack)-1]
			case strings.HasPrefix(script[i:], "$("):
				hasExp = true
				stack = append(stack, cmdCtx)
				op("$(")
				i++
			case c == '$':
				hasExp = true
				if strings.HasPrefix(script[i:], "$@") || regexp.MustCompile(`^\$\{[A-Za-z_][A-Za-z0-9_]*\[@\]\}`).MatchString(script[i:]) {
					arrayExp = true
				}
				word.WriteByte(c)
			default:
				word.WriteByte(c)
			}
			continue
		}
		switch {
		case c == '#' && !inWord:
			for i < len(script) && script[i] != '\n' {
				i++
			}
			i--
		case c == '\'':
			inWord = true
			j := strings.IndexByte(script[i+1:], '\'')
			if j < 0 {
				j = len(script) - i - 1
			}
			word.WriteString(script[i+1 : i+1+j])
			i += j + 1
		case c == '"':
			inWord = true
			stack = append(stack, dqCtx)
		case c == '\\' && i+1 < len(script):
			inWord = true
			word.WriteByte(script[i+1])
			i++
		case strings.HasPrefix(script[i:], "$("):
			inWord, hasExp = true, true
			stack = append(stack, cmdCtx)
			op("$(")
			i++
		case c == ')':
			if len(stack) > 1 {
				stack = stack[:len(stack)-1]
				// Back in the enclosing word (a quoted "$(...)" or x=$(...)).
				op(")")
				if stack[len(stack)-1] == dqCtx {
					inWord = true
				}
			} else {
				op(")")
			}
		case c == '$':
			inWord, hasExp = true, true
			word.WriteByte(c)
		case c == ' ' || c == '\t':
			emit()
		case c == '\n' || c == ';' || c == '|' || c == '&' || c == '(':
			op(string(c))
		case c == '<' || c == '>':
			// A redirection: the operator and its target are not arguments.
			w := word.String()
			if inWord && (w == "2" || w == "1" || w == "&") {
				word.Reset()
				inWord = false
			}
			op("redir")
			for i+1 < len(script) && (script[i+1] == '<' || script[i+1] == '>' || script[i+1] == '&') {
				i++
			}
		default:
			inWord = true
			word.WriteByte(c)
		}
	}
	emit()
	return toks
}

// slipwayCalls returns the arguments of every slipway command in a script.
func slipwayCalls(script string) [][]string {
	toks := shellTokens(script)
	var calls [][]string
	atStart := true
	for i := 0; i < len(toks); i++ {
		t := toks[i]
		if t.op {
			if t.text == "redir" && i+1 < len(toks) && !toks[i+1].op {
				i++ // the redirection's target
			}
			if t.text != "redir" {
				atStart = true
			}
			continue
		}
		if !atStart {
			continue
		}
		if keywords[t.text] || assignRE.MatchString(t.text) {
			continue
		}
		atStart = false
		if t.text != "slipway" {
			continue
		}
		args := []string{}
		for i+1 < len(toks) {
			n := toks[i+1]
			if n.op && n.text != "redir" {
				break
			}
			i++
			if n.op { // redirection inside the command: skip its target
				if i+1 < len(toks) && !toks[i+1].op {
					i++
				}
				continue
			}
			if !n.expand {
				args = append(args, n.text)
			}
		}
		calls = append(calls, args)
	}
	return calls
}

func TestSlipwayCalls(t *testing.T) {
	for _, tc := range []struct {
		script string
		want   [][]string
	}{
		{"slipway validate --repo .", [][]string{{"validate", "--repo", "."}}},
		{"slipway check --repo . \\\n  --github --format json > \"$RUNNER_TEMP/r.json\" || status=$?", [][]string{{"check", "--repo", ".", "--github", "--format", "json"}}},
		{`stacks=$(slipway plan --list-stacks --base "$BASE" --format json)`, [][]string{{"plan", "--list-stacks", "--base", "1", "--format", "json"}}},
		{`echo "n=$(slipway plan --list-stacks | jq -c .)" >> "$GITHUB_OUTPUT"`, [][]string{{"plan", "--list-stacks"}}},
		{`slipway drift "${args[@]}" 2> err.txt && echo slipway ok`, [][]string{{"drift"}}},
		{"if true; then slipway apply --env ${{ inputs.environment }}; fi # slipway nope", [][]string{{"apply", "--env", "1"}}},
		{"case \"$s\" in\n  0) slipway github issue --key \"$key\" --close ;;\nesac", [][]string{{"github", "issue", "--key", "1", "--close"}}},
		{"echo 'slipway is great'\nGOFLAGS=-x slipway version", [][]string{{"version"}}},
	} {
		got := slipwayCalls(tc.script)
		if !equalCalls(tc.want, got) {
			t.Errorf("slipwayCalls(%q)\n got %q\nwant %q", tc.script, got, tc.want)
		}
	}
}

func equalCalls(a, b [][]string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if strings.Join(a[i], "\x00") != strings.Join(b[i], "\x00") {
			return false
		}
	}
	return true
}

func TestParseInvocation(t *testing.T) {
	if err := parseInvocation([]string{"github", "report", "--result", "x.json", "--format", "json"}); err != nil {
		t.Errorf("valid invocation: %v", err)
	}
	if err := parseInvocation([]string{"github", "report", "--no-such-flag"}); err == nil {
		t.Error("unknown flag accepted")
	}
	if err := parseInvocation([]string{"no-such-command"}); err == nil {
		t.Error("unknown command accepted")
	}
	if err := parseInvocation([]string{"github", "report", "extra"}); err == nil {
		t.Error("positional argument accepted by a NoArgs command")
	}
}

// TestWorkflowsUseTheActionsInputs checks every step that uses Slipway's
// composite action passes only inputs the action declares, all the required
// ones, and a mode the action handles.
func TestWorkflowsUseTheActionsInputs(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("..", "..", ".github", "actions", "slipway", "action.yml"))
	if err != nil {
		t.Fatal(err)
	}
	var action struct {
		Inputs map[string]struct {
			Required bool   `yaml:"required"`
			Default  string `yaml:"default"`
		} `yaml:"inputs"`
	}
	if err := yaml.Unmarshal(data, &action); err != nil {
		t.Fatal(err)
	}
	modes := map[string]bool{}
	for _, m := range regexp.MustCompile(`inputs\.mode == '([a-z-]+)'`).FindAllStringSubmatch(string(data), -1) {
		modes[m[1]] = true
	}
	modes["setup"] = true // installs only: no step of its own
	uses := 0
	for _, f := range workflowFiles(t) {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var wf struct {
			Jobs map[string]struct {
				Steps []struct {
					Uses string            `yaml:"uses"`
					With map[string]string `yaml:"with"`
				} `yaml:"steps"`
			} `yaml:"jobs"`
		}
		if err := yaml.Unmarshal(data, &wf); err != nil {
			continue // not a workflow (the action itself); TestWorkflowsInvokeRealCommands checks YAML
		}
		for job, j := range wf.Jobs {
			for i, st := range j.Steps {
				if !strings.Contains(st.Uses, ".github/actions/slipway") {
					continue
				}
				uses++
				where := fmt.Sprintf("%s: jobs.%s.steps[%d]", f, job, i)
				for k := range st.With {
					if _, ok := action.Inputs[k]; !ok {
						t.Errorf("%s: input %q is not declared by the action", where, k)
					}
				}
				for k, in := range action.Inputs {
					if _, ok := st.With[k]; in.Required && !ok {
						t.Errorf("%s: required input %q missing", where, k)
					}
				}
				if m := st.With["mode"]; !modes[m] {
					t.Errorf("%s: mode %q is not one the action runs (%v)", where, m, modes)
				}
			}
		}
	}
	if uses == 0 {
		t.Fatal("no workflow uses the composite action")
	}
}

// TestDocsInvokeRealCommands runs the slipway commands in docs/github.md's
// plain and shell code blocks through the command tree, so the page does
// not drift from the CLI.
func TestDocsInvokeRealCommands(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("..", "..", "docs", "github.md"))
	if err != nil {
		t.Fatal(err)
	}
	// Fenced blocks, paired in order: plain and shell ones hold commands.
	var blocks []string
	var cur *strings.Builder
	lang := ""
	for _, line := range strings.Split(string(data), "\n") {
		switch {
		case cur == nil && strings.HasPrefix(line, "```"):
			cur, lang = &strings.Builder{}, strings.TrimPrefix(line, "```")
		case cur != nil && strings.TrimSpace(line) == "```":
			if lang == "" || lang == "sh" || lang == "bash" || lang == "shell" {
				blocks = append(blocks, cur.String())
			}
			cur = nil
		case cur != nil:
			cur.WriteString(line + "\n")
		}
	}
	calls := 0
	for _, b := range blocks {
		for _, args := range slipwayCalls(b) {
			calls++
			if err := parseInvocation(args); err != nil {
				t.Errorf("docs/github.md: slipway %s: %v", strings.Join(args, " "), err)
			}
		}
	}
	if calls < 8 {
		t.Fatalf("%d slipway commands found in docs/github.md, want at least 8", calls)
	}
}
