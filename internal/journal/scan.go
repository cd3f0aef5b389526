package journal

import (
	"errors"
	"fmt"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"
)

// scanner reads JSON text for decodeBatch (encode.go) in one pass, with the
// grammar and the conversions of encoding/json's Unmarshal, which the
// journal used before: the same text is accepted and gives the same values
// (FuzzDecodeBatchDifferential holds it to that). In particular strings
// with invalid UTF-8 or lone surrogates decode with U+FFFD, nesting past
// maxDepth is an error, and object keys match field names case-insensitively
// (fieldName).
type scanner struct {
	data  []byte
	pos   int
	depth int
	// scratch holds the last string that needed unescaping; str returns it,
	// valid until the next call.
	scratch []byte
}

// maxDepth is encoding/json's nesting limit.
const maxDepth = 10000

// errSyntax and errType are the two kinds of failure; syntaxErr and
// typeErr add where.
var (
	errSyntax = errors.New("invalid JSON")
	errType   = errors.New("wrong JSON type")
)

func (s *scanner) syntaxErr() error { return fmt.Errorf("%w at offset %d", errSyntax, s.pos) }

func (s *scanner) typeErr(what string) error {
	return fmt.Errorf("%w at offset %d: want %s", errType, s.pos, what)
}

// ws skips white space and returns the next byte, or 0 at the end.
func (s *scanner) ws() byte {
	for s.pos < len(s.data) {
		switch c := s.data[s.pos]; c {
		case ' ', '\t', '\n', '\r':
			s.pos++
		default:
			return c
		}
	}
	return 0
}

// open consumes the '{' or '[' at s.pos.
func (s *scanner) open() error {
	s.pos++
	s.depth++
	if s.depth > maxDepth {
		return fmt.Errorf("%w: nested too deep", errSyntax)
	}
	return nil
}

// nextKey reads the next key of the object that open entered and the colon
// after it; ok is false (and the '}' consumed) at the end. n counts the
// keys read so far.
func (s *scanner) nextKey(n *int) (key []byte, ok bool, err error) {
	c := s.ws()
	if *n > 0 {
		switch c {
		case '}':
			s.pos++
			s.depth--
			return nil, false, nil
		case ',':
			s.pos++
			c = s.ws()
		default:
			return nil, false, s.syntaxErr()
		}
	} else if c == '}' {
		s.pos++
		s.depth--
		return nil, false, nil
	}
	if c != '"' {
		return nil, false, s.syntaxErr()
	}
	*n++
	if key, _, err = s.str(); err != nil {
		return nil, false, err
	}
	if s.ws() != ':' {
		return nil, false, s.syntaxErr()
	}
	s.pos++
	s.ws()
	return key, true, nil
}

// nextElem moves to the next element of the array that open entered; ok
// is false (and the ']' consumed) at the end. n counts the elements so far.
func (s *scanner) nextElem(n *int) (ok bool, err error) {
	c := s.ws()
	if *n > 0 {
		switch c {
		case ']':
			s.pos++
			s.depth--
			return false, nil
		case ',':
			s.pos++
			c = s.ws()
		default:
			return false, s.syntaxErr()
		}
	} else if c == ']' {
		s.pos++
		s.depth--
		return false, nil
	}
	if c == 0 {
		return false, s.syntaxErr()
	}
	*n++
	return true, nil
}

// null consumes null if it is next.
func (s *scanner) null() (bool, error) {
	if s.ws() != 'n' {
		return false, nil
	}
	return true, s.literal("null")
}

func (s *scanner) literal(lit string) error {
	if len(s.data)-s.pos < len(lit) || string(s.data[s.pos:s.pos+len(lit)]) != lit {
		return s.syntaxErr()
	}
	s.pos += len(lit)
	return nil
}

// boolean reads true or false.
func (s *scanner) boolean() (bool, error) {
	switch s.ws() {
	case 't':
		return true, s.literal("true")
	case 'f':
		return false, s.literal("false")
	}
	return false, s.wrongType("a boolean")
}

// wrongType returns the error for a value of another type than want, or a
// syntax error when there is no value at all.
func (s *scanner) wrongType(want string) error {
	switch s.ws() {
	case '"', '{', '[', 't', 'f', 'n', '-', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9':
		return s.typeErr(want)
	}
	return s.syntaxErr()
}

// number reads a number and returns its text.
func (s *scanner) number() ([]byte, error) {
	d, start := s.data, s.pos
	i := start
	if i < len(d) && d[i] == '-' {
		i++
	}
	switch {
	case i < len(d) && d[i] == '0':
		i++
	case i < len(d) && '1' <= d[i] && d[i] <= '9':
		for i++; i < len(d) && isDigit(d[i]); i++ {
		}
	default:
		s.pos = i
		if start == i {
			return nil, s.wrongType("a number")
		}
		return nil, s.syntaxErr()
	}
	if i < len(d) && d[i] == '.' {
		i++
		if i >= len(d) || !isDigit(d[i]) {
			s.pos = i
			return nil, s.syntaxErr()
		}
		for i++; i < len(d) && isDigit(d[i]); i++ {
		}
	}
	if i < len(d) && (d[i] == 'e' || d[i] == 'E') {
		i++
		if i < len(d) && (d[i] == '+' || d[i] == '-') {
			i++
		}
		if i >= len(d) || !isDigit(d[i]) {
			s.pos = i
			return nil, s.syntaxErr()
		}
		for i++; i < len(d) && isDigit(d[i]); i++ {
		}
	}
	s.pos = i
	return d[start:i], nil
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// str reads a string and returns it unquoted as encoding/json does
// (escapes resolved, invalid UTF-8 and lone surrogates as U+FFFD). inData
// reports that the result is a part of s.data; otherwise it is s.scratch,
// overwritten by the next call.
func (s *scanner) str() (v []byte, inData bool, err error) {
	if s.ws() != '"' {
		return nil, false, s.wrongType("a string")
	}
	d := s.data
	start := s.pos + 1
	i := start
	for i < len(d) {
		c := d[i]
		switch {
		case c == '"':
			s.pos = i + 1
			return d[start:i], true, nil
		case c == '\\' || c < ' ':
			return s.strSlow(start, i)
		case c < utf8.RuneSelf:
			i++
		default:
			r, size := utf8.DecodeRune(d[i:])
			if r == utf8.RuneError && size == 1 {
				return s.strSlow(start, i)
			}
			i += size
		}
	}
	s.pos = i
	return nil, false, s.syntaxErr()
}

// strSlow finishes a string from i on (start is just after the quote),
// unescaping into s.scratch.
func (s *scanner) strSlow(start, i int) ([]byte, bool, error) {
	d := s.data
	b := append(s.scratch[:0], d[start:i]...)
	for i < len(d) {
		c := d[i]
		switch {
		case c == '"':
			s.pos = i + 1
			s.scratch = b
			return b, false, nil
		case c < ' ':
			s.pos = i
			return nil, false, s.syntaxErr()
		case c == '\\':
			if i+1 >= len(d) {
				s.pos = i
				return nil, false, s.syntaxErr()
			}
			switch e := d[i+1]; e {
			case '"', '\\', '/':
				b = append(b, e)
			case 'b':
				b = append(b, '\b')
			case 'f':
				b = append(b, '\f')
			case 'n':
				b = append(b, '\n')
			case 'r':
				b = append(b, '\r')
			case 't':
				b = append(b, '\t')
			case 'u':
				r := hex4(d[i+2:])
				if r < 0 {
					s.pos = i
					return nil, false, s.syntaxErr()
				}
				i += 6
				if utf16.IsSurrogate(r) {
					// encoding/json takes a following \u escape as the
					// pair's second half only when the two make a rune.
					if r2 := unicodeEscape(d[i:]); r2 >= 0 {
						if dec := utf16.DecodeRune(r, r2); dec != unicode.ReplacementChar {
							i += 6
							b = utf8.AppendRune(b, dec)
							continue
						}
					}
					r = unicode.ReplacementChar
				}
				b = utf8.AppendRune(b, r)
				continue
			default:
				s.pos = i
				return nil, false, s.syntaxErr()
			}
			i += 2
		case c < utf8.RuneSelf:
			b = append(b, c)
			i++
		default:
			r, size := utf8.DecodeRune(d[i:])
			b = utf8.AppendRune(b, r) // U+FFFD for a bad byte
			i += size
		}
	}
	s.pos = i
	return nil, false, s.syntaxErr()
}

// unicodeEscape returns the rune of a \uXXXX at the start of b, or -1.
func unicodeEscape(b []byte) rune {
	if len(b) < 6 || b[0] != '\\' || b[1] != 'u' {
		return -1
	}
	return hex4(b[2:])
}

// hex4 returns the value of four hex digits at the start of b, or -1.
func hex4(b []byte) rune {
	if len(b) < 4 {
		return -1
	}
	var r rune
	for _, c := range b[:4] {
		switch {
		case '0' <= c && c <= '9':
			c -= '0'
		case 'a' <= c && c <= 'f':
			c = c - 'a' + 10
		case 'A' <= c && c <= 'F':
			c = c - 'A' + 10
		default:
			return -1
		}
		r = r*16 + rune(c)
	}
	return r
}

// skip reads and discards one value of any type.
func (s *scanner) skip() error {
	switch s.ws() {
	case '"':
		_, _, err := s.str()
		return err
	case '{':
		if err := s.open(); err != nil {
			return err
		}
		for n := 0; ; {
			_, ok, err := s.nextKey(&n)
			if err != nil || !ok {
				return err
			}
			if err := s.skip(); err != nil {
				return err
			}
		}
	case '[':
		if err := s.open(); err != nil {
			return err
		}
		for n := 0; ; {
			ok, err := s.nextElem(&n)
			if err != nil || !ok {
				return err
			}
			if err := s.skip(); err != nil {
				return err
			}
		}
	case 't':
		return s.literal("true")
	case 'f':
		return s.literal("false")
	case 'n':
		return s.literal("null")
	default:
		_, err := s.number()
		return err
	}
}

// fieldName returns the name among names that an object key stands for,
// as encoding/json matches keys to field names: exactly, or equal after
// Unicode simple case folding (so "SPANS" and "ſpans" stand for "spans");
// "" when none.
func fieldName(key []byte, names []string) string {
	for _, n := range names {
		if string(key) == n {
			return n
		}
	}
	for _, n := range names {
		if foldEqual(key, n) {
			return n
		}
	}
	return ""
}

// foldEqual reports whether key folds to the same text as the ASCII name.
func foldEqual(key []byte, name string) bool {
	i := 0
	for j := 0; j < len(name); j++ {
		if i >= len(key) {
			return false
		}
		want := upper(name[j])
		if k := key[i]; k < utf8.RuneSelf {
			if upper(k) != want {
				return false
			}
			i++
			continue
		}
		r, size := utf8.DecodeRune(key[i:])
		if foldRune(r) != rune(want) {
			return false
		}
		i += size
	}
	return i == len(key)
}

func upper(c byte) byte {
	if 'a' <= c && c <= 'z' {
		return c - ('a' - 'A')
	}
	return c
}

// foldRune returns the smallest rune of r's case-folding orbit, as
// encoding/json folds key runes.
func foldRune(r rune) rune {
	for {
		r2 := unicode.SimpleFold(r)
		if r2 <= r {
			return r2
		}
		r = r2
	}
}
