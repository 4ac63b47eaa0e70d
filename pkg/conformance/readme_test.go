package conformance_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/convrs/admin/pkg/apitest"
	"github.com/convrs/admin/pkg/local"
)

// curlCall is one curl command of the README with the status its output comments show.
type curlCall struct {
	Line    int
	Method  string
	Target  string // path and query
	Header  map[string]string
	Body    string
	HasBody bool
	Binary  bool   // --data-binary: a file the test does not have
	Output  string // -o FILE (not /dev/null): the body is saved there
	Status  int    // 0 when the README shows none
	Comment string // the output comments, joined
	Shown   []shownField
	// Set, when not empty, makes this a variable assignment instead of a curl call:
	// `[export] Set=$(go run ./cmd/local Args...)`.
	Set  string
	Args []string
	// Capture, when not empty, is the variable a curl call's answer sets, from the
	// member Member of its JSON body: `[export] Capture=$(curl ... | jq -r .Member)`.
	Capture, Member string
}

// shownField is a "name":value pair an output comment of the README shows, a JSON
// literal the answer must hold under that name (at any depth).
type shownField struct {
	Name  string
	Value string
}

var (
	statusInComment = []*regexp.Regexp{
		regexp.MustCompile(`HTTP/1\.1 (\d{3})`),
		regexp.MustCompile(`"status":(\d{3})`),
		regexp.MustCompile(`^\s*(\d{3})\s*$`),
	}
	shellVar = regexp.MustCompile(`\$(\w+)`)
	// shownPair is a "name":value pair of an output comment whose value is a JSON
	// literal or an array of strings (checked whole); values holding "..." are elisions,
	// not shown values.
	shownPair  = regexp.MustCompile(`"(\w+)":("(?:[^"\\]|\\.)*"|true|false|null|-?\d+(?:\.\d+)?|\[(?:"(?:[^"\\]|\\.)*"(?:,"(?:[^"\\]|\\.)*")*)?\])`)
	assignCmd  = regexp.MustCompile(`^(\w+)=\$\(go$`)
	captureCmd = regexp.MustCompile(`^(\w+)=\$\(curl$`)
	jqMember   = regexp.MustCompile(`^\.(\w+)\)$`)
)

// readmeCurls parses the shell blocks of the README into curl calls: a small shell
// tokenizer (quotes, backslash-newline, comments) that is enough for its examples.
func readmeCurls(t *testing.T, readme string) []curlCall {
	t.Helper()
	type command struct {
		line     int
		words    []string
		comments []string
	}
	var cmds []command
	inBlock, lineNo := false, 0
	var block strings.Builder
	blockStart := 0
	flush := func() {
		text := block.String()
		block.Reset()
		var cur *command
		var word strings.Builder
		inWord := false
		line := blockStart
		endWord := func() {
			if inWord {
				if cur == nil {
					cmds = append(cmds, command{line: line})
					cur = &cmds[len(cmds)-1]
				}
				cur.words = append(cur.words, word.String())
			}
			word.Reset()
			inWord = false
		}
		for i := 0; i < len(text); i++ {
			ch := text[i]
			switch {
			case ch == '\n':
				endWord()
				line++
				cur = nil
			case ch == '\\' && i+1 < len(text) && text[i+1] == '\n':
				i++
				line++
			case ch == '\'':
				end := strings.IndexByte(text[i+1:], '\'')
				if end < 0 {
					t.Fatalf("README line %d: unterminated quote", line)
				}
				word.WriteString(text[i+1 : i+1+end])
				line += strings.Count(text[i+1:i+1+end], "\n")
				i += end + 1
				inWord = true
			case ch == '"':
				end := strings.IndexByte(text[i+1:], '"')
				if end < 0 {
					t.Fatalf("README line %d: unterminated quote", line)
				}
				word.WriteString(text[i+1 : i+1+end])
				i += end + 1
				inWord = true
			case ch == '#' && !inWord:
				end := strings.IndexByte(text[i:], '\n')
				if end < 0 {
					end = len(text) - i
				}
				comment := text[i+1 : i+end]
				switch {
				case cur != nil:
					cur.comments = append(cur.comments, comment)
				case len(cmds) > 0:
					cmds[len(cmds)-1].comments = append(cmds[len(cmds)-1].comments, comment)
				}
				i += end - 1
			case ch == ' ' || ch == '\t':
				endWord()
			default:
				word.WriteByte(ch)
				inWord = true
			}
		}
		endWord()
	}
	for l := range strings.Lines(readme) {
		lineNo++
		trimmed := strings.TrimSpace(l)
		switch {
		case !inBlock && strings.HasPrefix(trimmed, "```sh"):
			inBlock, blockStart = true, lineNo+1
		case inBlock && trimmed == "```":
			inBlock = false
			flush()
		case inBlock:
			block.WriteString(l)
		}
	}

	var out []curlCall
	for _, c := range cmds {
		words := c.words
		if len(words) > 0 && words[0] == "export" {
			words = words[1:]
		}
		if len(words) > 3 && assignCmd.MatchString(words[0]) && words[1] == "run" && words[2] == "./cmd/local" && strings.HasSuffix(words[len(words)-1], ")") {
			args := slices.Clone(words[3:])
			args[len(args)-1] = strings.TrimSuffix(args[len(args)-1], ")")
			out = append(out, curlCall{Line: c.line, Set: assignCmd.FindStringSubmatch(words[0])[1], Args: args})
			continue
		}
		call := curlCall{Line: c.line, Header: map[string]string{}}
		if n := len(words); n > 5 && captureCmd.MatchString(words[0]) && words[n-4] == "|" && words[n-3] == "jq" && words[n-2] == "-r" &&
			jqMember.MatchString(words[n-1]) {
			call.Capture, call.Member = captureCmd.FindStringSubmatch(words[0])[1], jqMember.FindStringSubmatch(words[n-1])[1]
			words = append([]string{"curl"}, words[1:n-4]...)
		}
		if len(words) == 0 || words[0] != "curl" {
			continue
		}
		for i := 1; i < len(words); i++ {
			w := words[i]
			next := func() string {
				if i+1 < len(words) {
					i++
					return words[i]
				}
				return ""
			}
			switch {
			case w == "-X":
				call.Method = next()
			case w == "-H":
				k, v, _ := strings.Cut(next(), ":")
				call.Header[strings.TrimSpace(k)] = strings.TrimSpace(v)
			case w == "-d":
				call.Body, call.HasBody = next(), true
			case w == "--data-binary":
				next()
				call.Binary = true
			case w == "-o":
				if f := next(); f != "/dev/null" {
					call.Output = f
				}
			case w == "-w":
				next()
			case strings.HasPrefix(w, "$B/"):
				call.Target = strings.TrimPrefix(w, "$B")
			}
		}
		if call.Method == "" {
			call.Method = http.MethodGet
			if call.HasBody || call.Binary {
				call.Method = http.MethodPost
			}
		}
		call.Comment = strings.Join(c.comments, "\n")
		for _, com := range c.comments {
			for _, re := range statusInComment {
				if m := re.FindStringSubmatch(com); m != nil && call.Status == 0 {
					call.Status, _ = strconv.Atoi(m[1])
				}
			}
			for _, m := range shownPair.FindAllStringSubmatch(com, -1) {
				if !strings.Contains(m[2], "...") {
					call.Shown = append(call.Shown, shownField{m[1], m[2]})
				}
			}
		}
		if call.Target != "" {
			out = append(out, call)
		}
	}
	return out
}

// templateOf returns the path template of openapi.yaml that a concrete path matches ("" for
// none).
func (s *spec) templateOf(path string) string {
	segs := strings.Split(path, "/")
	for tmpl := range obj(s.doc, "paths") {
		ts := strings.Split(tmpl, "/")
		if len(ts) != len(segs) {
			continue
		}
		match := true
		for i, seg := range ts {
			isParam := strings.HasPrefix(seg, "{") && strings.HasSuffix(seg, "}")
			match = match && (seg == segs[i] || isParam && segs[i] != "")
		}
		if match {
			return tmpl
		}
	}
	return ""
}

// TestReadmeTourMatchesOpenAPI replays the README's tour (every curl with a JSON body or
// none; uploads of a file are left out) against the in-process API, as a shell would run
// it: tokens from `go run ./cmd/local token` and `webchat-token` into the variables the
// tour uses, `curl -o FILE` answers kept for later commands. Every status the README
// shows is the one served, every "name":value the README shows is in the answer, every
// response matches openapi.yaml, and every request body is valid against its
// operation's request schema unless the README shows it refused (400, 422).
func TestReadmeTourMatchesOpenAPI(t *testing.T) {
	t.Parallel()
	s := mustSpec(t)
	// The tour runs against `make run`, whose published base URL (SSO's assertion URL) is
	// its own origin, the tour's $B.
	readme := string(mustRead(t, repoPath("README.md")))
	b := regexp.MustCompile(`(?m)^export B=(\S+)$`).FindStringSubmatch(readme)
	if b == nil {
		t.Fatal("the README tour does not set B (export B=http://...)")
	}
	srv := apitest.NewAt(t, b[1])
	calls := readmeCurls(t, readme)
	// What the tour's commands set: shell variables (tokens) and files (curl -o).
	vars := map[string]string{}
	files := map[string][]byte{}
	expand := func(line int, s string) string {
		return shellVar.ReplaceAllStringFunc(s, func(m string) string {
			v, ok := vars[m[1:]]
			if !ok {
				t.Errorf("README line %d uses %s, which no earlier command of the tour sets", line, m)
			}
			return v
		})
	}
	replayed, bodies := 0, 0
	for _, c := range calls {
		if c.Set != "" {
			flags := map[string]string{}
			for i := 1; i+1 < len(c.Args); i += 2 {
				flags[c.Args[i]] = c.Args[i+1]
			}
			switch c.Args[0] {
			case "token":
				vars[c.Set] = srv.Token(flags["-org"], flags["-role"])
			case "webchat-token":
				readFile := func(name string) ([]byte, error) {
					if b, ok := files[name]; ok {
						return b, nil
					}
					return nil, fmt.Errorf("no earlier command of the tour writes %s", name)
				}
				tok, err := local.WebchatToken(c.Args[1:], func(string) string { return "" }, readFile, srv.Now, io.Discard)
				if err != nil {
					t.Errorf("README line %d: %v", c.Line, err)
				}
				vars[c.Set] = tok
			default:
				t.Errorf("README line %d: the test does not know `go run ./cmd/local %s`", c.Line, c.Args[0])
			}
			continue
		}
		if c.Binary || c.Method == http.MethodOptions {
			// Uploads of a file are left out; CORS preflights are answered by the
			// middleware in front of the API (pkg/httpx cors tests, cmd/local tests).
			continue
		}
		c.Target = expand(c.Line, c.Target)
		path, _, _ := strings.Cut(c.Target, "?")
		tmpl := s.templateOf(path)
		localOnly := strings.HasPrefix(path, "/local/") // the local server's own routes, not the API's
		if tmpl == "" && !localOnly {
			t.Errorf("README line %d: %s %s is not in openapi.yaml", c.Line, c.Method, c.Target)
			continue
		}
		req := apitest.Request{Method: c.Method, Path: c.Target, Header: map[string]string{}}
		for k, v := range c.Header {
			v = expand(c.Line, v)
			if k == "Authorization" {
				req.Token = strings.TrimPrefix(v, "Bearer ")
				continue
			}
			req.Header[k] = v
		}
		if c.HasBody && !localOnly {
			bodies++
			req.Body = []byte(expand(c.Line, c.Body))
			media := c.Header["Content-Type"]
			sch, ok := s.requestSchema(c.Method, tmpl, media)
			inst, err := decodeJSON(req.Body)
			switch {
			case !ok:
				t.Errorf("README line %d: openapi.yaml has no %s request body for %s %s", c.Line, media, c.Method, tmpl)
			case err != nil:
				t.Errorf("README line %d: the body is not JSON: %v", c.Line, err)
			default:
				errs := s.v.validate(sch, inst, inRequest)
				refused := c.Status == http.StatusBadRequest || c.Status == http.StatusUnprocessableEntity
				if refused && len(errs) == 0 && lockRefusal(c.Comment) {
					// A lock on an ancestor depends on the tree, not on the body: no schema
					// can say it (the answer is still checked below).
					break
				}
				if refused == (len(errs) == 0) {
					t.Errorf("README line %d: %s %s: the README shows %d, but the request schema says valid=%v\n%s\nbody: %s",
						c.Line, c.Method, c.Target, c.Status, len(errs) == 0, schemaErrors(errs), c.Body)
				}
			}
		}
		if c.HasBody && localOnly {
			req.Body = []byte(expand(c.Line, c.Body))
		}
		resp := srv.Do(req)
		replayed++
		if !localOnly {
			s.checkResponse(t, c.Method, tmpl, resp)
		}
		if c.Status != 0 && resp.Status != c.Status {
			t.Errorf("README line %d: %s %s: got %d, want %d as the README shows\n%s", c.Line, c.Method, c.Target, resp.Status, c.Status, resp.Body)
		}
		if c.Output != "" {
			files[c.Output] = resp.Body
		}
		if c.Capture != "" {
			var m map[string]any
			v, ok := "", json.Unmarshal(resp.Body, &m) == nil
			if ok {
				v, ok = m[c.Member].(string)
			}
			if !ok {
				t.Errorf("README line %d: the answer has no string member %s for %s:\n%s", c.Line, c.Member, c.Capture, resp.Body)
			}
			vars[c.Capture] = v
		}
		if len(c.Shown) > 0 {
			got, err := decodeJSON(resp.Body)
			if err != nil {
				t.Errorf("README line %d: the README shows JSON, the answer is not: %v", c.Line, err)
			}
			for _, f := range c.Shown {
				want, err := decodeJSON([]byte(f.Value))
				if err != nil {
					t.Errorf("README line %d: %q is not JSON: %v", c.Line, f.Value, err)
				} else if !holds(got, f.Name, want) {
					t.Errorf("README line %d: %s %s: the README shows \"%s\":%s, the answer does not hold it\n%s", c.Line, c.Method, c.Target, f.Name, f.Value, resp.Body)
				}
			}
		}
	}
	if replayed < 12 || bodies < 5 {
		t.Errorf("replayed %d calls with %d bodies from the README, want at least 12 and 5: was the tour reformatted?", replayed, bodies)
	}
}

// holds reports whether doc has a member name equal to want, at any depth.
func holds(doc any, name string, want any) bool {
	switch d := doc.(type) {
	case map[string]any:
		if v, ok := d[name]; ok && reflect.DeepEqual(v, want) {
			return true
		}
		for _, v := range d {
			if holds(v, name, want) {
				return true
			}
		}
	case []any:
		for _, v := range d {
			if holds(v, name, want) {
				return true
			}
		}
	}
	return false
}

// lockRefusal reports whether a tour line's shown answer is the refusal to override a
// field an ancestor organisation locks (every field error says so).
func lockRefusal(comment string) bool {
	return strings.Contains(comment, `"status":422`) && strings.Count(comment, `"field":`) > 0 &&
		strings.Count(comment, `"field":`) == strings.Count(comment, `"message":"is locked by organisation `)
}
