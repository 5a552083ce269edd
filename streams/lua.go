package streams

import (
	"embed"
	"fmt"
	"io/fs"

	"github.com/redis/rueidis"
)

//go:embed lua/*.lua
var luaFS embed.FS

// ControlAppendLua is the Lua source of lua/control_lib.lua. It defines
// two local functions for scripts that append control entries in the same
// script as other writes (package node's membership scripts):
//
//	streams_append_control(stream, seqkey, maxlen, fields) -> seq, id
//	streams_fields(blob, sig) -> {"e", blob[, "s", sig]}
//
// The first does INCR of the sequence counter and XADD [MAXLEN ~] with the
// sequence in field "q", exactly as Appender.AppendControl; the second
// turns an encoded envelope (Fields.Blob, Fields.Sig, "" when unsigned)
// passed as two script arguments into field/value pairs. Prepend it to
// the script's own source.
var ControlAppendLua = mustRead(luaFS, "lua/control_lib.lua")

// appendControlScript appends to the control stream with INCR of the
// sequence counter (lua/append_control.lua over lua/control_lib.lua).
var appendControlScript = rueidis.NewLuaScript(ControlAppendLua + mustRead(luaFS, "lua/append_control.lua"))

func mustRead(fsys fs.FS, name string) string {
	src, err := fs.ReadFile(fsys, name)
	if err != nil {
		panic(fmt.Sprintf("streams: load script %s: %v", name, err))
	}
	return string(src)
}

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
