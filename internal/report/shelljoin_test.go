package report

import "testing"

func TestShellJoin(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"python", "train.py"}, "python train.py"},
		{[]string{"sh", "-c", "echo hi; exit 3"}, "sh -c 'echo hi; exit 3'"},
		{[]string{"echo", ""}, "echo ''"},
		{[]string{"echo", "it's"}, `echo 'it'\''s'`},
		{[]string{"python3", "-c", "a=1\nprint(a)"}, `python3 -c $'a=1\nprint(a)'`},
		{[]string{"x", "caf\xe9"}, `x $'caf\xe9'`},
		{[]string{"x", "say \"hi\"\n"}, `x $'say "hi"\n'`},
	}
	for _, tt := range tests {
		if got := shellJoin(tt.args); got != tt.want {
			t.Errorf("shellJoin(%q) = %s, want %s", tt.args, got, tt.want)
		}
	}
}
