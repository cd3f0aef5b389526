package redact

import "strings"

// Args returns a copy of a command line (argv, program first) with secret
// values replaced by Redacted; every other argument is byte-identical. It
// recognises:
//
//   - flags whose name is secret by IsSecretName, with one or two dashes:
//     "--api-key=X", "-token=X", and "--password X" (the next argument is the
//     value, unless it starts with "--" or the flag's name starts with "no-";
//     a boolean flag such as "--use-auth" therefore costs its following
//     argument, which is the safe side to err on);
//   - NAME=VALUE arguments whose NAME is secret ("API_KEY=X", as given to
//     env, make or docker -e);
//   - header lines, as given to curl -H or --header ("Authorization: Bearer X"
//     keeps the scheme, see Header);
//   - URLs anywhere in an argument or a flag's value (see URL);
//   - a few programs' own password flags, from the point where the program's
//     name appears in argv (so "sudo mysql -pX" is covered): -pVALUE of the
//     mysql and mariadb clients, -p of sshpass, -a of redis-cli, and the
//     password half of curl's -u/--user/-U/--proxy-user "user:password".
//
// Short flags are otherwise never treated as secret: "-p" is a port, a path
// or a profile far more often than a password, and "-t" a tag or a timeout.
// Secret values inside JSON arguments are not recognised.
func Args(args []string) []string {
	out := make([]string, len(args))
	var prog string
	pending := "" // what the previous argument makes of this one
	for i, a := range args {
		switch pending {
		case "value":
			pending = ""
			if !strings.HasPrefix(a, "--") {
				if a != "" {
					a = Redacted
				}
				out[i] = a
				continue
			}
		case "userpass":
			pending = ""
			out[i] = userPass(a)
			continue
		}
		if p := programName(a); p != "" {
			prog = p
		}
		out[i], pending = arg(prog, a)
	}
	return out
}

// arg redacts one argument of prog (a known program's name or "") and says
// whether the next argument is a secret "value" or a "userpass".
func arg(prog, a string) (string, string) {
	if len(a) < 2 || a[0] != '-' || a == "--" {
		return value(a), ""
	}
	switch prog {
	case "mysql":
		if strings.HasPrefix(a, "-p") && len(a) > 2 {
			return "-p" + Redacted, ""
		}
	case "redis-cli":
		if a == "-a" {
			return a, "value"
		}
	case "sshpass":
		if a == "-p" {
			return a, "value"
		}
		if strings.HasPrefix(a, "-p") {
			return "-p" + Redacted, ""
		}
	case "curl":
		switch a {
		case "-u", "-U", "--user", "--proxy-user":
			return a, "userpass"
		}
		for _, f := range [...]string{"--user=", "--proxy-user="} {
			if strings.HasPrefix(a, f) {
				return f + userPass(a[len(f):]), ""
			}
		}
		if len(a) > 2 && (a[1] == 'u' || a[1] == 'U') {
			return a[:2] + userPass(a[2:]), ""
		}
	}
	dashes := 1
	if a[1] == '-' {
		dashes = 2
	}
	name, v, hasValue := strings.Cut(a[dashes:], "=")
	secret := IsSecretName(name)
	if !hasValue {
		if secret && !strings.HasPrefix(normalizeName(name), "no-") {
			return a, "value"
		}
		return a, ""
	}
	if secret {
		if v == "" {
			return a, ""
		}
		return a[:len(a)-len(v)] + Redacted, ""
	}
	return a[:len(a)-len(v)] + value(v), ""
}

// value redacts a positional argument or a flag's value.
func value(v string) string {
	if k, val, ok := strings.Cut(v, "="); ok && isVarName(k) {
		if IsSecretName(k) {
			if val == "" {
				return v
			}
			return k + "=" + Redacted
		}
		return k + "=" + value(val)
	}
	if r := HeaderLine(v); r != v {
		return r
	}
	return Text(v)
}

// isVarName reports whether s looks like the name of an environment or make
// variable: letters, digits, '_', '.', '-', not starting with a digit or '-'.
func isVarName(s string) bool {
	if s == "" || s[0] == '-' || '0' <= s[0] && s[0] <= '9' {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_' || c == '.' || c == '-') {
			return false
		}
	}
	return true
}

// userPass redacts the password of "user:password"; "user" alone (the
// program prompts for the password) is unchanged.
func userPass(s string) string {
	user, pass, ok := strings.Cut(s, ":")
	if !ok || pass == "" {
		return s
	}
	return user + ":" + Redacted
}

// programName returns the family name of an argument that names a program
// with its own password flags, or "".
func programName(a string) string {
	base := a[strings.LastIndexByte(a, '/')+1:]
	switch base {
	case "mysql", "mysqldump", "mysqladmin", "mysqlimport", "mysqlshow", "mysqlcheck", "mysqlpump",
		"mariadb", "mariadb-dump", "mariadb-admin", "mariadb-import", "mariadb-show", "mariadb-check":
		return "mysql"
	case "sshpass", "curl", "redis-cli":
		return base
	}
	return ""
}
