package streams

import (
	"context"
	"fmt"
	"strconv"

	"github.com/redis/rueidis"
)

// Appender writes envelopes to streams with approximate trimming. It is safe
// for concurrent use; concurrent appends are auto-pipelined by rueidis.
type Appender struct {
	client rueidis.Client
	codec  *Codec
	keys   Keys
	maxLen int64 // NoTrim disables trimming
}

// NewAppender returns an appender writing with codec, trimming to
// cfg.MaxLen and naming keys with cfg.Prefix. cfg is not validated here
// (NewClient does); invalid MaxLen values below NoTrim mean no trimming.
func NewAppender(client rueidis.Client, codec *Codec, cfg Config) *Appender {
	cfg = cfg.withDefaults()
	return &Appender{client: client, codec: codec, keys: NewKeys(cfg.Prefix), maxLen: cfg.MaxLen}
}

// Keys returns the key names the appender uses.
func (a *Appender) Keys() Keys { return a.keys }

// Entry is one append of AppendBatch.
type Entry struct {
	Stream   string
	Envelope Envelope
}

// Result is the outcome of one entry of AppendBatch.
type Result struct {
	ID  string
	Err error
}

// Append encodes e (its Seq inside the envelope) and adds it to stream
// with XADD MAXLEN ~. It returns the entry id.
func (a *Appender) Append(ctx context.Context, stream string, e Envelope) (string, error) {
	f, err := a.codec.Encode(e)
	if err != nil {
		return "", err
	}
	id, err := a.client.Do(ctx, a.xadd(stream, f)).ToString()
	if err != nil {
		return "", fmt.Errorf("streams: append to %s: %w", stream, err)
	}
	return id, nil
}

// AppendBatch appends every entry in one pipelined round trip per shard
// (rueidis DoMulti). The results are in the order of entries; an entry that
// cannot be encoded is not sent and gets its encoding error. Entries to the
// same stream are appended in order.
func (a *Appender) AppendBatch(ctx context.Context, entries []Entry) []Result {
	results := make([]Result, len(entries))
	cmds := make(rueidis.Commands, 0, len(entries))
	index := make([]int, 0, len(entries))
	for i, en := range entries {
		f, err := a.codec.Encode(en.Envelope)
		if err != nil {
			results[i].Err = err
			continue
		}
		cmds = append(cmds, a.xadd(en.Stream, f))
		index = append(index, i)
	}
	if len(cmds) == 0 {
		return results
	}
	for j, r := range a.client.DoMulti(ctx, cmds...) {
		i := index[j]
		id, err := r.ToString()
		if err != nil {
			results[i].Err = fmt.Errorf("streams: append to %s: %w", entries[i].Stream, err)
			continue
		}
		results[i].ID = id
	}
	return results
}

func (a *Appender) xadd(stream string, f Fields) rueidis.Completed {
	k := a.client.B().Xadd().Key(stream)
	if a.maxLen > 0 {
		c := k.Maxlen().Almost().Threshold(strconv.FormatInt(a.maxLen, 10)).Id("*").FieldValue().FieldValue(FieldEnvelope, f.Blob)
		if f.Sig != "" {
			c = c.FieldValue(FieldSignature, f.Sig)
		}
		return c.Build()
	}
	c := k.Id("*").FieldValue().FieldValue(FieldEnvelope, f.Blob)
	if f.Sig != "" {
		c = c.FieldValue(FieldSignature, f.Sig)
	}
	return c.Build()
}

// AppendControl appends e to the control stream with the next cluster
// sequence, taken from the sequence counter in the same Lua script
// (lua/append_control.lua). It returns the sequence and the entry id.
//
// The script is a write: rueidis does not retry it on a network error, so
// an error may still mean the entry was appended; readers see that as an
// ordinary entry.
func (a *Appender) AppendControl(ctx context.Context, e Envelope) (seq uint64, id string, err error) {
	f, err := a.codec.EncodeControl(e)
	if err != nil {
		return 0, "", err
	}
	args := append([]string{strconv.FormatInt(a.maxLen, 10)}, f.Args()...)
	res, err := appendControlScript.Exec(ctx, a.client, []string{a.keys.Control(), a.keys.Seq()}, args).ToArray()
	if err != nil {
		return 0, "", fmt.Errorf("streams: append to %s: %w", a.keys.Control(), err)
	}
	if len(res) != 2 {
		return 0, "", fmt.Errorf("streams: append to %s: script returned %d values, want 2", a.keys.Control(), len(res))
	}
	n, err := res[0].AsInt64()
	if err != nil {
		return 0, "", fmt.Errorf("streams: append to %s: bad sequence: %w", a.keys.Control(), err)
	}
	if n <= 0 {
		return 0, "", fmt.Errorf("streams: append to %s: bad sequence %d", a.keys.Control(), n)
	}
	if id, err = res[1].ToString(); err != nil {
		return 0, "", fmt.Errorf("streams: append to %s: bad id: %w", a.keys.Control(), err)
	}
	return uint64(n), id, nil
}

// TrimBefore removes the entries of stream whose id is below minID (XTRIM
// MINID ~). Redis trims whole macro nodes only, so some older entries may
// stay. It returns the number of entries removed. Use it with a position
// every reader has acknowledged (consumer.AckedBefore), never with a guess:
// entries a reader has not handled are gone for good.
func (a *Appender) TrimBefore(ctx context.Context, stream, minID string) (int64, error) {
	n, err := a.client.Do(ctx, a.client.B().Xtrim().Key(stream).Minid().Almost().Threshold(minID).Build()).AsInt64()
	if err != nil {
		return 0, fmt.Errorf("streams: trim %s before %s: %w", stream, minID, err)
	}
	return n, nil
}
