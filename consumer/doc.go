// Package consumer reads a Redis stream through a consumer group and hands
// decoded envelopes (package streams) to a handler in batches.
//
// A Reader owns one loop, run by Run(ctx) in the caller's goroutine:
//
//   - it creates its group (XGROUP CREATE … MKSTREAM; BUSYGROUP is fine)
//     and recreates it when Redis answers NOGROUP (the stream or the group
//     vanished: FLUSHALL, a master restarted without persistence, a
//     failover that lost the group);
//   - it first re-reads its own pending entries (XREADGROUP … 0), then
//     blocks for new ones (XREADGROUP … BLOCK … COUNT n … >);
//   - it acknowledges a whole batch with one XACK, pipelined with the next
//     read in the same round trip;
//   - every ClaimInterval it takes over entries that another consumer left
//     pending longer than ClaimMinIdle (XAUTOCLAIM);
//   - entries that do not decode, and entries the handler declares poison,
//     are acknowledged, counted and optionally copied to a dead-letter
//     stream, so they never block the entries behind them;
//   - on a Redis error it backs off (capped exponential with jitter) and
//     never spins;
//   - when ctx ends it flushes the acknowledgements it owes and returns.
//
// With Config.NoAck the reader reads with NOACK instead: no pending list,
// no acknowledgement, no reclaim, retries from memory; an entry is lost if
// the process dies while handling it, in exchange for the throughput of a
// bare XREADGROUP.
//
// Otherwise delivery is at least once: after a crash, a failover or a handler error
// an entry may be handed to a handler again. Handlers must be idempotent
// (the membership layer uses the envelopes' sequence numbers for that).
//
// # Usage
//
//	r, err := consumer.New(client, codec, consumer.Config{
//		Stream: keys.Inbox(self), Group: self, Consumer: self,
//	}, func(ctx context.Context, batch []consumer.Message) error {
//		for _, m := range batch { ... }
//		return nil
//	}, logger)
//	...
//	err = r.Run(ctx) // returns when ctx ends
package consumer
