package streams

import (
	"embed"
	"fmt"
	"io/fs"

	"github.com/redis/rueidis"
)

//go:embed lua/*.lua
var luaFS embed.FS

// appendControlScript appends to the control stream with INCR of the
// sequence counter (lua/append_control.lua).
var appendControlScript = MustScript(luaFS, "lua/append_control.lua")

// Script reads a Lua script from fsys (typically an embed.FS) and returns
// it as a rueidis script: Exec sends EVALSHA and falls back to EVAL on
// NOSCRIPT, so a Redis restart or failover needs no explicit reload.
func Script(fsys fs.FS, name string) (*rueidis.Lua, error) {
	src, err := fs.ReadFile(fsys, name)
	if err != nil {
		return nil, fmt.Errorf("streams: load script %s: %w", name, err)
	}
	return rueidis.NewLuaScript(string(src)), nil
}

// MustScript is Script for package-level variables over an embed.FS: it
// panics when the file is missing, which is a build defect, not a runtime
// condition.
func MustScript(fsys fs.FS, name string) *rueidis.Lua {
	s, err := Script(fsys, name)
	if err != nil {
		panic(err)
	}
	return s
}
