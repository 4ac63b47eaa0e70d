package bolt_test

import (
	"path/filepath"
	"testing"

	"github.com/convrs/admin/pkg/bolt"
	"github.com/convrs/admin/pkg/chats"
	"github.com/convrs/admin/pkg/chats/chatstest"
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
