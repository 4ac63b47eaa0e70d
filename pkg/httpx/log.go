package httpx

import (
	"context"
	"io"
	"log/slog"
	"math"
	"strconv"
	"sync"
	"time"
	"unicode/utf8"
)

// NewLogger returns the JSON logger every process uses (Lambda's JSON log format): a
// slog JSONHandler writing to w at level and above. Its one hot line, the access log of
// every request, is written by a hand-made encoder that produces what the JSONHandler
// would (the same keys, order and encoding) without its per-call reflection and
// allocations; everything else goes through the JSONHandler.
func NewLogger(w io.Writer, level slog.Level) *slog.Logger {
	h := &lineHandler{w: w, level: level}
	h.Handler = slog.NewJSONHandler(&lockedWriter{h: h}, &slog.HandlerOptions{Level: level})
	return slog.New(h)
}

// lineHandler is a JSONHandler with a fast path for access lines. Both write through
// the same mutex, so lines never interleave.
type lineHandler struct {
	slog.Handler
	mu    sync.Mutex
	w     io.Writer
	level slog.Level
}

// lockedWriter serialises the JSONHandler's writes with the access lines.
type lockedWriter struct{ h *lineHandler }

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.h.mu.Lock()
	defer l.h.mu.Unlock()
	return l.h.w.Write(p)
}

type accessLine struct {
	requestID, method, route, path, org string
	status, bytes                       int
	latencyMs                           float64
}

var linePool = sync.Pool{New: func() any { b := make([]byte, 0, 512); return &b }}

// access writes one access line as slog's JSONHandler would write
// Info("request", "requestId", ..., "latencyMs", ...).
func (h *lineHandler) access(ctx context.Context, l accessLine) {
	if !h.Enabled(ctx, slog.LevelInfo) {
		return
	}
	bp := linePool.Get().(*[]byte)
	b := (*bp)[:0]
	b = append(b, `{"time":"`...)
	b = appendTime(b, time.Now())
	b = append(b, `","level":"INFO","msg":"request","requestId":`...)
	b = appendString(b, l.requestID)
	b = append(b, `,"method":`...)
	b = appendString(b, l.method)
	b = append(b, `,"route":`...)
	b = appendString(b, l.route)
	b = append(b, `,"path":`...)
	b = appendString(b, l.path)
	b = append(b, `,"org":`...)
	b = appendString(b, l.org)
	b = append(b, `,"status":`...)
	b = strconv.AppendInt(b, int64(l.status), 10)
	b = append(b, `,"bytes":`...)
	b = strconv.AppendInt(b, int64(l.bytes), 10)
	b = append(b, `,"latencyMs":`...)
	b = appendFloat(b, l.latencyMs)
	b = append(b, "}\n"...)
	h.mu.Lock()
	_, _ = h.w.Write(b)
	h.mu.Unlock()
	*bp = b
	linePool.Put(bp)
}

// appendTime formats t as slog's JSONHandler does (as json.Marshal does): RFC 3339 with
// nanoseconds, trailing zeros trimmed.
func appendTime(b []byte, t time.Time) []byte {
	return t.AppendFormat(b, time.RFC3339Nano)
}

// appendFloat formats f as encoding/json does (slog calls json.Marshal for floats).
func appendFloat(b []byte, f float64) []byte {
	format := byte('f')
	if abs := math.Abs(f); abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	b = strconv.AppendFloat(b, f, format, -1, 64)
	if format == 'e' {
		// clean up e-09 to e-9
		if n := len(b); n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
			b[n-2] = b[n-1]
			b = b[:n-1]
		}
	}
	return b
}

const hexDigits = "0123456789abcdef"

// appendString appends s as a JSON string escaped as slog's JSONHandler escapes it: ",
// \\ and control characters below U+0020, U+2028 and U+2029, and invalid UTF-8 as U+FFFD.
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
