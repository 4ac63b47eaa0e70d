package apidocs

import (
	"html"
	"html/template"
	"strings"
)

// text renders a description as HTML: the text escaped, paragraphs at blank lines, lines
// starting with "- " as list items, and `code` spans. Nothing else of Markdown is
// interpreted, and nothing of the input reaches the page unescaped.
func text(s string) template.HTML {
	s = strings.TrimSpace(strings.ReplaceAll(s, "\r\n", "\n"))
	if s == "" {
		return ""
	}
	var b strings.Builder
	for _, para := range strings.Split(s, "\n\n") {
		para = strings.TrimSpace(para)
		if para == "" {
			continue
		}
		lines := strings.Split(para, "\n")
		if isList(lines) {
			var list []string // items, continuation lines joined to theirs
			for _, l := range lines {
				l = strings.TrimSpace(l)
				if item, ok := strings.CutPrefix(l, "- "); ok || len(list) == 0 {
					list = append(list, item)
					continue
				}
				list[len(list)-1] += " " + l
			}
			b.WriteString("<ul>")
			for _, item := range list {
				b.WriteString("<li>" + inline(item) + "</li>")
			}
			b.WriteString("</ul>")
			continue
		}
		b.WriteString("<p>")
		b.WriteString(inline(strings.Join(lines, "\n")))
		b.WriteString("</p>")
	}
	return template.HTML(b.String()) // safe: inline escaped every piece of the input
}

// isList reports whether a paragraph is a list: its first line starts with "- ".
func isList(lines []string) bool {
	return strings.HasPrefix(strings.TrimSpace(lines[0]), "- ")
}

// inline escapes s and turns `code` spans into <code> elements.
func inline(s string) string {
	parts := strings.Split(s, "`")
	if len(parts)%2 == 0 { // an unpaired backtick: no code spans
		return html.EscapeString(s)
	}
	var b strings.Builder
	for i, part := range parts {
		if i%2 == 1 {
			b.WriteString("<code>")
			b.WriteString(html.EscapeString(part))
			b.WriteString("</code>")
			continue
		}
		b.WriteString(html.EscapeString(part))
	}
	return b.String()
}
