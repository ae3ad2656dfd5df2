//go:build tools

// Package tools records the buildx command as a dependency of this module.
package tools

import _ "github.com/docker/buildx/cmd/buildx"
