package env

import (
	"net/url"
	"strconv"
	"strings"
)

// Each function below recognises one provider from its documented
// variables. None reads a variable that carries a token (CI_JOB_TOKEN,
// CI_REPOSITORY_URL, SYSTEM_ACCESSTOKEN and the like).

// github: https://docs.github.com/actions/reference/variables-reference
func github(get func(string) string) (CI, bool) {
	if get("GITHUB_ACTIONS") != "true" {
		return CI{}, false
	}
	c := CI{
		Provider:   ProviderGitHub,
		RunID:      get("GITHUB_RUN_ID"),
		Attempt:    atoi(get("GITHUB_RUN_ATTEMPT")),
		Job:        get("GITHUB_JOB"),
		Workflow:   get("GITHUB_WORKFLOW"),
		Repository: get("GITHUB_REPOSITORY"),
		Commit:     get("GITHUB_SHA"),
		Branch:     firstOf(get("GITHUB_HEAD_REF"), get("GITHUB_REF_NAME")),
	}
	if ref := get("GITHUB_REF"); strings.HasPrefix(ref, "refs/pull/") {
		n, _, _ := strings.Cut(strings.TrimPrefix(ref, "refs/pull/"), "/")
		c.PRNumber = prNumber(n)
	}
	server := strings.TrimSuffix(firstOf(get("GITHUB_SERVER_URL"), "https://github.com"), "/")
	if c.Repository != "" {
		c.RepoURL = server + "/" + c.Repository
		if c.RunID != "" {
			c.RunURL = c.RepoURL + "/actions/runs/" + c.RunID
		}
	}
	return c, true
}

// gitlab: https://docs.gitlab.com/ci/variables/predefined_variables/
func gitlab(get func(string) string) (CI, bool) {
	if get("GITLAB_CI") != "true" {
		return CI{}, false
	}
	return CI{
		Provider:   ProviderGitLab,
		RunID:      get("CI_PIPELINE_ID"),
		JobID:      get("CI_JOB_ID"),
		Job:        get("CI_JOB_NAME"),
		Workflow:   get("CI_PIPELINE_NAME"),
		Repository: get("CI_PROJECT_PATH"),
		RepoURL:    get("CI_PROJECT_URL"),
		Commit:     get("CI_COMMIT_SHA"),
		Branch:     firstOf(get("CI_MERGE_REQUEST_SOURCE_BRANCH_NAME"), get("CI_COMMIT_REF_NAME")),
		PRNumber:   get("CI_MERGE_REQUEST_IID"),
		RunURL:     get("CI_PIPELINE_URL"),
	}, true
}

// circleci: https://circleci.com/docs/reference/variables/. The run is the
// pipeline (all its workflows, and re-runs of them); older servers without
// CIRCLE_PIPELINE_ID fall back to the workflow.
func circleci(get func(string) string) (CI, bool) {
	if get("CIRCLECI") != "true" {
		return CI{}, false
	}
	c := CI{
		Provider: ProviderCircleCI,
		RunID:    firstOf(get("CIRCLE_PIPELINE_ID"), get("CIRCLE_WORKFLOW_ID")),
		JobID:    firstOf(get("CIRCLE_WORKFLOW_JOB_ID"), get("CIRCLE_BUILD_NUM")),
		Job:      get("CIRCLE_JOB"),
		RepoURL:  get("CIRCLE_REPOSITORY_URL"),
		Commit:   get("CIRCLE_SHA1"),
		Branch:   firstOf(get("CIRCLE_BRANCH"), get("CIRCLE_TAG")),
		PRNumber: prNumber(get("CIRCLE_PR_NUMBER")),
		RunURL:   get("CIRCLE_BUILD_URL"),
	}
	if u, r := get("CIRCLE_PROJECT_USERNAME"), get("CIRCLE_PROJECT_REPONAME"); u != "" && r != "" {
		c.Repository = u + "/" + r
	} else {
		c.Repository = repoFromURL(c.RepoURL)
	}
	if c.PRNumber == "" {
		if pr := get("CIRCLE_PULL_REQUEST"); pr != "" {
			c.PRNumber = prNumber(pr[strings.LastIndexByte(pr, '/')+1:])
		}
	}
	return c, true
}

// buildkite: https://buildkite.com/docs/pipelines/configure/environment-variables
func buildkite(get func(string) string) (CI, bool) {
	if get("BUILDKITE") != "true" {
		return CI{}, false
	}
	c := CI{
		Provider:   ProviderBuildkite,
		RunID:      get("BUILDKITE_BUILD_ID"),
		JobID:      get("BUILDKITE_JOB_ID"),
		Job:        firstOf(get("BUILDKITE_LABEL"), get("BUILDKITE_STEP_KEY")),
		Workflow:   firstOf(get("BUILDKITE_PIPELINE_NAME"), get("BUILDKITE_PIPELINE_SLUG")),
		RepoURL:    get("BUILDKITE_REPO"),
		Repository: repoFromURL(get("BUILDKITE_REPO")),
		Commit:     get("BUILDKITE_COMMIT"),
		Branch:     firstOf(get("BUILDKITE_BRANCH"), get("BUILDKITE_TAG")),
		PRNumber:   prNumber(get("BUILDKITE_PULL_REQUEST")),
		RunURL:     get("BUILDKITE_BUILD_URL"),
	}
	if n, err := strconv.Atoi(get("BUILDKITE_RETRY_COUNT")); err == nil && n >= 0 {
		c.Attempt = n + 1
	}
	return c, true
}

// azure: https://learn.microsoft.com/azure/devops/pipelines/build/variables
func azure(get func(string) string) (CI, bool) {
	if !strings.EqualFold(get("TF_BUILD"), "true") {
		return CI{}, false
	}
	c := CI{
		Provider:   ProviderAzure,
		RunID:      get("BUILD_BUILDID"),
		Attempt:    atoi(get("SYSTEM_JOBATTEMPT")),
		JobID:      get("SYSTEM_JOBID"),
		Job:        firstOf(get("SYSTEM_JOBDISPLAYNAME"), get("SYSTEM_JOBNAME"), get("AGENT_JOBNAME")),
		Workflow:   get("BUILD_DEFINITIONNAME"),
		Repository: get("BUILD_REPOSITORY_NAME"),
		RepoURL:    get("BUILD_REPOSITORY_URI"),
		Commit:     get("BUILD_SOURCEVERSION"),
		Branch: firstOf(shortRef(get("SYSTEM_PULLREQUEST_SOURCEBRANCH")),
			shortRef(get("BUILD_SOURCEBRANCH")), get("BUILD_SOURCEBRANCHNAME")),
		PRNumber: firstOf(get("SYSTEM_PULLREQUEST_PULLREQUESTNUMBER"), get("SYSTEM_PULLREQUEST_PULLREQUESTID")),
	}
	if coll, proj := get("SYSTEM_COLLECTIONURI"), get("SYSTEM_TEAMPROJECT"); coll != "" && proj != "" && c.RunID != "" {
		c.RunURL = strings.TrimSuffix(coll, "/") + "/" + url.PathEscape(proj) +
			"/_build/results?buildId=" + url.QueryEscape(c.RunID)
	}
	return c, true
}

// travis: https://docs.travis-ci.com/user/environment-variables/
func travis(get func(string) string) (CI, bool) {
	if get("TRAVIS") != "true" {
		return CI{}, false
	}
	return CI{
		Provider:   ProviderTravis,
		RunID:      get("TRAVIS_BUILD_ID"),
		JobID:      get("TRAVIS_JOB_ID"),
		Job:        firstOf(get("TRAVIS_JOB_NAME"), get("TRAVIS_JOB_NUMBER")),
		Repository: get("TRAVIS_REPO_SLUG"),
		Commit:     get("TRAVIS_COMMIT"),
		Branch:     firstOf(get("TRAVIS_PULL_REQUEST_BRANCH"), get("TRAVIS_BRANCH")),
		PRNumber:   prNumber(get("TRAVIS_PULL_REQUEST")),
		RunURL:     get("TRAVIS_BUILD_WEB_URL"),
	}, true
}

// bitbucket: https://support.atlassian.com/bitbucket-cloud/docs/variables-and-secrets/
// The run id is the pipeline's UUID without its braces.
func bitbucket(get func(string) string) (CI, bool) {
	number := get("BITBUCKET_BUILD_NUMBER")
	uuid := strings.Trim(get("BITBUCKET_PIPELINE_UUID"), "{}")
	if number == "" && uuid == "" {
		return CI{}, false
	}
	c := CI{
		Provider:   ProviderBitbucket,
		RunID:      firstOf(uuid, number),
		JobID:      strings.Trim(get("BITBUCKET_STEP_UUID"), "{}"),
		Repository: get("BITBUCKET_REPO_FULL_NAME"),
		RepoURL:    get("BITBUCKET_GIT_HTTP_ORIGIN"),
		Commit:     get("BITBUCKET_COMMIT"),
		Branch:     firstOf(get("BITBUCKET_BRANCH"), get("BITBUCKET_TAG")),
		PRNumber:   get("BITBUCKET_PR_ID"),
	}
	if c.Repository != "" && number != "" {
		c.RunURL = "https://bitbucket.org/" + c.Repository + "/pipelines/results/" + url.PathEscape(number)
	}
	return c, true
}

// jenkins: https://www.jenkins.io/doc/book/pipeline/jenkins-file/#using-environment-variables
// The run is the build of a job: BUILD_TAG without its "jenkins-" prefix,
// that is "<job name with / as ->-<build number>".
func jenkins(get func(string) string) (CI, bool) {
	tag := get("BUILD_TAG")
	if get("JENKINS_URL") == "" && !strings.HasPrefix(tag, "jenkins-") {
		return CI{}, false
	}
	c := CI{
		Provider: ProviderJenkins,
		RunID:    strings.TrimPrefix(tag, "jenkins-"),
		Job:      get("STAGE_NAME"),
		Workflow: get("JOB_NAME"),
		RepoURL:  get("GIT_URL"),
		Commit:   get("GIT_COMMIT"),
		Branch: firstOf(get("CHANGE_BRANCH"), get("BRANCH_NAME"),
			strings.TrimPrefix(get("GIT_BRANCH"), "origin/")),
		PRNumber: get("CHANGE_ID"),
		RunURL:   get("BUILD_URL"),
	}
	if c.RunID == "" && c.Workflow != "" && get("BUILD_NUMBER") != "" {
		c.RunID = strings.ReplaceAll(c.Workflow, "/", "-") + "-" + get("BUILD_NUMBER")
	}
	c.Repository = repoFromURL(c.RepoURL)
	return c, true
}

// cloudbuild: https://cloud.google.com/build/docs/configuring-builds/substitute-variable-values
func cloudbuild(get func(string) string) (CI, bool) {
	id, project := get("BUILD_ID"), get("PROJECT_ID")
	if id == "" || project == "" {
		return CI{}, false
	}
	c := CI{
		Provider:   ProviderCloudBuild,
		RunID:      id,
		Workflow:   get("TRIGGER_NAME"),
		Repository: firstOf(get("REPO_FULL_NAME"), get("REPO_NAME")),
		Commit:     firstOf(get("COMMIT_SHA"), get("REVISION_ID")),
		Branch:     firstOf(get("_HEAD_BRANCH"), get("BRANCH_NAME"), get("TAG_NAME")),
		PRNumber:   prNumber(get("_PR_NUMBER")),
	}
	c.RunURL = "https://console.cloud.google.com/cloud-build/builds"
	if loc := get("LOCATION"); loc != "" {
		c.RunURL += ";region=" + url.PathEscape(loc)
	}
	c.RunURL += "/" + url.PathEscape(id) + "?project=" + url.QueryEscape(project)
	return c, true
}

// shortRef turns refs/heads/x and refs/tags/x into x; other values are
// returned as they are.
func shortRef(ref string) string {
	for _, p := range [...]string{"refs/heads/", "refs/tags/"} {
		if strings.HasPrefix(ref, p) {
			return ref[len(p):]
		}
	}
	return ref
}

// repoFromURL returns "owner/name" from a clone URL, https or scp-like
// (git@host:owner/name.git), or "" when it has no such path.
func repoFromURL(s string) string {
	var path string
	if u, err := url.Parse(s); err == nil && u.Scheme != "" && u.Host != "" {
		path = u.Path
	} else if at := strings.IndexByte(s, '@'); at >= 0 && strings.Contains(s[at:], ":") && !strings.Contains(s, "://") {
		path = s[at+strings.IndexByte(s[at:], ':')+1:]
	} else {
		return ""
	}
	path = strings.TrimSuffix(strings.Trim(path, "/"), ".git")
	if !strings.Contains(path, "/") {
		return ""
	}
	return path
}
