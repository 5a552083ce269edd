package realtime

import "context"

// Router delivers messages to every subscriber of their rooms, wherever it
// is connected. Route returns once the message is queued for every local
// subscriber (so that notifications of a write go out before the write's
// response) and handed to the transport for remote ones.
type Router interface {
	Route(ctx context.Context, m Message) error
}

// LocalRouter is the Router of a single node: it delivers to the hub.
type LocalRouter struct {
	hub *Hub
}

var _ Router = LocalRouter{}

// NewLocalRouter returns a router that delivers to hub only.
func NewLocalRouter(hub *Hub) LocalRouter { return LocalRouter{hub: hub} }

// Route implements Router.
func (r LocalRouter) Route(_ context.Context, m Message) error {
	r.hub.Deliver(m)
	return nil
}
