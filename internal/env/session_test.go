package env

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/graphsignal/graphsignal/internal/telemetry"
)

func TestSessionID(t *testing.T) {
	newID := func() string { return "new" }
	gh := CI{Provider: ProviderGitHub, RunID: "1234567", Attempt: 2}
	slurm := Job{Launcher: LauncherSlurm, ID: "4242", Rank: 3}
	tests := []struct {
		name string
		tags telemetry.Tags
		ci   CI
		job  Job
		want string
	}{
		{"user tag wins", telemetry.Tags{"session_id": "s-42"}, gh, slurm, "s-42"},
		{"ci run", telemetry.Tags{"user_id": "u"}, gh, Job{}, "github-1234567"},
		{"ci run before the job", nil, gh, slurm, "github-1234567"},
		{"empty tag ignored", telemetry.Tags{"session_id": ""}, gh, Job{}, "github-1234567"},
		{"distributed job", nil, CI{}, slurm, "slurm-4242"},
		{"job without an id", nil, CI{}, Job{Launcher: LauncherMPI, Rank: 1}, "new"},
		{"ci without run id", nil, CI{Provider: ProviderUnknown}, Job{}, "new"},
		{"not in ci", nil, CI{}, Job{}, "new"},
	}
	for _, tt := range tests {
		if got := SessionID(tt.tags, tt.ci, tt.job, newID); got != tt.want {
			t.Errorf("%s: SessionID(%v, %+v) = %q, want %q", tt.name, tt.tags, tt.ci, got, tt.want)
		}
	}
}

func TestCISessionIDSharedByAttemptsAndJobs(t *testing.T) {
	base := []string{"GITHUB_ACTIONS=true", "GITHUB_RUN_ID=99", "GITHUB_REPOSITORY=o/r"}
	a := DetectCI(append(base, "GITHUB_JOB=build", "GITHUB_RUN_ATTEMPT=1"))
	b := DetectCI(append(base, "GITHUB_JOB=test", "GITHUB_RUN_ATTEMPT=2"))
	if a.SessionID() != "github-99" || a.SessionID() != b.SessionID() {
		t.Errorf("session ids %q and %q, want both github-99", a.SessionID(), b.SessionID())
	}
}

func TestNewSessionID(t *testing.T) {
	t0 := time.Date(2026, 11, 25, 14, 0, 0, 0, time.UTC)
	var ids []string
	for i := range 200 {
		id := NewSessionID(t0.Add(time.Duration(i) * time.Millisecond))
		if len(id) != 18 {
			t.Fatalf("NewSessionID = %q, want 18 characters", id)
		}
		for _, c := range id {
			if !strings.ContainsRune(sortable, c) {
				t.Fatalf("NewSessionID = %q: %q is not in the alphabet", id, c)
			}
		}
		ids = append(ids, id)
	}
	if !slices.IsSorted(ids) {
		t.Errorf("ids of increasing times do not sort: %q", ids)
	}
	seen := map[string]bool{}
	for range 1000 {
		id := NewSessionID(t0)
		if seen[id] {
			t.Fatalf("NewSessionID repeated %q", id)
		}
		seen[id] = true
		if id[:10] != ids[0][:10] {
			t.Fatalf("NewSessionID(t0) time part %q, want %q", id[:10], ids[0][:10])
		}
	}
	if id := NewSessionID(time.Unix(-100, 0)); id[:10] != "0000000000" {
		t.Errorf("NewSessionID(before epoch) = %q, want the epoch's time part", id)
	}
	// Order across widely separated times, years included.
	a, b := NewSessionID(time.Unix(1, 0)), NewSessionID(time.Date(2100, 1, 1, 0, 0, 0, 0, time.UTC))
	if a >= b {
		t.Errorf("NewSessionID: %q >= %q", a, b)
	}
}
