package apidocs

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io"
	"slices"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Doc is the reference page's view of an OpenAPI document.
type Doc struct {
	Title, Version, OpenAPI string
	Summary                 template.HTML
	Description             template.HTML
	Servers                 []Server
	Security                string // how callers authenticate, "" when nothing says
	Groups                  []*Group
	Schemas                 []*NamedSchema
	Truncated               bool // a limit was reached; the page is incomplete
}

// Server is one entry of servers.
type Server struct {
	URL         string
	Description template.HTML
}

// Group is the operations of one tag, in document order.
type Group struct {
	Name, Anchor string
	Description  template.HTML
	Ops          []*Op
}

// Op is one operation.
type Op struct {
	Anchor, ID, Method, Path string
	Title                    string // the summary as plain text, for the contents
	Summary                  template.HTML
	Description              template.HTML
	Deprecated, Public       bool
	Params                   []Row
	Body                     *Body
	Responses                []*Response
}

// Body is an operation's request body.
type Body struct {
	Required    bool
	Description template.HTML
	Media       []*Media
}

// Media is one media type of a body with its schema as a field table.
type Media struct {
	Type       string
	SchemaName string // the component the schema refers to, "" for an inline schema
	SchemaLink string // its anchor
	Rows       []Row  // the schema's fields (nil when only linked)
	Example    string // JSON, indented
}

// Response is one status of an operation.
type Response struct {
	Status      string
	Class       string // s2, s4, s5: for the status colour
	Description template.HTML
	Headers     []Row
	Media       []*Media
}

// NamedSchema is one component schema.
type NamedSchema struct {
	Name, Anchor string
	Rows         []Row
}

// Row is one field of a schema table (or one parameter or header): Depth is its nesting
// under the table's root.
type Row struct {
	Depth       int
	Name        string
	In          string // parameters: path, query, header
	Type        string
	TypeLink    string // anchor of the component schema the type names
	Required    bool
	Constraints []string
	Default     string
	Description template.HTML
}

// Limits that keep a hostile or broken document from making a huge page or a long walk.
const (
	maxSchemaDepth = 8         // nested levels shown in one table
	maxRefHops     = 32        // $ref chains
	maxTableRows   = 400       // rows of one schema table
	maxRows        = 20000     // rows of the whole page
	maxOps         = 2000      // operations
	maxSteps       = 2_000_000 // schema visits (flattening, type names, rows)
	maxJSONNodes   = 10000     // nodes of one default, enum value or example
)

var methods = []string{"get", "put", "post", "delete", "options", "head", "patch", "trace"}

// Parse reads an OpenAPI 3.x document (YAML or JSON) into the page's model. It returns an
// error when the bytes are not YAML or the document is not a mapping with an openapi
// version and paths; anything else it renders as well as it can, and never panics.
func Parse(spec []byte) (*Doc, error) {
	var root yaml.Node
	if err := decodeYAML(spec, &root); err != nil {
		return nil, fmt.Errorf("openapi document: %w", err)
	}
	p := &parser{root: deref(root.Content[0]), anchors: map[string]int{}}
	if p.root == nil || p.root.Kind != yaml.MappingNode {
		return nil, errors.New("openapi document: not a mapping")
	}
	if v := str(get(p.root, "openapi")); !strings.HasPrefix(v, "3.") {
		return nil, fmt.Errorf("openapi document: openapi version %q, want 3.x", v)
	}
	if paths := deref(get(p.root, "paths")); paths == nil || paths.Kind != yaml.MappingNode {
		return nil, errors.New("openapi document: no paths")
	}
	return p.doc(), nil
}

// decodeYAML decodes the one YAML document of data into a node. The decoder is a
// dependency: should it panic on some input, the document is refused instead of taking
// the server down.
func decodeYAML(data []byte, n *yaml.Node) (err error) {
	defer func() {
		if v := recover(); v != nil {
			err = fmt.Errorf("YAML decoder failed: %v", v)
		}
	}()
	dec := yaml.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(n); err != nil {
		if errors.Is(err, io.EOF) {
			return errors.New("empty")
		}
		return err
	}
	if n.Kind != yaml.DocumentNode || len(n.Content) != 1 {
		return errors.New("not one YAML document")
	}
	var next yaml.Node
	if err := dec.Decode(&next); !errors.Is(err, io.EOF) {
		return errors.New("more than one YAML document")
	}
	return nil
}

type parser struct {
	root    *yaml.Node
	anchors map[string]int
	rows    int // rows made so far (maxRows)
	steps   int // schema visits so far (maxSteps)
	out     *Doc
}

// step counts one unit of work; false once the document has cost maxSteps, when the page
// is marked incomplete. YAML aliases let a small document describe a huge tree; this
// keeps rendering it linear in what is shown.
func (p *parser) step() bool {
	p.steps++
	if p.steps > maxSteps {
		p.out.Truncated = true
		return false
	}
	return true
}

func (p *parser) doc() *Doc {
	info := get(p.root, "info")
	d := &Doc{
		Title:       str(get(info, "title")),
		Version:     str(get(info, "version")),
		OpenAPI:     str(get(p.root, "openapi")),
		Summary:     text(str(get(info, "summary"))),
		Description: text(str(get(info, "description"))),
	}
	p.out = d
	if d.Title == "" {
		d.Title = "API reference"
	}
	for _, s := range items(get(p.root, "servers")) {
		d.Servers = append(d.Servers, Server{URL: str(get(s, "url")), Description: text(str(get(s, "description")))})
	}
	d.Security = p.security(get(p.root, "security"))

	groups := map[string]*Group{}
	for _, t := range items(get(p.root, "tags")) {
		name := str(get(t, "name"))
		if name == "" || groups[name] != nil {
			continue
		}
		g := &Group{Name: name, Anchor: p.anchor("tag-" + name), Description: text(str(get(t, "description")))}
		groups[name] = g
		d.Groups = append(d.Groups, g)
	}
	ops := 0
	for _, pe := range pairs(get(p.root, "paths")) {
		pathItem := p.resolve(pe.value)
		shared := items(get(pathItem, "parameters"))
		for _, me := range pairs(pathItem) {
			if !slices.Contains(methods, me.key) {
				continue
			}
			if ops++; ops > maxOps {
				d.Truncated = true
				break
			}
			op := p.operation(pe.key, me.key, deref(me.value), shared)
			tag := "default"
			if tags := items(get(deref(me.value), "tags")); len(tags) > 0 && str(tags[0]) != "" {
				tag = str(tags[0])
			}
			g := groups[tag]
			if g == nil {
				g = &Group{Name: tag, Anchor: p.anchor("tag-" + tag)}
				groups[tag] = g
				d.Groups = append(d.Groups, g)
			}
			g.Ops = append(g.Ops, op)
		}
	}
	kept := d.Groups[:0]
	for _, g := range d.Groups {
		if len(g.Ops) > 0 {
			kept = append(kept, g)
		}
	}
	d.Groups = kept

	for _, se := range pairs(get(get(p.root, "components"), "schemas")) {
		ns := &NamedSchema{Name: se.key, Anchor: schemaAnchor(se.key)}
		ns.Rows = p.table(se.value)
		d.Schemas = append(d.Schemas, ns)
	}
	return d
}

func (p *parser) security(n *yaml.Node) string {
	n = deref(n)
	if n == nil {
		return ""
	}
	var names []string
	for _, req := range items(n) {
		for _, e := range pairs(req) {
			scheme := deref(get(get(get(p.root, "components"), "securitySchemes"), e.key))
			desc := e.key
			if t := str(get(scheme, "type")); t != "" {
				desc += " (" + strings.TrimSpace(t+" "+str(get(scheme, "scheme"))+" "+str(get(scheme, "bearerFormat"))) + ")"
			}
			names = append(names, desc)
		}
	}
	if len(names) == 0 {
		return "none"
	}
	return strings.Join(names, " or ")
}

func (p *parser) operation(path, method string, n *yaml.Node, shared []*yaml.Node) *Op {
	id := str(get(n, "operationId"))
	op := &Op{
		ID:          id,
		Method:      strings.ToUpper(method),
		Path:        path,
		Title:       strings.Join(strings.Fields(str(get(n, "summary"))), " "),
		Summary:     text(str(get(n, "summary"))),
		Description: text(str(get(n, "description"))),
		Deprecated:  str(get(n, "deprecated")) == "true",
	}
	if id == "" {
		id = method + " " + path
	}
	op.Anchor = p.anchor("op-" + id)
	if sec := deref(get(n, "security")); sec != nil && sec.Kind == yaml.SequenceNode && len(sec.Content) == 0 {
		op.Public = true
	}

	seen := map[string]bool{}
	var params []*yaml.Node
	for _, prm := range append(items(get(n, "parameters")), shared...) { // the operation's win
		prm = p.resolve(prm)
		key := str(get(prm, "in")) + " " + str(get(prm, "name"))
		if prm == nil || seen[key] {
			continue
		}
		seen[key] = true
		params = append(params, prm)
	}
	for _, prm := range params {
		if p.rows++; p.rows > maxRows {
			p.out.Truncated = true
			break
		}
		row := p.fieldRow(str(get(prm, "name")), get(prm, "schema"), 0, str(get(prm, "required")) == "true")
		row.In = str(get(prm, "in"))
		if d := str(get(prm, "description")); d != "" {
			row.Description = text(d)
		}
		if ex := get(prm, "example"); ex != nil {
			row.Constraints = append(row.Constraints, "example "+literal(ex))
		}
		op.Params = append(op.Params, row)
	}

	if rb := p.resolve(get(n, "requestBody")); rb != nil {
		op.Body = &Body{Required: str(get(rb, "required")) == "true", Description: text(str(get(rb, "description")))}
		op.Body.Media = p.media(get(rb, "content"), true)
	}
	for _, re := range pairs(get(n, "responses")) {
		r := p.resolve(re.value)
		resp := &Response{Status: re.key, Description: text(str(get(r, "description")))}
		if re.key != "" && strings.Contains("2345", re.key[:1]) {
			resp.Class = "s" + re.key[:1]
		}
		for _, he := range pairs(get(r, "headers")) {
			if p.rows++; p.rows > maxRows {
				p.out.Truncated = true
				break
			}
			h := p.resolve(he.value)
			row := p.fieldRow(he.key, get(h, "schema"), 0, str(get(h, "required")) == "true")
			if d := str(get(h, "description")); d != "" {
				row.Description = text(d)
			}
			resp.Headers = append(resp.Headers, row)
		}
		// Success bodies are shown in full; error bodies link to their schema.
		resp.Media = p.media(get(r, "content"), strings.HasPrefix(re.key, "2"))
		op.Responses = append(op.Responses, resp)
	}
	return op
}

// media lists the media types of a content map; with expand, each schema as a table.
func (p *parser) media(content *yaml.Node, expand bool) []*Media {
	var out []*Media
	for _, ce := range pairs(content) {
		m := &Media{Type: ce.key}
		mt := deref(ce.value)
		sch := deref(get(mt, "schema"))
		if ref := str(get(sch, "$ref")); ref != "" {
			if name, ok := componentName(ref); ok {
				m.SchemaName, m.SchemaLink = name, schemaAnchor(name)
			}
		}
		if sch != nil && (expand || m.SchemaName == "") {
			m.Rows = p.table(sch)
		}
		if ex := get(mt, "example"); ex != nil {
			m.Example = indented(ex)
		}
		out = append(out, m)
	}
	return out
}

// table renders a schema as rows: one for the schema itself, then its fields.
func (p *parser) table(schema *yaml.Node) []Row {
	var rows []Row
	budget := maxTableRows
	p.walk(&rows, &budget, "", schema, 0, false, nil)
	return rows
}

// walk adds the row of one schema (named name, at depth) and the rows of its fields.
// stack holds the component schemas being expanded, so that recursive schemas stop.
func (p *parser) walk(rows *[]Row, budget *int, name string, schema *yaml.Node, depth int, required bool, stack []string) {
	if !p.step() {
		return
	}
	if *budget <= 0 || p.rows >= maxRows {
		if *budget == 0 || p.rows == maxRows {
			*rows = append(*rows, Row{Depth: depth, Name: "…", Description: text("(not shown: the table is too large)")})
			p.out.Truncated = true
		}
		*budget--
		p.rows++
		return
	}
	*budget--
	p.rows++
	row := p.fieldRow(name, schema, depth, required)
	*rows = append(*rows, row)
	if depth >= maxSchemaDepth {
		return
	}
	s, names := p.flatten(schema)
	for _, n := range names {
		if slices.Contains(stack, n) {
			return // recursive: the row links to it
		}
	}
	stack = append(stack, names...)

	req := map[string]bool{}
	for _, r := range items(get(s, "required")) {
		req[str(r)] = true
	}
	for _, pe := range pairs(get(s, "properties")) {
		p.walk(rows, budget, pe.key, pe.value, depth+1, req[pe.key], stack)
	}
	if it := deref(get(s, "items")); it != nil && it.Kind == yaml.MappingNode && p.hasFields(it) {
		p.walk(rows, budget, "[ ]", it, depth+1, false, stack)
	}
	if ap := deref(get(s, "additionalProperties")); ap != nil && ap.Kind == yaml.MappingNode {
		key := "{key}"
		if pn := get(s, "propertyNames"); pn != nil {
			key = "{" + p.typeText(pn, 0) + "}"
		}
		p.walk(rows, budget, key, ap, depth+1, false, stack)
	}
	for _, kw := range []string{"oneOf", "anyOf"} {
		for _, alt := range items(get(s, kw)) {
			if f, _ := p.flatten(alt); get(f, "properties") != nil && !p.onlyConstProperties(f) {
				p.walk(rows, budget, "("+kw+")", alt, depth+1, false, stack)
			}
		}
	}
}

// hasFields reports whether a schema has anything to show below its own row.
func (p *parser) hasFields(schema *yaml.Node) bool {
	s, _ := p.flatten(schema)
	return get(s, "properties") != nil || get(s, "additionalProperties") != nil && get(s, "additionalProperties").Kind == yaml.MappingNode ||
		get(s, "items") != nil || get(s, "oneOf") != nil || get(s, "anyOf") != nil
}

// onlyConstProperties reports whether an alternative's properties only pin values (shown
// in its summary instead).
func (p *parser) onlyConstProperties(s *yaml.Node) bool {
	for _, pe := range pairs(get(s, "properties")) {
		if f, _ := p.flatten(pe.value); get(f, "const") == nil {
			return false
		}
	}
	return true
}

// fieldRow describes one schema in one row.
func (p *parser) fieldRow(name string, schema *yaml.Node, depth int, required bool) Row {
	row := Row{Depth: depth, Name: name, Required: required}
	schema = deref(schema)
	if schema == nil {
		row.Type = "any"
		return row
	}
	if ref := str(get(schema, "$ref")); ref != "" {
		if n, ok := componentName(ref); ok {
			row.TypeLink = schemaAnchor(n)
		}
	}
	s, _ := p.flatten(schema)
	row.Type = p.typeText(schema, 0)
	row.Constraints = constraints(s)
	if alts := p.alternatives(s); alts != "" {
		row.Constraints = append(row.Constraints, alts)
	}
	if d := get(s, "default"); d != nil {
		row.Default = compact(d)
	}
	if ex := get(schema, "example"); ex != nil && len(row.Constraints) < 20 {
		row.Constraints = append(row.Constraints, "example "+literal(ex))
	}
	// The description of the schema at hand wins over that of what it refers to.
	desc := str(get(schema, "description"))
	if desc == "" {
		desc = str(get(s, "description"))
	}
	row.Description = text(desc)
	return row
}

// alternatives summarises oneOf and anyOf alternatives that pin values or require fields
// (those with fields of their own get rows).
func (p *parser) alternatives(s *yaml.Node) string {
	for _, kw := range []string{"oneOf", "anyOf"} {
		var parts []string
		simple := true
		for _, alt := range items(get(s, kw)) {
			f, _ := p.flatten(alt)
			var bits []string
			if get(f, "type") != nil || get(alt, "$ref") != nil {
				bits = append(bits, p.typeText(alt, 0))
			}
			for _, pe := range pairs(get(f, "properties")) {
				if c := get(deref(pe.value), "const"); c != nil {
					bits = append(bits, pe.key+" = "+compact(c))
				}
			}
			if req := items(get(f, "required")); len(req) > 0 {
				var names []string
				for _, r := range req {
					names = append(names, str(r))
				}
				bits = append(bits, "with "+strings.Join(names, ", "))
			}
			if len(bits) == 0 {
				simple = false
			}
			parts = append(parts, strings.Join(bits, ", "))
		}
		if len(parts) > 0 && simple && get(s, "type") != nil {
			word := "one of"
			if kw == "anyOf" {
				word = "any of"
			}
			return word + ": " + strings.Join(parts, " | ")
		}
	}
	return ""
}

// typeText names a schema's type: its component name, its JSON types (with format and
// item type), or its alternatives.
func (p *parser) typeText(schema *yaml.Node, depth int) string {
	schema = deref(schema)
	if schema == nil || depth > 4 || !p.step() {
		return "any"
	}
	if ref := str(get(schema, "$ref")); ref != "" {
		name, ok := componentName(ref)
		if !ok {
			name = ref
		}
		return name
	}
	s, _ := p.flatten(schema)
	if c := get(s, "const"); c != nil {
		return "const " + compact(c)
	}
	var names []string
	t := deref(get(s, "type"))
	switch {
	case t == nil:
	case t.Kind == yaml.ScalarNode:
		names = []string{t.Value}
	case t.Kind == yaml.SequenceNode:
		for _, x := range t.Content {
			names = append(names, str(x))
		}
	}
	for i, n := range names {
		switch n {
		case "array":
			if it := get(s, "items"); it != nil {
				names[i] = "array of " + p.typeText(it, depth+1)
			}
		case "string", "integer", "number":
			if f := str(get(s, "format")); f != "" {
				names[i] = n + " (" + f + ")"
			}
		}
	}
	if len(names) == 0 {
		for _, kw := range []string{"oneOf", "anyOf", "allOf"} {
			for _, alt := range items(get(schema, kw)) {
				if f, _ := p.flatten(alt); get(f, "type") != nil || get(alt, "$ref") != nil {
					names = append(names, p.typeText(alt, depth+1))
				}
			}
			if len(names) > 0 {
				break
			}
		}
	}
	if len(names) == 0 {
		return "any"
	}
	return strings.Join(names, " | ")
}

// flatten returns a schema with its $ref target and allOf members merged in (later wins,
// properties and required united) and the component names it went through.
func (p *parser) flatten(schema *yaml.Node) (*yaml.Node, []string) {
	out := &yaml.Node{Kind: yaml.MappingNode}
	var names []string
	var props, req *yaml.Node
	outIdx, propIdx := map[string]int{}, map[string]int{}
	seen := map[*yaml.Node]bool{} // merging a node twice changes nothing: aliases may repeat one
	var merge func(n *yaml.Node, hops int)
	merge = func(n *yaml.Node, hops int) {
		n = deref(n)
		if n == nil || n.Kind != yaml.MappingNode || hops > maxRefHops || seen[n] || !p.step() {
			return
		}
		seen[n] = true
		if ref := str(get(n, "$ref")); ref != "" {
			if name, ok := componentName(ref); ok && !slices.Contains(names, name) {
				names = append(names, name)
			}
			merge(p.pointer(ref), hops+1)
		}
		for _, m := range items(get(n, "allOf")) {
			merge(m, hops+1)
		}
		for _, e := range pairs(n) {
			switch e.key {
			case "$ref", "allOf":
			case "properties":
				if props == nil {
					props = &yaml.Node{Kind: yaml.MappingNode}
					setIndexed(out, outIdx, "properties", props)
				}
				for _, pe := range pairs(e.value) {
					setIndexed(props, propIdx, pe.key, pe.value)
				}
			case "required":
				if req == nil {
					req = &yaml.Node{Kind: yaml.SequenceNode}
					setIndexed(out, outIdx, "required", req)
				}
				req.Content = append(req.Content, items(e.value)...)
			default:
				setIndexed(out, outIdx, e.key, e.value)
			}
		}
	}
	merge(schema, 0)
	return out, names
}

// resolve follows $refs of a component (parameter, response, request body, path item).
func (p *parser) resolve(n *yaml.Node) *yaml.Node {
	n = deref(n)
	for range maxRefHops {
		ref := str(get(n, "$ref"))
		if ref == "" {
			return n
		}
		n = p.pointer(ref)
	}
	return nil
}

// pointer resolves a local reference "#/a/b" (RFC 6901); nil when it does not.
func (p *parser) pointer(ref string) *yaml.Node {
	ptr, ok := strings.CutPrefix(ref, "#/")
	if !ok {
		return nil
	}
	n := p.root
	for _, tok := range strings.Split(ptr, "/") {
		tok = strings.ReplaceAll(strings.ReplaceAll(tok, "~1", "/"), "~0", "~")
		if n = deref(n); n != nil && n.Kind == yaml.SequenceNode {
			i, err := strconv.Atoi(tok)
			if err != nil || i < 0 || i >= len(n.Content) {
				return nil
			}
			n = n.Content[i]
			continue
		}
		if n = get(n, tok); n == nil {
			return nil
		}
	}
	return deref(n)
}

// anchor returns a unique HTML id for a name.
func (p *parser) anchor(name string) string {
	a := slug(name)
	p.anchors[a]++
	if n := p.anchors[a]; n > 1 {
		a += "-" + strconv.Itoa(n)
	}
	return a
}

func schemaAnchor(name string) string { return "schema-" + slug(name) }

// slug keeps letters, digits, '-' and '_' of a name (others become '-').
func slug(s string) string {
	var b strings.Builder
	for _, r := range s {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' {
			b.WriteRune(r)
		} else {
			b.WriteByte('-')
		}
		if b.Len() >= 80 {
			break
		}
	}
	return b.String()
}

func componentName(ref string) (string, bool) {
	name, ok := strings.CutPrefix(ref, "#/components/schemas/")
	if !ok || name == "" || strings.Contains(name, "/") {
		return "", false
	}
	return strings.ReplaceAll(strings.ReplaceAll(name, "~1", "/"), "~0", "~"), true
}

// constraints lists what a schema requires of a value, in words.
func constraints(s *yaml.Node) []string {
	var out []string
	add := func(format string, args ...any) { out = append(out, fmt.Sprintf(format, args...)) }
	between := func(lo, hi *yaml.Node, unit string) {
		switch {
		case lo != nil && hi != nil:
			add("%s%s–%s", unit, str(lo), str(hi))
		case lo != nil:
			add("%sat least %s", unit, str(lo))
		case hi != nil:
			add("%sat most %s", unit, str(hi))
		}
	}
	between(get(s, "minimum"), get(s, "maximum"), "")
	if v := get(s, "exclusiveMinimum"); v != nil {
		add("more than %s", compact(v))
	}
	if v := get(s, "exclusiveMaximum"); v != nil {
		add("less than %s", compact(v))
	}
	between(get(s, "minLength"), get(s, "maxLength"), "length ")
	between(get(s, "minItems"), get(s, "maxItems"), "items ")
	if str(get(s, "uniqueItems")) == "true" {
		add("unique items")
	}
	if v := str(get(s, "pattern")); v != "" {
		add("pattern %s", v)
	}
	if e := items(get(s, "enum")); len(e) > 0 {
		var vals []string
		for _, x := range e {
			vals = append(vals, compact(x))
		}
		add("one of %s", strings.Join(vals, ", "))
	}
	switch str(get(s, "additionalProperties")) {
	case "false":
		add("no other fields")
	case "true":
		add("other fields allowed")
	}
	if str(get(s, "readOnly")) == "true" {
		add("read-only")
	}
	if str(get(s, "writeOnly")) == "true" {
		add("write-only")
	}
	if str(get(s, "deprecated")) == "true" {
		add("deprecated")
	}
	return out
}

// compact renders a node as one line of JSON (or YAML when it is not JSON-encodable).
func compact(n *yaml.Node) string {
	budget := maxJSONNodes
	v, ok := toJSONValue(n, 0, &budget)
	if ok {
		if b, err := json.Marshal(v); err == nil {
			return string(b)
		}
	}
	if n = deref(n); n != nil && n.Kind == yaml.ScalarNode {
		return n.Value
	}
	return "…"
}

// literal renders a node as written: a string as is, anything else as compact JSON.
func literal(n *yaml.Node) string {
	if n = deref(n); n != nil && n.Kind == yaml.ScalarNode && n.Tag == "!!str" {
		return n.Value
	}
	return compact(n)
}

// indented renders a node as indented JSON, for examples.
func indented(n *yaml.Node) string {
	budget := maxJSONNodes
	v, ok := toJSONValue(n, 0, &budget)
	if ok {
		if b, err := json.MarshalIndent(v, "", "  "); err == nil {
			return string(b)
		}
	}
	return compact(n)
}

// toJSONValue converts a node to a JSON-encodable value, within a depth bound and a
// budget of nodes.
func toJSONValue(n *yaml.Node, depth int, budget *int) (any, bool) {
	n = deref(n)
	if *budget--; n == nil || depth > 32 || *budget < 0 {
		return nil, false
	}
	switch n.Kind {
	case yaml.ScalarNode:
		switch n.Tag {
		case "!!null":
			return nil, true
		case "!!bool":
			b, err := strconv.ParseBool(n.Value)
			if err != nil {
				return n.Value, true
			}
			return b, true
		case "!!int", "!!float":
			if json.Valid([]byte(n.Value)) {
				return json.Number(n.Value), true
			}
			return n.Value, true
		}
		return n.Value, true
	case yaml.SequenceNode:
		out := make([]any, 0, len(n.Content))
		for _, c := range n.Content {
			v, ok := toJSONValue(c, depth+1, budget)
			if !ok {
				return nil, false
			}
			out = append(out, v)
		}
		return out, true
	case yaml.MappingNode:
		out := map[string]any{}
		for _, e := range pairs(n) {
			v, ok := toJSONValue(e.value, depth+1, budget)
			if !ok {
				return nil, false
			}
			out[e.key] = v
		}
		return out, true
	}
	return nil, false
}

// YAML node helpers. Every one accepts nil and follows aliases.

type pair struct {
	key   string
	value *yaml.Node
}

// deref follows an alias to its node; nil for nil and for aliases that go nowhere.
func deref(n *yaml.Node) *yaml.Node {
	for range maxRefHops {
		if n == nil || n.Kind != yaml.AliasNode {
			return n
		}
		n = n.Alias
	}
	return nil
}

func get(n *yaml.Node, key string) *yaml.Node {
	n = deref(n)
	if n == nil || n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if k := deref(n.Content[i]); k != nil && k.Kind == yaml.ScalarNode && k.Value == key {
			return n.Content[i+1]
		}
	}
	return nil
}

// setIndexed sets key in a mapping node that idx indexes (key -> value position).
func setIndexed(n *yaml.Node, idx map[string]int, key string, value *yaml.Node) {
	if i, ok := idx[key]; ok {
		n.Content[i] = value
		return
	}
	n.Content = append(n.Content, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: key}, value)
	idx[key] = len(n.Content) - 1
}

func pairs(n *yaml.Node) []pair {
	n = deref(n)
	if n == nil || n.Kind != yaml.MappingNode {
		return nil
	}
	out := make([]pair, 0, len(n.Content)/2)
	for i := 0; i+1 < len(n.Content); i += 2 {
		if k := deref(n.Content[i]); k != nil && k.Kind == yaml.ScalarNode {
			out = append(out, pair{k.Value, n.Content[i+1]})
		}
	}
	return out
}

func items(n *yaml.Node) []*yaml.Node {
	n = deref(n)
	if n == nil || n.Kind != yaml.SequenceNode {
		return nil
	}
	return n.Content
}

func str(n *yaml.Node) string {
	n = deref(n)
	if n == nil || n.Kind != yaml.ScalarNode {
		return ""
	}
	return n.Value
}
