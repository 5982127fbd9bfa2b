package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"

	"github.com/rogpeppe/go-internal/testscript"
)

// fakeRoute is one answer of the stand-in GitHub: a request whose method
// and path (without the query) match gets status and body. WantBody, when
// set, must occur in the request's body.
type fakeRoute struct {
	Method   string          `json:"method"`
	Path     string          `json:"path"`
	Status   int             `json:"status"`
	Body     json.RawMessage `json:"body"`
	WantBody string          `json:"want_body"`
}

// githubFake is the script command `github-fake ROUTES.json`: it serves
// the routes on a loopback httptest server for the rest of the script,
// points GITHUB_API_URL at it, and logs every request as "METHOD PATH" to
// $WORK/github-requests.log. A request no route answers, a body without
// its WantBody, or an Authorization other than "Bearer $GITHUB_TOKEN" is
// logged as a line starting "UNEXPECTED" (and answered 404), so a script
// asserts `! grep UNEXPECTED github-requests.log`: GitHub's API is tested
// by path, method and body, without the network.
func githubFake(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: github-fake ROUTES.json")
	}
	var routes []fakeRoute
	if err := json.Unmarshal([]byte(ts.ReadFile(args[0])), &routes); err != nil {
		ts.Fatalf("%s: %v", args[0], err)
	}
	logPath := ts.MkAbs("github-requests.log")
	token := ts.Getenv("GITHUB_TOKEN")
	var mu sync.Mutex
	logf := func(format string, a ...any) {
		mu.Lock()
		defer mu.Unlock()
		f, err := os.OpenFile(logPath, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
		if err != nil {
			return
		}
		defer f.Close()
		fmt.Fprintf(f, format+"\n", a...)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		logf("%s %s", r.Method, r.URL.Path)
		if token != "" && r.Header.Get("Authorization") != "Bearer "+token {
			logf("UNEXPECTED %s %s: Authorization is not the token", r.Method, r.URL.Path)
		}
		w.Header().Set("Content-Type", "application/json")
		for _, rt := range routes {
			if rt.Method != r.Method || rt.Path != r.URL.Path {
				continue
			}
			if rt.WantBody != "" && !strings.Contains(string(body), rt.WantBody) {
				logf("UNEXPECTED %s %s: body lacks %q", r.Method, r.URL.Path, rt.WantBody)
			}
			status := rt.Status
			if status == 0 {
				status = http.StatusOK
			}
			w.WriteHeader(status)
			w.Write(rt.Body)
			return
		}
		logf("UNEXPECTED %s %s: no route", r.Method, r.URL.Path)
		w.WriteHeader(http.StatusNotFound)
		io.WriteString(w, `{"message":"Not Found"}`)
	}))
	ts.Defer(srv.Close)
	ts.Setenv("GITHUB_API_URL", srv.URL+"/api/v3")
}
