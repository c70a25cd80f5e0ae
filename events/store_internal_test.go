package events

import "testing"

func TestCompact(t *testing.T) {
	tests := []struct {
		in   string
		want bool
	}{
		{`{"a":1}`, true},
		{`{"a":"x y\n"}`, true},
		{`{"a":"quote \" then space"}`, true},
		{`{"a":"backslash \\"}`, true},
		{`{"a":"backslash \\" }`, false},
		{`{ "a":1}`, false},
		{"{\"a\":1}\n", false},
		{"[1,\t2]", false},
		{`"  "`, true},
	}
	for _, tt := range tests {
		if got := compact([]byte(tt.in)); got != tt.want {
			t.Errorf("compact(%s) = %v, want %v", tt.in, got, tt.want)
		}
	}
}
