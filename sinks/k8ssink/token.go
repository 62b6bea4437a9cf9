package k8ssink

import (
	"fmt"
	"net/http"
	"os"
	"sync"

	"github.com/sluice-dev/sluice/internal/httpclient"
)

// tokenFile sends the bearer token of a file that rotates (a projected
// service account token), read again as soon as the file changes and
// after the server answers 401. client-go's own BearerTokenFile keeps a
// token for a minute whatever the server answers, so a revoked token
// would fail every request of that minute.
type tokenFile struct {
	path string

	mu    sync.Mutex
	token string
	st    os.FileInfo // of the file the token was read from
	stale bool        // the server refused the token
}

// get returns the token, reading the file when it changed (another
// file, size or modification time) or the token was refused. When the
// file cannot be read the last token is kept.
func (f *tokenFile) get() (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	st, err := os.Stat(f.path)
	if err == nil && f.token != "" && !f.stale && os.SameFile(st, f.st) &&
		st.Size() == f.st.Size() && st.ModTime().Equal(f.st.ModTime()) {
		return f.token, nil
	}
	tok, rerr := httpclient.ReadSecretFile(f.path)
	if err == nil {
		err = rerr
	}
	if err != nil {
		if f.token != "" {
			return f.token, nil
		}
		return "", fmt.Errorf("token_file: %w", err)
	}
	f.token, f.st, f.stale = tok.Reveal(), st, false
	return f.token, nil
}

// refused marks the token refused, so the next request reads the file.
func (f *tokenFile) refused() {
	f.mu.Lock()
	f.stale = true
	f.mu.Unlock()
}

// wrap returns rt sending the file's token (client-go's WrapTransport).
func (f *tokenFile) wrap(rt http.RoundTripper) http.RoundTripper {
	return tokenTransport{f, rt}
}

type tokenTransport struct {
	file *tokenFile
	base http.RoundTripper
}

func (t tokenTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	tok, err := t.file.get()
	if err != nil {
		return nil, err
	}
	req = req.Clone(req.Context())
	req.Header.Set("Authorization", "Bearer "+tok)
	res, err := t.base.RoundTrip(req)
	if err == nil && res.StatusCode == http.StatusUnauthorized {
		t.file.refused()
	}
	return res, err
}
