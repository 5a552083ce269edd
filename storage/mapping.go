package storage

import (
	"encoding/json"
	"fmt"
)

// DefaultDynamic is the "dynamic" mapping policy of a collection created
// without one (Kuzzle's commonMapping.dynamic).
const DefaultDynamic = "false"

// Mappings is a collection's mappings in Kuzzle's shape.
type Mappings struct {
	// Dynamic is "true", "false" or "strict".
	Dynamic string `json:"dynamic"`
	// Meta is free-form metadata; nil when never set.
	Meta map[string]any `json:"_meta,omitempty"`
	// Properties are the field mappings.
	Properties map[string]any `json:"properties"`
}

// MappingsInput is the mappings a client sent, validated by ParseMappings.
type MappingsInput struct {
	Dynamic    any            `json:"dynamic"`
	Meta       map[string]any `json:"_meta"`
	Properties map[string]any `json:"properties"`
}

// ParseMappings validates raw mappings ({dynamic, _meta, properties}; empty
// or null for none). Unknown root keys and a bad "dynamic" value fail with
// services.storage.invalid_mapping.
func ParseMappings(raw json.RawMessage) (MappingsInput, error) {
	var in MappingsInput
	if IsEmptyJSON(raw) {
		return in, nil
	}
	var keys map[string]json.RawMessage
	if err := json.Unmarshal(raw, &keys); err != nil {
		return in, InvalidArgument("mappings", "object")
	}
	for k := range keys {
		switch k {
		case "dynamic", "_meta", "properties":
		default:
			return in, InvalidMapping(k, " Did you mean \"properties\"?")
		}
	}
	if err := json.Unmarshal(raw, &in); err != nil {
		return in, InvalidArgument("mappings", "object with dynamic, _meta and properties")
	}
	switch d := in.Dynamic.(type) {
	case nil:
	case bool:
		in.Dynamic = fmt.Sprint(d)
	case string:
		if d != "true" && d != "false" && d != "strict" {
			return in, InvalidMapping("dynamic", fmt.Sprintf(" Incorrect dynamic property value (%s). Should be one of \"true\", \"false\", \"strict\"", d))
		}
	default:
		return in, InvalidMapping("dynamic", " Incorrect dynamic property value. Should be one of \"true\", \"false\", \"strict\"")
	}
	return in, nil
}

// NewMappings returns the mappings of a new collection created with in.
func NewMappings(in MappingsInput) Mappings {
	m := Mappings{Dynamic: DefaultDynamic, Meta: in.Meta, Properties: CopySource(in.Properties)}
	if d, ok := in.Dynamic.(string); ok {
		m.Dynamic = d
	}
	return m
}

// Apply updates m with in as Elasticsearch's put-mapping does: properties
// merge recursively, "dynamic" and "_meta" replace when given.
func (m Mappings) Apply(in MappingsInput) Mappings {
	out := Mappings{Dynamic: m.Dynamic, Meta: m.Meta, Properties: MergeDocument(m.Properties, in.Properties)}
	if d, ok := in.Dynamic.(string); ok {
		out.Dynamic = d
	}
	if in.Meta != nil {
		out.Meta = in.Meta
	}
	return out
}
