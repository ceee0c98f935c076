// Package version reports what build of hallmark is running. The release
// sets the variables with -ldflags; a `go install` build falls back to the
// module information Go records in the binary.
package version

import (
	"runtime/debug"
	"sync"
)

var (
	version = ""
	commit  = ""
	date    = ""
)

// Info is the build's identity.
type Info struct {
	Version string `json:"version"`
	Commit  string `json:"commit"`
	Date    string `json:"date,omitempty"`
}

var (
	once sync.Once
	info Info
)

// Get returns the build's identity.
func Get() Info {
	once.Do(func() {
		info = Info{Version: version, Commit: commit, Date: date}
		bi, ok := debug.ReadBuildInfo()
		if ok {
			if info.Version == "" && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
				info.Version = bi.Main.Version
			}
			for _, s := range bi.Settings {
				switch s.Key {
				case "vcs.revision":
					if info.Commit == "" {
						info.Commit = s.Value
					}
				case "vcs.time":
					if info.Date == "" {
						info.Date = s.Value
					}
				case "vcs.modified":
					if s.Value == "true" && info.Commit != "" && commit == "" {
						info.Commit += "-dirty"
					}
				}
			}
		}
		if info.Version == "" {
			info.Version = "devel"
		}
		if info.Commit == "" {
			info.Commit = "unknown"
		}
	})
	return info
}
