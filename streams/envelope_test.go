package streams_test

import (
	"encoding/binary"
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/streamcluster/streamcluster/streams"
)

var testSecret = []byte("0123456789abcdef-test-secret")

func sampleEnvelopes() []streams.Envelope {
	return []streams.Envelope{
		{Type: "NodeJoined", Sender: "n1", Incarnation: 1, Seq: 1, Time: 1700000000000, Payload: []byte(`{"id":"n1"}`)},
		{Type: "n", Sender: "x", Payload: nil},
		{Type: strings.Repeat("t", streams.MaxTypeLen), Sender: strings.Repeat("s", streams.MaxSenderLen),
			Incarnation: ^uint64(0), Seq: ^uint64(0), Time: 1<<63 - 1, Payload: []byte{0, 0xff, '\n', 0}},
		{Version: streams.CurrentVersion, Type: "Notify", Sender: "knode-0a", Incarnation: 300, Seq: 128, Time: 127, Payload: make([]byte, 70000)},
	}
}

func TestEnvelopeRoundTrip(t *testing.T) {
	for _, signed := range []bool{false, true} {
		var c *streams.Codec
		if signed {
			c = streams.NewCodec(testSecret)
		} else {
			c = streams.NewCodec(nil)
		}
		require.Equal(t, signed, c.Signed())
		for i, e := range sampleEnvelopes() {
			f, err := c.Encode(e)
			require.NoError(t, err, i)
			require.Equal(t, signed, f.Sig != "", i)
			got, err := c.Decode(toMap(f.Args()))
			require.NoError(t, err, i)
			want := e
			want.Version = streams.CurrentVersion
			require.Equal(t, want, got, i)

			// Control entries: the sequence comes from "q".
			f, err = c.EncodeControl(e)
			require.NoError(t, err, i)
			m := toMap(f.Args())
			m[streams.FieldSeq] = "42"
			got, err = c.Decode(m)
			require.NoError(t, err, i)
			want.Seq = 42
			require.Equal(t, want, got, i)
		}
		require.Equal(t, streams.RejectStats{}, c.Rejected())
	}
}

func TestEnvelopeIsCompact(t *testing.T) {
	f, err := streams.NewCodec(nil).Encode(streams.Envelope{Type: "Notify", Sender: "knode-0a1b2c3d", Incarnation: 3, Seq: 1000, Time: 1764000000000, Payload: make([]byte, 100)})
	require.NoError(t, err)
	// version, flags, 1+6 type, 1+14 sender, 1 incarnation, 2 seq, 6 time, 1+100 payload
	require.Equal(t, 2+7+15+1+2+6+101, len(f.Blob))
}

func toMap(args []string) map[string]string {
	m := make(map[string]string, len(args)/2)
	for i := 0; i+1 < len(args); i += 2 {
		m[args[i]] = args[i+1]
	}
	return m
}

// blob builds an envelope by hand so each field can be broken.
type blob struct {
	version, flags      byte
	typ, sender         string
	inc, seq, time, pay uint64
	payload             string
	raw                 []byte // replaces everything when set
}

func (b blob) bytes() string {
	if b.raw != nil {
		return string(b.raw)
	}
	out := []byte{b.version, b.flags}
	out = binary.AppendUvarint(out, uint64(len(b.typ)))
	out = append(out, b.typ...)
	out = binary.AppendUvarint(out, uint64(len(b.sender)))
	out = append(out, b.sender...)
	out = binary.AppendUvarint(out, b.inc)
	out = binary.AppendUvarint(out, b.seq)
	out = binary.AppendUvarint(out, b.time)
	out = binary.AppendUvarint(out, b.pay)
	return string(append(out, b.payload...))
}

func good() blob {
	return blob{version: 1, typ: "T", sender: "n1", inc: 1, seq: 2, time: 3, pay: 2, payload: "hi"}
}

func TestDecodeRejectsEveryMalformedField(t *testing.T) {
	with := func(f func(*blob)) string { b := good(); f(&b); return b.bytes() }
	// prefix returns the first n bytes of the good envelope.
	prefix := func(n int) string { return good().bytes()[:n] }
	tests := []struct {
		desc   string
		fields map[string]string
		field  string
		err    error
	}{
		{"no fields", nil, "e", streams.ErrMalformed},
		{"no envelope", map[string]string{"x": "y"}, "e", streams.ErrMalformed},
		{"unknown field", map[string]string{"e": good().bytes(), "zz": "1"}, "zz", streams.ErrMalformed},
		{"empty envelope", map[string]string{"e": ""}, "version", streams.ErrMalformed},
		{"version 0", map[string]string{"e": with(func(b *blob) { b.version = 0 })}, "version", streams.ErrUnknownVersion},
		{"version 2", map[string]string{"e": with(func(b *blob) { b.version = 2 })}, "version", streams.ErrUnknownVersion},
		{"no flags", map[string]string{"e": prefix(1)}, "flags", streams.ErrMalformed},
		{"unknown flags", map[string]string{"e": with(func(b *blob) { b.flags = 0x80 })}, "flags", streams.ErrMalformed},
		{"no type", map[string]string{"e": prefix(2)}, "type", streams.ErrMalformed},
		{"empty type", map[string]string{"e": with(func(b *blob) { b.typ = "" })}, "type", streams.ErrMalformed},
		{"long type", map[string]string{"e": with(func(b *blob) { b.typ = strings.Repeat("t", 65) })}, "type", streams.ErrMalformed},
		{"type with space", map[string]string{"e": with(func(b *blob) { b.typ = "a b" })}, "type", streams.ErrMalformed},
		{"type truncated", map[string]string{"e": string([]byte{1, 0, 5, 'a'})}, "type", streams.ErrMalformed},
		{"type length overflow", map[string]string{"e": string([]byte{1, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f})}, "type", streams.ErrMalformed},
		{"no sender", map[string]string{"e": prefix(4)}, "sender", streams.ErrMalformed},
		{"empty sender", map[string]string{"e": with(func(b *blob) { b.sender = "" })}, "sender", streams.ErrMalformed},
		{"long sender", map[string]string{"e": with(func(b *blob) { b.sender = strings.Repeat("s", 129) })}, "sender", streams.ErrMalformed},
		{"binary sender", map[string]string{"e": with(func(b *blob) { b.sender = "n\x00" })}, "sender", streams.ErrMalformed},
		{"no incarnation", map[string]string{"e": prefix(7)}, "incarnation", streams.ErrMalformed},
		{"incarnation overflow", map[string]string{"e": prefix(7) + "\xff\xff\xff\xff\xff\xff\xff\xff\xff\x02"}, "incarnation", streams.ErrMalformed},
		{"incarnation non-minimal", map[string]string{"e": prefix(7) + "\x81\x00"}, "incarnation", streams.ErrMalformed},
		{"no seq", map[string]string{"e": prefix(8)}, "seq", streams.ErrMalformed},
		{"seq truncated varint", map[string]string{"e": prefix(8) + "\x80"}, "seq", streams.ErrMalformed},
		{"no time", map[string]string{"e": prefix(9)}, "time", streams.ErrMalformed},
		{"time out of range", map[string]string{"e": with(func(b *blob) { b.time = 1 << 63 })}, "time", streams.ErrMalformed},
		{"no payload length", map[string]string{"e": prefix(10)}, "payload", streams.ErrMalformed},
		{"payload too short", map[string]string{"e": with(func(b *blob) { b.pay = 3 })}, "payload", streams.ErrMalformed},
		{"trailing bytes", map[string]string{"e": with(func(b *blob) { b.pay = 1 })}, "payload", streams.ErrMalformed},
		{"payload too large", map[string]string{"e": with(func(b *blob) { b.pay = streams.MaxPayloadLen + 1 })}, "payload", streams.ErrMalformed},
		{"q on an inner-seq entry", map[string]string{"e": good().bytes(), "q": "5"}, "q", streams.ErrMalformed},
		{"external seq without q", map[string]string{"e": with(func(b *blob) { b.flags, b.seq = 1, 0 })}, "q", streams.ErrMalformed},
		{"external seq with inner seq", map[string]string{"e": with(func(b *blob) { b.flags = 1 }), "q": "5"}, "seq", streams.ErrMalformed},
		{"q zero", map[string]string{"e": with(func(b *blob) { b.flags, b.seq = 1, 0 }), "q": "0"}, "q", streams.ErrMalformed},
		{"q leading zero", map[string]string{"e": with(func(b *blob) { b.flags, b.seq = 1, 0 }), "q": "07"}, "q", streams.ErrMalformed},
		{"q signed", map[string]string{"e": with(func(b *blob) { b.flags, b.seq = 1, 0 }), "q": "+7"}, "q", streams.ErrMalformed},
		{"q not a number", map[string]string{"e": with(func(b *blob) { b.flags, b.seq = 1, 0 }), "q": "7a"}, "q", streams.ErrMalformed},
		{"q empty", map[string]string{"e": with(func(b *blob) { b.flags, b.seq = 1, 0 }), "q": ""}, "q", streams.ErrMalformed},
		{"q overflow", map[string]string{"e": with(func(b *blob) { b.flags, b.seq = 1, 0 }), "q": "18446744073709551616"}, "q", streams.ErrMalformed},
	}
	c := streams.NewCodec(nil)
	var wantMalformed, wantVersion uint64
	for _, tt := range tests {
		_, err := c.Decode(tt.fields)
		require.Error(t, err, tt.desc)
		var de *streams.DecodeError
		require.True(t, errors.As(err, &de), tt.desc)
		require.Equal(t, tt.field, de.Field, "%s: %v", tt.desc, err)
		require.ErrorIs(t, err, tt.err, tt.desc)
		if tt.err == streams.ErrUnknownVersion {
			wantVersion++
		} else {
			wantMalformed++
		}
	}
	require.Equal(t, streams.RejectStats{Malformed: wantMalformed, UnknownVersion: wantVersion}, c.Rejected())

	// The good envelope itself decodes, so every case above fails because
	// of the one field it breaks.
	e, err := c.Decode(map[string]string{"e": good().bytes()})
	require.NoError(t, err)
	require.Equal(t, streams.Envelope{Version: 1, Type: "T", Sender: "n1", Incarnation: 1, Seq: 2, Time: 3, Payload: []byte("hi")}, e)
	e, err = c.Decode(map[string]string{"e": with(func(b *blob) { b.flags, b.seq = 1, 0 }), "q": "18446744073709551615"})
	require.NoError(t, err)
	require.Equal(t, ^uint64(0), e.Seq)
}

func TestSigning(t *testing.T) {
	signer := streams.NewCodec(testSecret)
	plain := streams.NewCodec(nil)
	other := streams.NewCodec([]byte("another-secret-of-16+bytes"))
	e := sampleEnvelopes()[0]

	signed, err := signer.Encode(e)
	require.NoError(t, err)
	unsigned, err := plain.Encode(e)
	require.NoError(t, err)
	require.Equal(t, signed.Blob, unsigned.Blob)
	require.Len(t, signed.Sig, 32)

	// Signing off: signatures are neither required nor checked.
	_, err = plain.Decode(toMap(signed.Args()))
	require.NoError(t, err)
	_, err = plain.Decode(toMap(unsigned.Args()))
	require.NoError(t, err)

	// Signing on: unsigned, tampered and foreign entries are rejected and counted.
	_, err = signer.Decode(toMap(signed.Args()))
	require.NoError(t, err)
	_, err = signer.Decode(toMap(unsigned.Args()))
	require.ErrorIs(t, err, streams.ErrUnsigned)

	tampered := toMap(signed.Args())
	b := []byte(tampered["e"])
	b[len(b)-1] ^= 1
	tampered["e"] = string(b)
	_, err = signer.Decode(tampered)
	require.ErrorIs(t, err, streams.ErrBadSignature)

	short := toMap(signed.Args())
	short["s"] = short["s"][:31]
	_, err = signer.Decode(short)
	require.ErrorIs(t, err, streams.ErrBadSignature)

	foreign, err := other.Encode(e)
	require.NoError(t, err)
	_, err = signer.Decode(toMap(foreign.Args()))
	require.ErrorIs(t, err, streams.ErrBadSignature)

	require.Equal(t, streams.RejectStats{Unsigned: 1, BadSignature: 3}, signer.Rejected())

	// The cluster sequence "q" is outside the signature: rewriting it is
	// accepted (see the package doc), but the flag that puts it there is
	// signed, so "q" cannot be added to an inbox entry.
	ctl, err := signer.EncodeControl(e)
	require.NoError(t, err)
	m := toMap(ctl.Args())
	m["q"] = "7"
	got, err := signer.Decode(m)
	require.NoError(t, err)
	require.Equal(t, uint64(7), got.Seq)
	m = toMap(signed.Args())
	m["q"] = "7"
	_, err = signer.Decode(m)
	require.ErrorIs(t, err, streams.ErrMalformed)
}

func TestEncodeRejectsInvalidEnvelopes(t *testing.T) {
	c := streams.NewCodec(nil)
	ok := streams.Envelope{Type: "T", Sender: "n"}
	for desc, mut := range map[string]func(*streams.Envelope){
		"version":    func(e *streams.Envelope) { e.Version = 9 },
		"no type":    func(e *streams.Envelope) { e.Type = "" },
		"long type":  func(e *streams.Envelope) { e.Type = strings.Repeat("t", 65) },
		"type space": func(e *streams.Envelope) { e.Type = "a b" },
		"no sender":  func(e *streams.Envelope) { e.Sender = "" },
		"bad sender": func(e *streams.Envelope) { e.Sender = "n\n" },
		"time":       func(e *streams.Envelope) { e.Time = -1 },
		"payload":    func(e *streams.Envelope) { e.Payload = make([]byte, streams.MaxPayloadLen+1) },
	} {
		e := ok
		mut(&e)
		_, err := c.Encode(e)
		require.ErrorIs(t, err, streams.ErrInvalidEnvelope, desc)
		_, err = c.EncodeControl(e)
		require.ErrorIs(t, err, streams.ErrInvalidEnvelope, desc)
	}
}
