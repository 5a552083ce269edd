package elasticsearch

import (
	"context"
	"net/http"
	"strconv"
	"strings"

	"github.com/streamcluster/streamcluster/storage"
)

// Ping checks that the cluster answers and runs a supported version:
// Elasticsearch 7.14 or later (require_alias needs 7.10, and the v8
// client refuses servers without the X-Elastic-Product header that 7.14
// introduced) or 8.x. Call it at startup to fail fast; an unsupported
// version is services.storage.version_mismatch.
func (s *Store) Ping(ctx context.Context) error {
	var info struct {
		Version struct {
			Number string `json:"number"`
		} `json:"version"`
	}
	if err := s.do(ctx, request{method: http.MethodGet, path: "/"}, &info); err != nil {
		return s.mapError(err, "", "", "")
	}
	if !supportedVersion(info.Version.Number) {
		return &storage.Error{ID: "services.storage.version_mismatch", Props: []string{info.Version.Number}, Kind: storage.ErrUnexpected}
	}
	return nil
}

func supportedVersion(v string) bool {
	parts := strings.SplitN(v, ".", 3)
	if len(parts) < 2 {
		return false
	}
	major, err1 := strconv.Atoi(parts[0])
	minor, err2 := strconv.Atoi(parts[1])
	if err1 != nil || err2 != nil {
		return false
	}
	return major == 8 || (major == 7 && minor >= 14)
}
