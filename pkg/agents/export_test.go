package agents

// EscapeHTMLForTest exposes escapeHTML to the external tests.
var EscapeHTMLForTest = escapeHTML
