package streams

import (
	"crypto/hmac"
	"crypto/sha256"
	"hash"
	"math"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
)

// Envelope format constants.
const (
	// CurrentVersion is the envelope version Encode writes and Decode reads.
	CurrentVersion uint8 = 1
	// MaxTypeLen is the longest message type, in bytes.
	MaxTypeLen = 64
	// MaxSenderLen is the longest sender id, in bytes.
	MaxSenderLen = MaxNodeIDLen
	// MaxPayloadLen is the largest payload, in bytes.
	MaxPayloadLen = 16 << 20

	// FieldEnvelope is the stream field holding the encoded envelope.
	FieldEnvelope = "e"
	// FieldSignature is the stream field holding the HMAC-SHA256 of "e".
	FieldSignature = "s"
	// FieldSeq is the stream field holding the cluster sequence of a
	// control entry, set by the append script.
	FieldSeq = "q"

	// flagExternalSeq says that the sequence is in field "q" (set by a Lua
	// script from the cluster counter) rather than inside the blob.
	flagExternalSeq byte = 1 << 0
	knownFlags           = flagExternalSeq
)

// Envelope is one message between nodes.
type Envelope struct {
	// Version is the envelope format version. Encode accepts 0 (meaning
	// CurrentVersion) or CurrentVersion; Decode returns CurrentVersion.
	Version uint8
	// Type names the message (e.g. "NodeJoined"): 1 to MaxTypeLen
	// printable ASCII characters without spaces.
	Type string
	// Sender is the sending node id (1 to MaxSenderLen printable ASCII).
	Sender string
	// Incarnation is the sender's incarnation.
	Incarnation uint64
	// Seq is the cluster sequence for control entries (assigned by the
	// append script) and the per-sender sequence for inbox entries.
	Seq uint64
	// Time is the sender's wall clock in unix milliseconds (>= 0).
	Time int64
	// Payload is opaque to this package (at most MaxPayloadLen bytes).
	Payload []byte
}

// Fields is an encoded envelope: the values of the stream fields "e" and
// "s". Sig is empty when the codec has no secret.
type Fields struct {
	Blob string
	Sig  string
}

// Args returns the field/value pairs of the entry, in the order XADD (or an
// append script) takes them: "e", Blob[, "s", Sig].
func (f Fields) Args() []string {
	if f.Sig == "" {
		return []string{FieldEnvelope, f.Blob}
	}
	return []string{FieldEnvelope, f.Blob, FieldSignature, f.Sig}
}

// RejectStats counts entries Decode rejected, per reason.
type RejectStats struct {
	Malformed      uint64
	UnknownVersion uint64
	Unsigned       uint64
	BadSignature   uint64
}

// Codec encodes, signs, verifies and decodes envelopes. It is safe for
// concurrent use. Build it with NewCodec.
type Codec struct {
	secret []byte
	macs   sync.Pool // of hash.Hash, when secret is set

	malformed      atomic.Uint64
	unknownVersion atomic.Uint64
	unsigned       atomic.Uint64
	badSignature   atomic.Uint64
}

// NewCodec returns a codec. With a non-empty secret it signs every entry
// and Decode rejects unsigned or badly signed entries; with an empty secret
// it neither signs nor checks signatures (a present "s" field is ignored).
// The secret is copied.
func NewCodec(secret []byte) *Codec {
	c := &Codec{}
	if len(secret) > 0 {
		c.secret = append([]byte(nil), secret...)
		c.macs.New = func() any { return hmac.New(sha256.New, c.secret) }
	}
	return c
}

// Signed tells whether the codec signs and verifies entries.
func (c *Codec) Signed() bool { return len(c.secret) > 0 }

// Rejected returns how many entries Decode rejected, per reason.
func (c *Codec) Rejected() RejectStats {
	return RejectStats{
		Malformed:      c.malformed.Load(),
		UnknownVersion: c.unknownVersion.Load(),
		Unsigned:       c.unsigned.Load(),
		BadSignature:   c.badSignature.Load(),
	}
}

// Encode encodes e with its Seq inside the (signed) blob: use it for inbox
// entries and anything appended with plain XADD.
func (c *Codec) Encode(e Envelope) (Fields, error) {
	return c.encode(e, 0)
}

// EncodeControl encodes e for an append script that sets the cluster
// sequence in field "q" (see the package doc): e.Seq is ignored and the
// signed blob says that the sequence is external.
func (c *Codec) EncodeControl(e Envelope) (Fields, error) {
	e.Seq = 0
	return c.encode(e, flagExternalSeq)
}

func (c *Codec) encode(e Envelope, flags byte) (Fields, error) {
	if err := validate(e); err != nil {
		return Fields{}, err
	}
	// The header goes through a stack buffer, then header and payload are
	// copied once into the string.
	var hdr [2 + 2 + MaxTypeLen + 2 + MaxSenderLen + 4*binaryMaxVarint]byte
	b := append(hdr[:0], CurrentVersion, flags)
	b = appendString(b, e.Type)
	b = appendString(b, e.Sender)
	b = appendUvarint(b, e.Incarnation)
	b = appendUvarint(b, e.Seq)
	b = appendUvarint(b, uint64(e.Time))
	b = appendUvarint(b, uint64(len(e.Payload)))
	var sb strings.Builder
	sb.Grow(len(b) + len(e.Payload))
	sb.Write(b)
	sb.Write(e.Payload)
	f := Fields{Blob: sb.String()}
	if c.Signed() {
		f.Sig = string(c.sign(b, e.Payload))
	}
	return f, nil
}

func validate(e Envelope) error {
	switch {
	case e.Version != 0 && e.Version != CurrentVersion:
		return errInvalid("version", "unknown version "+strconv.Itoa(int(e.Version)))
	case e.Type == "" || len(e.Type) > MaxTypeLen || !printable(e.Type):
		return errInvalid("type", "must be 1 to 64 printable ASCII characters without spaces")
	case e.Sender == "" || len(e.Sender) > MaxSenderLen || !printable(e.Sender):
		return errInvalid("sender", "must be 1 to 128 printable ASCII characters without spaces")
	case e.Time < 0:
		return errInvalid("time", "negative")
	case len(e.Payload) > MaxPayloadLen:
		return errInvalid("payload", "larger than MaxPayloadLen")
	}
	return nil
}

func errInvalid(field, reason string) error {
	return &DecodeError{Field: field, Reason: reason, Err: ErrInvalidEnvelope}
}

// sign returns the HMAC of the concatenation of parts.
func (c *Codec) sign(parts ...[]byte) []byte {
	m := c.macs.Get().(hash.Hash)
	m.Reset()
	for _, p := range parts {
		m.Write(p)
	}
	sum := m.Sum(make([]byte, 0, sha256.Size))
	c.macs.Put(m)
	return sum
}

// Decode validates and decodes the fields of one stream entry. Every
// rejection is a *DecodeError wrapping ErrMalformed, ErrUnsigned,
// ErrBadSignature or ErrUnknownVersion, and is counted (see Rejected).
// Decode never panics, whatever the input.
func (c *Codec) Decode(fields map[string]string) (Envelope, error) {
	e, err := c.decode(fields)
	if err != nil {
		c.count(err)
		return Envelope{}, err
	}
	return e, nil
}

func (c *Codec) count(err *DecodeError) {
	switch err.Err {
	case ErrUnsigned:
		c.unsigned.Add(1)
	case ErrBadSignature:
		c.badSignature.Add(1)
	case ErrUnknownVersion:
		c.unknownVersion.Add(1)
	default:
		c.malformed.Add(1)
	}
}

func (c *Codec) decode(fields map[string]string) (Envelope, *DecodeError) {
	blob, ok := fields[FieldEnvelope]
	if !ok {
		return Envelope{}, malformed(FieldEnvelope, "missing")
	}
	for name := range fields {
		if name != FieldEnvelope && name != FieldSignature && name != FieldSeq {
			return Envelope{}, malformed(name, "unknown field")
		}
	}
	if c.Signed() {
		sig, ok := fields[FieldSignature]
		if !ok {
			return Envelope{}, &DecodeError{Field: FieldSignature, Reason: "missing", Err: ErrUnsigned}
		}
		if len(sig) != sha256.Size || !hmac.Equal([]byte(sig), c.sign([]byte(blob))) {
			return Envelope{}, &DecodeError{Field: FieldSignature, Reason: "does not match", Err: ErrBadSignature}
		}
	}
	r := reader{s: blob}
	version, ok := r.byte()
	if !ok {
		return Envelope{}, malformed("version", "empty envelope")
	}
	if version != CurrentVersion {
		return Envelope{}, &DecodeError{Field: "version", Reason: "version " + strconv.Itoa(int(version)), Err: ErrUnknownVersion}
	}
	e := Envelope{Version: version}
	flags, ok := r.byte()
	if !ok {
		return Envelope{}, malformed("flags", "truncated")
	}
	if flags&^knownFlags != 0 {
		return Envelope{}, malformed("flags", "unknown flag bits")
	}
	var err *DecodeError
	if e.Type, err = r.str("type", MaxTypeLen); err != nil {
		return Envelope{}, err
	}
	if e.Sender, err = r.str("sender", MaxSenderLen); err != nil {
		return Envelope{}, err
	}
	if e.Incarnation, err = r.uvarint("incarnation"); err != nil {
		return Envelope{}, err
	}
	if e.Seq, err = r.uvarint("seq"); err != nil {
		return Envelope{}, err
	}
	t, err := r.uvarint("time")
	if err != nil {
		return Envelope{}, err
	}
	if t > math.MaxInt64 {
		return Envelope{}, malformed("time", "out of range")
	}
	e.Time = int64(t)
	n, err := r.uvarint("payload")
	if err != nil {
		return Envelope{}, err
	}
	if n > MaxPayloadLen {
		return Envelope{}, malformed("payload", "larger than MaxPayloadLen")
	}
	if n != uint64(len(r.s)-r.i) {
		return Envelope{}, malformed("payload", "length does not match the rest of the envelope")
	}
	if n > 0 {
		e.Payload = []byte(r.s[r.i:])
	}

	q, hasQ := fields[FieldSeq]
	if flags&flagExternalSeq == 0 {
		if hasQ {
			return Envelope{}, malformed(FieldSeq, "present on an entry whose sequence is in the envelope")
		}
		return e, nil
	}
	if e.Seq != 0 {
		return Envelope{}, malformed("seq", "non-zero in an envelope whose sequence is external")
	}
	if !hasQ {
		return Envelope{}, malformed(FieldSeq, "missing")
	}
	if e.Seq, err = parseSeq(q); err != nil {
		return Envelope{}, err
	}
	return e, nil
}

// parseSeq parses a canonical positive decimal sequence number.
func parseSeq(q string) (uint64, *DecodeError) {
	if q == "" || len(q) > 20 || q[0] == '0' {
		return 0, malformed(FieldSeq, "not a canonical positive decimal")
	}
	for i := 0; i < len(q); i++ {
		if q[i] < '0' || q[i] > '9' {
			return 0, malformed(FieldSeq, "not a canonical positive decimal")
		}
	}
	v, err := strconv.ParseUint(q, 10, 64)
	if err != nil {
		return 0, malformed(FieldSeq, "out of range")
	}
	return v, nil
}

const binaryMaxVarint = 10

func appendUvarint(b []byte, v uint64) []byte {
	for v >= 0x80 {
		b = append(b, byte(v)|0x80)
		v >>= 7
	}
	return append(b, byte(v))
}

func appendString(b []byte, s string) []byte {
	b = appendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

// reader reads an envelope blob without copying it.
type reader struct {
	s string
	i int
}

func (r *reader) byte() (byte, bool) {
	if r.i >= len(r.s) {
		return 0, false
	}
	b := r.s[r.i]
	r.i++
	return b, true
}

// uvarint reads a minimal-length unsigned varint.
func (r *reader) uvarint(field string) (uint64, *DecodeError) {
	var v uint64
	for shift := uint(0); ; shift += 7 {
		b, ok := r.byte()
		if !ok {
			return 0, malformed(field, "truncated")
		}
		if shift == 63 && b > 1 {
			return 0, malformed(field, "varint overflows 64 bits")
		}
		v |= uint64(b&0x7f) << shift
		if b < 0x80 {
			if b == 0 && shift > 0 {
				return 0, malformed(field, "non-minimal varint")
			}
			return v, nil
		}
	}
}

func (r *reader) str(field string, max int) (string, *DecodeError) {
	n, err := r.uvarint(field)
	if err != nil {
		return "", err
	}
	if n == 0 {
		return "", malformed(field, "empty")
	}
	if n > uint64(max) {
		return "", malformed(field, "too long")
	}
	if n > uint64(len(r.s)-r.i) {
		return "", malformed(field, "truncated")
	}
	s := r.s[r.i : r.i+int(n)]
	r.i += int(n)
	if !printable(s) {
		return "", malformed(field, "not printable ASCII")
	}
	return s, nil
}
