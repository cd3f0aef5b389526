package gpu

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestVisible(t *testing.T) {
	devices := []Device{
		{Index: 0, UUID: "GPU-aaaa1111-0000"},
		{Index: 1, UUID: "GPU-aaaa2222-0000"},
		{Index: 2, UUID: "GPU-bbbb3333-0000", MIG: "enabled"},
		{Index: 2, UUID: "MIG-cccc4444-0000", Parent: "GPU-bbbb3333-0000"},
		{Index: 2, UUID: "MIG-cccc5555-0000", Parent: "GPU-bbbb3333-0000"},
	}
	uuids := func(ds []Device) []string {
		var out []string
		for _, d := range ds {
			out = append(out, d.UUID)
		}
		return out
	}
	all := uuids(devices)
	tests := []struct {
		value string
		set   bool
		want  []string
	}{
		{"", false, all},
		{"junk", false, all},
		{"", true, nil},
		{"-1", true, nil},
		{"0", true, []string{"GPU-aaaa1111-0000"}},
		{"1,0", true, []string{"GPU-aaaa2222-0000", "GPU-aaaa1111-0000"}},
		{" 1 , 0 ", true, []string{"GPU-aaaa2222-0000", "GPU-aaaa1111-0000"}},
		{"1x", true, []string{"GPU-aaaa2222-0000"}},     // strtoul reads the leading digits
		{"0,7,1", true, []string{"GPU-aaaa1111-0000"}},  // stops at the unknown index
		{"0,-1,1", true, []string{"GPU-aaaa1111-0000"}}, // and at a negative one
		{"0,x,1", true, []string{"GPU-aaaa1111-0000"}},  // and at a malformed one
		{"0,,1", true, []string{"GPU-aaaa1111-0000"}},   // an empty entry names nothing
		{"0,0", true, nil},            // a repeat hides everything
		{"0,GPU-aaaa1111", true, nil}, // also by UUID
		{"GPU-aaaa2222-0000", true, []string{"GPU-aaaa2222-0000"}},
		{"GPU-aaaa2", true, []string{"GPU-aaaa2222-0000"}}, // a unique prefix
		{"GPU-aaaa,1", true, nil},                          // an ambiguous prefix names nothing
		{"GPU-ffff", true, nil},
		{"2", true, []string{"GPU-bbbb3333-0000", "MIG-cccc4444-0000", "MIG-cccc5555-0000"}},
		{"MIG-cccc5555-0000", true, []string{"MIG-cccc5555-0000"}},
		{"MIG-cccc5,MIG-cccc4", true, []string{"MIG-cccc5555-0000", "MIG-cccc4444-0000"}},
		{"MIG-cccc", true, nil},
		{"MIG-cccc4,2", true, []string{"MIG-cccc4444-0000", "GPU-bbbb3333-0000", "MIG-cccc5555-0000"}},
		{"2,MIG-cccc4", true, nil},
		{"MIG-GPU-bbbb3333-0000/1/0", true, nil}, // legacy form, not rewritten
		{"1,2", true, []string{"GPU-aaaa2222-0000", "GPU-bbbb3333-0000", "MIG-cccc4444-0000", "MIG-cccc5555-0000"}},
	}
	for _, tt := range tests {
		got := uuids(Visible(tt.value, tt.set, devices))
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("Visible(%q, %v) mismatch (-want +got):\n%s", tt.value, tt.set, diff)
		}
	}
}
