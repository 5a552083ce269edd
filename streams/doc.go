// Package streams is Streamcluster's Redis Streams transport over
// github.com/redis/rueidis: the client built from a Config, the key names
// (Keys), the versioned and optionally signed message envelope (Envelope,
// Codec), appends with approximate trimming (Appender) and the embedded Lua
// scripts.
//
// It knows nothing of membership: package node builds on it, package
// consumer reads what it writes.
//
// # Stream entry layout
//
// One entry carries at most three fields:
//
//	"e"  the envelope, binary (see Codec.Encode): version, flags, type,
//	     sender, incarnation, sequence, time (unix ms), payload
//	"s"  HMAC-SHA256 of "e" (32 raw bytes), present when a secret is set
//	"q"  the cluster sequence, decimal, for control entries only
//
// Control entries get their cluster sequence from {prefix}:seq inside the
// Lua script that appends them, so the sequence cannot be inside the signed
// blob: Lua has no HMAC-SHA256. The blob carries a flag saying "my sequence
// is in q", and that flag is signed. The trade-off: a writer who can reach
// Redis but lacks the secret cannot forge or alter an entry's content, type,
// sender or incarnation, but it can rewrite the q of a control entry. A
// wrong q shows up as a sequence gap or a duplicate, which the membership
// layer already treats as "resync from the snapshot". Such a writer can
// also replay a whole signed entry; sequence checks catch replays too.
//
// # Usage
//
//	cfg := streams.DefaultConfig()
//	cfg.Addrs = []string{"127.0.0.1:7001"}
//	client, err := streams.NewClient(cfg)
//	...
//	codec := streams.NewCodec(cfg.Secret)
//	app := streams.NewAppender(client, codec, cfg)
//	seq, id, err := app.AppendControl(ctx, streams.Envelope{Type: "NodeJoined", Sender: "n1", Incarnation: 1, Payload: card})
package streams
