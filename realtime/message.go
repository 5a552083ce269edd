package realtime

import (
	"encoding/json"
)

// Kind tells document notifications from user notifications.
type Kind uint8

// Message kinds.
const (
	KindDocument Kind = iota + 1
	KindUser
)

// Message is a notification ready to deliver: its JSON payload (an object
// without the "room" field, which each channel appends) and what selects the
// channels that get it. Messages are immutable once built and may be shared
// between goroutines and sent to other nodes as is.
type Message struct {
	Kind Kind
	// Rooms are the room ids the message is for.
	Rooms []string
	// Scope is "in" or "out": the document scope for KindDocument, the
	// user event for KindUser.
	Scope string
	// Payload is the notification JSON object, ending with '}'.
	Payload []byte
	// ExceptConn, when set, is a connection id that does not get the
	// message: a subscriber is not told of its own arrival.
	ExceptConn string
}

// Origin describes the request at the origin of a notification.
type Origin struct {
	RequestID  string
	Controller string
	Action     string // API action, e.g. "subscribe", "unsubscribe"
	Protocol   string // "websocket", "http"
	Index      string
	Collection string
	Volatile   json.RawMessage // nil is rendered as null
	Timestamp  int64           // milliseconds since the epoch
}

// documentNotification is Kuzzle's DocumentNotification, fields in the order
// Kuzzle serializes them.
type documentNotification struct {
	Type       string          `json:"type"`
	Status     int             `json:"status"`
	Action     string          `json:"action"`
	Scope      string          `json:"scope"`
	Result     json.RawMessage `json:"result"`
	Node       string          `json:"node"`
	Event      string          `json:"event"`
	RequestID  string          `json:"requestId"`
	Timestamp  int64           `json:"timestamp"`
	Volatile   json.RawMessage `json:"volatile"`
	Index      string          `json:"index"`
	Collection string          `json:"collection"`
	Controller string          `json:"controller"`
	Protocol   string          `json:"protocol"`
}

// userNotification is Kuzzle's UserNotification, fields in Kuzzle's order.
type userNotification struct {
	Type       string          `json:"type"`
	Status     int             `json:"status"`
	User       string          `json:"user"`
	Result     json.RawMessage `json:"result"`
	Node       string          `json:"node"`
	Timestamp  int64           `json:"timestamp"`
	Volatile   json.RawMessage `json:"volatile"`
	Index      string          `json:"index"`
	Collection string          `json:"collection"`
	Controller string          `json:"controller"`
	Action     string          `json:"action"`
	Protocol   string          `json:"protocol"`
}

func nullIfEmpty(v json.RawMessage) json.RawMessage {
	if len(v) == 0 {
		return json.RawMessage("null")
	}
	return v
}

// eventOf maps a notification action to Kuzzle's event field.
func eventOf(action string) string {
	switch action {
	case ActionDelete:
		return "delete"
	case ActionPublish:
		return "publish"
	default:
		return "write"
	}
}

// DocumentMessage builds the document notification for rooms.
func DocumentMessage(node string, o Origin, rooms []string, scope, action string, result json.RawMessage) (Message, error) {
	p, err := json.Marshal(documentNotification{
		Type: "document", Status: 200, Action: action, Scope: scope, Result: result,
		Node: node, Event: eventOf(action), RequestID: o.RequestID, Timestamp: o.Timestamp,
		Volatile: nullIfEmpty(o.Volatile), Index: o.Index, Collection: o.Collection,
		Controller: o.Controller, Protocol: o.Protocol,
	})
	if err != nil {
		return Message{}, err
	}
	return Message{Kind: KindDocument, Rooms: rooms, Scope: scope, Payload: p}, nil
}

// UserMessage builds the user notification ("in" or "out") for one room.
// volatile is the subscriber's volatile.
func UserMessage(node string, o Origin, room, user string, count int) (Message, error) {
	result, err := json.Marshal(struct {
		Count int `json:"count"`
	}{count})
	if err != nil {
		return Message{}, err
	}
	p, err := json.Marshal(userNotification{
		Type: "user", Status: 200, User: user, Result: result, Node: node,
		Timestamp: o.Timestamp, Volatile: nullIfEmpty(o.Volatile), Index: o.Index,
		Collection: o.Collection, Controller: o.Controller, Action: o.Action, Protocol: o.Protocol,
	})
	if err != nil {
		return Message{}, err
	}
	return Message{Kind: KindUser, Rooms: []string{room}, Scope: user, Payload: p}, nil
}

// withRoom returns payload with `,"room":"<channel>"` spliced before its
// closing brace, as Kuzzle does. Channel names are plain ASCII.
func withRoom(payload []byte, channel string) []byte {
	out := make([]byte, 0, len(payload)+len(channel)+10)
	out = append(out, payload[:len(payload)-1]...)
	out = append(out, `,"room":"`...)
	out = append(out, channel...)
	out = append(out, `"}`...)
	return out
}
