package webui

import (
	"crypto/sha256"
	"encoding/hex"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strings"
	"time"
)

// assets are the static files of a surface and of this package, with the
// content hash that versions their URLs.
type assets struct {
	files map[string][]byte // by name, e.g. "admin.css", "vendor/htmx/htmx.min.js"
	hash  map[string]string
}

func loadAssets(fsyss ...fs.FS) (*assets, error) {
	a := &assets{files: map[string][]byte{}, hash: map[string]string{}}
	for _, fsys := range fsyss {
		if fsys == nil {
			continue
		}
		err := fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			if _, dup := a.files[p]; dup {
				return nil // the surface's file wins over this package's
			}
			data, err := fs.ReadFile(fsys, p)
			if err != nil {
				return err
			}
			sum := sha256.Sum256(data)
			a.files[p], a.hash[p] = data, hex.EncodeToString(sum[:6])
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	return a, nil
}

// url is the template function asset: the versioned URL of a static file.
// An unknown name panics at render time, which Render turns into an error.
func (a *assets) url(name string) (string, error) {
	h, ok := a.hash[name]
	if !ok {
		return "", fs.ErrNotExist
	}
	return "/static/" + name + "?v=" + h, nil
}

// Static serves the static files under /static/. A request carrying the
// file's current hash (the URL asset produces) may be cached for a year;
// any other gets "no-cache" with an ETag.
func (r *Renderer) Static() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		name := strings.TrimPrefix(pathClean(req.URL.Path), "/static/")
		data, ok := r.static.files[name]
		if !ok {
			http.NotFound(w, req)
			return
		}
		h := w.Header()
		ct := mime.TypeByExtension(path.Ext(name))
		if ct == "" {
			ct = "application/octet-stream"
		}
		h.Set("Content-Type", ct)
		etag := `"` + r.static.hash[name] + `"`
		h.Set("ETag", etag)
		if req.URL.Query().Get("v") == r.static.hash[name] {
			h.Set("Cache-Control", "public, max-age=31536000, immutable")
		} else {
			h.Set("Cache-Control", "no-cache")
		}
		http.ServeContent(w, req, "", time.Time{}, strings.NewReader(string(data)))
	})
}
