package realtime

import "errors"

// Notification actions (the "action" field of document notifications).
const (
	ActionCreate  = "create"
	ActionReplace = "replace"
	ActionUpdate  = "update"
	ActionDelete  = "delete"
	ActionPublish = "publish"
)

// Errors returned by the realtime core. The API maps them to Kuzzle's
// core.realtime.* errors.
var (
	// ErrInvalidScope is returned when the scope option is not all, in, out or none.
	ErrInvalidScope = errors.New("realtime: invalid scope")
	// ErrInvalidUsers is returned when the users option is not all, in, out or none.
	ErrInvalidUsers = errors.New("realtime: invalid users")
	// ErrRoomNotFound is returned by Join for a room no node knows.
	ErrRoomNotFound = errors.New("realtime: room not found")
	// ErrNotSubscribed is returned by Unsubscribe for a room the connection did not subscribe to.
	ErrNotSubscribed = errors.New("realtime: not subscribed")
	// ErrTooManyRooms is returned when creating a room would exceed HubConfig.MaxRooms.
	ErrTooManyRooms = errors.New("realtime: too many rooms")
)

// Options are a subscription's options.
type Options struct {
	Scope string // "all" (default), "in", "out" or "none": which document notifications
	Users string // "all", "in", "out" or "none" (default): which user notifications
}

func (o Options) withDefaults() (Options, error) {
	if o.Scope == "" {
		o.Scope = "all"
	}
	if o.Users == "" {
		o.Users = "none"
	}
	if !validOption(o.Scope) {
		return o, ErrInvalidScope
	}
	if !validOption(o.Users) {
		return o, ErrInvalidUsers
	}
	return o, nil
}

func validOption(s string) bool {
	return s == "all" || s == "in" || s == "out" || s == "none"
}

// ChannelName returns Kuzzle's channel name for a room and options:
// "<roomId>-" followed by one digit for users (all 1, in 2, out and none 3),
// one for cluster propagation (always 1 for network clients) and one for
// scope (all 1, in 2, out 3, none nothing). Defaults give "-311".
func ChannelName(roomID string, o Options) string {
	b := make([]byte, 0, len(roomID)+4)
	b = append(b, roomID...)
	b = append(b, '-')
	switch o.Users {
	case "all":
		b = append(b, '1')
	case "in":
		b = append(b, '2')
	default: // out, none
		b = append(b, '3')
	}
	b = append(b, '1')
	switch o.Scope {
	case "all":
		b = append(b, '1')
	case "in":
		b = append(b, '2')
	case "out":
		b = append(b, '3')
	}
	return string(b)
}

// wantsDocument reports whether a channel with this scope gets a document
// notification of scope s.
func wantsDocument(chScope, s string) bool { return chScope == "all" || chScope == s }

// wantsUser reports whether a channel with this users option gets a user
// notification of event u.
func wantsUser(chUsers, u string) bool { return chUsers == "all" || chUsers == u }

// Validate checks the options and returns them with their defaults applied.
func (o Options) Validate() (Options, error) { return o.withDefaults() }
