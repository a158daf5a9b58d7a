package cli

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"

	"esign/internal/notify"
)

// TestFCMEndpoint: notify.fcm_endpoint sends the pushes where it says (a
// bank's proxy; here a test server), not to Google.
func TestFCMEndpoint(t *testing.T) {
	var sentTo, auth string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		switch r.URL.Path {
		case "/token":
			io.WriteString(w, `{"access_token":"test-access-token","expires_in":3600}`)
		default:
			sentTo, auth = r.URL.Path, r.Header.Get("Authorization")
			io.WriteString(w, `{"name":"projects/esign-test/messages/1"}`)
		}
	}))
	defer srv.Close()

	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	der, _ := x509.MarshalPKCS8PrivateKey(key)
	sa, _ := json.Marshal(map[string]string{"type": "service_account", "project_id": "esign-test", "private_key_id": "kid-1",
		"private_key":  string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})),
		"client_email": "push@esign-test.iam.gserviceaccount.com", "token_uri": srv.URL + "/token"})
	saFile := filepath.Join(t.TempDir(), "fcm.json")
	if err := os.WriteFile(saFile, sa, 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := mustConfig(t, append(testEnviron(t.TempDir()), "ESIGN_NOTIFY_PUSH=fcm", "ESIGN_NOTIFY_FCM_SERVICE_ACCOUNT_FILE="+saFile,
		"ESIGN_NOTIFY_FCM_ENDPOINT="+srv.URL+"/v1/projects/{project}/messages:send"))
	c, err := fcmSender(cfg.Notify)
	if err != nil {
		t.Fatal(err)
	}
	rc, err := c.SendPush(t.Context(), notify.PushMessage{Token: "device-token-1", Title: "Új ajánlat", Body: "Nézze meg az alkalmazásban."})
	if err != nil {
		t.Fatalf("send through the configured endpoint: %v", err)
	}
	if sentTo != "/v1/projects/esign-test/messages:send" || auth != "Bearer test-access-token" || rc.ID != "projects/esign-test/messages/1" {
		t.Errorf("sent to %q with %q, receipt %+v", sentTo, auth, rc)
	}
}
