// Package actiontest checks the CI integration files at the repository root
// and under docs/ci: the GitHub Action (action.yml), the example workflow,
// the GitLab template and the goreleaser configuration. It has only tests;
// the action's shell steps run in them against a fake hallmark and a loopback
// release server.
package actiontest
