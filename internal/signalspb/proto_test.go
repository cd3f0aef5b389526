package signalspb

import (
	"fmt"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/reflect/protoreflect"

	gen "github.com/graphsignal/graphsignal/internal/signalspb/signalspbgen"
)

// TestProtoMatchesGenerated checks that the committed .proto and the
// committed protoc-gen-go code (the reference the codec is tested against)
// describe the same schema: every message, enum, field (name, number, type,
// cardinality, oneof) and enum value. A .proto edited without running
// go generate fails here.
func TestProtoMatchesGenerated(t *testing.T) {
	src, err := os.ReadFile("graphsignal-signals.proto")
	if err != nil {
		t.Fatal(err)
	}
	fromProto, err := parseProtoSchema(string(src))
	if err != nil {
		t.Fatalf("parse graphsignal-signals.proto: %v", err)
	}
	fromGen := descriptorSchema(gen.File_graphsignal_signals_proto)
	if len(fromGen) == 0 {
		t.Fatal("the generated descriptor describes nothing")
	}
	if diff := cmp.Diff(fromGen, fromProto); diff != "" {
		t.Errorf("graphsignal-signals.proto and signalspbgen differ (run go generate ./internal/signalspb) (-generated +proto):\n%s", diff)
	}
}

// TestParseProtoSchema checks the small .proto reader the test above relies
// on: what it reads, and that it refuses what it does not understand rather
// than skip it.
func TestParseProtoSchema(t *testing.T) {
	tests := []struct {
		name    string
		src     string
		want    []string
		wantErr string
	}{
		{
			name: "fields, nesting, oneof, map, enum, comments",
			src: `// c
syntax = "proto3"; /* block
comment */ package p.q;
message A { message B { repeated int64 n = 1; } enum E { X = 0; Y = 5; }
  B b = 2; A.E e = 3; map<string, string> m = 4; oneof v { double d = 5; B bb = 6; } }`,
			want: []string{
				"enum p.q.A.E",
				"enum p.q.A.E.X = 0",
				"enum p.q.A.E.Y = 5",
				"field p.q.A.B.n = 1 repeated int64",
				"field p.q.A.b = 2 p.q.A.B",
				"field p.q.A.bb = 6 p.q.A.B oneof=v",
				"field p.q.A.d = 5 double oneof=v",
				"field p.q.A.e = 3 p.q.A.E",
				"field p.q.A.m = 4 map<string,string>",
				"message p.q.A",
				"message p.q.A.B",
			},
		},
		{name: "unresolved type", src: `package p; message A { C c = 1; }`, wantErr: `unresolved type "C"`},
		{name: "unknown statement", src: `package p; message A { reserved 2; }`, wantErr: `"reserved"`},
		{name: "bad number", src: `package p; message A { int64 n = x; }`, wantErr: "number"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseProtoSchema(tt.src)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("parseProtoSchema() error = %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("parseProtoSchema() (-want +got):\n%s", diff)
			}
		})
	}
}

// descriptorSchema lists a file's schema, one sorted line per declaration,
// in the form parseProtoSchema writes.
func descriptorSchema(fd protoreflect.FileDescriptor) []string {
	var out []string
	enums := func(es protoreflect.EnumDescriptors) {
		for i := range es.Len() {
			e := es.Get(i)
			out = append(out, "enum "+string(e.FullName()))
			for j := range e.Values().Len() {
				v := e.Values().Get(j)
				out = append(out, fmt.Sprintf("enum %s.%s = %d", e.FullName(), v.Name(), v.Number()))
			}
		}
	}
	var messages func(ms protoreflect.MessageDescriptors)
	messages = func(ms protoreflect.MessageDescriptors) {
		for i := range ms.Len() {
			m := ms.Get(i)
			if m.IsMapEntry() {
				continue
			}
			out = append(out, "message "+string(m.FullName()))
			for j := range m.Fields().Len() {
				f := m.Fields().Get(j)
				line := fmt.Sprintf("field %s = %d ", f.FullName(), f.Number())
				switch {
				case f.IsMap():
					line += fmt.Sprintf("map<%s,%s>", fieldType(f.MapKey()), fieldType(f.MapValue()))
				case f.IsList():
					line += "repeated " + fieldType(f)
				case f.HasOptionalKeyword():
					line += "optional " + fieldType(f)
				default:
					line += fieldType(f)
				}
				if o := f.ContainingOneof(); o != nil && !o.IsSynthetic() {
					line += " oneof=" + string(o.Name())
				}
				out = append(out, line)
			}
			enums(m.Enums())
			messages(m.Messages())
		}
	}
	enums(fd.Enums())
	messages(fd.Messages())
	slices.Sort(out)
	return out
}

func fieldType(f protoreflect.FieldDescriptor) string {
	switch f.Kind() {
	case protoreflect.MessageKind, protoreflect.GroupKind:
		return string(f.Message().FullName())
	case protoreflect.EnumKind:
		return string(f.Enum().FullName())
	}
	return f.Kind().String()
}

var (
	protoToken    = regexp.MustCompile(`[A-Za-z_.][A-Za-z0-9_.]*|-?[0-9]+|"[^"]*"|[{}=;<>,]|\S`)
	protoComments = regexp.MustCompile(`(?s)/\*.*?\*/|//[^\n]*`)
	typeName      = regexp.MustCompile(`^\.?[A-Za-z_][A-Za-z0-9_.]*$`)
)

// parseProtoSchema reads the subset of proto3 that graphsignal-signals.proto
// uses (syntax, package, messages and enums nested at any depth, scalar,
// message, enum and map fields, repeated and optional, oneofs) and lists it
// as descriptorSchema does. Anything else is an error, so a construct added
// to the .proto later extends this reader instead of passing unread.
func parseProtoSchema(src string) ([]string, error) {
	src = protoComments.ReplaceAllString(src, " ")
	p := &protoParser{toks: protoToken.FindAllString(src, -1), types: map[string]bool{}}
	if err := p.file(); err != nil {
		return nil, err
	}
	// Types are resolved once all are declared: a field may name a type
	// declared below it.
	out := make([]string, 0, len(p.out))
	for _, d := range p.out {
		line := d.line
		for _, ref := range d.refs {
			full, ok := p.resolve(d.scope, ref)
			if !ok {
				return nil, fmt.Errorf("field %s: unresolved type %q", d.line, ref)
			}
			line = strings.Replace(line, "\x00", full, 1)
		}
		out = append(out, line)
	}
	slices.Sort(out)
	return out, nil
}

type protoDecl struct {
	line  string   // with a NUL for each type still to resolve
	refs  []string // the type names, in order
	scope string   // the message the field is declared in
}

type protoParser struct {
	toks  []string
	pkg   string
	types map[string]bool // full names of declared messages and enums
	out   []protoDecl
}

var scalarTypes = map[string]bool{
	"double": true, "float": true, "int32": true, "int64": true, "uint32": true, "uint64": true,
	"sint32": true, "sint64": true, "fixed32": true, "fixed64": true, "sfixed32": true,
	"sfixed64": true, "bool": true, "string": true, "bytes": true,
}

func (p *protoParser) next() string {
	if len(p.toks) == 0 {
		return ""
	}
	t := p.toks[0]
	p.toks = p.toks[1:]
	return t
}

func (p *protoParser) expect(want string) error {
	if got := p.next(); got != want {
		return fmt.Errorf("got %q, want %q", got, want)
	}
	return nil
}

func (p *protoParser) file() error {
	for len(p.toks) > 0 {
		switch t := p.next(); t {
		case "syntax":
			if err := p.expect("="); err != nil {
				return err
			}
			if s := p.next(); s != `"proto3"` {
				return fmt.Errorf("syntax %s, want \"proto3\"", s)
			}
			if err := p.expect(";"); err != nil {
				return err
			}
		case "package":
			p.pkg = p.next()
			if err := p.expect(";"); err != nil {
				return err
			}
		case "message":
			if err := p.message(p.pkg); err != nil {
				return err
			}
		case "enum":
			if err := p.enum(p.pkg); err != nil {
				return err
			}
		default:
			return fmt.Errorf("top-level %q not understood", t)
		}
	}
	return nil
}

func join(scope, name string) string {
	if scope == "" {
		return name
	}
	return scope + "." + name
}

func (p *protoParser) message(scope string) error {
	full := join(scope, p.next())
	p.types[full] = true
	p.out = append(p.out, protoDecl{line: "message " + full})
	if err := p.expect("{"); err != nil {
		return err
	}
	for {
		switch t := p.next(); t {
		case "}":
			return nil
		case "message":
			if err := p.message(full); err != nil {
				return err
			}
		case "enum":
			if err := p.enum(full); err != nil {
				return err
			}
		case "oneof":
			name := p.next()
			if err := p.expect("{"); err != nil {
				return err
			}
			for len(p.toks) > 0 && p.toks[0] != "}" {
				if err := p.field(full, p.next(), " oneof="+name); err != nil {
					return err
				}
			}
			if err := p.expect("}"); err != nil {
				return err
			}
		case "", "option", "reserved", "extensions", "extend", "group":
			return fmt.Errorf("message %s: %q not understood", full, t)
		default:
			if err := p.field(full, t, ""); err != nil {
				return err
			}
		}
	}
}

// field reads a field declaration whose first token is t.
func (p *protoParser) field(msg, t, suffix string) error {
	label := ""
	if t == "repeated" || t == "optional" {
		label, t = t+" ", p.next()
	}
	var typ string
	var refs []string
	switch {
	case t == "map":
		if label != "" {
			return fmt.Errorf("message %s: %smap", msg, label)
		}
		var kv [2]string
		for i, sep := range []string{"<", ","} {
			if err := p.expect(sep); err != nil {
				return err
			}
			kv[i] = p.next()
		}
		if err := p.expect(">"); err != nil {
			return err
		}
		for i := range kv {
			if !scalarTypes[kv[i]] {
				refs = append(refs, kv[i])
				kv[i] = "\x00"
			}
		}
		typ = "map<" + kv[0] + "," + kv[1] + ">"
	case scalarTypes[t]:
		typ = t
	case typeName.MatchString(t):
		typ, refs = "\x00", []string{t}
	default:
		return fmt.Errorf("message %s: %q not understood", msg, t)
	}
	name := p.next()
	if err := p.expect("="); err != nil {
		return fmt.Errorf("message %s field %s: %w", msg, name, err)
	}
	num, err := strconv.Atoi(p.next())
	if err != nil {
		return fmt.Errorf("message %s field %s: number: %w", msg, name, err)
	}
	if err := p.expect(";"); err != nil {
		return fmt.Errorf("message %s field %s: %w", msg, name, err)
	}
	p.out = append(p.out, protoDecl{
		line:  fmt.Sprintf("field %s.%s = %d %s%s%s", msg, name, num, label, typ, suffix),
		refs:  refs,
		scope: msg,
	})
	return nil
}

func (p *protoParser) enum(scope string) error {
	full := join(scope, p.next())
	p.types[full] = true
	p.out = append(p.out, protoDecl{line: "enum " + full})
	if err := p.expect("{"); err != nil {
		return err
	}
	for {
		name := p.next()
		switch name {
		case "}":
			return nil
		case "", "option", "reserved":
			return fmt.Errorf("enum %s: %q not understood", full, name)
		}
		if err := p.expect("="); err != nil {
			return err
		}
		num, err := strconv.Atoi(p.next())
		if err != nil {
			return fmt.Errorf("enum %s value %s: number: %w", full, name, err)
		}
		if err := p.expect(";"); err != nil {
			return err
		}
		p.out = append(p.out, protoDecl{line: fmt.Sprintf("enum %s.%s = %d", full, name, num)})
	}
}

// resolve finds a type reference as protoc does: in the innermost enclosing
// scope first, then outwards to the package.
func (p *protoParser) resolve(scope, ref string) (string, bool) {
	if full, ok := strings.CutPrefix(ref, "."); ok {
		return full, p.types[full]
	}
	for s := scope; ; {
		if full := join(s, ref); p.types[full] {
			return full, true
		}
		if s == "" {
			return "", false
		}
		i := strings.LastIndex(s, ".")
		if i < 0 {
			s = ""
		} else {
			s = s[:i]
		}
	}
}
