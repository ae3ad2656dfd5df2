// Command lifecycle-descriptor prints the lifecycle.toml that belongs next to the lifecycle
// binaries in a `[lifecycle] uri` tarball. The API lists come from the pinned lifecycle module's
// own api package, so the descriptor cannot drift from the binaries built from the same pin.
package main

import (
	"fmt"
	"os"
	"strings"

	"github.com/buildpacks/lifecycle/api"
	"github.com/buildpacks/lifecycle/buildpack"
)

func list(versions api.List) string {
	quoted := make([]string, 0, len(versions))
	for _, v := range versions {
		quoted = append(quoted, fmt.Sprintf("%q", v.String()))
	}
	return "[" + strings.Join(quoted, ", ") + "]"
}

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: lifecycle-descriptor VERSION")
		os.Exit(2)
	}
	formats := []string{buildpack.MediaTypeCycloneDX, buildpack.MediaTypeSPDX, buildpack.MediaTypeSyft}
	for i, f := range formats {
		formats[i] = fmt.Sprintf("%q", f)
	}
	fmt.Printf("[apis]\n[apis.buildpack]\ndeprecated = %s\nsupported = %s\n", list(api.Buildpack.Deprecated), list(api.Buildpack.Supported))
	fmt.Printf("[apis.platform]\ndeprecated = %s\nsupported = %s\n\n", list(api.Platform.Deprecated), list(api.Platform.Supported))
	// Minimum APIs in the older descriptor format, still read by some platforms.
	fmt.Printf("[api]\nplatform = %q\nbuildpack = %q\n\n", api.Platform.Supported[0].String(), api.Buildpack.Supported[0].String())
	fmt.Printf("[lifecycle]\nversion = %q\nsbom-formats = [%s]\n", os.Args[1], strings.Join(formats, ", "))
}
