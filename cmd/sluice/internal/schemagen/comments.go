package schemagen

import (
	"go/ast"
	"go/doc"
	"go/parser"
	"go/token"
	"io/fs"
	"path"
	"path/filepath"
	"strconv"
	"strings"
)

// Comments holds the doc comments of a module's Go source, keyed as
// invopop/jsonschema's CommentMap is: "IMPORTPATH.Type" for a type's
// synopsis, "IMPORTPATH.Type.Field" for a field's full comment, and
// "IMPORTPATH" for the package's synopsis. Enums holds, per
// "IMPORTPATH.Type", the values of the type's typed string constants.
type Comments struct {
	Text  map[string]string
	Enums map[string][]string
	// Docs holds each package's documentation rendered as Markdown
	// (go/doc/comment), headings from level 2.
	Docs map[string]string
}

// ExtractComments parses every non-test Go file under root (the
// directory of module) with go/parser and go/doc. Unlike
// jsonschema.Reflector.AddGoComments it names packages by their import
// path from any working directory, and keeps unexported types (the
// config's envelopes).
func ExtractComments(root, module string) (*Comments, error) {
	c := &Comments{Text: map[string]string{}, Enums: map[string][]string{}, Docs: map[string]string{}}
	fset := token.NewFileSet()
	pkgs := map[string][]*ast.File{} // import path -> files of its (non-main) package
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if name := d.Name(); p != root && (strings.HasPrefix(name, ".") || name == "testdata") {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(p, ".go") || strings.HasSuffix(p, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, p, nil, parser.ParseComments)
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(root, filepath.Dir(p))
		if err != nil {
			return err
		}
		ip := path.Join(module, filepath.ToSlash(rel))
		pkgs[ip] = append(pkgs[ip], f)
		return nil
	})
	if err != nil {
		return nil, err
	}
	for ip, files := range pkgs {
		dp, err := doc.NewFromFiles(fset, files, ip, doc.AllDecls|doc.PreserveAST)
		if err != nil {
			return nil, err
		}
		c.Text[ip] = dp.Synopsis(dp.Doc)
		pr := dp.Printer()
		pr.HeadingLevel = 2
		c.Docs[ip] = string(pr.Markdown(dp.Parser().Parse(dp.Doc)))
		for _, f := range files {
			c.collect(dp, f, ip)
		}
	}
	return c, nil
}

// collect records f's type and field comments and typed string constants.
func (c *Comments) collect(dp *doc.Package, f *ast.File, ip string) {
	for _, decl := range f.Decls {
		gd, ok := decl.(*ast.GenDecl)
		if !ok {
			continue
		}
		for _, spec := range gd.Specs {
			switch s := spec.(type) {
			case *ast.TypeSpec:
				txt := s.Doc.Text()
				if txt == "" && len(gd.Specs) == 1 {
					txt = gd.Doc.Text()
				}
				c.Text[ip+"."+s.Name.Name] = dp.Synopsis(txt)
				if st, ok := s.Type.(*ast.StructType); ok {
					c.fields(ip+"."+s.Name.Name, st)
				}
			case *ast.ValueSpec:
				c.constant(ip, gd.Tok, s)
			}
		}
	}
}

func (c *Comments) fields(prefix string, st *ast.StructType) {
	for _, fld := range st.Fields.List {
		txt := fld.Doc.Text()
		if txt == "" {
			txt = fld.Comment.Text()
		}
		txt = strings.Join(strings.Fields(txt), " ")
		for _, n := range fld.Names {
			if txt != "" {
				c.Text[prefix+"."+n.Name] = txt
			}
		}
	}
}

// constant records `Name Type = "value"` constants of a named type.
func (c *Comments) constant(ip string, tok token.Token, s *ast.ValueSpec) {
	id, ok := s.Type.(*ast.Ident)
	if tok != token.CONST || !ok {
		return
	}
	for _, v := range s.Values {
		lit, ok := v.(*ast.BasicLit)
		if !ok || lit.Kind != token.STRING {
			continue
		}
		if val, err := strconv.Unquote(lit.Value); err == nil {
			key := ip + "." + id.Name
			c.Enums[key] = append(c.Enums[key], val)
		}
	}
}
