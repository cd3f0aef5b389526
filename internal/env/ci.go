package env

import (
	"net/url"
	"strconv"
	"strings"
)

// CI providers, the values of CI.Provider.
const (
	ProviderGitHub     = "github"
	ProviderGitLab     = "gitlab"
	ProviderCircleCI   = "circleci"
	ProviderBuildkite  = "buildkite"
	ProviderJenkins    = "jenkins"
	ProviderAzure      = "azure"
	ProviderTravis     = "travis"
	ProviderBitbucket  = "bitbucket"
	ProviderCloudBuild = "cloudbuild"
	// ProviderUnknown is a CI detected only by CI=true (or 1).
	ProviderUnknown = "unknown"
)

// Attribute keys of CI facts on the run span. The cicd.* and vcs.* keys are
// OpenTelemetry's CI/CD and VCS semantic conventions; ci.provider and
// ci.run.attempt have no convention and are graphsignal's own.
const (
	AttrCIProvider      = "ci.provider"                // string, a Provider constant
	AttrCIRunAttempt    = "ci.run.attempt"             // int64, 1 for the first attempt
	AttrPipelineRunID   = "cicd.pipeline.run.id"       // string
	AttrPipelineName    = "cicd.pipeline.name"         // string, the workflow
	AttrPipelineRunURL  = "cicd.pipeline.run.url.full" // string
	AttrTaskName        = "cicd.pipeline.task.name"    // string, the job
	AttrTaskRunID       = "cicd.pipeline.task.run.id"  // string, the job's id
	AttrRepositoryURL   = "vcs.repository.url.full"    // string, without credentials
	AttrRepositoryName  = "vcs.repository.name"        // string, the repository without its owner
	AttrOwnerName       = "vcs.owner.name"             // string, the owner (org, group/subgroup)
	AttrRefHeadRevision = "vcs.ref.head.revision"      // string, the commit
	AttrRefHeadName     = "vcs.ref.head.name"          // string, the branch
	AttrChangeID        = "vcs.change.id"              // string, the PR/MR number
)

// CI holds the facts of the CI job graphsignal runs in. The zero value means
// "not in CI". Empty fields are unknown. No field ever holds a token or
// credential: URLs are taken from variables that carry none, or stripped of
// userinfo and query.
type CI struct {
	Provider string // a Provider constant, "" when not in CI
	// RunID identifies the pipeline run: the same for every job and step of
	// one run, and for its re-run attempts where the provider keeps it.
	RunID      string
	Attempt    int    // re-run attempt, 1 for the first; 0 when unknown
	JobID      string // the job's (step's) own id
	Job        string // the job's name
	Workflow   string // the workflow or pipeline name
	Repository string // "owner/name" (GitLab: "group/subgroup/name")
	RepoURL    string // web or clone URL without credentials
	Commit     string
	Branch     string // the source branch (for a PR, the PR's branch)
	PRNumber   string // pull/merge request number
	RunURL     string // the run's (for Jenkins and CircleCI the job's) web page
}

// Detected reports whether graphsignal runs in CI.
func (c CI) Detected() bool { return c.Provider != "" }

// SessionID returns the session id of the CI run, "<provider>-<run id>", or
// "" when the run id is unknown.
//
// Re-run attempts of one run share its session: a re-run of failed jobs
// re-runs only some jobs, so a session per attempt would split one pipeline's
// story; attempts are told apart by the ci.run.attempt attribute. (Where the
// provider gives a re-run a new run id, such as Jenkins' "Replay", the
// re-run is a new session.)
func (c CI) SessionID() string {
	if c.Provider == "" || c.RunID == "" {
		return ""
	}
	return c.Provider + "-" + c.RunID
}

// Attributes returns the CI facts as run span attributes (the Attr*
// constants); unknown facts are left out, and nil when not in CI.
// Repository "owner/name" is split into vcs.owner.name and
// vcs.repository.name as the conventions ask.
func (c CI) Attributes() map[string]any {
	if c.Provider == "" {
		return nil
	}
	a := map[string]any{AttrCIProvider: c.Provider}
	set := func(k, v string) {
		if v != "" {
			a[k] = v
		}
	}
	set(AttrPipelineRunID, c.RunID)
	set(AttrPipelineName, c.Workflow)
	set(AttrPipelineRunURL, c.RunURL)
	set(AttrTaskName, c.Job)
	set(AttrTaskRunID, c.JobID)
	set(AttrRepositoryURL, c.RepoURL)
	if c.Repository != "" {
		if i := strings.LastIndexByte(c.Repository, '/'); i >= 0 {
			set(AttrOwnerName, c.Repository[:i])
			set(AttrRepositoryName, c.Repository[i+1:])
		} else {
			set(AttrRepositoryName, c.Repository)
		}
	}
	set(AttrRefHeadRevision, c.Commit)
	set(AttrRefHeadName, c.Branch)
	set(AttrChangeID, c.PRNumber)
	if c.Attempt > 0 {
		a[AttrCIRunAttempt] = int64(c.Attempt)
	}
	return a
}

// DetectCI returns the facts of the CI provider whose variables environ
// holds, using each provider's documented variables; providers are tried in a
// fixed order (GitHub Actions, GitLab CI, CircleCI, Buildkite, Azure
// Pipelines, Travis CI, Bitbucket Pipelines, Jenkins, Google Cloud Build), so
// a job that sets another provider's marker is still recognised. A plain
// CI=true (or 1) gives ProviderUnknown with no other facts. Google Cloud
// Build sets its values as environment variables only where the build maps
// them (options.automapSubstitutions or a step's env); it is recognised by
// BUILD_ID and PROJECT_ID.
func DetectCI(environ []string) CI {
	get := func(k string) string { return strings.TrimSpace(Get(environ, k)) }
	detectors := [...]func(get func(string) string) (CI, bool){
		github, gitlab, circleci, buildkite, azure, travis, bitbucket, jenkins, cloudbuild,
	}
	for _, d := range detectors {
		if c, ok := d(get); ok {
			c.RepoURL = cleanURL(c.RepoURL, false)
			c.RunURL = cleanURL(c.RunURL, true)
			return c
		}
	}
	switch strings.ToLower(get(VarCI)) {
	case "true", "1", "yes":
		return CI{Provider: ProviderUnknown}
	}
	return CI{}
}

// cleanURL drops the userinfo and fragment of a URL, and its query unless
// keepQuery, which is where credentials hide (Jenkins' GIT_URL may be
// https://user:token@host/...); a value that is not an absolute URL is
// dropped.
func cleanURL(s string, keepQuery bool) string {
	if s == "" {
		return ""
	}
	u, err := url.Parse(s)
	if err != nil || u.Scheme == "" || u.Host == "" {
		return ""
	}
	u.User = nil
	u.Fragment, u.RawFragment = "", ""
	if !keepQuery {
		u.RawQuery, u.ForceQuery = "", false
	}
	return u.String()
}

func atoi(s string) int {
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 {
		return 0
	}
	return n
}

func firstOf(vals ...string) string {
	for _, v := range vals {
		if v != "" {
			return v
		}
	}
	return ""
}

// prNumber returns s when it is a positive decimal number ("false" and ""
// mean "not a pull request" for Travis and Buildkite).
func prNumber(s string) string {
	if atoi(s) > 0 {
		return s
	}
	return ""
}
