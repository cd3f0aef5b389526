package env

import (
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestDetectCI(t *testing.T) {
	tests := []struct {
		name    string
		environ []string
		want    CI
	}{
		{"none", []string{"HOME=/h", "PATH=/bin"}, CI{}},
		{"generic CI=true", []string{"CI=true"}, CI{Provider: ProviderUnknown}},
		{"generic CI=1", []string{"CI=1"}, CI{Provider: ProviderUnknown}},
		{"CI=false", []string{"CI=false"}, CI{}},
		{"github push", []string{
			"CI=true", "GITHUB_ACTIONS=true", "GITHUB_RUN_ID=1234567", "GITHUB_RUN_ATTEMPT=2", "GITHUB_JOB=test",
			"GITHUB_WORKFLOW=CI", "GITHUB_REPOSITORY=acme/api", "GITHUB_SHA=abc123", "GITHUB_REF=refs/heads/main",
			"GITHUB_REF_NAME=main", "GITHUB_HEAD_REF=", "GITHUB_SERVER_URL=https://github.com",
		}, CI{
			Provider: ProviderGitHub, RunID: "1234567", Attempt: 2, Job: "test", Workflow: "CI", Repository: "acme/api",
			RepoURL: "https://github.com/acme/api", Commit: "abc123", Branch: "main",
			RunURL: "https://github.com/acme/api/actions/runs/1234567",
		}},
		{"github pull request on enterprise server", []string{
			"GITHUB_ACTIONS=true", "GITHUB_RUN_ID=55", "GITHUB_REPOSITORY=acme/api", "GITHUB_SHA=m1",
			"GITHUB_REF=refs/pull/42/merge", "GITHUB_REF_NAME=42/merge", "GITHUB_HEAD_REF=feature/x",
			"GITHUB_SERVER_URL=https://ghe.example.com/",
		}, CI{
			Provider: ProviderGitHub, RunID: "55", Repository: "acme/api", RepoURL: "https://ghe.example.com/acme/api",
			Commit: "m1", Branch: "feature/x", PRNumber: "42", RunURL: "https://ghe.example.com/acme/api/actions/runs/55",
		}},
		{"gitlab merge request", []string{
			"CI=true", "GITLAB_CI=true", "CI_PIPELINE_ID=9001", "CI_JOB_ID=77", "CI_JOB_NAME=unit tests",
			"CI_PIPELINE_NAME=MR pipeline", "CI_PROJECT_PATH=group/sub/proj", "CI_PROJECT_URL=https://gitlab.com/group/sub/proj",
			"CI_COMMIT_SHA=def", "CI_COMMIT_REF_NAME=feat", "CI_MERGE_REQUEST_SOURCE_BRANCH_NAME=feat-src",
			"CI_MERGE_REQUEST_IID=17", "CI_PIPELINE_URL=https://gitlab.com/group/sub/proj/-/pipelines/9001",
		}, CI{
			Provider: ProviderGitLab, RunID: "9001", JobID: "77", Job: "unit tests", Workflow: "MR pipeline",
			Repository: "group/sub/proj", RepoURL: "https://gitlab.com/group/sub/proj", Commit: "def", Branch: "feat-src",
			PRNumber: "17", RunURL: "https://gitlab.com/group/sub/proj/-/pipelines/9001",
		}},
		{"circleci", []string{
			"CI=true", "CIRCLECI=true", "CIRCLE_PIPELINE_ID=p-uuid", "CIRCLE_WORKFLOW_ID=w-uuid", "CIRCLE_WORKFLOW_JOB_ID=j-uuid",
			"CIRCLE_BUILD_NUM=321", "CIRCLE_JOB=build", "CIRCLE_PROJECT_USERNAME=acme", "CIRCLE_PROJECT_REPONAME=api",
			"CIRCLE_REPOSITORY_URL=git@github.com:acme/api.git", "CIRCLE_SHA1=c1", "CIRCLE_BRANCH=dev",
			"CIRCLE_PULL_REQUEST=https://github.com/acme/api/pull/8", "CIRCLE_BUILD_URL=https://circleci.com/gh/acme/api/321",
		}, CI{
			Provider: ProviderCircleCI, RunID: "p-uuid", JobID: "j-uuid", Job: "build", Repository: "acme/api",
			Commit: "c1", Branch: "dev", PRNumber: "8", RunURL: "https://circleci.com/gh/acme/api/321",
		}},
		{"circleci without pipeline id", []string{
			"CIRCLECI=true", "CIRCLE_WORKFLOW_ID=w-uuid", "CIRCLE_BUILD_NUM=321", "CIRCLE_PR_NUMBER=9",
			"CIRCLE_REPOSITORY_URL=https://github.com/acme/api.git",
		}, CI{
			Provider: ProviderCircleCI, RunID: "w-uuid", JobID: "321", PRNumber: "9", Repository: "acme/api",
			RepoURL: "https://github.com/acme/api.git",
		}},
		{"buildkite retry", []string{
			"CI=true", "BUILDKITE=true", "BUILDKITE_BUILD_ID=b-uuid", "BUILDKITE_JOB_ID=j-uuid", "BUILDKITE_LABEL=:go: test",
			"BUILDKITE_PIPELINE_SLUG=api", "BUILDKITE_PIPELINE_NAME=API", "BUILDKITE_REPO=git@github.com:acme/api.git",
			"BUILDKITE_COMMIT=c2", "BUILDKITE_BRANCH=main", "BUILDKITE_PULL_REQUEST=false", "BUILDKITE_RETRY_COUNT=1",
			"BUILDKITE_BUILD_URL=https://buildkite.com/acme/api/builds/12",
		}, CI{
			Provider: ProviderBuildkite, RunID: "b-uuid", Attempt: 2, JobID: "j-uuid", Job: ":go: test", Workflow: "API",
			Repository: "acme/api", Commit: "c2", Branch: "main", RunURL: "https://buildkite.com/acme/api/builds/12",
		}},
		{"azure pull request", []string{
			"TF_BUILD=True", "BUILD_BUILDID=456", "SYSTEM_JOBATTEMPT=3", "SYSTEM_JOBID=jid", "SYSTEM_JOBDISPLAYNAME=Test Linux",
			"BUILD_DEFINITIONNAME=api-ci", "BUILD_REPOSITORY_NAME=acme/api", "BUILD_REPOSITORY_URI=https://github.com/acme/api",
			"BUILD_SOURCEVERSION=c3", "BUILD_SOURCEBRANCH=refs/pull/5/merge", "BUILD_SOURCEBRANCHNAME=merge",
			"SYSTEM_PULLREQUEST_SOURCEBRANCH=refs/heads/feature/y", "SYSTEM_PULLREQUEST_PULLREQUESTNUMBER=5",
			"SYSTEM_PULLREQUEST_PULLREQUESTID=88", "SYSTEM_COLLECTIONURI=https://dev.azure.com/acme/", "SYSTEM_TEAMPROJECT=My Project",
		}, CI{
			Provider: ProviderAzure, RunID: "456", Attempt: 3, JobID: "jid", Job: "Test Linux", Workflow: "api-ci",
			Repository: "acme/api", RepoURL: "https://github.com/acme/api", Commit: "c3", Branch: "feature/y", PRNumber: "5",
			RunURL: "https://dev.azure.com/acme/My%20Project/_build/results?buildId=456",
		}},
		{"azure branch", []string{"TF_BUILD=True", "BUILD_BUILDID=7", "BUILD_SOURCEBRANCH=refs/heads/release/1.0"},
			CI{Provider: ProviderAzure, RunID: "7", Branch: "release/1.0"}},
		{"travis pull request", []string{
			"CI=true", "TRAVIS=true", "TRAVIS_BUILD_ID=111", "TRAVIS_JOB_ID=222", "TRAVIS_JOB_NUMBER=12.1",
			"TRAVIS_REPO_SLUG=acme/api", "TRAVIS_COMMIT=c4", "TRAVIS_BRANCH=main", "TRAVIS_PULL_REQUEST_BRANCH=fix",
			"TRAVIS_PULL_REQUEST=33", "TRAVIS_BUILD_WEB_URL=https://app.travis-ci.com/acme/api/builds/111",
		}, CI{
			Provider: ProviderTravis, RunID: "111", JobID: "222", Job: "12.1", Repository: "acme/api", Commit: "c4",
			Branch: "fix", PRNumber: "33", RunURL: "https://app.travis-ci.com/acme/api/builds/111",
		}},
		{"travis push", []string{"TRAVIS=true", "TRAVIS_BUILD_ID=1", "TRAVIS_BRANCH=main", "TRAVIS_PULL_REQUEST=false", "TRAVIS_PULL_REQUEST_BRANCH="},
			CI{Provider: ProviderTravis, RunID: "1", Branch: "main"}},
		{"bitbucket", []string{
			"CI=true", "BITBUCKET_BUILD_NUMBER=42", "BITBUCKET_PIPELINE_UUID={1111-2222}", "BITBUCKET_STEP_UUID={3333}",
			"BITBUCKET_REPO_FULL_NAME=acme/api", "BITBUCKET_GIT_HTTP_ORIGIN=http://bitbucket.org/acme/api",
			"BITBUCKET_COMMIT=c5", "BITBUCKET_BRANCH=topic", "BITBUCKET_PR_ID=6",
		}, CI{
			Provider: ProviderBitbucket, RunID: "1111-2222", JobID: "3333", Repository: "acme/api",
			RepoURL: "http://bitbucket.org/acme/api", Commit: "c5", Branch: "topic", PRNumber: "6",
			RunURL: "https://bitbucket.org/acme/api/pipelines/results/42",
		}},
		{"jenkins multibranch pull request", []string{
			"JENKINS_URL=https://ci.example.com/", "BUILD_TAG=jenkins-api-PR-9-14", "BUILD_NUMBER=14", "BUILD_ID=14",
			"JOB_NAME=api/PR-9", "STAGE_NAME=Test", "GIT_URL=https://bot:s3cr3t@github.com/acme/api.git", "GIT_COMMIT=c6",
			"GIT_BRANCH=origin/PR-9", "BRANCH_NAME=PR-9", "CHANGE_ID=9", "CHANGE_BRANCH=feature/z",
			"BUILD_URL=https://ci.example.com/job/api/job/PR-9/14/",
		}, CI{
			Provider: ProviderJenkins, RunID: "api-PR-9-14", Job: "Test", Workflow: "api/PR-9", Repository: "acme/api",
			RepoURL: "https://github.com/acme/api.git", Commit: "c6", Branch: "feature/z", PRNumber: "9",
			RunURL: "https://ci.example.com/job/api/job/PR-9/14/",
		}},
		{"jenkins freestyle without BUILD_TAG", []string{
			"JENKINS_URL=https://ci/", "JOB_NAME=folder/app", "BUILD_NUMBER=3", "GIT_BRANCH=origin/main",
		}, CI{Provider: ProviderJenkins, RunID: "folder-app-3", Workflow: "folder/app", Branch: "main"}},
		{"cloud build trigger", []string{
			"BUILD_ID=b-uuid", "PROJECT_ID=proj", "LOCATION=us-central1", "TRIGGER_NAME=push-main",
			"REPO_FULL_NAME=acme/api", "REPO_NAME=api", "COMMIT_SHA=c7", "BRANCH_NAME=main", "_PR_NUMBER=",
		}, CI{
			Provider: ProviderCloudBuild, RunID: "b-uuid", Workflow: "push-main", Repository: "acme/api", Commit: "c7",
			Branch: "main", RunURL: "https://console.cloud.google.com/cloud-build/builds;region=us-central1/b-uuid?project=proj",
		}},
		{"cloud build pull request, global", []string{
			"BUILD_ID=b2", "PROJECT_ID=proj", "_HEAD_BRANCH=feat", "BRANCH_NAME=feat", "_PR_NUMBER=12", "REVISION_ID=c8",
		}, CI{
			Provider: ProviderCloudBuild, RunID: "b2", Commit: "c8", Branch: "feat", PRNumber: "12",
			RunURL: "https://console.cloud.google.com/cloud-build/builds/b2?project=proj",
		}},
		{"BUILD_ID alone is not cloud build", []string{"BUILD_ID=5"}, CI{}},
		{"values are trimmed", []string{"GITHUB_ACTIONS=true", "GITHUB_RUN_ID= 8 "},
			CI{Provider: ProviderGitHub, RunID: "8"}},
		{"garbage attempt", []string{"GITHUB_ACTIONS=true", "GITHUB_RUN_ATTEMPT=x"}, CI{Provider: ProviderGitHub}},
		{"negative attempt", []string{"GITHUB_ACTIONS=true", "GITHUB_RUN_ATTEMPT=-1"}, CI{Provider: ProviderGitHub}},
	}
	for _, tt := range tests {
		got := DetectCI(tt.environ)
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("%s: DetectCI mismatch (-want +got):\n%s", tt.name, diff)
		}
		if got.Detected() != (tt.want.Provider != "") {
			t.Errorf("%s: Detected() = %v", tt.name, got.Detected())
		}
	}
}

// TestDetectCINoSecrets puts every provider's credential-bearing variables
// (and credentials in URLs) into the environment and checks that none of
// them reaches the detected facts.
func TestDetectCINoSecrets(t *testing.T) {
	const secret = "tok-SECRET-123"
	common := []string{
		"CI_JOB_TOKEN=" + secret, "CI_REPOSITORY_URL=https://gitlab-ci-token:" + secret + "@gitlab.com/g/p.git",
		"CI_REGISTRY_PASSWORD=" + secret, "GITHUB_TOKEN=" + secret, "ACTIONS_RUNTIME_TOKEN=" + secret,
		"ACTIONS_ID_TOKEN_REQUEST_TOKEN=" + secret, "SYSTEM_ACCESSTOKEN=" + secret, "BUILDKITE_AGENT_ACCESS_TOKEN=" + secret,
		"BITBUCKET_STEP_OIDC_TOKEN=" + secret, "CIRCLE_OIDC_TOKEN=" + secret, "GRAPHSIGNAL_API_KEY=" + secret,
	}
	markers := [][]string{
		{"GITHUB_ACTIONS=true", "GITHUB_RUN_ID=1", "GITHUB_SERVER_URL=https://x:" + secret + "@github.com"},
		{"GITLAB_CI=true", "CI_PIPELINE_ID=1", "CI_PROJECT_URL=https://u:" + secret + "@gitlab.com/g/p"},
		{"CIRCLECI=true", "CIRCLE_PIPELINE_ID=1", "CIRCLE_REPOSITORY_URL=https://" + secret + ":x-oauth-basic@github.com/o/r"},
		{"BUILDKITE=true", "BUILDKITE_BUILD_ID=1", "BUILDKITE_REPO=https://u:" + secret + "@github.com/o/r.git"},
		{"TF_BUILD=True", "BUILD_BUILDID=1", "BUILD_REPOSITORY_URI=https://u:" + secret + "@dev.azure.com/o/p/_git/r"},
		{"TRAVIS=true", "TRAVIS_BUILD_ID=1", "TRAVIS_BUILD_WEB_URL=https://u:" + secret + "@travis/x#" + secret},
		{"BITBUCKET_BUILD_NUMBER=1", "BITBUCKET_GIT_HTTP_ORIGIN=https://u:" + secret + "@bitbucket.org/o/r"},
		{"JENKINS_URL=https://ci/", "BUILD_TAG=jenkins-x-1", "GIT_URL=https://u:" + secret + "@github.com/o/r.git?token=" + secret,
			"BUILD_URL=https://u:" + secret + "@ci/job/x/1/"},
		{"BUILD_ID=1", "PROJECT_ID=p"},
	}
	for _, m := range markers {
		c := DetectCI(append(append([]string{}, common...), m...))
		if c.Provider == "" || c.Provider == ProviderUnknown {
			t.Errorf("DetectCI(%q) did not detect the provider", m)
		}
		if s := fmt.Sprintf("%+v %v", c, c.Attributes()); strings.Contains(s, secret) {
			t.Errorf("DetectCI(%q) leaks a credential: %s", m, s)
		}
	}
}

func TestCIAttributes(t *testing.T) {
	c := CI{
		Provider: ProviderGitLab, RunID: "9", Attempt: 2, JobID: "7", Job: "test", Workflow: "wf",
		Repository: "group/sub/proj", RepoURL: "https://gitlab.com/group/sub/proj", Commit: "abc",
		Branch: "main", PRNumber: "3", RunURL: "https://gitlab.com/p/-/pipelines/9",
	}
	want := map[string]any{
		"ci.provider": "gitlab", "ci.run.attempt": int64(2), "cicd.pipeline.run.id": "9",
		"cicd.pipeline.name": "wf", "cicd.pipeline.run.url.full": "https://gitlab.com/p/-/pipelines/9",
		"cicd.pipeline.task.name": "test", "cicd.pipeline.task.run.id": "7",
		"vcs.repository.url.full": "https://gitlab.com/group/sub/proj", "vcs.owner.name": "group/sub",
		"vcs.repository.name": "proj", "vcs.ref.head.revision": "abc", "vcs.ref.head.name": "main", "vcs.change.id": "3",
	}
	if diff := cmp.Diff(want, c.Attributes()); diff != "" {
		t.Errorf("Attributes mismatch (-want +got):\n%s", diff)
	}
	minimal := CI{Provider: ProviderJenkins, Repository: "solo"}
	if diff := cmp.Diff(map[string]any{"ci.provider": "jenkins", "vcs.repository.name": "solo"}, minimal.Attributes()); diff != "" {
		t.Errorf("minimal Attributes mismatch (-want +got):\n%s", diff)
	}
	if a := (CI{}).Attributes(); a != nil {
		t.Errorf("Attributes outside CI = %v, want nil", a)
	}
}

func TestCleanURL(t *testing.T) {
	tests := []struct {
		in        string
		keepQuery bool
		want      string
	}{
		{"", false, ""},
		{"https://u:p@h/x?q=1#f", false, "https://h/x"},
		{"https://u:p@h/x?q=1#f", true, "https://h/x?q=1"},
		{"git@github.com:o/r.git", false, ""},
		{"not a url", false, ""},
		{"/relative/path", false, ""},
		{"%zz", false, ""},
	}
	for _, tt := range tests {
		if got := cleanURL(tt.in, tt.keepQuery); got != tt.want {
			t.Errorf("cleanURL(%q, %v) = %q, want %q", tt.in, tt.keepQuery, got, tt.want)
		}
	}
}

func TestRepoFromURL(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", ""},
		{"git@github.com:acme/api.git", "acme/api"},
		{"https://github.com/acme/api.git", "acme/api"},
		{"https://github.com/acme/api/", "acme/api"},
		{"https://gitlab.com/g/sub/p.git", "g/sub/p"},
		{"ssh://git@host:2222/acme/api.git", "acme/api"},
		{"https://host/solo", ""},
		{"just-text", ""},
	}
	for _, tt := range tests {
		if got := repoFromURL(tt.in); got != tt.want {
			t.Errorf("repoFromURL(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
