package dynamo_test

import (
	"testing"

	"github.com/convrs/admin/pkg/chats"
	"github.com/convrs/admin/pkg/chats/chatstest"
	"github.com/convrs/admin/pkg/dynamo"
)

func TestChatsContract(t *testing.T) {
	needLocal(t)
	chatstest.Run(t, func(*testing.T) chats.Store { return dynamo.NewChats(localClient, localTable) })
}
