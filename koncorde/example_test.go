package koncorde_test

import (
	"encoding/json"
	"errors"
	"fmt"

	"github.com/streamcluster/streamcluster/koncorde"
)

func Example() {
	cfg := koncorde.DefaultConfig()
	e := koncorde.NewEngine(cfg)

	f, err := koncorde.Normalize(cfg, "test-index", "test-collection", json.RawMessage(`{"equals":{"foo":"barz"}}`))
	if err != nil {
		panic(err)
	}
	roomID, created := e.Register(f)
	fmt.Println(roomID, created)

	var doc map[string]any
	_ = json.Unmarshal([]byte(`{"foo":"barz","n":1}`), &doc)
	fmt.Println(e.Test("test-index", "test-collection", doc, "doc-1"))

	// A filter replicated to another node keeps its room id.
	data, _ := json.Marshal(f)
	var replica koncorde.Filter
	_ = json.Unmarshal(data, &replica)
	fmt.Println(replica.RoomID() == roomID)

	// Invalid filters give Koncorde's message.
	_, err = koncorde.Normalize(cfg, "test-index", "test-collection", json.RawMessage(`{"equals":{"foo":["bar"]}}`))
	var dslErr *koncorde.DSLError
	fmt.Println(errors.As(err, &dslErr), err)
	// Output:
	// cf188c7c9e95269b65b8c93ec0ff40488f5d3a80e9792bb1132bca761b30055c true
	// [cf188c7c9e95269b65b8c93ec0ff40488f5d3a80e9792bb1132bca761b30055c]
	// true
	// true "equals.foo": must either be a string, a number, a boolean, or null
}
