// Command trimphonenumbers regenerates third_party/phonenumbers, the trimmed copy of
// github.com/nyaruka/phonenumbers that go.mod's replace directive builds instead of the
// module, from the module as the Go module proxy serves it (the version go.mod
// requires, read from the module cache), and checks that the copy decodes the numbering
// plans exactly as the module does.
//
//	go run ./scripts/trimphonenumbers            (from the repository's root)
//
// Why: the module as published cost the agents function 9,895,936 bytes of its bootstrap
// (19,792,034 with it, 9,896,098 with a stub parser; the budget is 10 MiB). Measured on
// linux/arm64 with -s -w: 5,963,776 came from protobuf v1.36.11 calling reflect's
// MethodByName("Methods"), which under Go 1.26 makes the linker keep every exported method
// of every type that reaches an interface (all the AWS SDK clients' operations; fixed in
// protobuf v1.36.12); 2,359,296 is golang.org/x/text/language/display, which geocoding.go
// imports for its last fallback (a region's name); 1,310,720 is the protobuf runtime that
// the generated phonemetadata.pb.go and phonenumber.pb.go link (reflection-driven codecs,
// registry, text format) for one Unmarshal of the embedded metadata and a few Merge calls.
// The copy costs 262,144 (10,158,242). The carrier, geocoding and timezone data files
// were never in the binary (the linker drops unreferenced embedded files); they are
// removed with the code that reads them.
//
// What it does, each step printed as it happens:
//
//  1. removes the carrier, geocoding and timezone lookups (carrier.go, geocoding.go,
//     timezone.go, prefixmapper.go) with their data (data/prefix_to_carriers,
//     data/prefix_to_geocodings, data/prefix_to_timezone.xml.gz), the embed variables of
//     that data in metadata.go, and the test functions that call them; the upstream
//     module's commands (cmd/), CI and release files and docs/;
//  2. in phonemetadata.pb.go and phonenumber.pb.go, keeps the message structs (their
//     fields and tags), the enum, the default constants and the getters, and removes
//     what calls the protobuf runtime: the messages' internal state fields, Reset's
//     runtime part, ProtoMessage, ProtoReflect, Descriptor, the enum's Descriptor, Type,
//     Number and UnmarshalJSON, the raw file descriptors and their init; the messages'
//     String calls internal/proto's Text and the enum's reads its name map;
//  3. points the library's and its tests' imports of google.golang.org/protobuf/proto
//     at internal/proto (written from proto.go.txt beside this file): the same pointer
//     helpers, Merge, Equal and Unmarshal, over the wire format, for those structs;
//  4. drops golang.org/x/text from go.mod and go.sum (only geocoding.go used it);
//  5. writes TRIMMED.md, which lists all of the above for the version copied.
//
// Every other file, the numbering-plan metadata (data/metadata.xml.gz,
// data/shortnumber_metadata.xml.gz, data/countrycode_to_region.xml.gz) and the library's
// code, is copied byte for byte (in .go files, but for that import path).
// Then it checks: the copy and the module, each run in a throwaway module, print the same
// JSON for MetadataCollection() and ShortNumberMetadataCollection(); and the copy's own
// tests (upstream's, less the removed ones) pass. The test in this folder regenerates the
// copy into a temporary folder and requires it to be identical to the committed one.
//
// To upgrade: go get github.com/nyaruka/phonenumbers@vX.Y.Z, then run this command, then
// go mod tidy, make sizes and the tests.
package main

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"flag"
	"fmt"
	"go/ast"
	"go/format"
	"go/parser"
	"go/token"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

const (
	modulePath = "github.com/nyaruka/phonenumbers"
	protoPath  = "google.golang.org/protobuf/proto"
	shimPath   = modulePath + "/internal/proto"
)

// The shim internal/proto and its tests, written into the copy (gofmt'd).
var (
	//go:embed proto.go.txt
	shimSource []byte
	//go:embed proto_test.go.txt
	shimTestSource []byte
)

// removed are the upstream paths not copied, each with why.
var removed = []struct{ path, why string }{
	{".github", "upstream's CI"},
	{".gitignore", "upstream's repository file"},
	{".goreleaser.yml", "upstream's release file"},
	{"cmd", "upstream's commands (buildmetadata, which regenerates data/ from libphonenumber's XML, and phoneparser)"},
	{"docs", "upstream's design notes"},
	{"carrier.go", "carrier lookup (GetCarrierForNumber and friends)"},
	{"geocoding.go", "geocoding lookup (GetGeocodingForNumber); it imports golang.org/x/text/language/display"},
	{"timezone.go", "timezone lookup (GetTimezonesForNumber, GetTimezonesForPrefix)"},
	{"prefixmapper.go", "the prefix maps the carrier and geocoding lookups read"},
	{"data/prefix_to_carriers", "carrier data"},
	{"data/prefix_to_geocodings", "geocoding data"},
	{"data/prefix_to_timezone.xml.gz", "timezone data"},
}

// removedVars are the package variables of metadata.go that embed the removed data.
var removedVars = []string{"carrierData", "carrierDataPath", "geocodingData", "geocodingDataPath", "timezoneData"}

// pbFiles are the generated files whose protobuf runtime parts are removed.
var pbFiles = []string{"phonemetadata.pb.go", "phonenumber.pb.go"}

// droppedModules are the requirements no kept file imports.
var droppedModules = []string{"golang.org/x/text"}

func main() {
	out := flag.String("out", "third_party/phonenumbers", "folder to write the copy into (replaced)")
	check := flag.Bool("check", true, "compare the copy's decoded metadata with the module's and run the copy's tests")
	flag.Parse()
	if err := run(*out, *check, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "trimphonenumbers:", err)
		os.Exit(1)
	}
}

func run(out string, check bool, log io.Writer) error {
	mod, err := upstream()
	if err != nil {
		return err
	}
	fmt.Fprintf(log, "upstream %s %s %s\n  from %s\n", modulePath, mod.Version, mod.Sum, mod.Dir)
	if err := os.RemoveAll(out); err != nil {
		return err
	}
	if err := trim(mod, out, log); err != nil {
		return err
	}
	if !check {
		return nil
	}
	if err := compareDecoded(mod, out); err != nil {
		return err
	}
	fmt.Fprintln(log, "checked: the copy decodes the same metadata as the module")
	cmd := exec.Command("go", "test", "-count=1", "./...")
	cmd.Dir = out
	cmd.Env = append(os.Environ(), "GOWORK=off", "GOFLAGS=-mod=readonly")
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("the copy's tests: %v\n%s", err, b)
	}
	fmt.Fprintln(log, "checked: the copy's tests pass")
	return nil
}

// module is what `go mod download -json` says of the upstream module.
type module struct {
	Version, Dir, Sum, GoModSum string
}

// upstream downloads (or finds in the module cache) the version of the module that
// go.mod requires.
func upstream() (module, error) {
	b, err := exec.Command("go", "list", "-m", "-f", "{{.Version}}", modulePath).Output()
	if err != nil {
		return module{}, fmt.Errorf("go list -m %s: %w", modulePath, err)
	}
	v := strings.TrimSpace(string(b))
	cmd := exec.Command("go", "mod", "download", "-json", modulePath+"@"+v)
	b, err = cmd.Output()
	if err != nil {
		return module{}, fmt.Errorf("go mod download %s@%s: %w\n%s", modulePath, v, err, b)
	}
	var m module
	if err := json.Unmarshal(b, &m); err != nil {
		return module{}, err
	}
	if m.Dir == "" {
		return module{}, fmt.Errorf("go mod download %s@%s: no folder\n%s", modulePath, v, b)
	}
	return m, nil
}

// trim writes the trimmed copy of the module in mod.Dir into out.
func trim(mod module, out string, w io.Writer) error {
	// Everything it logs goes into TRIMMED.md too.
	var record bytes.Buffer
	log := io.MultiWriter(w, &record)
	gone := map[string]bool{}
	for _, r := range removed {
		if _, err := os.Stat(filepath.Join(mod.Dir, r.path)); err != nil {
			return fmt.Errorf("upstream has no %s any more: review the list of removals", r.path)
		}
		gone[r.path] = true
		fmt.Fprintf(log, "remove %-32s %s\n", r.path, r.why)
	}
	// The identifiers the removed Go files declare, and the removed variables: a kept
	// test function that names one is removed; a kept library file must name none.
	removedIdents := map[string]bool{}
	for _, v := range removedVars {
		removedIdents[v] = true
	}
	for _, r := range removed {
		if strings.HasSuffix(r.path, ".go") {
			if err := declaredNames(filepath.Join(mod.Dir, r.path), removedIdents); err != nil {
				return err
			}
		}
	}
	var notes []string
	err := filepath.WalkDir(mod.Dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(mod.Dir, p)
		if err != nil {
			return err
		}
		rel = filepath.ToSlash(rel)
		if rel == "." {
			return nil
		}
		if gone[rel] {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		if d.IsDir() {
			return nil
		}
		src, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		dst := src
		switch {
		case slices.Contains(pbFiles, rel):
			dst, err = stripRuntime(rel, src, log)
		case rel == "metadata.go":
			dst, err = dropVars(rel, src, log)
		case strings.HasSuffix(rel, "_test.go"):
			dst, err = dropTests(rel, src, removedIdents, log)
		case strings.HasSuffix(rel, ".go"):
			err = mustNotName(rel, src, removedIdents)
		case rel == "go.mod" || rel == "go.sum":
			dst = dropModules(src)
			if !bytes.Equal(dst, src) {
				fmt.Fprintf(log, "edit   %-32s without %s\n", rel, strings.Join(droppedModules, ", "))
			}
		}
		if err != nil {
			return err
		}
		if strings.HasSuffix(rel, ".go") {
			imp := strconv.Quote(protoPath)
			if bytes.Contains(dst, []byte(imp)) {
				// gofmt then sorts the import block again.
				dst, err = format.Source(bytes.ReplaceAll(dst, []byte(imp), []byte(strconv.Quote(shimPath))))
				if err != nil {
					return fmt.Errorf("%s: %w", rel, err)
				}
				notes = append(notes, rel)
			}
		}
		return writeFile(filepath.Join(out, filepath.FromSlash(rel)), dst)
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(log, "import %s instead of %s in %s\n", shimPath, protoPath, strings.Join(notes, ", "))
	for name, src := range map[string][]byte{"proto.go": shimSource, "proto_test.go": shimTestSource} {
		b, err := format.Source(src)
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		if err := writeFile(filepath.Join(out, "internal", "proto", name), b); err != nil {
			return err
		}
	}
	fmt.Fprintln(log, "write  internal/proto/proto.go, internal/proto/proto_test.go")
	return writeFile(filepath.Join(out, "TRIMMED.md"), []byte(trimmedDoc(mod, notes, record.String())))
}

func writeFile(p string, b []byte) error {
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return err
	}
	return os.WriteFile(p, b, 0o644)
}

func trimmedDoc(mod module, importers []string, record string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "# Trimmed copy of %s %s\n\n", modulePath, mod.Version)
	fmt.Fprintf(&b, "Generated by `go run ./scripts/trimphonenumbers` (see its doc comment for why) from\n")
	fmt.Fprintf(&b, "the module as the Go module proxy serves it (%s, go.mod %s).\n", mod.Sum, mod.GoModSum)
	b.WriteString("Do not edit: change the command and run it again. go.mod's replace directive builds this\n")
	b.WriteString("folder instead of the module. Everything not listed here is copied byte for byte.\n\n")
	b.WriteString("Removed:\n\n")
	for _, r := range removed {
		fmt.Fprintf(&b, "- `%s`: %s\n", r.path, r.why)
	}
	fmt.Fprintf(&b, "- in `metadata.go`, the variables embedding that data: %s\n", strings.Join(removedVars, ", "))
	b.WriteString("- in the tests, the test functions that call the removed lookups\n")
	fmt.Fprintf(&b, "- in `go.mod` and `go.sum`, %s (only geocoding.go imported it)\n\n", strings.Join(droppedModules, ", "))
	b.WriteString("Changed:\n\n")
	fmt.Fprintf(&b, "- `%s`: the protobuf runtime's parts removed (message state fields, Reset's runtime part,\n", strings.Join(pbFiles, "`, `"))
	b.WriteString("  ProtoMessage, ProtoReflect, Descriptor, the enum's Descriptor, Type, Number and\n")
	b.WriteString("  UnmarshalJSON, the raw descriptors and their init); the structs, tags, enum, defaults and\n")
	b.WriteString("  getters kept; the messages' String calls internal/proto's Text, the enum's reads its name map\n")
	fmt.Fprintf(&b, "- `%s` imported as `%s` in %s\n\n", protoPath, shimPath, "`"+strings.Join(importers, "`, `")+"`")
	b.WriteString("Added: `internal/proto/proto.go` (the pointer helpers, Merge, Equal, Text and Unmarshal over\n")
	b.WriteString("the wire format, with google.golang.org/protobuf/encoding/protowire), its tests and fuzz\n")
	b.WriteString("target `internal/proto/proto_test.go`, and this file.\n\n")
	b.WriteString("What the command did, declaration by declaration:\n\n```\n" + record + "```\n")
	return b.String()
}

// declaredNames adds the top-level names file p declares to names.
func declaredNames(p string, names map[string]bool) error {
	f, err := parser.ParseFile(token.NewFileSet(), p, nil, parser.SkipObjectResolution)
	if err != nil {
		return err
	}
	for _, d := range f.Decls {
		switch d := d.(type) {
		case *ast.FuncDecl:
			if d.Recv == nil {
				names[d.Name.Name] = true
			}
		case *ast.GenDecl:
			for _, s := range d.Specs {
				switch s := s.(type) {
				case *ast.ValueSpec:
					for _, n := range s.Names {
						names[n.Name] = true
					}
				case *ast.TypeSpec:
					names[s.Name.Name] = true
				}
			}
		}
	}
	return nil
}

func names(n ast.Node, set map[string]bool) []string {
	var found []string
	ast.Inspect(n, func(n ast.Node) bool {
		if id, ok := n.(*ast.Ident); ok && set[id.Name] && !slices.Contains(found, id.Name) {
			found = append(found, id.Name)
		}
		return true
	})
	return found
}

func mustNotName(rel string, src []byte, idents map[string]bool) error {
	f, err := parser.ParseFile(token.NewFileSet(), rel, src, parser.SkipObjectResolution)
	if err != nil {
		return err
	}
	for _, d := range f.Decls {
		if found := names(d, idents); len(found) > 0 {
			return fmt.Errorf("%s uses %s, which the removals take away: review the list of removals", rel, strings.Join(found, ", "))
		}
	}
	return nil
}

// edit parses src, lets change drop declarations (returning which) and prints the file
// again without them and their comments.
func edit(rel string, src []byte, change func(*ast.File) []ast.Decl) ([]byte, error) {
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, rel, src, parser.ParseComments|parser.SkipObjectResolution)
	if err != nil {
		return nil, err
	}
	drop := change(f)
	f.Decls = slices.DeleteFunc(f.Decls, func(d ast.Decl) bool { return slices.Contains(drop, d) })
	dropUnusedImports(f)
	f.Comments = slices.DeleteFunc(f.Comments, func(c *ast.CommentGroup) bool {
		for _, d := range drop {
			start := d.Pos()
			if fd, ok := d.(*ast.FuncDecl); ok && fd.Doc != nil {
				start = fd.Doc.Pos()
			}
			if gd, ok := d.(*ast.GenDecl); ok && gd.Doc != nil {
				start = gd.Doc.Pos()
			}
			if c.Pos() >= start && c.End() <= d.End() {
				return true
			}
		}
		return false
	})
	var b bytes.Buffer
	if err := format.Node(&b, fset, f); err != nil {
		return nil, fmt.Errorf("%s: %w", rel, err)
	}
	return b.Bytes(), nil
}

// dropUnusedImports removes the imports that no code in f names any more.
func dropUnusedImports(f *ast.File) {
	used := map[string]bool{}
	ast.Inspect(f, func(n ast.Node) bool {
		if sel, ok := n.(*ast.SelectorExpr); ok {
			if id, ok := sel.X.(*ast.Ident); ok {
				used[id.Name] = true
			}
		}
		return true
	})
	for _, d := range f.Decls {
		gd, ok := d.(*ast.GenDecl)
		if !ok || gd.Tok != token.IMPORT {
			continue
		}
		gd.Specs = slices.DeleteFunc(gd.Specs, func(s ast.Spec) bool {
			is := s.(*ast.ImportSpec)
			p, _ := strconv.Unquote(is.Path.Value)
			name := path.Base(p)
			if is.Name != nil {
				name = is.Name.Name
			}
			return name != "_" && name != "." && !used[name]
		})
	}
	f.Imports = slices.DeleteFunc(f.Imports, func(is *ast.ImportSpec) bool {
		for _, d := range f.Decls {
			if gd, ok := d.(*ast.GenDecl); ok && gd.Tok == token.IMPORT && slices.Contains(gd.Specs, ast.Spec(is)) {
				return false
			}
		}
		return true
	})
}

// dropVars removes removedVars from metadata.go, which then imports embed only for its
// embed directives.
func dropVars(rel string, src []byte, log io.Writer) ([]byte, error) {
	var left []string
	b, err := edit(rel, src, func(f *ast.File) []ast.Decl {
		var drop []ast.Decl
		for _, d := range f.Decls {
			gd, ok := d.(*ast.GenDecl)
			if !ok || gd.Tok != token.VAR {
				continue
			}
			keep := true
			for _, s := range gd.Specs {
				for _, n := range s.(*ast.ValueSpec).Names {
					if slices.Contains(removedVars, n.Name) {
						keep = false
						left = append(left, n.Name)
					}
				}
			}
			if !keep {
				if len(gd.Specs) != 1 {
					panic(rel + ": a removed variable shares its declaration")
				}
				drop = append(drop, d)
			}
		}
		for _, imp := range f.Imports {
			if imp.Path.Value == `"embed"` {
				imp.Name = ast.NewIdent("_")
			}
		}
		return drop
	})
	if err != nil {
		return nil, err
	}
	if len(left) != len(removedVars) {
		return nil, fmt.Errorf("%s: found %v of %v: review the list of removals", rel, left, removedVars)
	}
	fmt.Fprintf(log, "edit   %-32s without %s\n", rel, strings.Join(removedVars, ", "))
	return b, nil
}

// dropTests removes the test, benchmark and example functions that name a removed
// identifier.
func dropTests(rel string, src []byte, idents map[string]bool, log io.Writer) ([]byte, error) {
	var dropped []string
	b, err := edit(rel, src, func(f *ast.File) []ast.Decl {
		var drop []ast.Decl
		for _, d := range f.Decls {
			if found := names(d, idents); len(found) > 0 {
				fd, ok := d.(*ast.FuncDecl)
				if !ok {
					panic(fmt.Sprintf("%s: a declaration other than a function uses %v", rel, found))
				}
				drop = append(drop, d)
				dropped = append(dropped, fd.Name.Name)
			}
		}
		return drop
	})
	if err != nil || len(dropped) == 0 {
		return src, err
	}
	fmt.Fprintf(log, "edit   %-32s without %s\n", rel, strings.Join(dropped, ", "))
	return b, nil
}

// runtimeNames are the identifiers that mark generated code as calling the protobuf
// runtime.
var runtimeNames = map[string]bool{"protoimpl": true, "protoreflect": true, "reflect": true, "sync": true}

func callsRuntime(n ast.Node) bool {
	found := false
	ast.Inspect(n, func(n ast.Node) bool {
		if id, ok := n.(*ast.Ident); ok && (runtimeNames[id.Name] || strings.HasPrefix(id.Name, "file_")) {
			found = true
		}
		return !found
	})
	return found
}

// stripRuntime turns a protoc-gen-go file into plain structs.
func stripRuntime(rel string, src []byte, log io.Writer) ([]byte, error) {
	var dropped, rewritten []string
	var enums []string
	b, err := edit(rel, src, func(f *ast.File) []ast.Decl {
		var drop []ast.Decl
		for _, d := range f.Decls {
			if d, ok := d.(*ast.GenDecl); ok && d.Tok == token.TYPE {
				for _, s := range d.Specs {
					if id, ok := s.(*ast.TypeSpec).Type.(*ast.Ident); ok && id.Name == "int32" {
						enums = append(enums, s.(*ast.TypeSpec).Name.Name)
					}
				}
			}
		}
		f.Imports = nil
		for _, d := range f.Decls {
			switch d := d.(type) {
			case *ast.GenDecl:
				switch d.Tok {
				case token.IMPORT:
					// The messages' String uses the shim, the enums' strconv.
					d.Specs = []ast.Spec{&ast.ImportSpec{Path: &ast.BasicLit{Kind: token.STRING, Value: strconv.Quote(shimPath)}}}
					if len(enums) > 0 {
						d.Specs = append(d.Specs, &ast.ImportSpec{Path: &ast.BasicLit{Kind: token.STRING, Value: `"strconv"`}})
					}
				case token.TYPE:
					for _, s := range d.Specs {
						ts := s.(*ast.TypeSpec)
						st, ok := ts.Type.(*ast.StructType)
						if !ok {
							continue
						}
						st.Fields.List = slices.DeleteFunc(st.Fields.List, func(fl *ast.Field) bool {
							if !callsRuntime(fl.Type) {
								return false
							}
							for _, n := range fl.Names {
								dropped = append(dropped, ts.Name.Name+"."+n.Name)
							}
							return true
						})
					}
				default:
					if callsRuntime(d) {
						drop = append(drop, d)
						dropped = append(dropped, specNames(d)...)
					}
				}
			case *ast.FuncDecl:
				switch {
				case d.Name.Name == "Reset" && d.Recv != nil:
					// Keep *x = T{}; drop the runtime's message-state bookkeeping.
					d.Body.List = slices.DeleteFunc(d.Body.List, func(s ast.Stmt) bool { return callsRuntime(s) })
					rewritten = append(rewritten, recvName(d)+".Reset (only *x = "+recvName(d)+"{} left)")
				case d.Name.Name == "String" && d.Recv != nil && slices.Contains(enums, recvName(d)):
					// An enum's name: from its name map.
					e := recvName(d)
					d.Body = parseBody(fmt.Sprintf(`{
	if s, ok := %s_name[int32(x)]; ok {
		return s
	}
	return strconv.Itoa(int(x))
}`, e))
					rewritten = append(rewritten, e+".String (its name map)")
				case d.Name.Name == "String" && d.Recv != nil:
					// A message's text: field names and values, as prototext's compact form.
					d.Body = parseBody(`{
	return proto.Text(x)
}`)
					rewritten = append(rewritten, recvName(d)+".String (proto.Text)")
				case callsRuntime(d) || d.Name.Name == "ProtoMessage" || d.Name.Name == "init":
					drop = append(drop, d)
					name := d.Name.Name
					if d.Recv != nil {
						name = recvName(d) + "." + name
					}
					dropped = append(dropped, name)
				}
			}
		}
		return drop
	})
	if err != nil {
		return nil, err
	}
	// The marker that says who generated the file.
	const gen = "// Code generated by protoc-gen-go. DO NOT EDIT."
	if !bytes.Contains(b, []byte(gen)) {
		return nil, fmt.Errorf("%s: no %q line", rel, gen)
	}
	b = bytes.Replace(b, []byte(gen), []byte("// Code generated by protoc-gen-go, then by scripts/trimphonenumbers (github.com/convrs/admin),\n// which removed the protobuf runtime's parts. DO NOT EDIT."), 1)
	// Nothing may be left that needs the runtime.
	f, err := parser.ParseFile(token.NewFileSet(), rel, b, parser.SkipObjectResolution)
	if err != nil {
		return nil, err
	}
	for _, d := range f.Decls {
		if gd, ok := d.(*ast.GenDecl); ok && gd.Tok == token.IMPORT {
			continue
		}
		if callsRuntime(d) {
			return nil, fmt.Errorf("%s: %s still uses the protobuf runtime: teach stripRuntime the new shape", rel, strings.Join(specNames(d), ", "))
		}
	}
	fmt.Fprintf(log, "edit   %-32s without %s; rewrote %s\n", rel, strings.Join(dropped, ", "), strings.Join(rewritten, ", "))
	return b, nil
}

func recvName(d *ast.FuncDecl) string {
	t := d.Recv.List[0].Type
	if s, ok := t.(*ast.StarExpr); ok {
		t = s.X
	}
	return t.(*ast.Ident).Name
}

func specNames(d ast.Decl) []string {
	var out []string
	switch d := d.(type) {
	case *ast.FuncDecl:
		out = append(out, d.Name.Name)
	case *ast.GenDecl:
		for _, s := range d.Specs {
			switch s := s.(type) {
			case *ast.ValueSpec:
				for _, n := range s.Names {
					out = append(out, n.Name)
				}
			case *ast.TypeSpec:
				out = append(out, s.Name.Name)
			}
		}
		if len(out) == 0 || !slices.ContainsFunc(out, func(s string) bool { return s != "_" }) {
			out = []string{"the " + d.Tok.String() + " block checking protoimpl's version"}
		}
	}
	return out
}

func parseBody(src string) *ast.BlockStmt {
	e, err := parser.ParseExpr("func() string " + src)
	if err != nil {
		panic(err)
	}
	return e.(*ast.FuncLit).Body
}

// dropModules removes droppedModules' lines from a go.mod or go.sum.
func dropModules(src []byte) []byte {
	lines := strings.SplitAfter(string(src), "\n")
	lines = slices.DeleteFunc(lines, func(l string) bool {
		f := strings.Fields(l)
		return len(f) > 0 && slices.Contains(droppedModules, f[0])
	})
	return []byte(strings.Join(lines, ""))
}

// compareDecoded runs a program printing the decoded metadata as JSON against the
// module and against the copy, and compares what they print.
func compareDecoded(mod module, copyDir string) error {
	abs, err := filepath.Abs(copyDir)
	if err != nil {
		return err
	}
	upstreamSum, err := os.ReadFile(filepath.Join(mod.Dir, "go.sum"))
	if err != nil {
		return err
	}
	copySum, err := os.ReadFile(filepath.Join(abs, "go.sum"))
	if err != nil {
		return err
	}
	up, err := dump(fmt.Sprintf("require %s %s\n", modulePath, mod.Version),
		fmt.Sprintf("%s%s %s %s\n%s %s/go.mod %s\n", upstreamSum, modulePath, mod.Version, mod.Sum, modulePath, mod.Version, mod.GoModSum))
	if err != nil {
		return fmt.Errorf("upstream: %w", err)
	}
	cp, err := dump(fmt.Sprintf("require %s %s\nreplace %s => %s\n", modulePath, mod.Version, modulePath, abs), string(copySum))
	if err != nil {
		return fmt.Errorf("copy: %w", err)
	}
	if len(up) < 100_000 {
		return fmt.Errorf("upstream printed only %d bytes", len(up))
	}
	if !bytes.Equal(up, cp) {
		i := 0
		for i < len(up) && i < len(cp) && up[i] == cp[i] {
			i++
		}
		return fmt.Errorf("the copy decodes other metadata than the module: they differ from byte %d (upstream %q, copy %q)",
			i, excerpt(up, i), excerpt(cp, i))
	}
	return nil
}

func excerpt(b []byte, i int) string {
	return string(b[max(0, i-80):min(len(b), i+80)])
}

const dumpMain = `package main

import (
	"encoding/json"
	"os"

	"github.com/nyaruka/phonenumbers"
)

func main() {
	m, err := phonenumbers.MetadataCollection()
	if err != nil {
		panic(err)
	}
	s, err := phonenumbers.ShortNumberMetadataCollection()
	if err != nil {
		panic(err)
	}
	e := json.NewEncoder(os.Stdout)
	e.SetIndent("", " ")
	if err := e.Encode([]any{m, s}); err != nil {
		panic(err)
	}
}
`

func dump(requires, sum string) ([]byte, error) {
	dir, err := os.MkdirTemp("", "trimphonenumbers")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	files := map[string]string{"go.mod": "module dump\n\ngo 1.23\n\n" + requires, "go.sum": sum, "main.go": dumpMain}
	for name, s := range files {
		if err := os.WriteFile(path.Join(dir, name), []byte(s), 0o644); err != nil {
			return nil, err
		}
	}
	cmd := exec.Command("go", "run", ".")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOWORK=off", "GOFLAGS=-mod=mod")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	b, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("%v\n%s", err, stderr.Bytes())
	}
	return b, nil
}
