package agents_test

import (
	"github.com/convrs/admin/pkg/agents"
	"github.com/convrs/admin/pkg/agents/langtag"
	"github.com/convrs/admin/pkg/agents/phone"
)

// parsers are the field parsers the agents function passes.
var parsers = agents.Parsers{Phone: phone.Parse, Language: langtag.Parse}
