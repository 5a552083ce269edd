package koncorde

import (
	"encoding/json"
	"os"
	"testing"
)

// FuzzNormalize feeds arbitrary bytes to the parser, validator and
// normalizer. A filter that normalizes must validate, survive a JSON round
// trip with the same room id, register, match a few documents in the engine
// exactly as the naive evaluation does, and unregister.
func FuzzNormalize(f *testing.F) {
	for _, s := range fuzzSeeds(f) {
		f.Add([]byte(s))
	}
	g := newGen(99)
	docs := make([]map[string]any, 8)
	ids := make([]string, 8)
	for i := range docs {
		docs[i], ids[i] = g.doc()
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg := DefaultConfig()
		cfg.MaxConjunctions = 64
		nf, err := Normalize(cfg, "i", "c", data)
		verr := Validate(cfg, data)
		if err != nil {
			return
		}
		if verr != nil {
			t.Fatalf("Normalize accepted %q but Validate refused it: %v", data, verr)
		}
		raw, err := json.Marshal(nf)
		if err != nil {
			t.Fatal(err)
		}
		back, err := UnmarshalFilter(cfg, raw)
		if err != nil {
			t.Fatalf("unmarshal of %s: %v", raw, err)
		}
		if back.RoomID() != nf.RoomID() {
			t.Fatalf("room id changed through JSON: %s", raw)
		}
		for _, lookupMax := range []int{fieldLookupMax, -1} {
			e := NewEngine(cfg)
			e.lookupMax = lookupMax
			e.Register(nf)
			for i, d := range docs {
				got := len(e.Test("i", "c", d, ids[i])) == 1
				if want := nf.Match(d, ids[i]); got != want {
					t.Fatalf("filter %q doc %v: engine %v, reference %v", data, d, got, want)
				}
			}
			if !e.Remove(nf.RoomID()) || e.Len() != 0 {
				t.Fatal("remove failed")
			}
		}
	})
}

func fuzzSeeds(tb testing.TB) []string {
	seeds := []string{`{}`, `null`, `[]`, `"ab"`, `{"not":{"not":{"equals":{"a":1}}}}`}
	if data, err := os.ReadFile("testdata/koncorde-suite.json"); err == nil {
		var s suiteFile
		if json.Unmarshal(data, &s) == nil {
			for _, c := range s.Cases {
				for _, op := range c.Ops {
					if len(op.Filter) > 0 {
						seeds = append(seeds, string(op.Filter))
					}
				}
			}
		}
	}
	g := newGen(7)
	for i := 0; i < 50; i++ {
		seeds = append(seeds, g.filter(3))
	}
	return seeds
}
