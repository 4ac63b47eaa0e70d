package httpx

import (
	"encoding/json"
	"net/http"
)

// ReadObject reads a JSON object body of one of the media types (ReadJSON) and drops the
// top-level members named in readOnly: the server-owned fields of a record (id, version,
// timestamps, counts), which a client may send back as it read them and which are
// ignored. The body must be one JSON object without duplicate keys (problem.BadRequest
// otherwise); the names and types of the members left are for Unmarshal to check.
func ReadObject(r *http.Request, mediaTypes []string, readOnly ...string) ([]byte, error) {
	body, err := ReadJSON(r, mediaTypes...)
	if err != nil {
		return nil, err
	}
	var m map[string]json.RawMessage
	if err := Unmarshal(body, &m); err != nil {
		return nil, err
	}
	dropped := false
	for _, k := range readOnly {
		if _, ok := m[k]; ok {
			delete(m, k)
			dropped = true
		}
	}
	if !dropped {
		return body, nil
	}
	return json.Marshal(m)
}
