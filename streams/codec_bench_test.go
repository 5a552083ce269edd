package streams_test

import (
	"testing"

	"github.com/streamcluster/streamcluster/streams"
)

func BenchmarkCodec(b *testing.B) {
	e := streams.Envelope{Type: "Notify", Sender: "knode-0a1b2c3d", Incarnation: 3, Seq: 1000, Time: 1764000000000, Payload: make([]byte, 100)}
	for _, tc := range []struct {
		name   string
		secret []byte
	}{{"unsigned", nil}, {"signed", testSecret}} {
		c := streams.NewCodec(tc.secret)
		b.Run("encode/"+tc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := c.Encode(e); err != nil {
					b.Fatal(err)
				}
			}
		})
		f, err := c.Encode(e)
		if err != nil {
			b.Fatal(err)
		}
		m := toMap(f.Args())
		b.Run("decode/"+tc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := c.Decode(m); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
