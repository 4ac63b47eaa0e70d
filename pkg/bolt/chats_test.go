package bolt_test

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/convrs/admin/pkg/bolt"
	"github.com/convrs/admin/pkg/chats"
	"github.com/convrs/admin/pkg/chats/chatstest"
	"github.com/convrs/admin/pkg/problem"
)

// openChats returns the chat store of a new bolt file.
func openChats(tb testing.TB, o bolt.Options) *bolt.Chats {
	tb.Helper()
	s, err := bolt.OpenWith(filepath.Join(tb.TempDir(), "convrs.db"), o)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = s.Close() })
	c, err := s.Chats()
	if err != nil {
		tb.Fatal(err)
	}
	return c
}

func TestChatsContract(t *testing.T) {
	chatstest.Run(t, func(t *testing.T) chats.Store { return openChats(t, bolt.Options{}) })
}

// FuzzPosition: a position given back is refused or parsed into parts that give the same
// position back; it never panics.
func FuzzPosition(f *testing.F) {
	for _, s := range []string{"open.0000000000000000001.c-1", "idle.9223372036854775807.x", "login..", "open.000000000000000000a.c", "", "\xff", "open.0000000000000000001.c-1.x"} {
		f.Add("open", s)
		f.Add("idle", s)
	}
	f.Fuzz(func(t *testing.T, kind, pos string) {
		order, id, err := bolt.ParsePositionForTest(kind, pos)
		if err != nil {
			if !problem.Is(err, problem.BadRequest) {
				t.Fatalf("parsePosition(%q, %q): %v, want a BadRequest problem", kind, pos, err)
			}
			return
		}
		if back := bolt.PositionForTest(kind, order, id); back != pos || strings.ContainsRune(id, 0) {
			t.Fatalf("position(%q, %q, %q) = %q, want %q", kind, order, id, back, pos)
		}
	})
}
