package streams_test

import (
	"errors"
	"testing"

	"github.com/streamcluster/streamcluster/streams"
)

// FuzzDecode feeds arbitrary entries to Decode: it must never panic, every
// error must be a *DecodeError, and whatever decodes must re-encode to the
// very same bytes (the encoding is canonical). The corpus lives in
// testdata/fuzz/FuzzDecode.
func FuzzDecode(f *testing.F) {
	c := streams.NewCodec(nil)
	for _, e := range sampleEnvelopes()[:3] {
		fl, err := c.Encode(e)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(fl.Blob, "", false, false)
		fl, err = c.EncodeControl(e)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(fl.Blob, "12", true, false)
	}
	f.Add("", "", false, false)
	f.Add("\x01\x00\x01T\x02n1\x01\x02\x03\x02hi", "", false, true)
	f.Fuzz(func(t *testing.T, e, q string, hasQ, signed bool) {
		codec := c
		if signed {
			codec = streams.NewCodec(testSecret)
		}
		fields := map[string]string{streams.FieldEnvelope: e}
		if hasQ {
			fields[streams.FieldSeq] = q
		}
		env, err := codec.Decode(fields)
		if err != nil {
			var de *streams.DecodeError
			if !errors.As(err, &de) {
				t.Fatalf("error %v is not a *DecodeError", err)
			}
			return
		}
		var fl streams.Fields
		if hasQ {
			fl, err = codec.EncodeControl(env)
		} else {
			fl, err = codec.Encode(env)
		}
		if err != nil {
			t.Fatalf("decoded %+v does not encode: %v", env, err)
		}
		if fl.Blob != e {
			t.Fatalf("re-encoding differs:\n got %q\nwant %q", fl.Blob, e)
		}
	})
}
