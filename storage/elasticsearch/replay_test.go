package elasticsearch_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
)

// exchange is one recorded request and its response.
type exchange struct {
	line     int // in the transcript, for messages
	method   string
	path     string // escaped, as sent on the wire
	query    url.Values
	reqBody  []string // body lines; JSON compared semantically line by line for NDJSON
	status   int
	respBody string
}

// loadTranscript reads a recorded transcript. Format, one exchange after
// another, separated by blank lines; '#' starts a comment line:
//
//	> METHOD /escaped/path?query
//	> request body line (JSON; several lines form NDJSON when the request
//	>   is a _bulk, else one JSON document)
//	< STATUS
//	< response body (JSON, may span lines)
func loadTranscript(t *testing.T, file string) []exchange {
	t.Helper()
	f, err := os.Open(file)
	require.NoError(t, err)
	defer f.Close()
	var out []exchange
	var cur *exchange
	var resp []string
	flush := func() {
		if cur != nil {
			cur.respBody = strings.Join(resp, "\n")
			out = append(out, *cur)
		}
		cur, resp = nil, nil
	}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	n := 0
	for sc.Scan() {
		n++
		line := sc.Text()
		switch {
		case strings.TrimSpace(line) == "" || strings.HasPrefix(line, "#"):
			continue
		case strings.HasPrefix(line, "> ") && (cur == nil || cur.status != 0):
			flush()
			method, target, ok := strings.Cut(line[2:], " ")
			require.True(t, ok, "%s:%d: bad request line", file, n)
			p, rawQuery, _ := strings.Cut(target, "?")
			q, err := url.ParseQuery(rawQuery)
			require.NoError(t, err, "%s:%d", file, n)
			cur = &exchange{line: n, method: method, path: p, query: q}
		case strings.HasPrefix(line, "> "):
			cur.reqBody = append(cur.reqBody, line[2:])
		case strings.HasPrefix(line, "< ") && cur != nil && cur.status == 0:
			st, err := strconv.Atoi(strings.TrimSpace(line[2:]))
			require.NoError(t, err, "%s:%d: bad status", file, n)
			cur.status = st
		case strings.HasPrefix(line, "<") && cur != nil:
			resp = append(resp, strings.TrimPrefix(strings.TrimPrefix(line, "<"), " "))
		default:
			t.Fatalf("%s:%d: unexpected line %q", file, n, line)
		}
	}
	require.NoError(t, sc.Err())
	flush()
	return out
}

// replayServer serves a transcript in order and checks every request
// against it: method, escaped path, query parameters and body.
type replayServer struct {
	t     *testing.T
	file  string
	mu    sync.Mutex
	next  int
	steps []exchange
}

func newReplayServer(t *testing.T, file string) *httptest.Server {
	rs := &replayServer{t: t, file: file, steps: loadTranscript(t, file)}
	srv := httptest.NewServer(rs)
	t.Cleanup(func() {
		srv.Close()
		rs.mu.Lock()
		defer rs.mu.Unlock()
		if rs.next < len(rs.steps) && !t.Failed() {
			t.Errorf("%s: %d recorded exchanges never requested; next is line %d: %s %s",
				file, len(rs.steps)-rs.next, rs.steps[rs.next].line, rs.steps[rs.next].method, rs.steps[rs.next].path)
		}
	})
	return srv
}

func (rs *replayServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	rs.mu.Lock()
	if rs.next >= len(rs.steps) {
		rs.mu.Unlock()
		rs.t.Errorf("%s: unexpected extra request %s %s?%s %s", rs.file, r.Method, r.URL.EscapedPath(), r.URL.RawQuery, body)
		http.Error(w, "no more recorded exchanges", http.StatusTeapot)
		return
	}
	ex := rs.steps[rs.next]
	rs.next++
	rs.mu.Unlock()

	if want := strings.TrimPrefix(srvURL(r), "http://"); r.Host != want {
		rs.t.Errorf("%s:%d: Host header %q, want the node's %q", rs.file, ex.line, r.Host, want)
	}
	if msg := ex.mismatch(r, body); msg != "" {
		rs.t.Errorf("%s:%d: request differs from the recording: %s", rs.file, ex.line, msg)
		http.Error(w, msg, http.StatusTeapot)
		return
	}
	w.Header().Set("X-Elastic-Product", "Elasticsearch")
	if ex.respBody != "" {
		w.Header().Set("Content-Type", "application/json")
	}
	w.WriteHeader(ex.status)
	if r.Method != http.MethodHead {
		_, _ = io.WriteString(w, ex.respBody)
	}
}

func (ex exchange) mismatch(r *http.Request, body []byte) string {
	if r.Method != ex.method || r.URL.EscapedPath() != ex.path {
		return fmt.Sprintf("got %s %s, recorded %s %s", r.Method, r.URL.EscapedPath(), ex.method, ex.path)
	}
	if q := r.URL.Query(); !reflect.DeepEqual(q, ex.query) && !(len(q) == 0 && len(ex.query) == 0) {
		return fmt.Sprintf("%s %s: got query %v, recorded %v", ex.method, ex.path, q, ex.query)
	}
	if len(body) > 0 {
		want := "application/json"
		if strings.HasSuffix(ex.path, "/_bulk") {
			want = "application/x-ndjson"
		}
		if ct := r.Header.Get("Content-Type"); ct != want {
			return fmt.Sprintf("%s %s: Content-Type %q, want %q", ex.method, ex.path, ct, want)
		}
	}
	var got []string
	if strings.HasSuffix(ex.path, "/_bulk") {
		for _, l := range bytes.Split(bytes.TrimRight(body, "\n"), []byte("\n")) {
			if len(l) > 0 {
				got = append(got, string(l))
			}
		}
		if len(body) > 0 && !bytes.HasSuffix(body, []byte("\n")) {
			return "bulk body must end with a newline"
		}
	} else if len(body) > 0 {
		got = []string{string(body)}
	}
	want := ex.reqBody
	if !strings.HasSuffix(ex.path, "/_bulk") && len(want) > 0 {
		want = []string{strings.Join(want, "\n")}
	}
	if len(got) != len(want) {
		return fmt.Sprintf("%s %s: got body %q, recorded %q", ex.method, ex.path, got, want)
	}
	for i := range got {
		var g, w any
		if err := json.Unmarshal([]byte(got[i]), &g); err != nil {
			return fmt.Sprintf("%s %s: body line %d is not JSON: %v", ex.method, ex.path, i, err)
		}
		if err := json.Unmarshal([]byte(want[i]), &w); err != nil {
			return fmt.Sprintf("%s %s: recorded body line %d is not JSON: %v", ex.method, ex.path, i, err)
		}
		if !reflect.DeepEqual(g, w) {
			return fmt.Sprintf("%s %s: body line %d\n got  %s\n want %s", ex.method, ex.path, i, got[i], want[i])
		}
	}
	return ""
}

// srvURL is the address the request was sent to, as the server sees it.
func srvURL(r *http.Request) string {
	addr, _ := r.Context().Value(http.LocalAddrContextKey).(net.Addr)
	if addr == nil {
		return ""
	}
	return "http://" + addr.String()
}
