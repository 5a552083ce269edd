package api

import (
	"bytes"
	"encoding/json"
	"strconv"
)

// Identity is the caller of a request, as resolved by the pipeline.
type Identity struct {
	KUID string // "-1" for the anonymous user
}

// Anonymous is the identity of a caller without a token.
var Anonymous = Identity{KUID: "-1"}

// envelope renders the Kuzzle response for req: the fields of Kuzzle's
// RequestResponse.toJSON().content in Kuzzle's key order, with "error": null
// and "result": null when absent, index and collection omitted when the
// request has none, and "room": requestId when room is true (WebSocket).
// result must be valid JSON or nil.
func envelope(b *bytes.Buffer, req *Request, node string, status int, result json.RawMessage, apiErr *Error, room bool) {
	b.WriteString(`{"action":`)
	writeNullableString(b, req.Action)
	if v, ok := req.Args["collection"]; ok {
		b.WriteString(`,"collection":`)
		b.Write(v)
	}
	b.WriteString(`,"controller":`)
	writeNullableString(b, req.Controller)
	b.WriteString(`,"error":`)
	if apiErr != nil {
		e, _ := apiErr.MarshalJSON() // never fails
		b.Write(e)
	} else {
		b.WriteString("null")
	}
	b.WriteString(`,"headers":{}`)
	if v, ok := req.Args["index"]; ok {
		b.WriteString(`,"index":`)
		b.Write(v)
	}
	b.WriteString(`,"node":`)
	b.WriteString(quote(node))
	b.WriteString(`,"requestId":`)
	b.WriteString(quote(req.RequestID))
	b.WriteString(`,"result":`)
	if result != nil && apiErr == nil {
		b.Write(result)
	} else {
		b.WriteString("null")
	}
	b.WriteString(`,"status":`)
	b.WriteString(strconv.Itoa(status))
	b.WriteString(`,"volatile":`)
	if req.Volatile != nil {
		b.Write(req.Volatile)
	} else {
		b.WriteString("null")
	}
	if room {
		b.WriteString(`,"room":`)
		b.WriteString(quote(req.RequestID))
	}
	b.WriteByte('}')
}

func writeNullableString(b *bytes.Buffer, s string) {
	if s == "" {
		b.WriteString("null")
		return
	}
	b.WriteString(quote(s))
}
